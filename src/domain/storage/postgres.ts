/**
 * The server backend: a PostgreSQL server by URL through a `pg` pool, for a
 * domain that outgrows one machine (or several domain processes over one
 * database). A transaction holds one pooled connection from BEGIN to COMMIT.
 *
 * @example
 * ```ts
 * const sql = await openPostgres("postgres://tsyft:secret@db.example:5432/domain");
 * ```
 */
import { Pool, type PoolClient } from "pg";
import { CommunicationError, ErrorCode } from "../../core/errors";
import type { SqlClient, SqlExecutor } from "./sql";

const executor = (target: Pool | PoolClient): SqlExecutor => ({
  async query<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    return (await target.query(text, [...params])).rows as T[];
  },
});

/**
 * Connects a pool to the server at `url` and checks it answers; a server that
 * does not is TSYFT_ERR_CONNECTION saying which url (without its password).
 *
 * @example
 * ```ts
 * const sql = await openPostgres(process.env.TSYFT_TEST_DATABASE_URL!);
 * ```
 */
export async function openPostgres(url: string, options: { maxConnections?: number } = {}): Promise<SqlClient> {
  const pool = new Pool({ connectionString: url, max: options.maxConnections ?? 10 });
  // An idle client's network error would otherwise crash the process; the next query reports it instead.
  pool.on("error", () => undefined);
  try {
    await pool.query("SELECT 1");
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new CommunicationError(
      ErrorCode.CONNECTION,
      `Cannot reach the PostgreSQL server at ${redact(url)}: ${(error as Error).message}. ` +
        "Check the url (postgres://user:password@host:port/database) and that the server runs.",
      {},
      { cause: error },
    );
  }
  return {
    kind: "postgres",
    ...executor(pool),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await fn(executor(client));
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    exec: async (script) => void (await pool.query(script)),
    close: () => pool.end(),
  };
}

/** The url without its password, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
}
