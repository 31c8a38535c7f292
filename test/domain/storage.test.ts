/**
 * The storage suite on PGlite (in memory, and in a data dir that survives a
 * reopen) and, when TSYFT_TEST_DATABASE_URL names one, on a PostgreSQL server
 * (.ci/run starts Debian's and sets it), in a schema of its own.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { migrate, MIGRATIONS, openDomainStore, storeOver } from "../../src/domain/storage";
import { openPglite } from "../../src/domain/storage/pglite";
import { openPostgres } from "../../src/domain/storage/postgres";
import { freshSchema } from "./pg-schema";
import { runStorageSuite } from "./storage.suite";

runStorageSuite("PGlite", () => openDomainStore({}));

const serverUrl = process.env.TSYFT_TEST_DATABASE_URL;
if (serverUrl) {
  runStorageSuite("PostgreSQL server", async () => {
    const schema = await freshSchema(serverUrl);
    const sql = await openPostgres(schema.url);
    await migrate(sql);
    const store = storeOver(sql);
    return { ...store, close: () => store.close().then(schema.drop) };
  });
} else {
  describe.skip("DomainStore conformance: PostgreSQL server", () => {
    it("needs TSYFT_TEST_DATABASE_URL (set by .ci/run, which starts Debian's PostgreSQL)", () => undefined);
  });
}

describe("PGlite in a data dir", () => {
  it("keeps its rows and migrations across a reopen, and migrates only once", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-store-"));
    try {
      const store = await openDomainStore({ dataDir: dir });
      const user = await store.users.create({
        email: "ada@example.org",
        name: "Ada",
        role: "Owner",
        passwordHash: "h",
        budget: 1,
      });
      await store.close();
      const sql = await openPglite(path.join(dir, "db"));
      expect(await migrate(sql)).toEqual([]);
      const versions = await sql.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
      expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((m) => m.version));
      expect((await storeOver(sql).users.byId(user.id))?.email).toBe("ada@example.org");
      await sql.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("makes a data dir whose parent folders do not exist yet", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-store-"));
    try {
      const store = await openDomainStore({ dataDir: path.join(root, "out", "domain") });
      await store.users.create({ email: "ada@example.org", name: "Ada", role: "Owner", passwordHash: "h", budget: 1 });
      await store.close();
      expect(fs.readdirSync(path.join(root, "out", "domain", "db")).length).toBeGreaterThan(0);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
