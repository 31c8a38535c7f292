/**
 * `tsyft domain` as a child process (the CLI a user runs): it listens on a
 * random port, keeps its state in the data dir (PGlite) or on a PostgreSQL
 * server (--database, when TSYFT_TEST_DATABASE_URL is set), a restarted
 * process finds all of it, and it trains models (sy.nn's trainer by default).
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterEach, describe, expect, it } from "vitest";
import * as sy from "../../src";
import { packageRoot } from "../../src/core/package-root";
import { login } from "../../src/domain";
import { stopChild, waitListening } from "../../src/grid/processes";
import { freshSchema } from "./pg-schema";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** Starts `tsyft domain ...` (the TypeScript entry through vite-node) and waits for its listening line. */
async function startDomainProcess(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const viteNode = path.join(packageRoot(), "node_modules", "vite-node", "vite-node.mjs");
  const entry = path.join(packageRoot(), "src", "cli-entry.ts");
  const child = spawn(process.execPath, [viteNode, entry, "--", "domain", ...args, "--exit-with-parent"], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  cleanups.push(() => stopChild(child));
  const info = await waitListening(child, "Hospital B", 120_000);
  expect(info.role).toBe("domain");
  return { child, url: info.url };
}

async function ownerThenRestart(extra: string[]): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-domain-cli-"));
  cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const args = ["--name", "Hospital B", "--port", "0", "--data-dir", dataDir, ...extra];
  const first = await startDomainProcess(args);
  const warnings: string[] = [];
  const owner = await login({
    email: "info@openmined.org",
    password: "changethis",
    url: first.url,
    log: (m) => warnings.push(m),
  });
  expect(warnings[0]).toMatch(/^WARNING: CHANGE YOUR USERNAME AND PASSWORD!!!/);
  await owner.createUser({ name: "Ada", email: "ada@example.org", password: "ada-secret", budget: 3 });
  const x = tf.tensor2d([0, 1, 1, 0, 0.5, 0.5], [3, 2]);
  const y = tf.tensor1d([1, 0, 1], "int32");
  await owner.loadDataset({
    name: "tiny",
    assets: { x: sy.dp.private(x, { min: 0, max: 1 }), y: sy.dp.private(y, { min: 0, max: 1 }) },
  });
  await stopChild(first.child);

  const second = await startDomainProcess(args);
  const ada = await login({ email: "ada@example.org", password: "ada-secret", url: second.url, log: false });
  expect(await ada.privacyBudget).toBe(3);
  const datasets = await ada.datasets;
  expect(datasets.map((d) => d.name)).toEqual(["tiny"]);
  expect(datasets[0]!["x"].shape).toEqual([3, 2]);
  // The CLI's domain trains with sy.nn by default.
  const net = new sy.nn.Model().add(sy.nn.Linear(1, { inputShape: [null, 2], activation: "sigmoid" }));
  const modelPtr = await net.compile({ to: ada, loss: sy.nn.BinaryCrossEntropy(), optimizer: sy.nn.SGD() });
  const trained = await (await modelPtr.fit(datasets[0]!["x"], datasets[0]!["y"], { maxIter: 2, batchSize: 2 })).wait();
  expect(trained.job.status).toBe("done");
  expect(trained.progress.filter((r) => r.step === undefined).map((r) => r.epoch)).toEqual([1, 2]);
  const sum = await datasets[0]!["x"].sum(0);
  const released = await sum.publish({ sigma: 10 });
  expect(released.privacyBudget).toBeCloseTo(3 - released.epsilon, 12);
  // Many publishes at once: exactly as many as the budget covers are answered, the rest refused.
  const results = await Promise.allSettled(Array.from({ length: 30 }, () => sum.publish({ sigma: 10 })));
  const answered = results.filter((r) => r.status === "fulfilled").length;
  expect(answered).toBe(Math.floor((3 - released.epsilon) / released.epsilon + 1e-9));
  expect(await ada.privacyBudget).toBeGreaterThanOrEqual(0);
  expect(await ada.privacyBudget).toBeCloseTo(3 - (answered + 1) * released.epsilon, 9);
}

describe("tsyft domain (child process)", () => {
  it("serves from a PGlite data dir, and a restarted process keeps users, datasets and budgets", async () => {
    await ownerThenRestart([]);
  });

  const serverUrl = process.env.TSYFT_TEST_DATABASE_URL;
  it.skipIf(!serverUrl)("does the same with its state on a PostgreSQL server (--database)", async () => {
    const schema = await freshSchema(serverUrl!);
    cleanups.push(schema.drop);
    await ownerThenRestart(["--database", schema.url]);
  });
});
