import { describe, expect, it } from "vitest";
import * as ring from "../../src/ring";
import { RingTensor, fromBigInts, toBigInts } from "../../src/ring";
import { MAX, MIN, Rng } from "./helpers";

describe("construction", () => {
  it("zeros, fill, scalar", () => {
    expect(toBigInts(ring.zeros([2, 2]))).toEqual([0n, 0n, 0n, 0n]);
    expect(toBigInts(ring.fill([3], -5n))).toEqual([-5n, -5n, -5n]);
    expect(toBigInts(ring.fill([1], 2n ** 64n + 3n))).toEqual([3n]);
    const s = ring.scalar(7n);
    expect(s.shape).toEqual([]);
    expect(s.rank).toBe(0);
    expect(s.size).toBe(1);
    expect(ring.zeros([3, 0]).size).toBe(0);
  });

  it("fromBigInts reduces mod 2^64 and copies typed arrays; shapes are frozen", () => {
    expect(toBigInts(fromBigInts([2n ** 64n - 1n, 2n ** 63n, -(2n ** 64n)], [3]))).toEqual([-1n, MIN, 0n]);
    const src = new BigInt64Array([1n, 2n]);
    const t = fromBigInts(src, [2]);
    src[0] = 9n;
    expect(toBigInts(t)).toEqual([1n, 2n]);
    expect(Object.isFrozen(t.shape)).toBe(true);
  });

  it("fromInts takes exact integers up to 2^53 in both signs", () => {
    const values = [
      0,
      1,
      -1,
      2 ** 32,
      -(2 ** 32),
      2 ** 32 - 1,
      -(2 ** 32) + 1,
      2 ** 31,
      -(2 ** 31),
      2 ** 53 - 1,
      -(2 ** 53 - 1),
      -0,
    ];
    expect(toBigInts(ring.fromInts(values, [values.length]))).toEqual(values.map((v) => BigInt(v)));
    expect(toBigInts(ring.fromInts(new Int32Array([-3, 4]), [2]))).toEqual([-3n, 4n]);
  });
});

describe("fixed point: fromFloat / toFloat", () => {
  const scale = 2 ** 16;

  it("round-trips values within the precision, including large and negative ones", () => {
    const rng = new Rng(31);
    const values = [0, 1.5, -2.25, 1e-5, -1e-5, 123456.789, -98765.4321, 2 ** 40, -(2 ** 40), 3.14159, -0.5];
    for (let i = 0; i < 200; i++) values.push((rng.int(-1e9, 1e9) / 1e3) * (rng.int(0, 1) ? 1 : 1e3));
    const t = ring.fromFloat(values, [values.length], scale);
    const back = ring.toFloat(t, scale);
    values.forEach((v, i) => expect(Math.abs(back[i] - v)).toBeLessThanOrEqual(0.5 / scale + Math.abs(v) * 2 ** -52));
  });

  it("encodes exactly what BigInt rounding gives, halves to even", () => {
    const rng = new Rng(32);
    const values = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999999999999994, -0.49999999999999994, 2.5000000001];
    for (let i = 0; i < 100; i++) values.push(rng.int(-(2 ** 30), 2 ** 30) / 7);
    const t = ring.fromFloat(values, [values.length], 1);
    const halfEven = (x: number) => {
      const f = Math.floor(x);
      const d = x - f;
      return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
    };
    expect(toBigInts(t)).toEqual(values.map((v) => BigInt(halfEven(v))));
    expect(toBigInts(ring.fromFloat([0.5, 1.5, 2.5, -2.5], [4], 1))).toEqual([0n, 2n, 2n, -2n]);
  });

  it("is exact for products of 2^53 and more, up to the ring's edges", () => {
    const values = [
      2 ** 53,
      -(2 ** 53),
      2 ** 60 + 2 ** 10,
      -(2 ** 62) - 2 ** 20,
      2 ** 63 - 1024,
      -(2 ** 63),
      1e18,
      -1e18,
    ];
    const t = ring.fromFloat(values, [values.length], 1);
    expect(toBigInts(t)).toEqual(values.map((v) => BigInt(v)));
    expect(Array.from(ring.toFloat(t, 1))).toEqual(values);
    const scaled = ring.fromFloat([2 ** 40 + 0.25, -(2 ** 45) - 0.75], [2], scale);
    expect(toBigInts(scaled)).toEqual([2n ** 40n * 65536n + 16384n, -(2n ** 45n) * 65536n - 49152n]);
  });

  it("decodes every 64-bit value as its signed value divided", () => {
    const t = fromBigInts([MAX, MIN, -1n, 1n << 52n, -(1n << 52n) - 1n, (1n << 32n) + 5n], [6]);
    expect(Array.from(ring.toFloat(t, 1))).toEqual([2 ** 63, -(2 ** 63), -1, 2 ** 52, -(2 ** 52) - 1, 2 ** 32 + 5]);
    expect(Array.from(ring.toFloat(ring.fromInts([3, -3], [2]), 2))).toEqual([1.5, -1.5]);
  });

  it("refuses values outside the signed range", () => {
    for (const bad of [2 ** 63, -(2 ** 64), NaN, Infinity]) {
      expect(() => ring.fromFloat([0, bad], [2], 1)).toThrowError(
        expect.objectContaining({ name: "ProtocolError", code: "TSYFT_ERR_ENCODE_OVERFLOW" }),
      );
    }
    expect(() => ring.fromFloat([2 ** 48], [1], 2 ** 16)).toThrow(/outside the ring's signed range/);
  });

  it("handles 1,000,000 values quickly (no BigInt per element)", () => {
    const values = new Float64Array(1_000_000).map((_, i) => (i - 500_000) / 3);
    const started = performance.now();
    const t = ring.fromFloat(values, [values.length], scale);
    const back = ring.toFloat(t, scale);
    const elapsed = performance.now() - started;
    expect(back[123]).toBeCloseTo(values[123], 4);
    expect(elapsed).toBeLessThan(2000);
  });
});

describe("bytes", () => {
  it("round-trips through little-endian bytes", () => {
    const rng = new Rng(41);
    const t = rng.tensor([3, 5]);
    const bytes = ring.toBytes(t);
    expect(bytes.byteLength).toBe(120);
    expect(Array.from(ring.toBytes(ring.scalar(258n)))).toEqual([2, 1, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(ring.toBytes(ring.scalar(-1n)))).toEqual(new Array(8).fill(255));
    expect(ring.equal(ring.fromBytes(bytes, [3, 5]), t)).toBe(true);
  });

  it("copies input at an unaligned offset", () => {
    const rng = new Rng(42);
    const t = rng.tensor([7]);
    for (const offset of [1, 3, 5, 8]) {
      const buffer = new Uint8Array(offset + 56);
      buffer.set(ring.toBytes(t), offset);
      const back = ring.fromBytes(buffer.subarray(offset), [7]);
      expect(ring.equal(back, t)).toBe(true);
    }
    const nodeBuffer = Buffer.concat([Buffer.from([9]), Buffer.from(ring.toBytes(t))]).subarray(1);
    expect(ring.equal(ring.fromBytes(nodeBuffer, [7]), t)).toBe(true);
  });

  it("equal compares shape and values", () => {
    const a = ring.fromInts([1, 2, 3, 4], [2, 2]);
    expect(ring.equal(a, ring.fromInts([1, 2, 3, 4], [2, 2]))).toBe(true);
    expect(ring.equal(a, ring.fromInts([1, 2, 3, 4], [4]))).toBe(false);
    expect(ring.equal(a, ring.fromInts([1, 2, 3, 5], [2, 2]))).toBe(false);
    expect(ring.equal(ring.scalar(0n), ring.zeros([]))).toBe(true);
  });

  it("RingTensor describes itself", () => {
    expect(String(ring.fromInts([1, -2], [2]))).toBe("RingTensor(shape=[2], [1, -2])");
    expect(new RingTensor(new BigInt64Array(1), []).rank).toBe(0);
  });
});
