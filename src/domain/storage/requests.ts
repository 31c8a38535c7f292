/** Data access and budget requests in SQL. */
import { randomUUID } from "node:crypto";
import { isoTime, num, type SqlClient } from "./sql";
import type { RequestKind, RequestRecord, RequestStatus, RequestStore } from "./types";

type Row = Record<string, unknown>;

const SELECT = `SELECT r.id, r.kind, r.user_id, u.email AS user_email, r.object_id, r.epsilon, r.reason, r.status,
  r.reviewer_id, r.created_at, r.decided_at FROM requests r JOIN users u ON u.id = r.user_id`;

/** Requests in SQL. */
export class SqlRequestStore implements RequestStore {
  constructor(private readonly sql: SqlClient) {}

  async create(request: {
    kind: RequestKind;
    userId: string;
    objectId?: string;
    epsilon?: number;
    reason: string;
  }): Promise<RequestRecord> {
    const id = randomUUID();
    await this.sql.query(
      "INSERT INTO requests (id, kind, user_id, object_id, epsilon, reason) VALUES ($1, $2, $3, $4, $5, $6)",
      [id, request.kind, request.userId, request.objectId ?? null, request.epsilon ?? null, request.reason],
    );
    return (await this.get(id))!;
  }

  async list(filter: { userId?: string; status?: RequestStatus } = {}): Promise<RequestRecord[]> {
    const rows = await this.sql.query<Row>(
      `${SELECT} WHERE ($1::text IS NULL OR r.user_id = $1) AND ($2::text IS NULL OR r.status = $2)
       ORDER BY r.seq DESC`,
      [filter.userId ?? null, filter.status ?? null],
    );
    return rows.map(requestOf);
  }

  async get(id: string): Promise<RequestRecord | undefined> {
    const [row] = await this.sql.query<Row>(`${SELECT} WHERE r.id = $1`, [id]);
    return row && requestOf(row);
  }

  decide(id: string, status: "accepted" | "denied", reviewerId: string): Promise<RequestRecord | undefined> {
    return this.sql.transaction(async (tx) => {
      const [row] = await tx.query<Row>(
        `UPDATE requests SET status = $2, reviewer_id = $3, decided_at = now()
         WHERE id = $1 AND status = 'pending' RETURNING kind, user_id, epsilon`,
        [id, status, reviewerId],
      );
      if (!row) return undefined;
      if (status === "accepted" && row.kind === "budget") {
        await tx.query("UPDATE users SET budget = budget + $2 WHERE id = $1", [row.user_id, num(row.epsilon)]);
      }
      const [decided] = await tx.query<Row>(`${SELECT} WHERE r.id = $1`, [id]);
      return requestOf(decided!);
    });
  }

  async hasAccess(userId: string, objectIds: readonly string[]): Promise<boolean> {
    const rows = await this.sql.query(
      `SELECT 1 FROM requests WHERE user_id = $1 AND kind = 'data_access' AND status = 'accepted'
       AND object_id = ANY($2) LIMIT 1`,
      [userId, [...objectIds]],
    );
    return rows.length > 0;
  }
}

function requestOf(row: Row): RequestRecord {
  return {
    id: String(row.id),
    kind: row.kind as RequestKind,
    userId: String(row.user_id),
    userEmail: String(row.user_email),
    objectId: row.object_id === null ? null : String(row.object_id),
    epsilon: row.epsilon === null ? null : num(row.epsilon),
    reason: String(row.reason),
    status: row.status as RequestStatus,
    reviewerId: row.reviewer_id === null ? null : String(row.reviewer_id),
    createdAt: isoTime(row.created_at),
    decidedAt: row.decided_at === null ? null : isoTime(row.decided_at),
  };
}
