/**
 * The embedded backend: PGlite, PostgreSQL compiled to wasm, persisted in a
 * directory (or in memory without one). Nothing to install; the first open of
 * a new directory takes a few seconds (initdb), later opens under one.
 *
 * PGlite has one connection: statements and transactions queue on it, so a
 * transaction never interleaves with another.
 *
 * @example
 * ```ts
 * const sql = await openPglite(path.join(dataDir, "db"));
 * ```
 */
import * as fs from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import type { SqlClient, SqlExecutor } from "./sql";

/**
 * Opens (creating when new) a PGlite database in `dir`; in memory when `dir` is undefined.
 *
 * @example
 * ```ts
 * const sql = await openPglite(undefined);   // a throwaway in-memory database
 * ```
 */
export async function openPglite(dir: string | undefined): Promise<SqlClient> {
  // PGlite makes its own folder but not the ones above it, and a new data dir (out/domain on a fresh clone) has none.
  if (dir !== undefined) fs.mkdirSync(dir, { recursive: true });
  const db = dir === undefined ? await PGlite.create() : await PGlite.create(dir);
  const executor = (target: Pick<PGlite, "query">): SqlExecutor => ({
    async query<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
      return (await target.query<T>(text, [...params])).rows;
    },
  });
  return {
    kind: "pglite",
    ...executor(db),
    transaction: (fn) => db.transaction((tx) => fn(executor(tx))),
    exec: async (script) => void (await db.exec(script)),
    close: () => db.close(),
  };
}
