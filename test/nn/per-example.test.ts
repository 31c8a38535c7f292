/**
 * Per-example gradients (Opacus's method: layer inputs and output gradients from one backward pass) equal, for
 * every example and every parameter, the gradient TensorFlow.js computes for that example alone (a loop of
 * tf.variableGrads over batches of one), on Dense, Conv2D (valid, same, strided, PySyft's integer padding) and
 * pooling, flatten, leaky ReLU and activations between them, and a stride that does not divide the input (the
 * last rows are never read), on the cpu and wasm backends.
 *
 * Tolerance: both are float32 sums of the same products in different orders; each gradient entry sums at most a
 * few hundred products of magnitude <= 1, so rounding differs by at most ~1e-5 relative; we allow 1e-4 of the
 * largest entry, plus 1e-6.
 */
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as sy from "../../src";
import { buildModel } from "../../src/nn/build";
import { perExampleLoss, prepareTargets } from "../../src/nn/objectives";
import { checkPerExampleSupport, perExampleGradients } from "../../src/nn/per-example";
import type { LayerSpec, LossName, ModelSpec } from "../../src/nn/spec";

const nn = sy.nn;

function spec(inputShape: number[], layers: LayerSpec[], loss: LossName = "BinaryCrossEntropy"): ModelSpec {
  return { format: nn.MODEL_SPEC_FORMAT, inputShape, layers, loss, optimizer: nn.SGD() };
}

/** The loop oracle: gradient of example i's loss alone, by TensorFlow.js, per trainable weight. */
function loopGradients(model: tf.Sequential, loss: LossName, x: tf.Tensor, targets: tf.Tensor): tf.Tensor[] {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const perExample: tf.Tensor[][] = variables.map(() => []);
  for (let i = 0; i < x.shape[0]!; i++) {
    const { grads } = tf.variableGrads(() => {
      const xi = tf.slice(x, [i], [1]);
      const ti = tf.slice(targets, [i], [1]);
      return tf.sum(perExampleLoss(tf, loss, model.apply(xi, { training: true }) as tf.Tensor, ti));
    }, variables);
    variables.forEach((v, k) => perExample[k]!.push(grads[v.name]!));
  }
  return perExample.map((list) => tf.stack(list));
}

function expectClose(actual: tf.Tensor, expected: tf.Tensor): void {
  expect(actual.shape).toEqual(expected.shape);
  const scale = tf.max(tf.abs(expected)).dataSync()[0]!;
  const diff = tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0]!;
  expect(diff).toBeLessThanOrEqual(1e-4 * scale + 1e-6);
}

const cases: Array<{ name: string; spec: ModelSpec; batch: number }> = [
  {
    name: "Dense, relu, Dense sigmoid",
    spec: spec([6], [nn.Linear(5, { activation: "relu", inputShape: [6] }), nn.Linear(1, { activation: "sigmoid" })]),
    batch: 7,
  },
  {
    name: "Conv2D valid, max pool, flatten, Dense (binary)",
    spec: spec(
      [8, 8, 3],
      [
        nn.Convolution(4, 3, { activation: "relu" }),
        nn.MaxPool(2),
        nn.Flatten(),
        nn.Linear(1, { activation: "sigmoid" }),
      ],
    ),
    batch: 5,
  },
  {
    name: "Conv2D same strided, leaky ReLU, avg pool, PySyft padding, softmax (categorical)",
    spec: spec(
      [9, 9, 2],
      [
        nn.Convolution(3, [3, 2], { stride: 2, padding: "same", activation: nn.leakyReLU(0.2) }),
        nn.AvgPool(2, { stride: 1 }),
        nn.Convolution(4, 2, { padding: 1, activation: "tanh" }),
        nn.leakyReLU(),
        nn.Flatten(),
        nn.Linear(3, { activation: "softmax" }),
      ],
      "CrossEntropy",
    ),
    batch: 6,
  },
  {
    name: "Conv2D valid with stride 2 over 8 rows (the last row is never read), then a same-padded one",
    spec: spec(
      [8, 7, 2],
      [
        nn.Convolution(3, 3, { stride: 2, activation: "relu" }),
        nn.Convolution(2, 2, { stride: [1, 2], padding: "same", activation: "sigmoid" }),
        nn.Flatten(),
        nn.Linear(1, { activation: "sigmoid" }),
      ],
    ),
    batch: 4,
  },
];

for (const backend of ["cpu", "wasm"] as const) {
  describe(`per-example gradients (${backend})`, () => {
    beforeAll(async () => {
      if (backend === "wasm") await sy.useWasmBackend(tf);
      else await tf.setBackend("cpu");
    });
    afterAll(async () => {
      await tf.setBackend("cpu");
    });

    for (const c of cases) {
      it(`${c.name}: each example's gradient equals tf.grad on that example alone`, () => {
        const model = buildModel(tf, c.spec);
        const x = tf.randomNormal([c.batch, ...c.spec.inputShape], 0, 1, "float32", 7);
        const outputs = (model.outputShape as number[]).slice(1);
        const labels =
          c.spec.loss === "CrossEntropy"
            ? tf.tensor1d([0, 1, 2, 1, 0, 2].slice(0, c.batch), "int32")
            : tf.randomUniform([c.batch], 0, 2, "int32", 3);
        const targets = prepareTargets(tf, c.spec.loss, labels, outputs);
        const { gradients, losses } = perExampleGradients(tf, model, c.spec.loss, x, targets);
        const expected = loopGradients(model, c.spec.loss, x, targets);
        expect(gradients.length).toBe(model.trainableWeights.length);
        gradients.forEach((g, k) => expectClose(g, expected[k]!));
        expectClose(losses, perExampleLoss(tf, c.spec.loss, model.predict(x) as tf.Tensor, targets));
        model.dispose();
      });
    }
  });
}

describe("DP-SGD refuses what has no per-example gradient", () => {
  it("BatchNorm: UNSUPPORTED_LAYER, with the reason and what to do", () => {
    const model = buildModel(
      tf,
      spec([4], [nn.Linear(3, { inputShape: [4] }), nn.BatchNorm(), nn.Linear(1, { activation: "sigmoid" })]),
    );
    let error: unknown;
    try {
      checkPerExampleSupport(model);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(sy.TsyftError);
    expect((error as sy.TsyftError).code).toBe("TSYFT_ERR_UNSUPPORTED_LAYER");
    expect((error as sy.TsyftError).message).toMatch(
      /BatchNormalization.*batch.*Opacus.*Remove the BatchNorm layer, or train without dp/s,
    );
    model.dispose();
  });
});
