import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterEach, describe, expect, it } from "vitest";
import { DataError, ErrorCode } from "../../src/core/errors";
import { loadModel, saveModel } from "../../src/data/model-io";
import { tempDir } from "./helpers";

function smallCnn(): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, activation: "relu", name: "conv" }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 5, activation: "relu", name: "hidden" }),
      tf.layers.dense({ units: 2, name: "logits" }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  return model;
}

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function scratch(): string {
  const { dir, cleanup } = tempDir("tsyft-model-io-");
  cleanups.push(cleanup);
  return dir;
}

describe("saveModel / loadModel", () => {
  it("round-trips a CNN: same layers, same weights, same predictions", async () => {
    const model = smallCnn();
    const dir = path.join(scratch(), "nested", "model");
    const info = await saveModel(model, dir);

    expect(info.modelPath).toBe(path.join(dir, "model.json"));
    expect(info.weightCount).toBe(6);
    const params = 3 * 3 * 3 * 4 + 4 + 6 * 6 * 4 * 5 + 5 + 5 * 2 + 2;
    expect(info.weightBytes).toBe(4 * params);
    expect(fs.statSync(info.weightsPath).size).toBe(4 * params);
    const json = JSON.parse(fs.readFileSync(info.modelPath, "utf8"));
    expect(json.format).toBe("layers-model");
    expect(json.weightsManifest[0].paths).toEqual(["./weights.bin"]);
    expect(json.weightsManifest[0].weights.map((w: { name: string }) => w.name)).toEqual([
      "conv/kernel",
      "conv/bias",
      "hidden/kernel",
      "hidden/bias",
      "logits/kernel",
      "logits/bias",
    ]);
    expect(fs.readdirSync(dir).sort()).toEqual(["model.json", "weights.bin"]);

    const loaded = await loadModel(dir);
    expect(loaded.layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));
    expect(loaded.inputs[0]!.shape).toEqual([null, 8, 8, 3]);
    const original = model.getWeights();
    const restored = loaded.getWeights();
    expect(restored.map((w) => w.shape)).toEqual(original.map((w) => w.shape));
    restored.forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(original[i]!.dataSync())));

    const x = tf.randomNormal([3, 8, 8, 3], 0, 1, "float32", 7);
    const a = (model.predict(x) as tf.Tensor).dataSync();
    const b = (loaded.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it("overwrites an earlier save in the same folder", async () => {
    const dir = scratch();
    await saveModel(smallCnn(), dir);
    const second = smallCnn();
    await saveModel(second, dir);
    const loaded = await loadModel(dir);
    expect(Array.from(loaded.getWeights()[0]!.dataSync())).toEqual(Array.from(second.getWeights()[0]!.dataSync()));
    expect(fs.readdirSync(dir).sort()).toEqual(["model.json", "weights.bin"]);
  });

  it("loads a manifest whose weights are split over several files (as tfjs-node shards them)", async () => {
    const dir = scratch();
    const model = smallCnn();
    const info = await saveModel(model, dir);
    const json = JSON.parse(fs.readFileSync(info.modelPath, "utf8"));
    const bytes = fs.readFileSync(info.weightsPath);
    const cut = 100; // not on a tensor boundary
    fs.writeFileSync(path.join(dir, "group1-shard1of2.bin"), bytes.subarray(0, cut));
    fs.writeFileSync(path.join(dir, "group1-shard2of2.bin"), bytes.subarray(cut));
    fs.rmSync(info.weightsPath);
    json.weightsManifest[0].paths = ["group1-shard1of2.bin", "group1-shard2of2.bin"];
    fs.writeFileSync(info.modelPath, JSON.stringify(json));
    const loaded = await loadModel(dir);
    expect(Array.from(loaded.getWeights()[4]!.dataSync())).toEqual(Array.from(model.getWeights()[4]!.dataSync()));
  });

  it("fails with TSYFT_ERR_DATA_MISSING naming the folder when there is no model, or a weights file is gone", async () => {
    const dir = scratch();
    const missing = path.join(dir, "nothing-here");
    const error = await loadModel(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect(error).toMatchObject({ code: ErrorCode.DATA_MISSING });
    expect((error as Error).message).toContain(missing);

    const info = await saveModel(smallCnn(), dir);
    fs.rmSync(info.weightsPath);
    await expect(loadModel(dir)).rejects.toMatchObject({ code: ErrorCode.DATA_MISSING, message: expect.stringContaining("weights.bin") });
  });

  it("refuses a model.json that is not a layers model", async () => {
    const dir = scratch();
    fs.writeFileSync(path.join(dir, "model.json"), "{ not json");
    await expect(loadModel(dir)).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
    fs.writeFileSync(path.join(dir, "model.json"), JSON.stringify({ weightsManifest: [] }));
    await expect(loadModel(dir)).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT, message: expect.stringContaining("modelTopology") });
  });
});
