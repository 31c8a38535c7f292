import { describe, expect, it } from "vitest";
import { DataError } from "../../src/core/errors";
import { Rng, seedToUint32 } from "../../src/data/random";

describe("Rng", () => {
  it("gives the same stream for the same seed and a different one for another", () => {
    const a = Array.from({ length: 8 }, ((r) => () => r.nextUint32())(new Rng(42)));
    const b = Array.from({ length: 8 }, ((r) => () => r.nextUint32())(new Rng(42)));
    const c = Array.from({ length: 8 }, ((r) => () => r.nextUint32())(new Rng(43)));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(new Set(a).size).toBe(8);
  });

  it("draws floats in [0, 1) with a mean near 1/2", () => {
    const rng = new Rng(1);
    let sum = 0;
    for (let i = 0; i < 20_000; i++) {
      const x = rng.next();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
    }
    expect(sum / 20_000).toBeCloseTo(0.5, 1);
  });

  it("draws integers in range, each value about equally often", () => {
    const rng = new Rng(7);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[rng.int(6)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    expect(() => rng.int(0)).toThrow(DataError);
  });

  it("makes permutations", () => {
    const p = new Rng(3).permutation(100);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(p).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(new Rng(3).permutation(100)).toEqual(p);
  });

  it("derives streams from the seed and keys only, not from the parent's position", () => {
    const parent = new Rng(9);
    const before = parent.derive("epoch", 2).nextUint32();
    parent.next();
    parent.next();
    expect(parent.derive("epoch", 2).nextUint32()).toBe(before);
    expect(parent.derive("epoch", 3).nextUint32()).not.toBe(before);
    expect(new Rng(10).derive("epoch", 2).nextUint32()).not.toBe(before);
  });

  it("maps seeds to 32 bits", () => {
    expect(seedToUint32(42)).toBe(42);
    expect(seedToUint32("a")).toBe(seedToUint32("a"));
    expect(seedToUint32("a")).not.toBe(seedToUint32("b"));
    expect(seedToUint32(2 ** 40)).not.toBe(seedToUint32(0));
    expect(() => seedToUint32(NaN)).toThrow(DataError);
  });
});
