import * as tf from "@tensorflow/tfjs";
import type * as aq from "arquero";
import { beforeAll, describe, expect, it } from "vitest";
import { DataError, ErrorCode } from "../../src/core/errors";
import { DataLoader } from "../../src/data/dataloader";
import { ArrayDataset, Dataset, type SampleSource } from "../../src/data/dataset";
import { readSkinCancerDataset } from "../../src/data/ham10000";
import type { Rng } from "../../src/data/random";
import type { Sample } from "../../src/data/sample";
import { splitData } from "../../src/data/split";
import { compose, HAM10000_MEAN, HAM10000_STD, normalize, randomHorizontalFlip, randomVerticalFlip } from "../../src/data/transforms";
import { hasHam10000 } from "./helpers";

/** n 1x1x1 samples whose pixel and label are their index, through an optional transform. */
function indexDataset(n: number, transform?: (s: Sample, rng?: Rng) => Sample): SampleSource {
  return new ArrayDataset(Float32Array.from({ length: n }, (_, i) => i), [1, 1, 1], Int32Array.from({ length: n }, (_, i) => i), { transform });
}

async function epochIndices(loader: DataLoader): Promise<number[][]> {
  const out: number[][] = [];
  for await (const { x, y, indices } of loader) {
    const labels = Array.from(await y.data());
    expect(labels).toEqual([...indices]);
    expect(Array.from(await x.data())).toEqual([...indices]);
    out.push(labels);
    tf.dispose([x, y]);
  }
  return out;
}

describe("DataLoader over in-memory samples", () => {
  it("covers every sample once per epoch, in order without shuffle", async () => {
    const loader = new DataLoader(indexDataset(10), { batchSize: 4 });
    expect(loader.length).toBe(3);
    expect(await epochIndices(loader)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  });

  it("drops the last partial batch with dropLast", async () => {
    const loader = new DataLoader(indexDataset(10), { batchSize: 4, dropLast: true });
    expect(loader.length).toBe(2);
    expect((await epochIndices(loader)).flat()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("shuffles reproducibly per epoch: same seed same orders, new order each epoch", async () => {
    const a = new DataLoader(indexDataset(50), { batchSize: 8, shuffle: true, seed: 3 });
    const b = new DataLoader(indexDataset(50), { batchSize: 8, shuffle: true, seed: 3 });
    const c = new DataLoader(indexDataset(50), { batchSize: 8, shuffle: true, seed: 4 });
    const a0 = (await epochIndices(a)).flat();
    const a1 = (await epochIndices(a)).flat();
    expect([...a0].sort((p, q) => p - q)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect([...a1].sort((p, q) => p - q)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(a1).not.toEqual(a0);
    expect((await epochIndices(b)).flat()).toEqual(a0);
    expect((await epochIndices(b)).flat()).toEqual(a1);
    expect((await epochIndices(c)).flat()).not.toEqual(a0);
    expect(a.batchIndices(0).flat()).toEqual(a0);
    expect(a.nextEpoch).toBe(2);
  });

  it("gives random transforms a stream per (seed, epoch, index), whatever the concurrency", async () => {
    // flip a 1x2 image [i, -i]: flipped iff the first value is negative
    const n = 40;
    const images = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) images.set([i + 1, -(i + 1)], 2 * i);
    const ds = new ArrayDataset(images, [1, 2, 1], new Int32Array(n), { transform: randomHorizontalFlip(0.5) });
    const flips = async (concurrency: number, epoch: number) => {
      const loader = new DataLoader(ds, { batchSize: 7, shuffle: true, seed: 9, concurrency });
      const out = new Array<boolean>(n);
      for await (const { x, y, indices } of loader.epoch(epoch)) {
        const data = await x.data();
        indices.forEach((index, k) => (out[index] = data[2 * k]! < 0));
        tf.dispose([x, y]);
      }
      return out;
    };
    const serial = await flips(1, 0);
    expect(await flips(7, 0)).toEqual(serial);
    expect(await flips(7, 1)).not.toEqual(serial);
    expect(serial.filter(Boolean).length).toBeGreaterThan(5);
    expect(serial.filter(Boolean).length).toBeLessThan(35);
  });

  it("stops early without error and rejects mixed shapes and bad options", async () => {
    const loader = new DataLoader(indexDataset(100), { batchSize: 10 });
    for await (const { x, y } of loader) {
      tf.dispose([x, y]);
      break;
    }
    const mixed: SampleSource = {
      length: 2,
      get: async (i) => ({ image: new Float32Array(i === 0 ? 3 : 12), shape: i === 0 ? [1, 1, 3] : [2, 2, 3], label: 0 }),
    };
    await expect(epochIndices(new DataLoader(mixed, { batchSize: 2 }))).rejects.toMatchObject({ code: ErrorCode.SHAPE_MISMATCH });
    expect(() => new DataLoader(indexDataset(3), { batchSize: 0 })).toThrow(DataError);
    await expect(indexDataset(3).get(3)).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
  });
});

describe.skipIf(!hasHam10000)("Dataset and DataLoader over HAM10000", () => {
  let splits: { train: aq.ColumnTable; valid: aq.ColumnTable; test: aq.ColumnTable };
  beforeAll(async () => {
    splits = splitData(await readSkinCancerDataset(), { seed: 0, groupBy: "lesion_id" });
  });

  it("loads normalized 32x32 samples with their labels", async () => {
    const ds = new Dataset(splits.valid, { size: 32, transform: normalize(HAM10000_MEAN, HAM10000_STD) });
    expect(ds.length).toBe(splits.valid.numRows());
    const sample = await ds.get(0);
    expect(sample.shape).toEqual([32, 32, 3]);
    expect(sample.label).toBe(splits.valid.get("label", 0));
    const mean = sample.image.reduce((s, v) => s + v, 0) / sample.image.length;
    expect(Math.abs(mean)).toBeLessThan(5); // normalized values sit around 0, not around 0.6
    expect(() => new Dataset(splits.valid, { labelColumn: "nope" })).toThrow(/no column "nope"/);
  });

  it("batches [B, 32, 32, 3] float32 and [B] int32, covering each sample once per epoch", async () => {
    const ds = new Dataset(splits.test, {
      size: 32,
      transform: compose(randomHorizontalFlip(), randomVerticalFlip(), normalize(HAM10000_MEAN, HAM10000_STD)),
    });
    const loader = new DataLoader(ds, { batchSize: 32, shuffle: true, seed: 1 });
    const n = splits.test.numRows();
    expect(loader.length).toBe(Math.ceil(n / 32));
    const seen: number[] = [];
    let batches = 0;
    const tensorsBefore = tf.memory().numTensors;
    for await (const { x, y, indices } of loader) {
      batches++;
      const size = indices.length;
      expect(x.shape).toEqual([size, 32, 32, 3]);
      expect(x.dtype).toBe("float32");
      expect(y.shape).toEqual([size]);
      expect(y.dtype).toBe("int32");
      const labels = Array.from(await y.data());
      expect(labels).toEqual(indices.map((i) => splits.test.get("label", i)));
      seen.push(...indices);
      tf.dispose([x, y]);
    }
    expect(batches).toBe(loader.length);
    expect(seen.length).toBe(n);
    expect(new Set(seen).size).toBe(n);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});
