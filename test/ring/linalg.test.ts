import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import * as ring from "../../src/ring";
import { fromBigInts, fromInts, toBigInts } from "../../src/ring";
import { Rng, bothKernels, tfCpu, tfValues, toNumbers } from "./helpers";

beforeAll(async () => {
  await tfCpu();
});

/** Independent BigInt matmul of one [m,k] x [k,n] pair. */
function matmulOracle(a: bigint[], b: bigint[], m: number, k: number, n: number): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0n;
      for (let q = 0; q < k; q++) s += a[i * k + q] * b[q * n + j];
      out.push(BigInt.asIntN(64, s));
    }
  }
  return out;
}

describe("matmul", () => {
  it("wasm = js = BigInt oracle with full-range values and wrap-around, odd sizes", () => {
    const rng = new Rng(1);
    for (const [m, k, n] of [
      [1, 1, 1],
      [2, 3, 4],
      [3, 5, 7],
      [5, 1, 6],
      [8, 8, 8],
      [9, 17, 13],
      [1, 33, 2],
      [4, 0, 3],
      // One or two rows take the unpacked path (B read in place, four rows of B per pass): k a multiple of four
      // and with each remainder, n not a multiple of 4.
      [1, 64, 37],
      [1, 6, 5],
      [2, 7, 3],
      [1, 3, 4],
      [2, 31, 9],
      [2, 0, 5],
    ]) {
      const a = rng.tensor([m, k]);
      const b = rng.tensor([k, n]);
      const { wasm, js } = bothKernels(() => ring.matmul(a, b));
      const expected = matmulOracle(toBigInts(a), toBigInts(b), m, k, n);
      expect(wasm.shape).toEqual([m, n]);
      expect(toBigInts(js)).toEqual(expected);
      expect(toBigInts(wasm)).toEqual(expected);
    }
  });

  it("matches tf.matMul on small integers, 2-D and batched", async () => {
    const rng = new Rng(2);
    const cases: [number[], number[]][] = [
      [
        [6, 7],
        [7, 5],
      ],
      [
        [3, 4, 5],
        [3, 5, 2],
      ],
      [
        [3, 4, 5],
        [5, 6],
      ],
      [
        [4, 5],
        [3, 5, 6],
      ],
      [
        [1, 4, 5],
        [3, 5, 2],
      ],
      [
        [3, 4, 5],
        [1, 5, 3],
      ],
      [
        [2, 31, 29],
        [2, 29, 30],
      ],
    ];
    for (const [sa, sb] of cases) {
      const av = rng.smallInts(sa.reduce((x, y) => x * y));
      const bv = rng.smallInts(sb.reduce((x, y) => x * y));
      const a = fromInts(av, sa);
      const b = fromInts(bv, sb);
      const { wasm, js } = bothKernels(() => ring.matmul(a, b));
      const expected = tf.matMul(tf.tensor(av, sa), tf.tensor(bv, sb));
      expect(wasm.shape).toEqual(expected.shape);
      const values = await tfValues(expected);
      expect(toNumbers(wasm)).toEqual(values);
      expect(toNumbers(js)).toEqual(values);
      expect(ring.shapes.matmul(sa, sb)).toEqual(wasm.shape);
    }
  });

  it("larger products agree across kernels (register tiles and edges)", () => {
    const rng = new Rng(3);
    for (const [m, k, n] of [
      [33, 40, 35],
      [64, 64, 64],
      [7, 130, 9],
    ]) {
      const a = rng.tensor([m, k]);
      const b = rng.tensor([k, n]);
      const { wasm, js } = bothKernels(() => ring.matmul(a, b));
      expect(ring.equal(wasm, js)).toBe(true);
    }
    const a = rng.tensor([3, 9, 10]);
    const b = rng.tensor([3, 10, 11]);
    const { wasm, js } = bothKernels(() => ring.matmul(a, b));
    expect(ring.equal(wasm, js)).toBe(true);
  });
});

interface ConvCase {
  x: [number, number, number, number];
  w: [number, number, number, number];
  strides?: number | [number, number];
  dilations?: number | [number, number];
  padding: "same" | "valid";
}

/** The ring's convolution against TF.js's on small integers (exact in float32), in both kernel sets. */
async function expectConvMatchesTf(op: "conv2d" | "depthwiseConv2d", c: ConvCase, seed: number): Promise<void> {
  const rng = new Rng(seed);
  const xv = rng.smallInts(
    c.x.reduce((a, b) => a * b),
    5,
  );
  const wv = rng.smallInts(
    c.w.reduce((a, b) => a * b),
    5,
  );
  const opts = { padding: c.padding, strides: c.strides, dilations: c.dilations };
  const { wasm, js } = bothKernels(() => ring[op](fromInts(xv, c.x), fromInts(wv, c.w), opts));
  const tfOp = op === "conv2d" ? tf.conv2d : tf.depthwiseConv2d;
  const expected = tfOp(
    tf.tensor4d(xv, c.x),
    tf.tensor4d(wv, c.w),
    c.strides ?? 1,
    c.padding,
    "NHWC",
    c.dilations ?? 1,
  );
  expect(wasm.shape).toEqual(expected.shape);
  expect(ring.shapes[op](c.x, c.w, opts)).toEqual(expected.shape);
  const values = await tfValues(expected);
  expect(toNumbers(wasm)).toEqual(values);
  expect(toNumbers(js)).toEqual(values);
}

describe("conv2d", () => {
  const cases: ConvCase[] = [
    { x: [1, 5, 5, 1], w: [3, 3, 1, 1], padding: "valid" },
    { x: [1, 5, 5, 1], w: [3, 3, 1, 1], padding: "same" },
    { x: [2, 7, 6, 3], w: [3, 2, 3, 4], padding: "same", strides: 2 },
    { x: [2, 7, 6, 3], w: [3, 2, 3, 4], padding: "valid", strides: [2, 3] },
    { x: [1, 8, 8, 2], w: [4, 4, 2, 3], padding: "same" },
    { x: [1, 8, 9, 2], w: [2, 2, 2, 3], padding: "same", strides: [3, 2] },
    { x: [1, 9, 9, 2], w: [3, 3, 2, 2], padding: "same", dilations: 2 },
    { x: [1, 10, 11, 2], w: [3, 2, 2, 3], padding: "valid", dilations: [2, 3] },
    { x: [3, 6, 6, 1], w: [6, 6, 1, 2], padding: "valid" },
    { x: [1, 4, 4, 3], w: [5, 5, 3, 2], padding: "same", strides: 3 },
    { x: [1, 11, 13, 3], w: [5, 5, 3, 8], padding: "same" },
  ];
  for (const c of cases) {
    it(`matches tf.conv2d: x ${c.x} w ${c.w} ${c.padding} strides ${c.strides ?? 1} dilations ${c.dilations ?? 1}`, () =>
      expectConvMatchesTf("conv2d", c, c.x.join("").length + c.w[0] * 10));
  }

  it("wraps mod 2^64 identically in both kernels with full-range values", () => {
    const rng = new Rng(8);
    const x = rng.tensor([2, 6, 5, 3]);
    const w = rng.tensor([3, 3, 3, 4]);
    const { wasm, js } = bothKernels(() => ring.conv2d(x, w, { padding: "same", strides: [1, 2] }));
    expect(ring.equal(wasm, js)).toBe(true);
  });

  it("supports strides and dilations above 1 together (tf.conv2d refuses; checked against the definition)", () => {
    const rng = new Rng(9);
    const xv = rng.smallInts(1 * 9 * 9 * 1);
    const x = fromInts(xv, [1, 9, 9, 1]);
    const w = fromInts([1, 2, 3, 4], [2, 2, 1, 1]);
    const y = ring.conv2d(x, w, { padding: "valid", strides: 2, dilations: 2 });
    expect(y.shape).toEqual([1, 4, 4, 1]);
    const at = (i: number, j: number) => xv[i * 9 + j];
    const expected: number[] = [];
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        expected.push(
          at(2 * i, 2 * j) + 2 * at(2 * i, 2 * j + 2) + 3 * at(2 * i + 2, 2 * j) + 4 * at(2 * i + 2, 2 * j + 2),
        );
      }
    }
    expect(toNumbers(y)).toEqual(expected);
  });
});

describe("depthwiseConv2d", () => {
  const cases: ConvCase[] = [
    { x: [1, 5, 5, 1], w: [3, 3, 1, 1], padding: "valid" },
    { x: [1, 6, 6, 3], w: [3, 3, 3, 1], padding: "same" },
    { x: [2, 7, 6, 3], w: [3, 2, 3, 2], padding: "same", strides: 2 },
    { x: [2, 7, 6, 2], w: [3, 2, 2, 3], padding: "valid", strides: [2, 3] },
    { x: [1, 9, 9, 2], w: [3, 3, 2, 2], padding: "same", dilations: 2 },
    { x: [1, 10, 11, 4], w: [2, 3, 4, 1], padding: "valid", dilations: [2, 1] },
    { x: [3, 4, 4, 3], w: [5, 5, 3, 2], padding: "same", strides: 3 },
  ];
  for (const c of cases) {
    it(`matches tf.depthwiseConv2d: x ${c.x} w ${c.w} ${c.padding} strides ${c.strides ?? 1} dilations ${c.dilations ?? 1}`, () =>
      expectConvMatchesTf("depthwiseConv2d", c, c.x.join("").length + c.w[3] * 10));
  }

  it("equals conv2d with the block-diagonal filter, mod 2^64 with full-range values, in both kernels", () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 12; trial++) {
      const [kh, kw, channels, multiplier] = [rng.int(1, 3), rng.int(1, 3), rng.int(1, 4), rng.int(1, 3)];
      const x = rng.tensor([rng.int(1, 2), rng.int(4, 8), rng.int(4, 8), channels]);
      const w = rng.tensor([kh, kw, channels, multiplier]);
      // The dense filter [KH,KW,C,C*M] that is w[.,.,c,m] at output channel c*M+m of input channel c, else 0.
      const wv = toBigInts(w);
      const dense: bigint[] = [];
      for (let t = 0; t < kh * kw; t++) {
        for (let ci = 0; ci < channels; ci++) {
          for (let o = 0; o < channels * multiplier; o++) {
            const owner = Math.floor(o / multiplier);
            dense.push(owner === ci ? wv[(t * channels + ci) * multiplier + (o % multiplier)]! : 0n);
          }
        }
      }
      const opts = {
        padding: rng.int(0, 1) ? ("same" as const) : ("valid" as const),
        strides: [rng.int(1, 2), rng.int(1, 2)] as [number, number],
        dilations: [rng.int(1, 2), 1] as [number, number],
      };
      const { wasm, js } = bothKernels(() => ring.depthwiseConv2d(x, w, opts));
      const reference = ring.conv2d(x, fromBigInts(dense, [kh, kw, channels, channels * multiplier]), opts);
      expect(ring.equal(wasm, reference)).toBe(true);
      expect(ring.equal(js, reference)).toBe(true);
    }
  });

  it("refuses a filter whose channels differ from the input's, naming the depthwise layout", () => {
    expect(() => ring.depthwiseConv2d(ring.zeros([1, 4, 4, 3]), ring.zeros([3, 3, 2, 1]), { padding: "same" })).toThrow(
      /depthwiseConv2d: input \[1, 4, 4, 3\] has 3 channels but filter \[3, 3, 2, 1\] expects 2 .*channelMultiplier/,
    );
  });
});

describe("extractPatches", () => {
  const cases: {
    x: [number, number, number, number];
    f: [number, number];
    s: [number, number];
    p: "same" | "valid";
  }[] = [
    { x: [1, 4, 4, 1], f: [2, 2], s: [2, 2], p: "valid" },
    { x: [2, 5, 5, 3], f: [2, 2], s: [2, 2], p: "same" },
    { x: [1, 7, 6, 2], f: [3, 3], s: [2, 2], p: "same" },
    { x: [1, 7, 6, 2], f: [3, 2], s: [1, 2], p: "valid" },
    { x: [2, 9, 8, 4], f: [3, 3], s: [3, 3], p: "same" },
    { x: [1, 6, 6, 1], f: [4, 4], s: [1, 1], p: "same" },
  ];
  for (const c of cases) {
    it(`max and sum over windows match tf.maxPool/avgPool: x ${c.x} filter ${c.f} strides ${c.s} ${c.p}`, async () => {
      const rng = new Rng(c.x[1] * 7 + c.f[0]);
      const xv = rng.smallInts(
        c.x.reduce((a, b) => a * b),
        20,
      );
      const x = fromInts(xv, c.x);
      const minValue = -(2n ** 63n);
      const { wasm, js } = bothKernels(() => ({
        maxPatches: ring.extractPatches(x, { filterSize: c.f, strides: c.s, padding: c.p, padValue: minValue }),
        sumPatches: ring.extractPatches(x, { filterSize: c.f, strides: c.s, padding: c.p }),
      }));
      expect(ring.equal(wasm.maxPatches, js.maxPatches)).toBe(true);
      expect(ring.equal(wasm.sumPatches, js.sumPatches)).toBe(true);
      const [n, oh, ow, taps, ch] = wasm.maxPatches.shape;
      expect(taps).toBe(c.f[0] * c.f[1]);
      expect([n, oh, ow, ch]).toEqual(ring.shapes.pool(c.x, { filterSize: c.f, strides: c.s, padding: c.p }));

      // Max over the tap axis (padding holds the ring's minimum, so it never wins).
      const patches = toBigInts(wasm.maxPatches);
      const maxes: number[] = [];
      for (let cell = 0; cell < n * oh * ow; cell++) {
        for (let k = 0; k < ch; k++) {
          let best = minValue;
          for (let t = 0; t < taps; t++) {
            const v = patches[(cell * taps + t) * ch + k];
            if (v > best) best = v;
          }
          maxes.push(Number(best));
        }
      }
      const tx = tf.tensor4d(xv, c.x);
      const maxPool = tf.maxPool(tx, c.f, c.s, c.p);
      expect(maxPool.shape).toEqual([n, oh, ow, ch]);
      expect(maxes).toEqual(await tfValues(maxPool));

      // Sum over taps with zero padding = avgPool * window size (tf averages over
      // the taps inside the input, so compare where the window lies fully inside).
      const sums = toNumbers(ring.sum(wasm.sumPatches, 3));
      const avg = Array.from(await tf.avgPool(tx, c.f, c.s, c.p).data());
      const counts = toNumbers(
        ring.sum(ring.extractPatches(ring.fill(c.x, 1n), { filterSize: c.f, strides: c.s, padding: c.p }), 3),
      );
      sums.forEach((s, i) => expect(s).toBeCloseTo(avg[i] * counts[i], 3));
      tx.dispose();
    });
  }

  it("places padValue in padded taps only", () => {
    const x = fromInts([1, 2, 3, 4], [1, 2, 2, 1]);
    const p = ring.extractPatches(x, { filterSize: [3, 3], strides: [1, 1], padding: "same", padValue: -9n });
    expect(p.shape).toEqual([1, 2, 2, 9, 1]);
    expect(toNumbers(ring.slice(p, [0, 0, 0, 0, 0], [1, 1, 1, 9, 1]))).toEqual([-9, -9, -9, -9, 1, 2, -9, 3, 4]);
  });
});

describe("sum (wasm and js reduce kernels)", () => {
  it("matches tf.sum over axis sets, with keepDims", async () => {
    const rng = new Rng(11);
    const shape = [3, 4, 5, 2];
    const v = rng.smallInts(120);
    const t = fromInts(v, shape);
    const axesList: (number | number[] | undefined)[] = [
      undefined,
      0,
      1,
      3,
      -1,
      [0, 1],
      [1, 3],
      [0, 2, 3],
      [],
      [0, 1, 2, 3],
    ];
    for (const axes of axesList) {
      for (const keepDims of [false, true]) {
        const { wasm, js } = bothKernels(() => ring.sum(t, axes, keepDims));
        const expected = tf.sum(tf.tensor(v, shape), axes as number[] | undefined, keepDims);
        expect(wasm.shape).toEqual(expected.shape);
        expect(ring.shapes.sum(shape, axes, keepDims)).toEqual(expected.shape);
        const values = await tfValues(expected);
        expect(toNumbers(wasm)).toEqual(values);
        expect(toNumbers(js)).toEqual(values);
      }
    }
  });

  it("wraps mod 2^64 and handles empty axes", () => {
    const rng = new Rng(12);
    const t = rng.tensor([4, 0, 3]);
    const { wasm, js } = bothKernels(() => ring.sum(t, 1));
    expect(toBigInts(wasm)).toEqual(new Array(12).fill(0n));
    expect(toBigInts(js)).toEqual(new Array(12).fill(0n));
    const big = fromBigInts([2n ** 62n, 2n ** 62n, 2n ** 62n, 2n ** 62n, 5n], [5]);
    const s = bothKernels(() => ring.sum(big));
    expect(toBigInts(s.wasm)).toEqual([5n]);
    expect(toBigInts(s.js)).toEqual([5n]);
    const r = rng.tensor([5, 6, 7]);
    const all = bothKernels(() => ring.sum(r, [0, 2]));
    expect(ring.equal(all.wasm, all.js)).toBe(true);
  });
});

describe("random geometry: wasm = js", () => {
  it("matmul, 2-D and batched, on random shapes", () => {
    const rng = new Rng(101);
    for (let trial = 0; trial < 30; trial++) {
      const [m, k, n, batch] = [rng.int(1, 19), rng.int(0, 19), rng.int(1, 19), rng.int(1, 4)];
      const shapeA = rng.int(0, 2) ? [batch, m, k] : [m, k];
      const shapeB = rng.int(0, 2) ? [rng.int(0, 1) ? batch : 1, k, n] : [k, n];
      const a = rng.tensor(shapeA);
      const b = rng.tensor(shapeB);
      const { wasm, js } = bothKernels(() => ring.matmul(a, b));
      expect(wasm.shape).toEqual(ring.shapes.matmul(shapeA, shapeB));
      expect(ring.equal(wasm, js)).toBe(true);
    }
  });

  it("conv2d and extractPatches on random geometry", () => {
    const rng = new Rng(102);
    for (let trial = 0; trial < 30; trial++) {
      const x = rng.tensor([rng.int(1, 2), rng.int(5, 9), rng.int(5, 9), rng.int(1, 4)]);
      const filter: [number, number] = [rng.int(1, 3), rng.int(1, 3)];
      const strides: [number, number] = [rng.int(1, 3), rng.int(1, 3)];
      const dilations: [number, number] = [rng.int(1, 2), rng.int(1, 2)];
      const padding = rng.int(0, 1) ? "same" : "valid";
      const w = rng.tensor([...filter, x.shape[3], rng.int(1, 5)]);
      const conv = bothKernels(() => ring.conv2d(x, w, { strides, dilations, padding }));
      expect(ring.equal(conv.wasm, conv.js)).toBe(true);
      const padValue = rng.value();
      const patches = bothKernels(() => ring.extractPatches(x, { filterSize: filter, strides, padding, padValue }));
      expect(ring.equal(patches.wasm, patches.js)).toBe(true);
    }
  });
});
