/**
 * Training jobs on a domain with its default trainer, src/nn's `trainModel`
 * (logistic regression: tiny and fast): progress rows, each DP-SGD step in
 * the ledger, the accountant's epsilon charged on the first publish only,
 * cancellation, a job outliving its client's session, and the refusals.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as sy from "../../src";
import { ErrorCode } from "../../src/core/errors";
import { RDPAccountant } from "../../src/dp/accountant";
import {
  login,
  startDomain,
  type AssetPointer,
  type Domain,
  type DomainClient,
  type ModelSpec,
} from "../../src/domain";
import { failure, uploadPoints } from "./helpers";

const model: ModelSpec = new sy.nn.Model()
  .add(sy.nn.Linear(1, { inputShape: [null, 4], activation: "sigmoid" }))
  .compile({ loss: sy.nn.BinaryCrossEntropy(), optimizer: sy.nn.SGD({ learningRate: 0.5 }) })
  .toSpec();
const dp = { noiseMultiplier: 1.1, clipNorm: 1 };

describe("domain training jobs", () => {
  let dataDir: string;
  let domain: Domain;
  let owner: DomainClient;
  let ada: DomainClient;
  let x: AssetPointer;
  let y: AssetPointer;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-domain-jobs-"));
    domain = await startDomain({ name: "Hospital C", dataDir });
    owner = await login({ email: "info@openmined.org", password: "changethis", url: domain.url, log: false });
    await owner.createUser({ name: "Ada", email: "ada@example.org", password: "ada-secret", budget: 100 });
    // 64 points in [0, 1]^4, labelled by whether their sum passes 2.
    tf.dispose(Object.values(await uploadPoints(owner, 64)));
    ada = await login({ email: "ada@example.org", password: "ada-secret", url: domain.url, log: false });
    const dataset = (await ada.datasets)[0]!;
    [x, y] = [dataset["x"], dataset["y"]];
  });

  afterAll(async () => {
    await domain?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("trains with DP-SGD in the background, recording progress and each step's tally", async () => {
    const job = await ada.train({ model, x, y, batchSize: 16, epochs: 2, dp });
    const state = await job.wait({ pollMs: 50 });
    expect(state.job.status).toBe("done");
    expect(state.progress.filter((r) => r.step !== undefined)).toHaveLength(8);
    expect(state.progress.filter((r) => r.step === undefined).map((r) => r.epoch)).toEqual([1, 2]);
    expect(state.steps).toEqual([{ noiseMultiplier: 1.1, sampleRate: 0.25, steps: 8 }]);
  });

  it("charges the accountant's epsilon on the first publish of the weights only", async () => {
    const job = await ada.train({ model, x, y, batchSize: 16, epochs: 2, dp });
    await job.wait({ pollMs: 50 });
    const expected = new RDPAccountant().step({ noiseMultiplier: 1.1, sampleRate: 0.25, steps: 8 }).getEpsilon(1e-5);
    const before = await ada.privacyBudget;
    const first = await job.weights().publish();
    expect(first.charged).toBe(true);
    expect(first.epsilon).toBeCloseTo(expected, 12);
    expect(first.privacyBudget).toBeCloseTo(before - expected, 12);
    expect(first.get().map((t) => t.shape)).toEqual([[4, 1], [1]]);
    const again = await job.weights().publish();
    expect(again.charged).toBe(false);
    expect(await ada.privacyBudget).toBeCloseTo(before - expected, 12);
    expect(Array.from(again.get()[0]!.dataSync())).toEqual(Array.from(first.get()[0]!.dataSync()));
  });

  it("cancels a running job, and goes on with a job whose client logged out", async () => {
    const long = await ada.train({ model, x, y, batchSize: 4, epochs: 10_000, dp });
    for (let i = 0; i < 200 && (await long.progress()).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await long.cancel()).status).toBe("cancelled");
    const steps = (await long.state()).steps[0]!.steps;
    expect(steps).toBeGreaterThan(0);
    expect(steps).toBeLessThan(10_000 * 16);

    const bob = await login({ email: "ada@example.org", password: "ada-secret", url: domain.url, log: false });
    const job = await bob.train({ model, x, y, batchSize: 16, epochs: 3, dp });
    await bob.logout();
    // Bob's session is over; the job is not. Its state, seen by the owner (who manages users):
    const ownerView = await owner.job(job.id).wait({ pollMs: 50 });
    expect(ownerView.job.status).toBe("done");
  });

  it("refuses to publish weights trained without DP, or someone else's, or an unfinished job", async () => {
    const plain = await ada.train({ model, x, y, batchSize: 16, epochs: 1 });
    await plain.wait({ pollMs: 50 });
    const refused = await failure(plain.weights().publish());
    expect(refused.code).toBe(ErrorCode.PERMISSION);
    expect(refused.message).toMatch(/dp: \{ noiseMultiplier, clipNorm \}/);
    const done = await ada.train({ model, x, y, batchSize: 16, epochs: 1, dp });
    await done.wait({ pollMs: 50 });
    expect((await failure(owner.job(done.id).weights().publish())).code).toBe(ErrorCode.PERMISSION);
    const running = await ada.train({ model, x, y, batchSize: 4, epochs: 10_000, dp });
    const early = await failure(running.weights().publish());
    expect(early.message).toMatch(/published once it is done/);
    await running.cancel();
  });
});
