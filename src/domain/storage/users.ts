/**
 * Users and sessions in SQL. Emails are kept as given and matched without case
 * (a user types "Info@OpenMined.org" as often as not).
 */
import { randomUUID } from "node:crypto";
import { ErrorCode, TsyftError } from "../../core/errors";
import { isoTime, num, type SqlClient } from "./sql";
import type { Role, SessionRecord, SessionStore, UserRecord, UserStore } from "./types";

type Row = Record<string, unknown>;

const USER_COLUMNS = "id, email, name, role, password_hash, budget, spent, created_at";

export function userOf(row: Row): UserRecord {
  return {
    id: String(row.id),
    email: String(row.email),
    name: String(row.name),
    role: row.role as Role,
    passwordHash: String(row.password_hash),
    budget: num(row.budget),
    spent: num(row.spent),
    createdAt: isoTime(row.created_at),
  };
}

/** A unique-constraint violation (SQLSTATE 23505), from either driver. */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown })?.code === "23505";
}

/** Users in SQL. */
export class SqlUserStore implements UserStore {
  constructor(private readonly sql: SqlClient) {}

  async create(user: Omit<UserRecord, "id" | "createdAt" | "spent">): Promise<UserRecord> {
    try {
      const [row] = await this.sql.query<Row>(
        `INSERT INTO users (id, email, name, role, password_hash, budget) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${USER_COLUMNS}`,
        [randomUUID(), user.email, user.name, user.role, user.passwordHash, user.budget],
      );
      return userOf(row!);
    } catch (error) {
      if (isUniqueViolation(error)) throw emailTaken(user.email);
      throw error;
    }
  }

  async byId(id: string): Promise<UserRecord | undefined> {
    const [row] = await this.sql.query<Row>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
    return row && userOf(row);
  }

  async byEmail(email: string): Promise<UserRecord | undefined> {
    const [row] = await this.sql.query<Row>(`SELECT ${USER_COLUMNS} FROM users WHERE lower(email) = lower($1)`, [
      email,
    ]);
    return row && userOf(row);
  }

  async list(): Promise<UserRecord[]> {
    return (await this.sql.query<Row>(`SELECT ${USER_COLUMNS} FROM users ORDER BY seq`)).map(userOf);
  }

  async update(
    id: string,
    fields: Partial<Pick<UserRecord, "name" | "email" | "role" | "passwordHash" | "budget">>,
  ): Promise<UserRecord | undefined> {
    const columns = { name: "name", email: "email", role: "role", passwordHash: "password_hash", budget: "budget" };
    const sets: string[] = [];
    const params: unknown[] = [id];
    for (const [field, column] of Object.entries(columns)) {
      const value = fields[field as keyof typeof fields];
      if (value === undefined) continue;
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    }
    if (sets.length === 0) return this.byId(id);
    try {
      const [row] = await this.sql.query<Row>(
        `UPDATE users SET ${sets.join(", ")} WHERE id = $1 RETURNING ${USER_COLUMNS}`,
        params,
      );
      return row && userOf(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw emailTaken(String(fields.email));
      throw error;
    }
  }

  async delete(id: string): Promise<boolean> {
    return (await this.sql.query("DELETE FROM users WHERE id = $1 RETURNING id", [id])).length > 0;
  }
}

/** Sessions in SQL. */
export class SqlSessionStore implements SessionStore {
  constructor(private readonly sql: SqlClient) {}

  async create(userId: string, expiresAt: Date): Promise<SessionRecord> {
    const [row] = await this.sql.query<Row>(
      "INSERT INTO sessions (id, user_id, expires_at) VALUES ($1, $2, $3) RETURNING id, user_id, created_at, expires_at, revoked",
      [randomUUID(), userId, expiresAt.toISOString()],
    );
    return sessionOf(row!);
  }

  async get(id: string): Promise<{ session: SessionRecord; user: UserRecord } | undefined> {
    const [row] = await this.sql.query<Row>(
      `SELECT s.id AS session_id, s.user_id, s.created_at AS session_created_at, s.expires_at, s.revoked,
              ${USER_COLUMNS.split(", ")
                .map((c) => `u.${c}`)
                .join(", ")}
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1`,
      [id],
    );
    if (!row) return undefined;
    return {
      session: sessionOf({ ...row, id: row.session_id, created_at: row.session_created_at }),
      user: userOf(row),
    };
  }

  async revoke(id: string): Promise<void> {
    await this.sql.query("UPDATE sessions SET revoked = true WHERE id = $1", [id]);
  }

  async revokeAll(userId: string): Promise<number> {
    return (
      await this.sql.query("UPDATE sessions SET revoked = true WHERE user_id = $1 AND NOT revoked RETURNING id", [
        userId,
      ])
    ).length;
  }
}

function sessionOf(row: Row): SessionRecord {
  return {
    id: String(row.id),
    userId: String(row.user_id),
    createdAt: isoTime(row.created_at),
    expiresAt: isoTime(row.expires_at),
    revoked: row.revoked === true,
  };
}

function emailTaken(email: string): TsyftError {
  return new TsyftError(
    ErrorCode.INVALID_ARGUMENT,
    `A user with the email ${JSON.stringify(email)} already exists; emails are unique. Pick another, or update that user.`,
    { email, conflict: true },
  );
}
