// Shared helpers of the ring tests: seeded random shapes and values, and running
// a computation under both kernel sets.
import * as tf from "@tensorflow/tfjs";
import { withConfig } from "../../src/core/config";
import { fromBigInts, toBigInts, type RingTensor } from "../../src/ring";

export const MAX = (1n << 63n) - 1n;
export const MIN = -(1n << 63n);
/** Values at the edges of the ring that every elementwise test includes. */
export const SPECIAL = [0n, 1n, -1n, 2n, MAX, MIN, MAX - 1n, MIN + 1n, 1n << 32n, (1n << 32n) - 1n, -(1n << 32n)];

/** A small deterministic generator (xorshift128+), so failures reproduce. */
export class Rng {
  private s0: bigint;
  private s1: bigint;
  constructor(seed: number) {
    this.s0 = BigInt.asUintN(64, BigInt(seed) * 0x9e3779b97f4a7c15n + 1n);
    this.s1 = BigInt.asUintN(64, this.s0 * 0xbf58476d1ce4e5b9n + 7n);
    for (let i = 0; i < 8; i++) this.next64();
  }
  /** A uniform 64-bit value, signed. */
  next64(): bigint {
    let x = this.s0;
    const y = this.s1;
    this.s0 = y;
    x = BigInt.asUintN(64, x ^ (x << 23n));
    this.s1 = x ^ y ^ (x >> 17n) ^ (y >> 26n);
    return BigInt.asIntN(64, this.s1 + y);
  }
  /** A uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Number(BigInt.asUintN(32, this.next64()) % BigInt(hi - lo + 1));
  }
  /** A ring value: mostly uniform, sometimes a special value, sometimes small. */
  value(): bigint {
    const pick = this.int(0, 9);
    if (pick < 2) return SPECIAL[this.int(0, SPECIAL.length - 1)];
    if (pick < 4) return BigInt(this.int(-1000, 1000));
    return this.next64();
  }
  values(n: number): bigint[] {
    return Array.from({ length: n }, () => this.value());
  }
  /** Small integers, so float32 oracles are exact. */
  smallInts(n: number, bound = 9): number[] {
    return Array.from({ length: n }, () => this.int(-bound, bound));
  }
  shape(maxRank = 4, maxDim = 6): number[] {
    return Array.from({ length: this.int(0, maxRank) }, () => this.int(1, maxDim));
  }
  tensor(shape: number[]): RingTensor {
    return fromBigInts(this.values(shape.reduce((a, b) => a * b, 1)), shape);
  }
}

/** Runs `fn` under the WebAssembly kernels and under the JS reference. */
export function bothKernels<T>(fn: () => T): { wasm: T; js: T } {
  return {
    wasm: withConfig({ ringKernels: "wasm" }, fn),
    js: withConfig({ ringKernels: "js" }, fn),
  };
}

/** A ring tensor's values as numbers (for small values), for comparison with TF.js. */
export function toNumbers(t: RingTensor): number[] {
  return toBigInts(t).map(Number);
}

/** A TF.js tensor's values, rounded (float32 results of small integer inputs are exact). */
export async function tfValues(t: tf.Tensor): Promise<number[]> {
  const values = Array.from(await t.data(), (v) => Math.round(v) + 0);
  t.dispose();
  return values;
}

let backendReady: Promise<boolean> | undefined;
/** The TF.js cpu backend (exact enough for small integers, and needs no setup). */
export function tfCpu(): Promise<boolean> {
  backendReady ??= tf.setBackend("cpu");
  return backendReady;
}
