import { describe, expect, it } from "vitest";
import * as ring from "../../src/ring";
import { toBytes } from "../../src/ring";

/** Pearson's chi-square statistic of byte values against the uniform distribution. */
function chiSquare(bytes: Uint8Array): number {
  const counts = new Array(256).fill(0);
  for (const b of bytes) counts[b]++;
  const expected = bytes.length / 256;
  return counts.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
}

// 255 degrees of freedom: mean 255, sd ~22.6. A bound of 400 fails uniform data
// with probability ~1e-9, and fails badly biased data reliably.
const CHI_BOUND = 400;

describe("randomness", () => {
  it("randomSeed gives 16 fresh bytes", () => {
    const a = ring.randomSeed();
    const b = ring.randomSeed();
    expect(a).toBeInstanceOf(Uint8Array);
    expect(a.byteLength).toBe(16);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  it("sample looks uniform over byte values and differs between calls", () => {
    const t = ring.sample([256, 256]);
    expect(t.shape).toEqual([256, 256]);
    expect(chiSquare(toBytes(t))).toBeLessThan(CHI_BOUND);
    expect(ring.equal(t, ring.sample([256, 256]))).toBe(false);
    // The top bit (sign) is set about half the time.
    const negatives = ring.toBigInts(t).filter((v) => v < 0n).length;
    expect(Math.abs(negatives - 32768)).toBeLessThan(1000);
    expect(ring.sample([0]).size).toBe(0);
  });

  it("expand is deterministic per (seed, stream) and differs across streams and seeds", () => {
    const seed = ring.randomSeed();
    const a = ring.expand(seed, [100, 30]);
    expect(ring.equal(a, ring.expand(seed, [100, 30], 0))).toBe(true);
    expect(ring.equal(a, ring.expand(new Uint8Array(seed), [100, 30], 0n))).toBe(true);
    const b = ring.expand(seed, [100, 30], 1);
    expect(ring.equal(a, b)).toBe(false);
    expect(ring.equal(b, ring.expand(seed, [100, 30], 1))).toBe(true);
    expect(ring.equal(a, ring.expand(ring.randomSeed(), [100, 30]))).toBe(false);
    // No element of stream 0 repeats in stream 1 (2^-50-ish chance by luck).
    const inA = new Set(ring.toBigInts(a));
    expect(ring.toBigInts(b).some((v) => inA.has(v))).toBe(false);
    expect(chiSquare(toBytes(ring.expand(seed, [65536], 7)))).toBeLessThan(CHI_BOUND);
  });

  it("expand matches AES-128-CTR's keystream with the documented counter block", () => {
    const seed = new Uint8Array(16).map((_, i) => i);
    const t = ring.expand(seed, [4], 3);
    // Recompute with node:crypto independently: IV = stream (big-endian u64) || 0^64.
    const { createCipheriv } = require("node:crypto") as typeof import("node:crypto");
    const iv = Buffer.alloc(16);
    iv[7] = 3;
    const keystream = createCipheriv("aes-128-ctr", seed, iv).update(Buffer.alloc(32));
    expect(Buffer.from(toBytes(t)).equals(keystream)).toBe(true);
    // A longer request extends a shorter one (same keystream prefix).
    expect(ring.toBigInts(ring.slice(ring.expand(seed, [3000], 3), [0], [4]))).toEqual(ring.toBigInts(t));
    // Large requests cross the internal chunk boundary (8 MiB of keystream per cipher call).
    const big = ring.expand(seed, [1_100_000], 3);
    expect(ring.toBigInts(ring.slice(big, [0], [4]))).toEqual(ring.toBigInts(t));
    const direct = createCipheriv("aes-128-ctr", seed, iv).update(Buffer.alloc(8 * 1_100_000));
    expect(Buffer.from(toBytes(big)).equals(direct)).toBe(true);
  });
});
