// Helpers shared by the secure-op conformance suite and the MPC tests: a seeded
// generator of shapes and values, and the comparison of a secure result with a
// TensorFlow.js plaintext oracle under a stated tolerance.
import type * as tfjs from "@tensorflow/tfjs";
import { expect } from "vitest";

/** mulberry32: small, fast, deterministic, so a failing case reproduces from its seed. */
export class Rng {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0 || 1;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }
  /** A shape of rank in [minRank, maxRank], each dimension in [1, maxDim]. */
  shape(minRank: number, maxRank: number, maxDim: number): number[] {
    return Array.from({ length: this.int(minRank, maxRank) }, () => this.int(1, maxDim));
  }
}

export interface ValueOptions {
  /** Largest magnitude. */
  max: number;
  /** Fraction of exact zeros (default 0.1). */
  zeros?: number;
  /**
   * Values are multiples of 2^-fracBits (default 8), so that float32 holds them
   * exactly and the fixed-point encoding (16 fractional bits) is exact too:
   * any error seen comes from the protocol, not from the input encoding.
   */
  fracBits?: number;
}

/** Random values in [-max, max] with negatives, zeros, and the extremes ±max. */
export function values(rng: Rng, n: number, options: ValueOptions): number[] {
  const { max, zeros = 0.1, fracBits = 8 } = options;
  const q = 2 ** fracBits;
  return Array.from({ length: n }, (_, i) => {
    if (i === 0 && n > 3) return max;
    if (i === 1 && n > 3) return -max;
    if (rng.next() < zeros) return 0;
    return Math.fround(Math.round((rng.next() * 2 - 1) * max * q) / q);
  });
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A random float32 tf tensor of `shape` (see {@link values}). */
export function randomTensor(tf: typeof tfjs, rng: Rng, shape: readonly number[], options: ValueOptions): tfjs.Tensor {
  return tf.tensor(values(rng, sizeOf(shape), options), [...shape], "float32");
}

/** Distinct values (no ties), shuffled: for max/argmax where tie-breaking is not the point. */
export function distinctTensor(tf: typeof tfjs, rng: Rng, shape: readonly number[], step = 0.25): tfjs.Tensor {
  const n = sizeOf(shape);
  const vals = Array.from({ length: n }, (_, i) => (i - n / 2) * step);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [vals[i], vals[j]] = [vals[j]!, vals[i]!];
  }
  return tf.tensor(vals, [...shape], "float32");
}

export interface Tolerance {
  /** Absolute tolerance, in decoded units. */
  atol: number;
  /** Relative tolerance (of the plaintext value). */
  rtol?: number;
}

/** Exact up to float32 rounding of the result (linear ops, comparisons, relu, max). */
export const EXACT: Tolerance = { atol: 0, rtol: 2 ** -23 };

/**
 * Expects `got` (a secure result, decoded) to match `want` (TensorFlow.js on the
 * same inputs) elementwise within |got - want| <= atol + rtol·|want|, with the
 * same shape; the failure message names the worst element.
 */
export function expectClose(got: tfjs.Tensor, want: tfjs.Tensor, tol: Tolerance, what = ""): void {
  expect(got.shape, `${what}: shape`).toEqual(want.shape);
  const g = got.dataSync();
  const w = want.dataSync();
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < w.length; i++) {
    const bound = tol.atol + (tol.rtol ?? 0) * Math.abs(w[i]!);
    const excess = Math.abs(g[i]! - w[i]!) - bound;
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    expect.fail(
      `${what}: element ${worst} of [${want.shape}] is ${g[worst]}, plaintext ${w[worst]} ` +
        `(|diff| ${Math.abs(g[worst]! - w[worst]!)} > atol ${tol.atol} + rtol ${tol.rtol ?? 0}·|plaintext|)`,
    );
  }
}
