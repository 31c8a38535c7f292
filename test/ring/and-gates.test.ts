// The fused AND-gate ops (ring/and-gates.ts): wasm = js = a BigInt oracle of
// Beaver's AND over GF(2)^64, for tensor and seeded triples, shifted operands,
// several pairs, odd and even lengths; the seeded layout, the headroom left
// for frames, and the errors they throw.
import { describe, expect, it } from "vitest";
import * as ring from "../../src/ring";
import { BATCH_WORDS, TRIPLE_SKIP } from "../../src/ring/and-gates";
import { Rng, bothKernels } from "./helpers";

const wrap = (v: bigint) => BigInt.asIntN(64, v);
const values = (t: ring.RingTensor) => ring.toBigInts(t);

/** The operands of a batch end to end, each shifted: the oracle's X or Y. */
function run(parts: ring.BitOperand[]): bigint[] {
  return parts.flatMap((p) =>
    p instanceof ring.RingTensor ? values(p) : values(p.tensor).map((v) => wrap(v << BigInt(p.shl))),
  );
}

function xorAll(lists: bigint[][]): bigint[] {
  return lists[0]!.map((_, i) => lists.reduce((acc, l) => acc ^ l[i]!, 0n));
}

/** Pairs (x_i, y_i) of random sizes adding up to m, shifts drawn from the edges. */
function batch(rng: Rng, m: number): { xs: ring.BitOperand[]; ys: ring.BitOperand[] } {
  const shifts = [0, 1, 7, 31, 32, 33, 62, 63];
  const sizes: number[] = [];
  for (let left = m; left > 0;) {
    const n = Math.min(left, rng.int(1, Math.max(1, Math.ceil(m / 2))));
    sizes.push(n);
    left -= n;
  }
  const operand = (n: number): ring.BitOperand => {
    const t = rng.tensor([n]);
    const shl = shifts[rng.int(0, shifts.length - 1)]!;
    return rng.int(0, 2) === 0 ? t : { tensor: t, shl };
  };
  return { xs: sizes.map(operand), ys: sizes.map(operand) };
}

const lengths = [1, 2, 7, 64, 1001, 4096, 20_001];

describe("andMasks, andCombine, andCorrection: wasm = js = oracle", () => {
  for (const m of lengths) {
    it(`two holders AND ${m} words through the dealer's correction, seeded and tensor triples`, () => {
      const rng = new Rng(m);
      const { xs: x0s, ys: y0s } = batch(rng, m);
      // Holder 1's operands: the same sizes and shifts, other values.
      const other = (o: ring.BitOperand): ring.BitOperand =>
        o instanceof ring.RingTensor ? rng.tensor([o.size]) : { tensor: rng.tensor([o.tensor.size]), shl: o.shl };
      const x1s = x0s.map(other);
      const y1s = y0s.map(other);
      const addend0 = rng.tensor([Math.max(1, m >> 1)]);
      const addend1 = rng.tensor([addend0.size]);
      const seeded0: ring.SeededTriple = { seed: ring.randomSeed(), length: m };
      const seeded1: ring.SeededTriple = { seed: ring.randomSeed(), length: m };

      const results = bothKernels(() => {
        const c1 = ring.andCorrection([seeded0], seeded1);
        const t0 = ring.expandTriple(seeded0, true);
        const t1 = { ...ring.expandTriple(seeded1, false), c: c1 };
        expect(c1.data.byteOffset).toBe(TRIPLE_SKIP); // headroom for the dealer's frame
        const mask0 = ring.andMasks(x0s, y0s, seeded0);
        const mask1 = ring.andMasks(x1s, y1s, { ...seeded1, c: c1 });
        // The same masks from the expanded tensors.
        expect(ring.equal(mask0, ring.andMasks(x0s, y0s, t0))).toBe(true);
        expect(ring.equal(mask1, ring.andMasks(x1s, y1s, t1))).toBe(true);
        const z0 = ring.andCombine([mask0, mask1], x0s, y0s, seeded0, true, addend0);
        const z1 = ring.andCombine([mask1, mask0], x1s, y1s, { ...seeded1, c: c1 }, false, addend1);
        expect(ring.equal(z0, ring.andCombine([mask0, mask1], x0s, y0s, t0, true, addend0))).toBe(true);
        expect(ring.equal(z1, ring.andCombine([mask1, mask0], x1s, y1s, t1, false, addend1))).toBe(true);
        return { t0, t1, mask0, z0, z1 };
      });
      for (const k of ["mask0", "z0", "z1"] as const) expect(ring.equal(results.wasm[k], results.js[k])).toBe(true);

      const { t0, t1, mask0, z0, z1 } = results.wasm;
      // The triple is one: c = a & b over both shares.
      const a = xorAll([values(t0.a), values(t1.a)]);
      const b = xorAll([values(t0.b), values(t1.b)]);
      expect(xorAll([values(t0.c!), values(t1.c)])).toEqual(a.map((v, i) => v & b[i]!));
      // Masks are [X ^ a, Y ^ b] of this holder's share.
      const x0 = run(x0s);
      const y0 = run(y0s);
      const [a0, b0] = [values(t0.a), values(t0.b)];
      expect(values(mask0)).toEqual([...x0.map((v, i) => v ^ a0[i]!), ...y0.map((v, i) => v ^ b0[i]!)]);
      // The shares XOR to x & y, plus the addends on the first words.
      const x = xorAll([x0, run(x1s)]);
      const y = xorAll([y0, run(y1s)]);
      const add = xorAll([values(addend0), values(addend1)]);
      expect(xorAll([values(z0), values(z1)])).toEqual(x.map((v, i) => (v & y[i]!) ^ (add[i] ?? 0n)));
    });
  }

  it("more than two holders: masks and corrections fold every share", () => {
    const rng = new Rng(5);
    const m = 37;
    const shares = [0, 1, 2].map(() => ({ x: rng.tensor([m]), y: rng.tensor([m]) }));
    const seeds: ring.SeededTriple[] = [0, 1, 2].map(() => ({ seed: ring.randomSeed(), length: m }));
    for (const kernelSet of ["wasm", "js"] as const) {
      const out = bothKernels(() => {
        const c2 = ring.andCorrection(seeds.slice(0, 2), seeds[2]!);
        const triples = [seeds[0]!, seeds[1]!, { ...seeds[2]!, c: c2 }];
        const masks = shares.map((s, i) => ring.andMasks([s.x], [s.y], triples[i]!));
        return shares.map((s, i) =>
          ring.andCombine([masks[i]!, ...masks.filter((_, j) => j !== i)], [s.x], [s.y], triples[i]!, i === 0),
        );
      })[kernelSet];
      const x = xorAll(shares.map((s) => values(s.x)));
      const y = xorAll(shares.map((s) => values(s.y)));
      expect(xorAll(out.map(values))).toEqual(x.map((v, i) => v & y[i]!));
    }
  });

  it("a seeded triple's layout: stream 0 holds a then b, stream 1 holds c, each after TRIPLE_SKIP bytes", () => {
    const seed = ring.randomSeed();
    const m = 1000;
    const skip = TRIPLE_SKIP / 8;
    const { a, b, c } = ring.expandTriple({ seed, length: m }, true);
    const [, a0, b0] = ring.split(ring.expand(seed, [skip + 2 * m], 0), [skip, m, m]);
    expect(ring.equal(a, a0!)).toBe(true);
    expect(ring.equal(b, b0!)).toBe(true);
    expect(ring.equal(c!, ring.split(ring.expand(seed, [skip + m], 1), [skip, m])[1]!)).toBe(true);
    // A given c replaces stream 1.
    const given = ring.fill([m], 5n);
    expect(ring.equal(ring.expandTriple({ seed, length: m, c: given }, true).c!, given)).toBe(true);
  });

  it("masks and corrections leave zeroed headroom for one frame header in front of their data", () => {
    const x = ring.fromInts([1, 2, 3], [3]);
    const seeded = { seed: ring.randomSeed(), length: 3 };
    for (const t of [
      ring.andMasks([x], [x], seeded),
      ring.andCorrection([seeded], { seed: ring.randomSeed(), length: 3 }),
    ]) {
      expect(t.data.byteOffset).toBe(TRIPLE_SKIP);
      expect(new Uint8Array(t.data.buffer, 0, TRIPLE_SKIP).every((v) => v === 0)).toBe(true);
      expect(ring.claimHeadroom(t, TRIPLE_SKIP + 8)).toBeUndefined(); // more than there is
      const frame = ring.claimHeadroom(t, 64)!;
      expect(frame.byteLength).toBe(64 + t.data.byteLength);
      expect(frame.byteOffset).toBe(TRIPLE_SKIP - 64);
      expect(ring.claimHeadroom(t, 64)).toBeUndefined(); // given out once
    }
    // A view that does not start where the headroom ends has none.
    const masks = ring.andMasks([x], [x], seeded);
    expect(ring.claimHeadroom(ring.split(masks, [1, 5])[1]!, 8)).toBeUndefined();
    expect(ring.claimHeadroom(x, 0)).toBeUndefined();
  });

  it(`past ${BATCH_WORDS} words the kernels run a batch at a time through one keystream, with the same result`, () => {
    const m = BATCH_WORDS + 3;
    const rng = new Rng(11);
    const half = ring.expand(ring.randomSeed(), [Math.ceil(m / 2)], 0);
    const rest = ring.expand(ring.randomSeed(), [m - half.size], 0);
    const xs: ring.BitOperand[] = [half, { tensor: rest, shl: 33 }];
    const ys: ring.BitOperand[] = [{ tensor: rest, shl: 1 }, half].reverse();
    const [x1, y1] = [ring.expand(ring.randomSeed(), [m], 0), ring.expand(ring.randomSeed(), [m], 0)];
    const [s0, s1] = [
      { seed: ring.randomSeed(), length: m },
      { seed: ring.randomSeed(), length: m },
    ];
    const addend = rng.tensor([5]);
    const c1 = ring.andCorrection([s0], s1);
    const m0 = ring.andMasks(xs, ys, s0);
    const m1 = ring.andMasks([x1], [y1], { ...s1, c: c1 });
    const z0 = ring.andCombine([m0, m1], xs, ys, s0, true, addend);
    const z1 = ring.andCombine([m1, m0], [x1], [y1], { ...s1, c: c1 }, false);
    const { a, b } = ring.expandTriple(s0, false);
    /** Element i of operands end to end, shifted. */
    const at = (parts: ring.BitOperand[], i: number): bigint => {
      for (const p of parts) {
        const [t, shl] = p instanceof ring.RingTensor ? [p, 0] : [p.tensor, p.shl];
        if (i < t.size) return wrap(t.data[i]! << BigInt(shl));
        i -= t.size;
      }
      throw new Error("out of range");
    };
    // Around the batch boundary, at both ends, and a sample in between.
    const picks = [
      0,
      1,
      2,
      half.size - 1,
      half.size,
      BATCH_WORDS - 2,
      BATCH_WORDS - 1,
      BATCH_WORDS,
      BATCH_WORDS + 1,
      m - 1,
    ];
    for (let i = 0; i < 2000; i++) picks.push(rng.int(0, m - 1));
    for (const i of picks) {
      expect(m0.data[i]).toBe(at(xs, i) ^ a.data[i]!);
      expect(m0.data[m + i]).toBe(at(ys, i) ^ b.data[i]!);
      const want = ((at(xs, i) ^ x1.data[i]!) & (at(ys, i) ^ y1.data[i]!)) ^ (i < addend.size ? addend.data[i]! : 0n);
      expect(z0.data[i]! ^ z1.data[i]!).toBe(want);
    }
    expect(c1.data.byteOffset).toBe(TRIPLE_SKIP);
  });

  it("empty batches give empty results", () => {
    const seeded = { seed: ring.randomSeed(), length: 0 };
    const none = ring.zeros([0]);
    expect(ring.andMasks([none], [none], seeded).shape).toEqual([0]);
    expect(ring.andCombine([none], [none], [none], seeded, true).shape).toEqual([0]);
    expect(ring.andCorrection([seeded], seeded).shape).toEqual([0]);
  });

  it("does not write into its operands", () => {
    const rng = new Rng(8);
    const x = rng.tensor([9]);
    const y = rng.tensor([9]);
    const before = [values(x), values(y)];
    const triple = { seed: ring.randomSeed(), length: 9 };
    const masks = ring.andMasks([x], [{ tensor: y, shl: 3 }], triple);
    const maskValues = values(masks);
    ring.andCombine([masks, masks], [x], [{ tensor: y, shl: 3 }], triple, true, x);
    expect([values(x), values(y)]).toEqual(before);
    expect(values(masks)).toEqual(maskValues);
  });
});

describe("errors", () => {
  const t4 = ring.zeros([4]);
  const triple = { seed: ring.randomSeed(), length: 4 };
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return (e as { code?: string }).code;
    }
    return undefined;
  };

  it("operands that do not add up to the triple, bad shifts, bad triples", () => {
    expect(code(() => ring.andMasks([t4], [ring.zeros([3])], triple))).toBe("TSYFT_ERR_INVALID_ARGUMENT");
    expect(() => ring.andMasks([t4], [ring.zeros([3])], triple)).toThrow(/4 elements in all.*got 4 and 3/);
    expect(() => ring.andMasks([t4], [{ tensor: t4, shl: 64 }], triple)).toThrow(/shift of 0 to 63 bits, got 64/);
    expect(() => ring.andMasks([t4], [{ tensor: t4, shl: 1.5 }], triple)).toThrow(/shift of 0 to 63 bits/);
    expect(() => ring.andMasks([t4], [t4], { seed: new Uint8Array(3), length: 4 })).toThrow(/16-byte Uint8Array seed/);
    expect(() => ring.andMasks([t4], [t4], { seed: triple.seed, length: -1 })).toThrow(/length as a count/);
    expect(() => ring.andMasks([t4], [t4], { a: t4, b: ring.zeros([3]) })).toThrow(
      /the triple's b of 4 elements, got 3/,
    );
    expect(() => ring.andMasks([t4], [t4], {} as ring.BinaryTriple)).toThrow(/binary triple share/);
  });

  it("masks of the wrong length, a missing c, an addend too long", () => {
    expect(() => ring.andCombine([ring.zeros([7])], [t4], [t4], triple, true)).toThrow(/masks of 8 elements, got 7/);
    expect(() => ring.andCombine([], [t4], [t4], triple, true)).toThrow(/every holder's masks/);
    expect(() => ring.andCombine([ring.zeros([8])], [t4], [t4], { a: t4, b: t4 }, true)).toThrow(
      /c has not been given/,
    );
    expect(() => ring.andCombine([ring.zeros([8])], [t4], [t4], triple, true, ring.zeros([5]))).toThrow(
      /addend of at most 4 elements, got 5/,
    );
    expect(() => ring.andCorrection([], triple)).toThrow(/the other holders' shares/);
    expect(() => ring.andCorrection([{ seed: triple.seed, length: 5 }], triple)).toThrow(/seeded shares of 4 words/);
  });
});

describe("split and Keystream", () => {
  it("split cuts a tensor into views of its data, flat", () => {
    const t = ring.fromInts([1, 2, 3, 4, 5, 6], [2, 3]);
    const [a, b, c] = ring.split(t, [2, 0, 4]);
    expect(values(a!)).toEqual([1n, 2n]);
    expect(b!.shape).toEqual([0]);
    expect(values(c!)).toEqual([3n, 4n, 5n, 6n]);
    expect(c!.data.buffer).toBe(t.data.buffer);
    expect(() => ring.split(t, [2, 3])).toThrow(/adding up to 6/);
    expect(() => ring.split(t, [7, -1])).toThrow(/non-negative integers/);
  });

  it("xorKeystream masks bytes with expand's keystream", () => {
    const seed = ring.randomSeed();
    const x = ring.fromInts([1, -2, 3, 0], [4]);
    const masked = ring.xorKeystream(seed, 9, ring.toBytes(x));
    const expected = ring.xor(x, ring.expand(seed, [4], 9));
    expect(Array.from(new BigInt64Array(masked.buffer, masked.byteOffset, 4))).toEqual(values(expected));
    expect(() => ring.xorKeystream(new Uint8Array(15), 0, new Uint8Array(8))).toThrow(/16-byte/);
    expect(() => ring.xorKeystream(seed, 0, [1, 2] as unknown as Uint8Array)).toThrow(/as a Uint8Array/);
  });
});
