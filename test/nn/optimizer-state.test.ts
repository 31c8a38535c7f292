/**
 * Optimizer state that survives a restart: tsyft's Adamax takes exactly TF.js's steps (tf.train.adamax, which cannot
 * export its state), and a Trainer restored from weights, optimizer state and step count continues as the one that
 * was left, for Adamax, Adam, SGD with momentum and plain SGD.
 */
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import * as sy from "../../src";
import { adamax } from "../../src/nn/adamax";
import type { OptimizerSpec } from "../../src/nn/spec";
import { Trainer } from "../../src/nn/trainer";

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number) =>
  Array.from(a).every((v, i) => Math.abs(v - b[i]!) <= tol * (1 + Math.abs(b[i]!)));

describe("optimizer state", () => {
  it("Adamax takes the same steps as tf.train.adamax", () => {
    const [w1, w2] = [tf.variable(tf.tensor1d([0.5, -1, 2, 0])), tf.variable(tf.tensor1d([0.5, -1, 2, 0]))];
    const ours = adamax(tf, 0.01, 0.9, 0.999, 1e-8);
    const theirs = tf.train.adamax(0.01, 0.9, 0.999, 1e-8);
    const target = tf.tensor1d([1, 2, -3, 0.25]);
    for (let i = 0; i < 20; i++) {
      ours.minimize(() => tf.sum(tf.square(tf.sub(w1, target))), false, [w1]);
      theirs.minimize(() => tf.sum(tf.square(tf.sub(w2, target))), false, [w2]);
    }
    expect(close(w1.dataSync(), w2.dataSync(), 1e-6)).toBe(true);
    expect(Array.from(w1.dataSync())).not.toEqual([0.5, -1, 2, 0]);
    tf.dispose([w1, w2, target]);
    ours.dispose();
    theirs.dispose();
  });

  const optimizers: Array<[string, OptimizerSpec]> = [
    ["Adamax", sy.nn.Adamax({ learningRate: 0.01 })],
    ["Adam", sy.nn.Adam({ learningRate: 0.01 })],
    ["SGD with momentum", sy.nn.SGD({ learningRate: 0.05, momentum: 0.9 })],
    ["SGD", sy.nn.SGD({ learningRate: 0.05 })],
  ];

  it.each(optimizers)("a restored %s trainer takes the step the original would have taken", async (name, optimizer) => {
    const net = new sy.nn.Model()
      .add(sy.nn.Linear(4, { inputShape: [null, 3], activation: "relu" }))
      .add(sy.nn.Linear(1, { activation: "sigmoid" }));
    const spec = { ...net.toSpec(), optimizer };
    const x = tf.tensor2d([0.1, 0.9, 0.3, 0.7, 0.2, 0.4, 0.9, 0.1, 0.5, 0.6, 0.6, 0.2], [4, 3]);
    const original = Trainer.create(tf, spec);
    const targets = original.targets(tf.tensor1d([1, 0, 1, 0]));
    for (let i = 0; i < 3; i++) original.step(x, targets);

    const weights = original.getWeights();
    const fresh = Trainer.create(tf, spec, { weights });
    const restored = await Trainer.restore(tf, spec, {
      weights,
      optimizer: JSON.parse(JSON.stringify(await original.optimizerState())),
      steps: original.steps,
    });
    tf.dispose(weights);
    expect(restored.steps).toBe(3);
    original.step(x, targets);
    restored.step(x, targets);
    const [a, b] = [original.getWeights(), restored.getWeights()];
    a.forEach((w, i) => expect(close(w.dataSync(), b[i]!.dataSync(), 1e-6)).toBe(true));
    // A fresh optimizer on the same weights steps differently wherever there is state to lose (all but plain SGD).
    fresh.step(x, targets);
    const c = fresh.getWeights();
    const same = a.every((w, i) => close(w.dataSync(), c[i]!.dataSync(), 1e-6));
    expect(same).toBe(name === "SGD");
    tf.dispose([...a, ...b, ...c, x, targets]);
    for (const t of [original, restored, fresh]) t.dispose();
  });
});
