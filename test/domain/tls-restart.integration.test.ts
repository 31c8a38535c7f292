/**
 * A domain over TLS (its certificate checked against the test CA; refused
 * without it), and a domain restarted after a crash mid-job: the job it was
 * running is marked failed, its ledger steps kept.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/core/errors";
import { login, openDomainStore, startDomain } from "../../src/domain";
import { makeTestCertificates, opensslMissing } from "../grid/tls-helpers";
import { failure } from "./helpers";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

function tempDataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-domain-"));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe("domain over TLS", () => {
  it.skipIf(opensslMissing !== undefined)(
    "serves https; clients verify it with the CA and refuse it without",
    async () => {
      const certs = makeTestCertificates();
      cleanups.push(() => certs.remove());
      const domain = await startDomain({
        name: "Secure",
        dataDir: tempDataDir(),
        tls: { cert: certs.cert, key: certs.key },
      });
      cleanups.push(() => domain.close());
      expect(domain.url).toMatch(/^https:\/\//);
      const owner = await login({
        email: "info@openmined.org",
        password: "changethis",
        url: domain.url,
        ca: certs.ca,
        log: false,
      });
      expect(owner.user?.role).toBe("Owner");
      const refused = await failure(login({ url: domain.url, log: false }));
      expect(refused.code).toBe(ErrorCode.TLS);
    },
  );
});

describe("domain restart after a crash", () => {
  it("marks the jobs it was running as failed, keeping their ledger steps", async () => {
    const dataDir = tempDataDir();
    const store = await openDomainStore({ dataDir });
    const user = await store.users.create({
      email: "ada@example.org",
      name: "Ada",
      role: "Data Scientist",
      passwordHash: "x",
      budget: 1,
    });
    const job = await store.jobs.create(user.id, { model: {} });
    await store.jobs.setStatus(job.id, "running");
    await store.jobs.addSteps(job.id, { noiseMultiplier: 1, sampleRate: 0.1, steps: 7 });
    await store.close(); // the process "crashed" here: the run is gone, the rows stay

    const domain = await startDomain({ name: "After", dataDir });
    cleanups.push(() => domain.close());
    const after = await domain.store.jobs.get(job.id);
    expect(after).toMatchObject({ status: "failed" });
    expect(after?.error).toMatch(/restarted/);
    expect(await domain.store.jobs.steps(job.id)).toEqual([{ noiseMultiplier: 1, sampleRate: 0.1, steps: 7 }]);
  });
});
