/**
 * A schema of its own on the test PostgreSQL server for each test file (vitest
 * runs files in parallel, and each migrates "its" tables): the url it returns
 * sets search_path to a new schema; `drop` removes it.
 */
import { randomBytes } from "node:crypto";
import { openPostgres } from "../../src/domain/storage/postgres";

export async function freshSchema(baseUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const schema = `tsyft_test_${randomBytes(6).toString("hex")}`;
  const admin = await openPostgres(baseUrl, { maxConnections: 1 });
  await admin.exec(`CREATE SCHEMA ${schema}`);
  const url = new URL(baseUrl);
  url.searchParams.set("options", `-c search_path=${schema}`);
  return {
    url: url.toString(),
    drop: async () => {
      await admin.exec(`DROP SCHEMA ${schema} CASCADE`);
      await admin.close();
    },
  };
}
