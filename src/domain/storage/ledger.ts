/**
 * The privacy ledger's charges in SQL. A charge is one transaction:
 *
 * 1. weights already charged to this user: return that charge, spend nothing
 *    (publishing them again is post-processing);
 * 2. `UPDATE users SET spent = spent + eps WHERE spent + eps <= budget`: one
 *    statement, so the row lock Postgres takes makes concurrent charges queue,
 *    and each sees the spend of those before it: the budget is never overspent;
 * 3. no row updated: over budget, throw PRIVACY_BUDGET (nothing changed);
 * 4. insert the charge row. Two first publishes of the same weights racing:
 *    the unique index refuses the second insert, which rolls back its spend and
 *    answers with the first charge.
 */
import { randomUUID } from "node:crypto";
import { ErrorCode, TsyftError } from "../../core/errors";
import { isoTime, num, type SqlClient, type SqlExecutor } from "./sql";
import type { ChargeRecord, ChargeResult, LedgerStore } from "./types";
import { isUniqueViolation } from "./users";

type Row = Record<string, unknown>;

/** Charges in SQL. */
export class SqlLedgerStore implements LedgerStore {
  constructor(private readonly sql: SqlClient) {}

  async charge(charge: Omit<ChargeRecord, "id" | "createdAt">): Promise<ChargeResult> {
    if (!(charge.epsilon >= 0 && Number.isFinite(charge.epsilon))) {
      throw new TsyftError(ErrorCode.INVALID_ARGUMENT, `A charge needs a finite epsilon >= 0, got ${charge.epsilon}.`);
    }
    try {
      return await this.sql.transaction((tx) => chargeIn(tx, charge));
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // Another first publish of these weights won the race; theirs is the charge.
      return this.sql.transaction((tx) => chargeIn(tx, charge));
    }
  }

  async charges(userId: string): Promise<ChargeRecord[]> {
    const rows = await this.sql.query<Row>("SELECT * FROM ledger_charges WHERE user_id = $1 ORDER BY seq", [userId]);
    return rows.map(chargeOf);
  }
}

async function chargeIn(tx: SqlExecutor, charge: Omit<ChargeRecord, "id" | "createdAt">): Promise<ChargeResult> {
  if (charge.kind === "weights") {
    const [earlier] = await tx.query<Row>(
      "SELECT * FROM ledger_charges WHERE user_id = $1 AND subject = $2 AND kind = 'weights'",
      [charge.userId, charge.subject],
    );
    if (earlier) {
      const [user] = await tx.query<Row>("SELECT budget, spent FROM users WHERE id = $1", [charge.userId]);
      return { charge: chargeOf(earlier), charged: false, budget: num(user?.budget), spent: num(user?.spent) };
    }
  }
  const [updated] = await tx.query<Row>(
    "UPDATE users SET spent = spent + $2 WHERE id = $1 AND spent + $2 <= budget RETURNING budget, spent",
    [charge.userId, charge.epsilon],
  );
  if (!updated) {
    const [user] = await tx.query<Row>("SELECT budget, spent FROM users WHERE id = $1", [charge.userId]);
    if (!user) throw new TsyftError(ErrorCode.NOT_FOUND, `No user ${charge.userId} to charge.`);
    const budget = num(user.budget);
    const left = Math.max(0, budget - num(user.spent));
    throw new TsyftError(
      ErrorCode.PRIVACY_BUDGET,
      `Releasing this needs epsilon ${fmt(charge.epsilon)} but only ${fmt(left)} of your budget ${fmt(budget)} is left; ` +
        "nothing was released. Ask the domain's owner for more (domain.requestBudget({ eps, reason })), or " +
        "publish with more noise (a larger sigma costs less epsilon).",
      { needed: charge.epsilon, left, budget, status: 403 },
    );
  }
  const [row] = await tx.query<Row>(
    "INSERT INTO ledger_charges (id, user_id, epsilon, delta, kind, subject) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
    [randomUUID(), charge.userId, charge.epsilon, charge.delta, charge.kind, charge.subject],
  );
  return { charge: chargeOf(row!), charged: true, budget: num(updated.budget), spent: num(updated.spent) };
}

function chargeOf(row: Row): ChargeRecord {
  return {
    id: String(row.id),
    userId: String(row.user_id),
    epsilon: num(row.epsilon),
    delta: num(row.delta),
    kind: row.kind as ChargeRecord["kind"],
    subject: String(row.subject),
    createdAt: isoTime(row.created_at),
  };
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(4));
