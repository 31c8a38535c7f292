import { describe, expect, it } from "vitest";
import * as ring from "../../src/ring";
import { RingTensor, fromBigInts, toBigInts } from "../../src/ring";
import { MAX, MIN, Rng, SPECIAL, bothKernels } from "./helpers";

const wrap = (v: bigint) => BigInt.asIntN(64, v);
const floorDiv = (x: bigint, d: bigint) => {
  const q = x / d;
  return x % d !== 0n && x < 0n ? q - 1n : q;
};

/** Each binary op with its independent BigInt oracle. */
const binaryOps: [string, (a: RingTensor, b: RingTensor) => RingTensor, (x: bigint, y: bigint) => bigint][] = [
  ["add", ring.add, (x, y) => wrap(x + y)],
  ["sub", ring.sub, (x, y) => wrap(x - y)],
  ["mul", ring.mul, (x, y) => wrap(x * y)],
  ["xor", ring.xor, (x, y) => wrap(x ^ y)],
  ["and", ring.and, (x, y) => wrap(x & y)],
];

/** numpy broadcasting, element by element, as the oracle. */
function broadcastOracle(
  a: RingTensor,
  b: RingTensor,
  f: (x: bigint, y: bigint) => bigint,
): { shape: number[]; values: bigint[] } {
  const rank = Math.max(a.rank, b.rank);
  const pad = (s: readonly number[]) => [...Array(rank - s.length).fill(1), ...s];
  const sa = pad(a.shape);
  const sb = pad(b.shape);
  const shape = sa.map((d, i) => Math.max(d, sb[i]));
  const n = shape.reduce((x, y) => x * y, 1);
  const values: bigint[] = [];
  const x = toBigInts(a);
  const y = toBigInts(b);
  for (let flat = 0; flat < n; flat++) {
    let rest = flat;
    let ia = 0;
    let ib = 0;
    let strideA = 1;
    let strideB = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const i = rest % shape[d];
      rest = Math.floor(rest / shape[d]);
      ia += (sa[d] === 1 ? 0 : i) * strideA;
      ib += (sb[d] === 1 ? 0 : i) * strideB;
      strideA *= sa[d];
      strideB *= sb[d];
    }
    values.push(f(x[ia], y[ib]));
  }
  return { shape, values };
}

/** A pair of shapes that broadcast together: equal, scalar, or with unit axes. */
function broadcastablePair(rng: Rng): [number[], number[]] {
  const full = rng.shape(4, 5);
  const kind = rng.int(0, 3);
  if (kind === 0) return [full, [...full]];
  if (kind === 1) return rng.int(0, 1) ? [full, []] : [[1], full];
  const other = full.slice(rng.int(0, full.length)).map((d) => (rng.int(0, 2) === 0 ? 1 : d));
  return rng.int(0, 1) ? [full, other] : [other, full];
}

describe("elementwise binary ops", () => {
  for (const [name, op, oracle] of binaryOps) {
    it(`${name}: wasm = js = BigInt oracle on random broadcast shapes`, () => {
      const rng = new Rng(name.length * 1000 + 17);
      for (let trial = 0; trial < 40; trial++) {
        const [sa, sb] = broadcastablePair(rng);
        const a = rng.tensor(sa);
        const b = rng.tensor(sb);
        const { wasm, js } = bothKernels(() => op(a, b));
        const expected = broadcastOracle(a, b, oracle);
        expect(wasm.shape).toEqual(expected.shape);
        expect(toBigInts(js)).toEqual(expected.values);
        expect(toBigInts(wasm)).toEqual(expected.values);
      }
    });

    it(`${name}: every pair of edge values, odd and even lengths`, () => {
      const xs = SPECIAL.flatMap((x) => SPECIAL.map(() => x));
      const ys = SPECIAL.flatMap(() => SPECIAL);
      for (const n of [xs.length, xs.length - 1, 1, 2, 3]) {
        const a = fromBigInts(xs.slice(0, n), [n]);
        const b = fromBigInts(ys.slice(0, n), [n]);
        const { wasm, js } = bothKernels(() => op(a, b));
        const expected = xs.slice(0, n).map((x, i) => oracle(x, ys[i]));
        expect(toBigInts(wasm)).toEqual(expected);
        expect(toBigInts(js)).toEqual(expected);
      }
    });

    it(`${name}: scalar on either side, and empty tensors`, () => {
      const rng = new Rng(99);
      const a = rng.tensor([7]);
      for (const k of SPECIAL) {
        const s = ring.scalar(k);
        for (const [x, y] of [
          [a, s],
          [s, a],
        ] as const) {
          const { wasm, js } = bothKernels(() => op(x, y));
          const expected = broadcastOracle(x, y, oracle).values;
          expect(toBigInts(wasm)).toEqual(expected);
          expect(toBigInts(js)).toEqual(expected);
        }
      }
      const empty = ring.zeros([0, 3]);
      const { wasm, js } = bothKernels(() => op(empty, ring.scalar(5n)));
      expect(wasm.shape).toEqual([0, 3]);
      expect(js.size).toBe(0);
    });
  }

  it("large arrays (65,536+1 elements) agree across kernels", () => {
    const rng = new Rng(5);
    const a = rng.tensor([65537]);
    const b = rng.tensor([65537]);
    for (const [, op, oracle] of binaryOps) {
      const { wasm, js } = bothKernels(() => op(a, b));
      expect(ring.equal(wasm, js)).toBe(true);
      expect(wasm.data[65536]).toBe(oracle(a.data[65536], b.data[65536]));
    }
  });

  it("does not write into its inputs", () => {
    const a = fromBigInts([1n, 2n, 3n], [3]);
    const b = fromBigInts([4n, 5n, 6n], [3]);
    bothKernels(() => [ring.add(a, b), ring.neg(a), ring.mulScalar(b, 3n), ring.shl(a, 2)]);
    expect(toBigInts(a)).toEqual([1n, 2n, 3n]);
    expect(toBigInts(b)).toEqual([4n, 5n, 6n]);
  });
});

describe("elementwise unary, scalar and shift ops", () => {
  const rng = new Rng(2024);
  const values = [...SPECIAL, ...rng.values(101)];
  const a = fromBigInts(values, [values.length]);

  const cases: [string, () => RingTensor, (x: bigint) => bigint][] = [
    ["neg", () => ring.neg(a), (x) => wrap(-x)],
    ["not", () => ring.not(a), (x) => wrap(~x)],
  ];
  for (const k of [0n, 1n, -1n, 3n, MAX, MIN, 0x123456789abcdefn, (1n << 64n) + 5n]) {
    cases.push([`addScalar ${k}`, () => ring.addScalar(a, k), (x) => wrap(x + k)]);
    cases.push([`mulScalar ${k}`, () => ring.mulScalar(a, k), (x) => wrap(x * k)]);
  }
  for (const bits of [0, 1, 7, 16, 31, 32, 33, 62, 63]) {
    cases.push([`shr ${bits}`, () => ring.shr(a, bits), (x) => x >> BigInt(bits)]);
    cases.push([`shl ${bits}`, () => ring.shl(a, bits), (x) => wrap(x << BigInt(bits))]);
    cases.push([
      `shrLogical ${bits}`,
      () => ring.shrLogical(a, bits),
      (x) => wrap(BigInt.asUintN(64, x) >> BigInt(bits)),
    ]);
  }
  for (const d of [1n, 2n, 3n, 7n, 16n, 1000n, 1n << 40n, (1n << 62n) + 1n, MAX]) {
    cases.push([`divFloor ${d}`, () => ring.divFloor(a, d), (x) => floorDiv(x, d)]);
  }

  for (const [name, run, oracle] of cases) {
    it(`${name}: wasm = js = BigInt oracle`, () => {
      const { wasm, js } = bothKernels(run);
      const expected = values.map(oracle);
      expect(toBigInts(js)).toEqual(expected);
      expect(toBigInts(wasm)).toEqual(expected);
      expect(wasm.shape).toEqual(a.shape);
    });
  }

  it("keeps shapes, including scalars and empty tensors", () => {
    const s = ring.scalar(-7n);
    const { wasm, js } = bothKernels(() => [ring.neg(s), ring.divFloor(s, 2n), ring.shr(ring.zeros([2, 0]), 3)]);
    expect(toBigInts(wasm[0])).toEqual([7n]);
    expect(toBigInts(js[1])).toEqual([-4n]);
    expect(toBigInts(wasm[1])).toEqual([-4n]);
    expect(wasm[2].shape).toEqual([2, 0]);
  });

  it("activeKernels follows the configuration", () => {
    const { wasm, js } = bothKernels(() => ring.activeKernels());
    expect(wasm).toBe("wasm");
    expect(js).toBe("js");
    expect(ring.activeKernels()).toBe("wasm");
  });
});
