/**
 * DP-SGD as trainModel runs it: clipping is exact (with no noise, the update is the mean of the clipped
 * per-example gradients, checked against TensorFlow.js's gradient of each example alone), the noise has the
 * distribution the mechanism promises, every step is reported with the sampling rate and noise multiplier the
 * accountant needs, a small CNN trained by DP-SGD on the embedded IDC patches beats chance on held-out patches, and
 * an AbortSignal stops a run between steps.
 */
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as sy from "../../src";
import type { LayerSpec, ModelSpec } from "../../src/nn/spec";
import { Trainer } from "../../src/nn/trainer";

const nn = sy.nn;

function spec(inputShape: number[], layers: LayerSpec[], optimizer = nn.SGD({ learningRate: 1 })): ModelSpec {
  return { format: nn.MODEL_SPEC_FORMAT, inputShape, layers, loss: "BinaryCrossEntropy", optimizer };
}

/** The trainable weights after minus before, per weight. */
function updateOf(trainer: Trainer, run: () => void): tf.Tensor[] {
  const before = trainer.model.trainableWeights.map((w) => w.read().clone());
  run();
  return trainer.model.trainableWeights.map((w, k) => tf.sub(w.read(), before[k]!));
}

beforeAll(async () => {
  await sy.useWasmBackend(tf);
});
afterAll(async () => {
  await tf.setBackend("cpu");
});

describe("clipping", () => {
  it("with no noise, one step moves the weights by -lr x (sum of per-example gradients, each clipped to C) / B", () => {
    const s = spec(
      [5],
      [nn.Linear(4, { activation: "tanh", inputShape: [5] }), nn.Linear(1, { activation: "sigmoid" })],
    );
    const trainer = Trainer.create(tf, s);
    const x = tf.randomNormal([6, 5], 0, 3, "float32", 11);
    const targets = trainer.targets(tf.tensor1d([0, 1, 1, 0, 1, 0], "int32"));
    const variables = trainer.model.trainableWeights.map((w) => w.read() as tf.Variable);
    // The oracle: each example's gradient by tf.variableGrads on that example alone, clipped by hand.
    const clippedSum = variables.map((v) => tf.zerosLike(v));
    const clipNorm = 0.5;
    const norms: number[] = [];
    for (let i = 0; i < 6; i++) {
      const { grads } = tf.variableGrads(
        () =>
          tf.sum(
            nn.perExampleLoss(
              tf,
              "BinaryCrossEntropy",
              trainer.model.apply(tf.slice(x, [i], [1])) as tf.Tensor,
              tf.slice(targets, [i], [1]),
            ),
          ),
        variables,
      );
      const norm = Math.sqrt(variables.reduce((sum, v) => sum + tf.sum(tf.square(grads[v.name]!)).dataSync()[0]!, 0));
      norms.push(norm);
      const factor = Math.min(1, clipNorm / (norm + 1e-6));
      variables.forEach((v, k) => (clippedSum[k] = tf.add(clippedSum[k]!, tf.mul(grads[v.name]!, factor))));
    }
    // The inputs are large enough that most examples are clipped, so the test is about clipping.
    expect(norms.filter((n) => n > clipNorm).length).toBeGreaterThanOrEqual(3);
    let clipped = 0;
    const update = updateOf(trainer, () => {
      clipped = trainer.dpStep(x, targets, { noiseMultiplier: 0, clipNorm }, 6).clipped;
    });
    expect(clipped).toBe(norms.filter((n) => n + 1e-6 > clipNorm).length);
    update.forEach((u, k) => {
      const expected = tf.div(clippedSum[k]!, -6);
      const diff = tf.max(tf.abs(tf.sub(u, expected))).dataSync()[0]!;
      expect(diff).toBeLessThan(1e-5);
    });
    trainer.dispose();
  });
});

describe("noise", () => {
  it("the update's noise is N(0, (sigma C / B)^2) per coordinate", () => {
    // 50 x 20 + 20 = 1,020 coordinates. Sample std s of k normals is within 5 s / sqrt(2k) (about 11%) and the
    // mean within 5 s / sqrt(k) of 0, except with probability below 1e-6.
    const s = spec([50], [nn.Linear(20, { inputShape: [50] }), nn.Linear(1, { activation: "sigmoid" })]);
    const x = tf.randomNormal([8, 50], 0, 1, "float32", 5);
    const y = tf.tensor1d([0, 1, 0, 1, 1, 0, 0, 1], "int32");
    const [sigma, clipNorm, expected] = [2, 0.25, 16];
    const runStep = (noiseMultiplier: number) => {
      const trainer = Trainer.create(tf, s, { weights: start });
      const targets = trainer.targets(y);
      const update = updateOf(trainer, () => trainer.dpStep(x, targets, { noiseMultiplier, clipNorm }, expected));
      trainer.dispose();
      return update;
    };
    const startTrainer = Trainer.create(tf, s);
    const start = startTrainer.getWeights();
    startTrainer.dispose();
    const clean = runStep(0);
    const noisy = runStep(sigma);
    // Only the first layer's 1,020 coordinates (the second one's 21 add little).
    const noise = tf.concat([tf.sub(noisy[0]!, clean[0]!).flatten(), tf.sub(noisy[1]!, clean[1]!).flatten()]);
    const k = noise.size;
    const std = (sigma * clipNorm) / expected;
    const mean = tf.mean(noise).dataSync()[0]!;
    const sampleStd = Math.sqrt(tf.mean(tf.square(tf.sub(noise, mean))).dataSync()[0]!);
    expect(Math.abs(mean)).toBeLessThan((5 * std) / Math.sqrt(k));
    expect(Math.abs(sampleStd - std)).toBeLessThan((5 * std) / Math.sqrt(2 * k));
  });
});

describe("an empty Poisson batch", () => {
  it("still takes a step, of noise alone (std sigma C / expected batch size), and reports its loss as NaN", () => {
    const s = spec([30], [nn.Linear(10, { inputShape: [30] }), nn.Linear(1, { activation: "sigmoid" })]);
    const trainer = Trainer.create(tf, s);
    const empty = tf.zeros([0, 30]);
    const targets = trainer.targets(tf.zeros([0], "int32"));
    let loss = 0;
    const update = updateOf(trainer, () => {
      loss = trainer.dpStep(empty, targets, { noiseMultiplier: 2, clipNorm: 0.5 }, 4).loss;
    });
    expect(loss).toBeNaN();
    // 310 coordinates of N(0, 0.25^2) (lr 1): the sample std is within 5 std / sqrt(2 x 310), about 20%.
    const noise = tf.concat([update[0]!.flatten(), update[1]!.flatten()]);
    const sampleStd = Math.sqrt(tf.mean(tf.square(noise)).dataSync()[0]!);
    expect(Math.abs(sampleStd - 0.25)).toBeLessThan((5 * 0.25) / Math.sqrt(2 * noise.size));
    expect(trainer.steps).toBe(1);
    trainer.dispose();
  });
});

describe("trainModel with dp on the embedded IDC patches", () => {
  it("beats chance on held-out patches, reports each step for the ledger, and the accountant gives its epsilon", async () => {
    const idc = await sy.data.loadIdc({ size: 16, source: "embedded" });
    const { train, test } = sy.data.splitIdc(idc, { seed: 42, validSize: 0, testSize: 0.25 });
    // Standardised per channel by the training set's statistics; shuffled with a fixed order, since the split
    // lists the patches by class and validationSplit holds out the last rows (as Keras and PySyft do).
    const mean = tf.mean(train.images, [0, 1, 2]);
    const std = tf.sqrt(tf.mean(tf.square(tf.sub(train.images, mean)), [0, 1, 2]));
    const standardise = (images: tf.Tensor) => tf.div(tf.sub(images, mean), std);
    const order = tf.tensor1d(
      Int32Array.from({ length: 300 }, (_, i) => (i * 7919) % 300),
      "int32",
    );
    const [xTrain, yTrain] = [tf.gather(standardise(train.images), order), tf.gather(train.labels, order)];
    const net = new nn.Model()
      .add(nn.Convolution(8, 3, { inputShape: [null, 16, 16, 3], activation: "relu" }))
      .add(nn.MaxPool(2))
      .add(nn.Convolution(8, 3, { activation: "relu" }))
      .add(nn.MaxPool(2))
      .add(nn.Flatten())
      .add(nn.Linear(1, { activation: "sigmoid" }));
    net.compile({ loss: nn.BinaryCrossEntropy(), optimizer: nn.Adam({ learningRate: 0.003 }) });
    const dp = { noiseMultiplier: 1, clipNorm: 1 };
    const accountant = new sy.dp.RDPAccountant();
    const steps: sy.nn.StepEvent[] = [];
    const history = await net.fit(xTrain, yTrain, {
      maxIter: 8,
      batchSize: 30,
      validationSplit: 0.1,
      dp,
      onStep: (s) => {
        steps.push(s);
        accountant.step({ noiseMultiplier: s.noiseMultiplier!, sampleRate: s.sampleRate });
      },
    });
    const nTrain = 300 - 30;
    // Opacus's schedule: floor(n / batchSize) Poisson steps per epoch at rate batchSize / n.
    expect(steps.length).toBe(8 * Math.floor(nTrain / 30));
    expect(steps.every((s) => s.sampleRate === 30 / nTrain && s.noiseMultiplier === 1)).toBe(true);
    expect(steps.map((s) => s.step)).toEqual(steps.map((_, i) => i + 1));
    expect(history.map((h) => h.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(history.every((h) => h.valAccuracy !== undefined && Number.isFinite(h.valLoss!))).toBe(true);

    const epsilon = accountant.getEpsilon(1e-5);
    const sameRun = new sy.dp.RDPAccountant([{ noiseMultiplier: 1, sampleRate: 30 / nTrain, steps: steps.length }]);
    expect(epsilon).toBeCloseTo(sameRun.getEpsilon(1e-5), 10);
    // The local model keeps the same tally.
    expect(net.accountant.history).toEqual(sameRun.history);
    expect(epsilon).toBeGreaterThan(0);
    expect(Number.isFinite(epsilon)).toBe(true);

    // 100 held-out patches, 50 per class: chance reaches 64% with probability under 0.3% (binomial, z = 2.7).
    const predicted = net.predict(standardise(test.images));
    const correct = tf.sum(tf.equal(tf.greater(predicted.flatten(), 0.5), tf.cast(test.labels, "bool"))).dataSync()[0]!;
    const accuracy = correct / test.labels.shape[0];
    console.log(
      `DP-SGD on IDC 16x16: test accuracy ${accuracy.toFixed(3)}, epsilon ${epsilon.toFixed(2)} at delta 1e-5`,
    );
    expect(test.labels.shape[0]).toBe(100);
    expect(accuracy).toBeGreaterThanOrEqual(0.64);
    net.dispose();
  });
});

describe("cancellation", () => {
  it("an aborted signal stops the run between steps with TSYFT_ERR_CANCELLED; the steps taken were reported", async () => {
    const s = spec([4], [nn.Linear(1, { activation: "sigmoid", inputShape: [4] })]);
    const x = tf.randomNormal([64, 4], 0, 1, "float32", 2);
    const y = tf.randomUniform([64], 0, 2, "int32", 2);
    const controller = new AbortController();
    const seen: number[] = [];
    const run = sy.nn.trainModel(tf, s, x, y, {
      epochs: 5,
      batchSize: 8,
      dp: { noiseMultiplier: 1, clipNorm: 1 },
      signal: controller.signal,
      onStep: (e) => {
        seen.push(e.step);
        if (e.step === 3) controller.abort(new Error("job cancelled by its owner"));
      },
    });
    await expect(run).rejects.toMatchObject({
      code: "TSYFT_ERR_CANCELLED",
      details: { steps: 3, reason: "job cancelled by its owner" },
    });
    expect(seen).toEqual([1, 2, 3]);
  });
});

describe("tensor memory", () => {
  it("trainModel, ordinary and DP-SGD, with validation, leaves no tensor behind but the weights it returns", async () => {
    const s = spec(
      [3, 3, 2],
      [nn.Convolution(2, 2, { activation: "relu" }), nn.Flatten(), nn.Linear(1, { activation: "sigmoid" })],
    );
    const x = tf.randomNormal([20, 3, 3, 2], 0, 1, "float32", 3);
    const y = tf.randomUniform([20], 0, 2, "int32", 3);
    // A first run allocates what TF.js keeps for good (tfjs-layers' cached constants); the runs after it must not grow.
    tf.dispose((await sy.nn.trainModel(tf, s, x, y, { epochs: 1, batchSize: 4 })).weights);
    for (const dp of [undefined, { noiseMultiplier: 1, clipNorm: 1 }]) {
      const before = tf.memory().numTensors;
      const { weights } = await sy.nn.trainModel(tf, s, x, y, { epochs: 2, batchSize: 4, validationSplit: 0.2, dp });
      expect(tf.memory().numTensors - before).toBe(weights.length);
      tf.dispose(weights);
    }
  });
});
