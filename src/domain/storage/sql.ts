/**
 * The little of SQL the domain's store needs, so that one store runs on both
 * backends: PGlite (Postgres in wasm, in the data dir) and a PostgreSQL server
 * (`pg`). Both speak the same dialect; they differ only in how a connection and
 * a transaction are had, which is all this interface hides.
 *
 * @example
 * ```ts
 * const sql = await openPglite(dir);
 * const rows = await sql.query<{ n: number }>("SELECT 1 AS n");
 * await sql.transaction(async (tx) => tx.query("UPDATE users SET spent = spent + $1 WHERE id = $2", [eps, id]));
 * ```
 */

/** Runs parameterised statements ($1, $2, ...). */
export interface SqlExecutor {
  /** The rows of one statement. */
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
}

/** A connection (or pool) that can also run a transaction and several statements at once. */
export interface SqlClient extends SqlExecutor {
  /** Which backend, for messages ("pglite", "postgres"). */
  readonly kind: "pglite" | "postgres";
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
  close(): Promise<void>;
}

/** A timestamp column as an ISO string, whichever type the driver gave. */
export function isoTime(value: unknown): string {
  return new Date(value as string | number | Date).toISOString();
}

/** A numeric column as a number (pg gives bigint and numeric as strings). */
export function num(value: unknown): number {
  return typeof value === "number" ? value : Number(value);
}

/** A jsonb column as a value (drivers parse it; a string is parsed here in case one did not). */
export function json<T>(value: unknown): T {
  return (typeof value === "string" ? JSON.parse(value) : value) as T;
}
