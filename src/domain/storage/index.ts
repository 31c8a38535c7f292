/**
 * The domain's database: `openDomainStore` opens PGlite in the data dir (the
 * default) or a PostgreSQL server by URL, applies the migrations, and returns
 * the tables behind one `DomainStore` interface.
 *
 * @example
 * ```ts
 * const store = await openDomainStore({ dataDir: "./domain-data" });
 * const store2 = await openDomainStore({ databaseUrl: "postgres://tsyft:secret@localhost/domain" });
 * await store.users.list();
 * ```
 */
import * as path from "node:path";
import { SqlDatasetStore } from "./datasets";
import { SqlJobStore } from "./jobs";
import { SqlLedgerStore } from "./ledger";
import { migrate } from "./migrations";
import type { SqlClient } from "./sql";
import type { DomainStore } from "./types";
import { SqlRequestStore } from "./requests";
import { SqlSessionStore, SqlUserStore } from "./users";

export * from "./types";
export { MIGRATIONS, migrate, type Migration } from "./migrations";
export type { SqlClient, SqlExecutor } from "./sql";

export interface StoreOptions {
  /** PGlite's files go in `<dataDir>/db`; none (and no url): an in-memory database. */
  dataDir?: string;
  /** A PostgreSQL server (`postgres://user:password@host:port/db`) instead of PGlite. */
  databaseUrl?: string;
}

/**
 * Opens and migrates a domain's database.
 *
 * @example
 * ```ts
 * const store = await openDomainStore({});   // in memory, for a test
 * ```
 */
export async function openDomainStore(options: StoreOptions): Promise<DomainStore> {
  // Loaded on first use: `import "tsyft"` should not pay for two database drivers (~200 ms) it may never need.
  const sql =
    options.databaseUrl !== undefined
      ? await (await import("./postgres")).openPostgres(options.databaseUrl)
      : await (
          await import("./pglite")
        ).openPglite(options.dataDir === undefined ? undefined : path.join(options.dataDir, "db"));
  try {
    await migrate(sql);
  } catch (error) {
    await sql.close().catch(() => undefined);
    throw error;
  }
  return storeOver(sql);
}

/** The domain's tables over a migrated SQL client. */
export function storeOver(sql: SqlClient): DomainStore {
  return {
    kind: sql.kind,
    users: new SqlUserStore(sql),
    sessions: new SqlSessionStore(sql),
    datasets: new SqlDatasetStore(sql),
    requests: new SqlRequestStore(sql),
    ledger: new SqlLedgerStore(sql),
    jobs: new SqlJobStore(sql),
    close: () => sql.close(),
  };
}
