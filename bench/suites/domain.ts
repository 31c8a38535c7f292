/**
 * The domain (issue 13, item 8's publish latency): a domain in this process on
 * PGlite in a temp dir, the embedded IDC subset uploaded as BreastCancerDataset
 * (400 patches of 32x32x3 with patient ids), a data scientist's login, and
 * `publish({ sigma })` of the mean image: a round trip that evaluates the mean,
 * adds noise, computes epsilon with the RDP accountant and charges it in one
 * database transaction. Target: publish under 50 ms. Also the upload and a
 * remote op (pointer creation) for scale.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as sy from "../../src";
import { login, startDomain } from "../../src/domain";
import { timeAsync, type BenchRow } from "../harness";

export async function runDomainSuite(): Promise<BenchRow[]> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-bench-domain-"));
  const rows: BenchRow[] = [];
  const opened = performance.now();
  const domain = await startDomain({ name: "bench", dataDir, port: 0 });
  rows.push({
    suite: "domain",
    name: "start (new PGlite data dir, migrations, owner)",
    ms: performance.now() - opened,
  });
  try {
    const owner = await login({ email: "info@openmined.org", password: "changethis", url: domain.url, log: false });
    await owner.createUser({ name: "Ada", email: "ada@example.org", password: "ada-secret", budget: 1e9 });
    const idc = await sy.data.loadIdc({ source: "embedded", size: 32 });
    const started = performance.now();
    await owner.loadDataset({
      name: "BreastCancerDataset",
      assets: {
        train_images: sy.dp.private(idc.images, { min: 0, max: 1, dataSubjects: idc.patientIds }),
        train_labels: sy.dp.private(idc.labels, { min: 0, max: 1, dataSubjects: idc.patientIds }),
      },
    });
    rows.push({
      suite: "domain",
      name: `loadDataset (IDC ${idc.images.shape.join("x")})`,
      ms: performance.now() - started,
    });
    const loginTime = await timeAsync(
      () => login({ email: "ada@example.org", password: "ada-secret", url: domain.url, log: false }),
      { warmup: 1, minRuns: 10, maxRuns: 20, minMs: 0 },
    );
    rows.push({
      suite: "domain",
      name: "login (scrypt N=2^15 + session row + token)",
      ms: loginTime.median,
      p95: loginTime.p95,
    });
    const ada = await login({ email: "ada@example.org", password: "ada-secret", url: domain.url, log: false });
    const images = (await ada.datasets)[0]!["train_images"];
    const op = await timeAsync(() => images.mean(0), { warmup: 2, minRuns: 20, maxRuns: 50, minMs: 0 });
    rows.push({ suite: "domain", name: "remote op (a pointer to the mean image)", ms: op.median, p95: op.p95 });
    const mean = await images.mean(0);
    const labelSum = await (await ada.datasets)[0]!["train_labels"].sum();
    const publishes: Array<[string, () => Promise<unknown>]> = [
      ["publish the mean image (7,500 values)", () => mean.publish({ sigma: 0.01 })],
      ["publish a label count (1 value)", () => labelSum.publish({ sigma: 1 })],
    ];
    for (const [name, publish] of publishes) {
      const t = await timeAsync(publish, { warmup: 3, minRuns: 50, maxRuns: 100, minMs: 0 });
      rows.push({ suite: "domain", name, ms: t.median, p95: t.p95 });
    }
    idc.images.dispose();
    idc.labels.dispose();
  } finally {
    await domain.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  return rows;
}
