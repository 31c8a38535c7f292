/**
 * Noise, the Gaussian mechanism, private-data annotations and DP-SGD's clip-and-noise step.
 *
 * Statistical checks use loose bounds of 6 standard errors (a false failure about once in 5e8 runs per check):
 * for n draws of N(0, s^2), the sample mean has standard error s / sqrt(n) and the sample std about
 * s / sqrt(2n); a proportion p has standard error sqrt(p (1 - p) / n).
 */
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/core/errors";
import { clipAndNoise } from "../../src/dp/clip";
import { GaussianMechanism, gaussianNoise, standardNormal } from "../../src/dp/noise";
import { privateTensor, PrivateTensor } from "../../src/dp/private";
import * as sy from "../../src";
import { thrown } from "./helpers";

function moments(values: ArrayLike<number>): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(squares / (values.length - 1)) };
}

describe("standardNormal and gaussianNoise", () => {
  it("draws N(0, 1): mean, std and the two-sided 5% tail within 6 standard errors over 200,000 draws", () => {
    const n = 200_000;
    const z = standardNormal(n);
    const { mean, std } = moments(z);
    expect(Math.abs(mean)).toBeLessThan(6 / Math.sqrt(n)); // 0.0134
    expect(Math.abs(std - 1)).toBeLessThan(6 / Math.sqrt(2 * n)); // 0.0095
    const tail = z.filter((v) => Math.abs(v) > 1.959964).length / n;
    expect(Math.abs(tail - 0.05)).toBeLessThan(6 * Math.sqrt((0.05 * 0.95) / n)); // 0.0029
    expect(z.every(Number.isFinite)).toBe(true);
  });

  it("is not replayable: two draws differ", () => {
    expect(Array.from(standardNormal(8))).not.toEqual(Array.from(standardNormal(8)));
    expect(standardNormal(3)).toHaveLength(3); // odd counts use half of the last Box-Muller pair
  });

  it("scales by std, as numbers or as a tensor of the given shape", () => {
    const n = 100_000;
    const { mean, std } = moments(gaussianNoise(n, 2.5));
    expect(Math.abs(mean)).toBeLessThan((6 * 2.5) / Math.sqrt(n));
    expect(Math.abs(std - 2.5)).toBeLessThan((6 * 2.5) / Math.sqrt(2 * n));
    const tensor = gaussianNoise([3, 4], 1);
    expect(tensor.shape).toEqual([3, 4]);
    expect(tensor.dtype).toBe("float32");
    tensor.dispose();
    expect(gaussianNoise(4, 0).every((v) => v === 0)).toBe(true);
    expect(thrown(() => gaussianNoise(4, -1)).message).toMatch(/std must be a finite number >= 0, got -1/);
  });
});

describe("GaussianMechanism", () => {
  it("adds noise of std noiseMultiplier * sensitivity to numbers, arrays and tensors", () => {
    const mechanism = new GaussianMechanism({ sensitivity: 2, noiseMultiplier: 1.5 });
    expect(mechanism.std).toBe(3);
    const n = 50_000;
    const released = mechanism.release(new Array<number>(n).fill(10));
    const { mean, std } = moments(released);
    expect(Math.abs(mean - 10)).toBeLessThan((6 * 3) / Math.sqrt(n));
    expect(Math.abs(std - 3)).toBeLessThan((6 * 3) / Math.sqrt(2 * n));
    expect(typeof mechanism.release(1)).toBe("number");
    const input = tf.zeros([n]);
    const noisy = mechanism.release(input);
    const fromTensor = moments(noisy.dataSync());
    expect(Math.abs(fromTensor.std - 3)).toBeLessThan((6 * 3) / Math.sqrt(2 * n));
    expect(input.dataSync().every((v) => v === 0)).toBe(true); // the input is left as it was
    tf.dispose([input, noisy]);
  });

  it("rejects a negative or infinite sensitivity or multiplier", () => {
    const error = thrown(() => new GaussianMechanism({ sensitivity: Infinity, noiseMultiplier: 1 }));
    expect(error.code).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(error.message).toMatch(/sensitivity must be a finite number >= 0, got Infinity/);
  });
});

describe("sy.dp.private", () => {
  it("keeps the tensor, bounds and one data subject per row, and derives the sum's L2 sensitivity", () => {
    const x = tf.tensor2d([
      [0, 0.5],
      [1, 0.25],
      [0.75, 0],
    ]);
    const annotated = sy.dp.private(x, { min: 0, max: 1, dataSubjects: ["8863", "8863", "9023"] });
    expect(annotated).toBeInstanceOf(PrivateTensor);
    expect(annotated.tensor).toBe(x);
    expect(annotated.shape).toEqual([3, 2]);
    expect(annotated.dtype).toBe("float32");
    expect(annotated.subjectCount).toBe(2);
    expect(annotated.maxRowsPerSubject).toBe(2);
    // Patient 8863 has 2 rows of 2 elements in [0, 1]: the sum moves by at most 2 per coordinate, 2 * sqrt(2) in L2.
    expect(annotated.sumSensitivity()).toBeCloseTo(2 * Math.SQRT2, 12);
    expect(privateTensor(x, { min: -2, max: 1 }).dataSubjects).toEqual([0, 1, 2]);
    x.dispose();
  });

  it("refuses data outside the bounds, saying where the data lies and what to do", () => {
    const x = tf.tensor1d([0, 1.5, -0.25]);
    const error = thrown(() => sy.dp.private(x, { min: 0, max: 1 }));
    expect(error.code).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(error.message).toBe(
      "private: the data lies in [-0.25, 1.5], outside the declared bounds [0, 1]. Declare bounds that hold for every " +
        "element (they set the noise), or clip the data first (tf.clipByValue).",
    );
    expect(error.details).toMatchObject({ min: 0, max: 1, dataMin: -0.25, dataMax: 1.5 });
    expect(thrown(() => sy.dp.private(tf.tensor1d([NaN]), { min: 0, max: 1 })).message).toMatch(
      /outside the declared bounds/,
    );
    x.dispose();
  });

  it("refuses a subject list of the wrong length, reversed bounds and scalars", () => {
    const x = tf.zeros([4, 2]);
    expect(thrown(() => sy.dp.private(x, { min: 0, max: 1, dataSubjects: ["a", "b"] })).message).toBe(
      "private: expected one data subject per row, 4 for shape [4, 2], got 2.",
    );
    expect(thrown(() => sy.dp.private(x, { min: 1, max: 0 })).message).toMatch(/min <= max, got min 1 and max 0/);
    expect(thrown(() => sy.dp.private(tf.scalar(0), { min: 0, max: 1 })).message).toMatch(/got a scalar/);
    x.dispose();
  });
});

describe("clipAndNoise", () => {
  it("clips each example to norm C over all parameters, sums and divides by the batch (no noise: exact)", () => {
    // Three examples, two parameters ([2] and [1, 1]); norms over both: 0.5, 5 (3-4-0) and 13 (5-0-12).
    const w = tf.tensor2d([
      [0.3, 0.4],
      [3, 4],
      [5, 0],
    ]);
    const b = tf.tensor3d([[[0]], [[0]], [[12]]]);
    const { gradients, norms, clipped } = clipAndNoise([w, b], { clipNorm: 1, noiseMultiplier: 0 });
    expect(Array.from(norms).map((v) => Math.round(v * 1e5) / 1e5)).toEqual([0.5, 5, 13]);
    expect(clipped).toBe(2);
    const f1 = 1 / (5 + 1e-6);
    const f2 = 1 / (13 + 1e-6);
    const expectedW = [(0.3 + 3 * f1 + 5 * f2) / 3, (0.4 + 4 * f1) / 3];
    const expectedB = [(12 * f2) / 3];
    expect(gradients[0]!.shape).toEqual([2]);
    expect(gradients[1]!.shape).toEqual([1, 1]);
    Array.from(gradients[0]!.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expectedW[i]!, 6));
    Array.from(gradients[1]!.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expectedB[i]!, 6));
    const byExpected = clipAndNoise([w, b], { clipNorm: 1, noiseMultiplier: 0, batchSize: 6 });
    expect(byExpected.gradients[0]!.dataSync()[1]).toBeCloseTo(expectedW[1]! / 2, 6);
    tf.dispose([w, b, ...gradients, ...byExpected.gradients]);
  });

  it("adds N(0, (sigma C)^2) to the sum: on zero gradients the result has mean 0 and std sigma C / batch", () => {
    // 4 examples of a 20,000-element parameter, C = 2, sigma = 1.5: std 3 / 4 = 0.75 per coordinate;
    // mean within 6 * 0.75 / sqrt(20000) = 0.032, std within 6 * 0.75 / sqrt(40000) = 0.0225.
    const n = 20_000;
    const zeros = tf.zeros([4, n]);
    const { gradients, clipped } = clipAndNoise([zeros], { clipNorm: 2, noiseMultiplier: 1.5 });
    const { mean, std } = moments(gradients[0]!.dataSync());
    expect(clipped).toBe(0);
    expect(Math.abs(mean)).toBeLessThan((6 * 0.75) / Math.sqrt(n));
    expect(Math.abs(std - 0.75)).toBeLessThan((6 * 0.75) / Math.sqrt(2 * n));
    tf.dispose([zeros, ...gradients]);
  });

  it("refuses gradients whose batch sizes differ", () => {
    const a = tf.zeros([2, 3]);
    const c = tf.zeros([3, 3]);
    const error = thrown(() => clipAndNoise([a, c], { clipNorm: 1, noiseMultiplier: 1 }));
    expect(error.code).toBe(ErrorCode.SHAPE_MISMATCH);
    expect(error.message).toBe(
      "clipAndNoise: every gradient must be [batch, ...] with the same batch; got [2, 3], [3, 3].",
    );
    tf.dispose([a, c]);
  });
});
