import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import * as ring from "../../src/ring";
import { fromBigInts, fromInts, toBigInts } from "../../src/ring";
import { Rng, tfCpu, tfValues, toNumbers } from "./helpers";

beforeAll(async () => {
  await tfCpu();
});

const iota = (n: number) => Array.from({ length: n }, (_, i) => i - Math.floor(n / 2));
const count = (s: number[]) => s.reduce((a, b) => a * b, 1);

describe("transpose", () => {
  it("matches tf.transpose for random shapes and permutations", async () => {
    const rng = new Rng(21);
    for (let trial = 0; trial < 30; trial++) {
      const shape = rng.shape(5, 5);
      const perm = shape.map((_, i) => i);
      for (let i = perm.length - 1; i > 0; i--) {
        const j = rng.int(0, i);
        [perm[i], perm[j]] = [perm[j], perm[i]];
      }
      const v = iota(count(shape));
      const t = ring.transpose(fromInts(v, shape), perm);
      const expected = tf.transpose(tf.tensor(v, shape, "int32"), perm);
      expect(t.shape).toEqual(expected.shape);
      expect(toNumbers(t)).toEqual(await tfValues(expected));
    }
  });

  it("reverses axes by default and moves full 64-bit values exactly", () => {
    const rng = new Rng(22);
    const t = rng.tensor([3, 4, 5]);
    const tt = ring.transpose(t);
    expect(tt.shape).toEqual([5, 4, 3]);
    expect(ring.equal(ring.transpose(tt), t)).toBe(true);
    expect(tt.data[1]).toBe(t.data[20]);
  });
});

describe("slice", () => {
  it("matches tf.slice, including size -1 and short begin lists", async () => {
    const shape = [4, 5, 6];
    const v = iota(120);
    const x = fromInts(v, shape);
    const cases: [number[], number[]][] = [
      [
        [0, 0, 0],
        [4, 5, 6],
      ],
      [
        [1, 2, 3],
        [2, 2, 2],
      ],
      [
        [1, 0, 0],
        [-1, -1, 1],
      ],
      [
        [3, 4, 5],
        [1, 1, 1],
      ],
      [[2], [1]],
      [
        [0, 1],
        [-1, 3],
      ],
      [
        [1, 1, 1],
        [0, 2, 2],
      ],
    ];
    for (const [begin, size] of cases) {
      const t = ring.slice(x, begin, size);
      const expected = tf.slice(tf.tensor(v, shape, "int32"), begin, size);
      expect(t.shape).toEqual(expected.shape);
      expect(ring.shapes.slice(shape, begin, size)).toEqual(expected.shape);
      expect(toNumbers(t)).toEqual(await tfValues(expected));
    }
  });
});

describe("concat", () => {
  it("matches tf.concat on every axis, negative axes too", async () => {
    const a = iota(24);
    const b = iota(36).map((x) => x * 3);
    for (const [sa, sb, axis] of [
      [[2, 3, 4], [3, 3, 4], 0],
      [[2, 3, 4], [2, 6, 3].slice(0, 1).concat([3, 6]), 2],
      [[2, 3, 4], [2, 3, 6], -1],
      [[4, 6], [6, 6], 0],
    ] as [number[], number[], number][]) {
      const av = a.slice(0, count(sa));
      const bv = b.slice(0, count(sb));
      const t = ring.concat([fromInts(av, sa), fromInts(bv, sb)], axis);
      const expected = tf.concat([tf.tensor(av, sa, "int32"), tf.tensor(bv, sb, "int32")], axis);
      expect(t.shape).toEqual(expected.shape);
      expect(ring.shapes.concat([sa, sb], axis)).toEqual(expected.shape);
      expect(toNumbers(t)).toEqual(await tfValues(expected));
    }
  });

  it("joins three tensors along a middle axis", () => {
    const x = fromInts([1, 2, 3, 4], [2, 2, 1]);
    const y = fromInts([5, 6], [2, 1, 1]);
    const z = fromInts([7, 8, 9, 10, 11, 12], [2, 3, 1]);
    expect(toNumbers(ring.concat([x, y, z], 1))).toEqual([1, 2, 5, 7, 8, 9, 3, 4, 6, 10, 11, 12]);
  });
});

describe("reshape, expandDims, broadcastTo, gather", () => {
  it("reshape infers one -1 and shares nothing observable", () => {
    const t = fromInts(iota(24), [2, 3, 4]);
    expect(ring.reshape(t, [6, -1]).shape).toEqual([6, 4]);
    expect(ring.reshape(t, [-1]).shape).toEqual([24]);
    expect(toBigInts(ring.reshape(t, [4, 6]))).toEqual(toBigInts(t));
    expect(ring.reshape(ring.zeros([0, 3]), [3, 0]).shape).toEqual([3, 0]);
    expect(ring.reshape(ring.scalar(4n), [1, 1]).shape).toEqual([1, 1]);
  });

  it("expandDims inserts a unit axis anywhere", () => {
    const t = ring.zeros([2, 3]);
    expect(ring.expandDims(t, 0).shape).toEqual([1, 2, 3]);
    expect(ring.expandDims(t, 1).shape).toEqual([2, 1, 3]);
    expect(ring.expandDims(t, 2).shape).toEqual([2, 3, 1]);
    expect(ring.expandDims(t, -1).shape).toEqual([2, 3, 1]);
    expect(ring.expandDims(t, -3).shape).toEqual([1, 2, 3]);
  });

  it("broadcastTo matches tf.broadcastTo", async () => {
    const cases: [number[], number[]][] = [
      [[3], [2, 3]],
      [
        [2, 1],
        [2, 5],
      ],
      [
        [1, 3, 1],
        [4, 3, 2],
      ],
      [[], [2, 2]],
      [[1], [3, 1, 40]],
      [
        [5, 1, 1],
        [5, 3, 17],
      ],
    ];
    for (const [from, to] of cases) {
      const v = iota(count(from));
      const t = ring.broadcastTo(fromInts(v, from), to);
      const expected = tf.broadcastTo(tf.tensor(v, from, "int32"), to);
      expect(t.shape).toEqual(to);
      expect(toNumbers(t)).toEqual(await tfValues(expected));
    }
  });

  it("gather matches tf.gather on each axis", async () => {
    const shape = [3, 4, 5];
    const v = iota(60);
    const x = fromInts(v, shape);
    for (const [indices, axis] of [
      [[2, 0, 2], 0],
      [[3, 1], 1],
      [[4, 4, 0, 1], 2],
      [[], 1],
    ] as [number[], number][]) {
      const t = ring.gather(x, indices, axis);
      const expected = tf.gather(tf.tensor(v, shape, "int32"), tf.tensor1d(indices, "int32"), axis);
      expect(t.shape).toEqual(expected.shape);
      expect(toNumbers(t)).toEqual(await tfValues(expected));
    }
    const wide = fromInts(iota(2 * 40), [2, 40]);
    expect(toNumbers(ring.gather(wide, [1, 0], 0))).toEqual([...iota(80).slice(40), ...iota(80).slice(0, 40)]);
    expect(toNumbers(ring.gather(x, new Int32Array([1]), -1))).toEqual(v.filter((_, i) => i % 5 === 1));
  });

  it("moves the edge values bit-exactly", () => {
    const values = [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 1n, -(2n ** 31n)];
    const t = fromBigInts(values, [2, 3]);
    expect(toBigInts(ring.transpose(ring.transpose(t)))).toEqual(values);
    expect(toBigInts(ring.gather(t, [1, 0], 0))).toEqual([...values.slice(3), ...values.slice(0, 3)]);
    expect(toBigInts(ring.slice(t, [0, 1], [2, 2]))).toEqual([values[1], values[2], values[4], values[5]]);
    expect(toBigInts(ring.broadcastTo(ring.slice(t, [0, 3 - 1], [1, 1]), [2, 2]))).toEqual(
      new Array(4).fill(values[2]),
    );
  });
});
