/**
 * PySyft's `model.fix_precision().share(alice, bob, crypto_provider=james)` on a TensorFlow.js model: the hook's
 * `fixPrecision()` and `share()` on tf.LayersModel give a plan with shared weights, which predicts on shared data
 * of any batch size and agrees with the plaintext model; and the original's test loop on shares
 * (`argmax(1)`, `eq(target.viewAs(pred)).sum()`, `copy().get().floatPrecision()`).
 */
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import * as sy from "../../src";
import { usePySyftTrio } from "./pysyft-trio";

const { trio, share, decrypt } = usePySyftTrio();

function mlp(): tf.Sequential {
  return tf.sequential({
    name: "mlp",
    layers: [
      tf.layers.dense({
        inputShape: [6],
        units: 8,
        activation: "relu",
        kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }),
      }),
      tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }) }),
    ],
  });
}

describe("model.fixPrecision().share(...)", () => {
  it("gives a built plan with shared weights that predicts like the model on any batch size", async () => {
    const model = mlp();
    const secure = model.fixPrecision().share(trio.alice, trio.bob, { cryptoProvider: trio.james });
    expect(secure).toBeInstanceOf(sy.Plan);
    expect(secure.name).toBe("mlp");
    expect(secure.code).toContain("matmul");
    for (const batch of [1, 7]) {
      const x = tf.randomNormal([batch, 6], 0, 1, "float32", batch);
      const y = secure.predict(share(x)) as sy.FixedPrecisionTensor;
      expect(y.shape).toEqual([batch, 3]);
      const want = model.predict(x) as tf.Tensor;
      expect(tf.max(tf.abs(tf.sub(await decrypt(y), want))).dataSync()[0]).toBeLessThan(1e-3);
      // PySyft's call form runs the same plan.
      const called = secure(share(x)) as sy.FixedPrecisionTensor;
      expect(tf.max(tf.abs(tf.sub(await decrypt(called), want))).dataSync()[0]).toBeLessThan(1e-3);
    }
    // The weights went to the holders as shares; the tf model keeps its plaintext weights and still trains.
    expect(secure.state.every(([, v]) => (v as sy.FixedPrecisionTensor).isShared)).toBe(true);
    expect(model.getWeights()).toHaveLength(4);
  });

  it("runs the original's toy and test loop on shares: argmax(1), eq(target.viewAs(pred)).sum(), copy().get()", async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [1], units: 1 })] });
    const secure = model.share(trio.alice, trio.bob, { cryptoProvider: trio.james });
    const data = share(tf.zeros([1, 1]));
    const target = share(tf.zeros([1]));
    const output = secure(data) as sy.FixedPrecisionTensor;
    const pred = output.argmax(1);
    const correct = pred.eq(target.viewAs(pred)).sum();
    expect((await decrypt(correct.copy())).dataSync()[0]).toBe(1);
    // copy() left the original: it can still be read.
    expect((await decrypt(correct)).dataSync()[0]).toBe(1);
  });

  it("keeps its encoding: fixPrecision({ base: 10, precisionFractional: 3 }) is PySyft's", async () => {
    const model = mlp();
    const secure = model
      .fixPrecision({ base: 10, precisionFractional: 3 })
      .share(trio.alice, trio.bob, { cryptoProvider: trio.james });
    const x = tf.randomNormal([2, 6], 0, 1, "float32", 3);
    const y = secure.predict(
      x.fixPrecision({ base: 10, precisionFractional: 3 }).share(trio.alice, trio.bob, { cryptoProvider: trio.james }),
    );
    expect(tf.max(tf.abs(tf.sub(await decrypt(y), model.predict(x) as tf.Tensor))).dataSync()[0]).toBeLessThan(0.05);
  });

  it("refuses a model with a layer that has no secure version, naming it, before anything is shared", () => {
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [2], units: 2, activation: "softmax", name: "probs" })],
    });
    expect(() => model.share(trio.alice, trio.bob, { cryptoProvider: trio.james })).toThrow(
      /Layer "probs" \(Dense\).*softmax/,
    );
  });
});
