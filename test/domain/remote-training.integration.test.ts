/**
 * Remote training end to end (issue 13, items 4 and 5): a domain in process with PGlite, an owner who uploads
 * IDC patches (the embedded subset, 16x16) as private assets, a data scientist with a budget who cannot get()
 * them but trains on them through sy.nn: flow II (compile to the domain, fit with DP-SGD, progress polled),
 * flow I (a model built on the domain) and flow III (single steps); weights published once at the accountant's
 * epsilon, then free, and a publish over budget refused with nothing released.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as sy from "../../src";
import { ErrorCode } from "../../src/core/errors";
import { RDPAccountant } from "../../src/dp/accountant";
import { login, startDomain, type AssetPointer, type Domain, type DomainClient } from "../../src/domain";
import { failure } from "./helpers";

const PER_CLASS = 24;
const SIZE = 16;
const dp = { noiseMultiplier: 1.1, clipNorm: 1 };
// Flow II: 48 patches, a quarter held out, Poisson batches of 12 expected: q = 12 / 36, 3 steps an epoch, 2 epochs.
const fitOptions = { maxIter: 2, batchSize: 12, validationSplit: 0.25, dp };
const fitEpsilon = new RDPAccountant().step({ noiseMultiplier: 1.1, sampleRate: 12 / 36, steps: 6 }).getEpsilon(1e-5);
// Flow III: each step on a chosen batch, no amplification by sampling.
const stepEpsilon = (steps: number) =>
  new RDPAccountant().step({ noiseMultiplier: 1.1, sampleRate: 1, steps }).getEpsilon(1e-5);
// Enough for the fit and one step, not for the fit and two.
const budget = fitEpsilon + (stepEpsilon(1) + stepEpsilon(2)) / 2;

function network<H>(net: sy.nn.Model<H>): sy.nn.Model<H> {
  return net
    .add(sy.nn.Convolution(4, 3, { inputShape: [null, SIZE, SIZE, 3], activation: "relu" }))
    .add(sy.nn.MaxPool(2))
    .add(sy.nn.Flatten())
    .add(sy.nn.Linear(1, { activation: "sigmoid" }));
}

describe("remote training on a domain with sy.nn", () => {
  let dataDir: string;
  let domain: Domain;
  let owner: DomainClient;
  let ds: DomainClient;
  let images: AssetPointer;
  let labels: AssetPointer;
  const loaded: tf.Tensor[] = [];

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-remote-training-"));
    domain = await startDomain({ name: "Hospital R", dataDir });
    owner = await login({ email: "info@openmined.org", password: "changethis", url: domain.url, log: false });
    const taken = [0, 0];
    const idc = await sy.data.loadIdc({
      source: "embedded",
      size: SIZE,
      filter: (row) => taken[row.label]!++ < PER_CLASS,
    });
    loaded.push(idc.images, idc.labels);
    await owner.loadDataset({
      name: "BreastCancerDataset (IDC patches)",
      description: "IDC histopathology patches, 16x16",
      assets: {
        train_images: sy.dp.private(idc.images, { min: 0, max: 1, dataSubjects: idc.patientIds }),
        train_labels: sy.dp.private(idc.labels, { min: 0, max: 1, dataSubjects: idc.patientIds }),
      },
    });
    await owner.createUser({ name: "Ada", email: "ada@example.org", password: "ada-secret", budget });
    ds = await login({ email: "ada@example.org", password: "ada-secret", url: domain.url, log: false });
    const dataset = (await ds.datasets)[0]!;
    [images, labels] = [dataset["train_images"], dataset["train_labels"]];
  });

  afterAll(async () => {
    await domain?.close();
    for (const t of loaded) t.dispose();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("shows the data scientist shapes, not values", async () => {
    expect(images.shape).toEqual([2 * PER_CLASS, SIZE, SIZE, 3]);
    expect(labels.shape).toEqual([2 * PER_CLASS]);
    expect((await failure(images.get())).code).toBe(ErrorCode.PERMISSION);
  });

  it("flow II: fits with DP-SGD as a job, polled to completion, published once at the accountant's epsilon", async () => {
    const modelPtr = await network(new sy.nn.Model()).compile({
      to: ds,
      loss: sy.nn.BinaryCrossEntropy(),
      optimizer: sy.nn.Adamax(),
    });
    await modelPtr.fit(images, labels, fitOptions);
    // watch() polls progress() until the job is done, showing each poll to its callback (a notebook's live bar).
    const seen: sy.domain.ModelProgress[] = [];
    const progress = await modelPtr.watch((p) => void seen.push(p), { pollMs: 50, timeoutMs: 60_000 });
    expect(seen.at(-1)).toEqual(progress);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.steps).toBeGreaterThanOrEqual(seen[i - 1]!.steps);
    expect(await modelPtr.progress()).toEqual(progress);
    expect(progress.error).toBeNull();
    expect(progress.status).toBe("done");
    expect(progress.steps).toBe(6);
    expect(progress.stepRows.map((r) => [r.epoch, r.step])).toEqual([1, 2, 3, 4, 5, 6].map((s) => [s <= 3 ? 1 : 2, s]));
    expect(progress.epochs.map((r) => r.epoch)).toEqual([1, 2]);
    for (const row of progress.epochs) {
      expect(Number.isFinite(row.loss)).toBe(true);
      expect(row.valAccuracy).toBeGreaterThanOrEqual(0);
      expect(row.valAccuracy).toBeLessThanOrEqual(1);
    }

    const before = await ds.privacyBudget;
    expect(before).toBeCloseTo(budget, 12);
    const published = await modelPtr.weights().publish();
    expect(published.charged).toBe(true);
    expect(published.epsilon).toBeCloseTo(fitEpsilon, 12);
    expect(await ds.privacyBudget).toBeCloseTo(budget - fitEpsilon, 12);
    // The published weights load into the same architecture, locally (buildModel checks their shapes).
    const weights = published.get();
    const local = sy.nn.buildModel(tf, modelPtr.spec, weights);
    const scores = local.predict(loaded[0]!.slice([0], [4])) as tf.Tensor;
    expect(scores.shape).toEqual([4, 1]);
    for (const p of scores.dataSync()) expect(p > 0 && p < 1).toBe(true);
    local.dispose();

    const again = await modelPtr.weights().publish();
    expect(again.charged).toBe(false);
    expect(await ds.privacyBudget).toBeCloseTo(budget - fitEpsilon, 12);
    expect(Array.from(again.get()[0]!.dataSync())).toEqual(Array.from(weights[0]!.dataSync()));

    // Flow III after the fit: steps continue from its weights, and its tally comes along with theirs.
    const fitJob = modelPtr.jobId;
    expect(Number.isFinite(await modelPtr.step(await images.slice([0], [8]), await labels.slice([0], [8])))).toBe(true);
    expect(modelPtr.jobId).not.toBe(fitJob);
    expect((await ds.job(modelPtr.jobId!).state()).steps).toEqual([
      { noiseMultiplier: 1.1, sampleRate: 12 / 36, steps: 6 },
      { noiseMultiplier: 1.1, sampleRate: 1, steps: 1 },
    ]);
  });

  it("flows I and III: a model built on the domain, trained step by step, over budget refused", async () => {
    const remote = new sy.nn.Model({ to: ds });
    network(remote);
    const modelPtr = await remote.compile({ loss: sy.nn.BinaryCrossEntropy(), optimizer: sy.nn.SGD() });
    const [xBatch, yBatch] = [await images.slice([0], [8]), await labels.slice([0], [8])];
    const loss = await modelPtr.step(xBatch, yBatch, { dp });
    expect(Number.isFinite(loss)).toBe(true);
    const [xNext, yNext] = [await images.slice([40], [8]), await labels.slice([40], [8])];
    expect(Number.isFinite(await modelPtr.step(xNext, yNext))).toBe(true); // dp carries over
    const progress = await modelPtr.progress();
    expect(progress.status).toBe("done");
    expect(progress.steps).toBe(2);
    const state = await ds.job(progress.job).state();
    expect(state.steps).toEqual([{ noiseMultiplier: 1.1, sampleRate: 1, steps: 2 }]);

    // Two steps cost more than what is left after the fit: refused, nothing released or charged.
    const left = await ds.privacyBudget;
    expect(left).toBeLessThan(stepEpsilon(2));
    const refused = await failure(modelPtr.weights().publish());
    expect(refused.code).toBe(ErrorCode.PRIVACY_BUDGET);
    expect(await ds.privacyBudget).toBeCloseTo(left, 12);
    expect((await failure(modelPtr.weights().publish())).code).toBe(ErrorCode.PRIVACY_BUDGET);

    // One step fits the budget: a new model, one step, published.
    const single = await network(new sy.nn.Model()).compile({ to: ds, loss: "BinaryCrossEntropy" });
    await single.step(xBatch, yBatch, { dp });
    const published = await single.weights().publish();
    expect(published.epsilon).toBeCloseTo(stepEpsilon(1), 12);
    expect(await ds.privacyBudget).toBeCloseTo(left - stepEpsilon(1), 12);
    // Cancelled: a fit stops, a stepped model takes no more steps.
    const long = await network(new sy.nn.Model()).compile({ to: ds, loss: "BinaryCrossEntropy" });
    await long.fit(images, labels, { maxIter: 1000, batchSize: 12, dp });
    const watching = failure(long.watch(() => undefined, { pollMs: 20 }));
    expect((await long.cancel()).status).toBe("cancelled");
    const stopped = await watching;
    expect(stopped.code).toBe(ErrorCode.REMOTE_OP_FAILED);
    expect(stopped.message).toMatch(/cancelled/);
    expect((await long.progress()).status).toBe("cancelled");
    expect((await modelPtr.cancel()).status).toBe("cancelled");
    expect((await failure(modelPtr.step(xNext, yNext))).code).toBe(ErrorCode.INVALID_ARGUMENT);

    // Its charge covered the steps before: more steps on it are refused.
    expect((await failure(single.step(xNext, yNext))).message).toMatch(/were published/);
  });
});
