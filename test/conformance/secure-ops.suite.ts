/**
 * The conformance suite of secure ops: every op on shared fixed-point tensors,
 * checked against TensorFlow.js plaintext on the same inputs.
 *
 * It is a function so that every Worker implementation runs the same cases
 * (CONTRIBUTING.md, "Interfaces and conformance suites"), once per kind of crypto provider (as CrypTen runs its MPC
 * suite once per provider) and per comparison protocol: VirtualWorkers (test/mpc/virtual.conformance.test.ts)
 * and grid nodes over WebSockets (test/grid/nodes.conformance.integration.test.ts). It
 * uses only the public API and WorkerHandles.
 *
 * Magnitudes and tolerances (default encoding: base 2, 16 fractional bits, so
 * one unit in the last place, "ulp", is 2^-16):
 * - Inputs are multiples of 2^-8, exact in float32 and in the encoding, so
 *   every error measured is the protocol's.
 * - The encode limit is 2^62 / scale = 2^46 ≈ 7.04e13. Ops without a product
 *   (add, sub, neg, reshape..., comparisons, relu, maxPool2d) are tested up to
 *   0.99·2^46 and must be exact up to float32 rounding of the result. (The
 *   difference of two encodable values stays below 2^63, so comparisons hold
 *   over the whole range; sums may of course wrap, so summed values stay lower.)
 * - A product of encoded values carries scale 2^32 before truncation, so it must
 *   stay below 2^31 in magnitude, and two-holder local truncation fails (a huge
 *   error) with probability about |z|/2^63 per element for a product z at scale
 *   2^32. Operands of mul, matmul, conv2d and linear are therefore at most 16 in
 *   magnitude (products <= 256: failure odds <= 2^-23 per element); the result
 *   is within 1 ulp of the exact value: atol 2^-15 (1 ulp + float32 rounding),
 *   plus what TensorFlow.js' own float32 accumulation may lose over k terms.
 * - Division by a non-integer multiplies by the encoded reciprocal (error <=
 *   2^-17 relative) and truncates: atol |x|·2^-17 + 2^-15.
 * - PySyft's encoding (base 10, 3 digits): ulp 1e-3; atol 2e-3 after a product.
 */
import type * as tfjs from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it as vitestIt } from "vitest";
import * as sy from "../../src";
import type { ComparisonProtocol, ProviderKind } from "../../src/core/config";
import { EXACT, Rng, distinctTensor, expectClose, randomTensor, type Tolerance } from "./oracle";

export interface SecureOpsFixture {
  hook: sy.Hook;
  alice: sy.WorkerHandle;
  bob: sy.WorkerHandle;
  charlie: sy.WorkerHandle;
  dan: sy.WorkerHandle;
  teardown(): Promise<void>;
}

/** 1 ulp of truncation plus float32 rounding of results up to a few hundred. */
const ONE_TRUNC: Tolerance = { atol: 2 ** -15, rtol: 2 ** -22 };
/** The encode limit at 16 fractional bits, 2^62 / 2^16, less 1% (a float32 value). */
const NEAR_LIMIT = Math.fround(0.99 * 2 ** 46);
/** Operands of products: |x|, |y| <= 16, so |x·y| <= 256 (see the header). */
const PRODUCT_MAX = 16;

/** Tolerance of a k-term dot product of values up to `max`: truncation, plus tf's float32 accumulation. */
function dotTolerance(k: number, max: number): Tolerance {
  return { atol: 2 ** -15 + k * max * max * 2 ** -23, rtol: 2 ** -20 };
}

/**
 * Registers the secure-op conformance cases under `name` and `provider`.
 * `setup` runs once before them and must return a hook and four workers: bob
 * and charlie hold shares, dan is the crypto provider, alice is the third
 * holder where three are needed. Every case runs with `provider` as the
 * configured kind of crypto provider and `comparison` as the comparison
 * protocol, so each of its commands carries them.
 */
export function secureOpsSuite(
  name: string,
  provider: ProviderKind,
  setup: () => Promise<SecureOpsFixture>,
  comparison: ComparisonProtocol = "kogge-stone",
): void {
  const it = Object.assign(
    (title: string, fn: () => unknown) =>
      vitestIt(title, () => sy.withConfig({ cryptoProvider: provider, comparison }, fn)),
    { skip: vitestIt.skip },
  );
  describe(`secure ops conformance: ${name}, provider ${provider}, comparison ${comparison}`, () => {
    let fx: SecureOpsFixture;
    let tf: typeof tfjs;

    beforeAll(async () => {
      fx = await setup();
      tf = fx.hook.tf as typeof tfjs;
    });
    afterAll(async () => {
      await fx?.teardown();
    });

    const share = (t: tfjs.Tensor, options?: sy.FixedPointOptions) =>
      t.fixPrecision(options).share(fx.bob, fx.charlie, { cryptoProvider: fx.dan });
    const share3 = (t: tfjs.Tensor) => t.fixPrecision().share(fx.alice, fx.bob, fx.charlie, { cryptoProvider: fx.dan });
    const reveal = async (t: sy.TensorLike) => (await (t as sy.FixedPrecisionTensor).get()).floatPrecision();
    const check = async (secure: sy.TensorLike, want: tfjs.Tensor, tol: Tolerance, what: string) => {
      expect(secure).toBeInstanceOf(sy.FixedPrecisionTensor);
      expect((secure as sy.FixedPrecisionTensor).isShared, `${what}: result is shared`).toBe(true);
      expect([...secure.shape], `${what}: client-side shape`).toEqual(want.shape);
      expectClose(await reveal(secure), want, tol, what);
    };

    describe("linear ops (no communication)", () => {
      it("add and sub of shared tensors on random shapes, with broadcasting", async () => {
        const rng = new Rng(11);
        for (let trial = 0; trial < 6; trial++) {
          const shape = rng.shape(0, 4, 5);
          const x = randomTensor(tf, rng, shape, { max: 2 ** 44 });
          const y = randomTensor(tf, rng, shape, { max: 2 ** 44 });
          const [xs, ys] = [share(x), share(y)];
          await check(xs.add(ys), tf.add(x, y), EXACT, `add ${shape}`);
          await check(xs.sub(ys), tf.sub(x, y), EXACT, `sub ${shape}`);
        }
        const a = randomTensor(tf, rng, [3, 1, 4], { max: 100 });
        const b = randomTensor(tf, rng, [5, 1], { max: 100 });
        await check(share(a).add(share(b)), tf.add(a, b), EXACT, "add [3,1,4]+[5,1]");
        await check(share(b).sub(share(a)), tf.sub(b, a), EXACT, "sub [5,1]-[3,1,4]");
      });

      it("add and sub with a public operand: tf tensor or number, on either side", async () => {
        const rng = new Rng(12);
        const x = randomTensor(tf, rng, [4, 5], { max: 1000 });
        const p = randomTensor(tf, rng, [5], { max: 1000 });
        const xs = share(x);
        await check(xs.add(p), tf.add(x, p), EXACT, "shared + tf");
        await check(xs.sub(p), tf.sub(x, p), EXACT, "shared - tf");
        await check(sy.F.add(p, xs), tf.add(p, x), EXACT, "tf + shared");
        await check(sy.F.sub(p, xs), tf.sub(p, x), EXACT, "tf - shared");
        await check(xs.add(2.5), tf.add(x, 2.5), EXACT, "shared + number");
        await check(xs.sub(-3.75), tf.sub(x, -3.75), EXACT, "shared - number");
        await check(sy.F.sub(7, xs), tf.sub(7, x), EXACT, "number - shared");
      });

      it("neg, and linear ops near the encode limit (±0.99·2^46)", async () => {
        const rng = new Rng(13);
        const x = randomTensor(tf, rng, [3, 4, 2], { max: NEAR_LIMIT });
        const xs = share(x);
        await check(xs.neg(), tf.neg(x), EXACT, "neg");
        await check(xs.reshape([4, 6]), tf.reshape(x, [4, 6]), EXACT, "reshape near limit");
        await check(xs.transpose([2, 0, 1]), tf.transpose(x, [2, 0, 1]), EXACT, "transpose near limit");
        await check(xs.slice([1, 0, 1], [2, 3, 1]), tf.slice(x, [1, 0, 1], [2, 3, 1]), EXACT, "slice near limit");
        const half = randomTensor(tf, rng, [3, 4, 2], { max: 2 ** 45 - 1 });
        await check(share(half).add(share(half)), tf.add(half, half), EXACT, "add to just under the limit");
        await check(share(half).sub(share(half.neg())), tf.sub(half, half.neg()), EXACT, "sub to just under the limit");
      });

      it("sum and mean over axes, with and without keepDims", async () => {
        const rng = new Rng(14);
        const x = randomTensor(tf, rng, [3, 5, 4], { max: 2 ** 36 });
        const xs = share(x);
        const cases: Array<[number | number[] | undefined, boolean]> = [
          [undefined, false],
          [0, false],
          [1, true],
          [-1, false],
          [[0, 2], false],
          [[0, 1, 2], true],
        ];
        for (const [axes, keepDims] of cases) {
          const what = `axes ${JSON.stringify(axes)} keepDims ${keepDims}`;
          await check(xs.sum(axes, keepDims), tf.sum(x, axes, keepDims), EXACT, `sum ${what}`);
          // Division by the count (3, 4, 5, 12, 15, 20 or 60) is a floor division of each share: within 1 ulp.
          const small = randomTensor(tf, rng, [3, 5, 4], { max: 1000 });
          await check(share(small).mean(axes, keepDims), tf.mean(small, axes, keepDims), ONE_TRUNC, `mean ${what}`);
        }
      });

      it("reshape, view, flatten (method and sy.F), transpose (default and perm)", async () => {
        const rng = new Rng(15);
        const x = randomTensor(tf, rng, [2, 3, 4], { max: 50 });
        const xs = share(x);
        await check(xs.reshape([6, -1]), tf.reshape(x, [6, 4]), EXACT, "reshape [6,-1]");
        await check(xs.view(4, 6), tf.reshape(x, [4, 6]), EXACT, "view");
        await check(xs.flatten(), tf.reshape(x, [-1]), EXACT, "flatten()");
        await check(sy.F.flatten(xs), tf.reshape(x, [2, 12]), EXACT, "F.flatten");
        await check(xs.transpose(), tf.transpose(x), EXACT, "transpose()");
        await check(xs.transpose([1, 0, 2]), tf.transpose(x, [1, 0, 2]), EXACT, "transpose [1,0,2]");
        await check(sy.F.transpose(xs, [0, 2, 1]), tf.transpose(x, [0, 2, 1]), EXACT, "F.transpose");
      });

      it("slice and concat (shared with shared, shared with public)", async () => {
        const rng = new Rng(16);
        const x = randomTensor(tf, rng, [4, 5, 3], { max: 50 });
        const y = randomTensor(tf, rng, [4, 2, 3], { max: 50 });
        const [xs, ys] = [share(x), share(y)];
        await check(xs.slice([1, 2, 0], [2, 3, 3]), tf.slice(x, [1, 2, 0], [2, 3, 3]), EXACT, "slice");
        await check(
          sy.F.slice(xs, [0, 0, 1], [-1, 2, -1]),
          tf.slice(x, [0, 0, 1], [-1, 2, -1]),
          EXACT,
          "slice with -1",
        );
        await check(sy.F.concat([xs, ys], 1), tf.concat([x, y], 1), EXACT, "concat axis 1");
        await check(sy.F.concat([xs, xs, xs], 0), tf.concat([x, x, x], 0), EXACT, "concat axis 0");
        await check(sy.F.concat([xs, y], 1), tf.concat([x, y], 1), EXACT, "concat shared with tf");
        await check(sy.F.concat([y, xs], -2), tf.concat([y, x], 1), EXACT, "concat tf with shared, axis -2");
      });

      it("div by a public integer (power of 2 or not) and by a non-integer", async () => {
        const rng = new Rng(17);
        const x = randomTensor(tf, rng, [6, 7], { max: 1000 });
        const xs = share(x);
        for (const d of [1, 2, 3, 7, 10, 64, 1000]) {
          await check(xs.div(d), tf.div(x, d), ONE_TRUNC, `div ${d}`);
        }
        for (const d of [2.5, 0.3, 1.75, 123.456]) {
          await check(xs.div(d), tf.div(x, d), { atol: 1000 * 2 ** -17 + 2 ** -15, rtol: 2 ** -20 }, `div ${d}`);
        }
        await check(sy.F.div(xs, 4), tf.div(x, 4), ONE_TRUNC, "F.div");
      });
    });

    describe("products (Beaver triples from the crypto provider)", () => {
      it("mul of shared tensors on random shapes, with broadcasting", async () => {
        const rng = new Rng(21);
        for (let trial = 0; trial < 5; trial++) {
          const shape = rng.shape(0, 4, 5);
          const x = randomTensor(tf, rng, shape, { max: PRODUCT_MAX });
          const y = randomTensor(tf, rng, shape, { max: PRODUCT_MAX });
          await check(share(x).mul(share(y)), tf.mul(x, y), ONE_TRUNC, `mul ${shape}`);
        }
        const a = randomTensor(tf, rng, [2, 1, 3], { max: PRODUCT_MAX });
        const b = randomTensor(tf, rng, [4, 1], { max: PRODUCT_MAX });
        await check(share(a).mul(share(b)), tf.mul(a, b), ONE_TRUNC, "mul [2,1,3]*[4,1]");
        const x = randomTensor(tf, rng, [5], { max: PRODUCT_MAX });
        const xs = share(x);
        await check(xs.mul(xs), tf.mul(x, x), ONE_TRUNC, "mul by itself");
        const s = tf.scalar(-2.75);
        const m = randomTensor(tf, rng, [3, 4], { max: PRODUCT_MAX });
        await check(share(s).mul(share(m)), tf.mul(s, m), ONE_TRUNC, "mul shared scalar · [3,4]");
        await check(share(m).mul(share(s)), tf.mul(m, s), ONE_TRUNC, "mul [3,4] · shared scalar");
      });

      it("mul by a public tf tensor or number, on either side", async () => {
        const rng = new Rng(22);
        const x = randomTensor(tf, rng, [3, 4], { max: PRODUCT_MAX });
        const p = randomTensor(tf, rng, [4], { max: PRODUCT_MAX });
        const xs = share(x);
        await check(xs.mul(p), tf.mul(x, p), ONE_TRUNC, "shared * tf");
        await check(sy.F.mul(p, xs), tf.mul(p, x), ONE_TRUNC, "tf * shared");
        await check(xs.mul(3), tf.mul(x, 3), ONE_TRUNC, "shared * 3");
        await check(xs.mul(-0.5), tf.mul(x, -0.5), ONE_TRUNC, "shared * -0.5");
        await check(sy.F.mul(0, xs), tf.mul(0, x), ONE_TRUNC, "0 * shared");
      });

      it("matmul: vector·vector, matrix·vector, vector·matrix, matrix·matrix, batched", async () => {
        const rng = new Rng(23);
        const cases: Array<[number[], number[]]> = [
          [[7], [7]],
          [[4, 6], [6]],
          [[6], [6, 3]],
          [
            [5, 8],
            [8, 3],
          ],
          [
            [1, 32],
            [32, 10],
          ],
          [
            [3, 4, 5],
            [3, 5, 2],
          ],
          [
            [2, 4, 5],
            [5, 3],
          ],
          [
            [4, 5],
            [2, 5, 3],
          ],
        ];
        for (const [sa, sb] of cases) {
          const a = randomTensor(tf, rng, sa, { max: PRODUCT_MAX });
          const b = randomTensor(tf, rng, sb, { max: PRODUCT_MAX });
          const want = torchMatmul(tf, a, b);
          const tol = dotTolerance(sa[sa.length - 1]!, PRODUCT_MAX);
          await check(share(a).matmul(share(b)), want, tol, `matmul [${sa}]·[${sb}]`);
          await check(share(a).matmul(b), want, tol, `matmul [${sa}]·public [${sb}]`);
          await check(sy.F.matmul(a, share(b)), want, tol, `matmul public [${sa}]·[${sb}]`);
        }
        const m = randomTensor(tf, rng, [3, 3], { max: PRODUCT_MAX });
        await check(share(m).matMul(share(m)), tf.matMul(m, m), dotTolerance(3, PRODUCT_MAX), "matMul alias");
      });

      it("conv2d: strides 1 and 2, padding same and valid, several channel counts, shared or public filter", async () => {
        const rng = new Rng(24);
        const cases: Array<{ x: number[]; w: number[]; strides: number; padding: "same" | "valid" }> = [
          { x: [1, 5, 5, 1], w: [3, 3, 1, 1], strides: 1, padding: "valid" },
          { x: [1, 6, 6, 3], w: [3, 3, 3, 2], strides: 1, padding: "same" },
          { x: [2, 7, 6, 2], w: [3, 2, 2, 4], strides: 2, padding: "same" },
          { x: [1, 8, 8, 4], w: [5, 5, 4, 3], strides: 2, padding: "valid" },
          { x: [1, 4, 4, 3], w: [1, 1, 3, 5], strides: 1, padding: "valid" },
        ];
        for (const c of cases) {
          const x = randomTensor(tf, rng, c.x, { max: 4 });
          const w = randomTensor(tf, rng, c.w, { max: 4 });
          const want = tf.conv2d(x as tfjs.Tensor4D, w as tfjs.Tensor4D, c.strides, c.padding);
          const tol = dotTolerance(c.w[0]! * c.w[1]! * c.w[2]!, 4);
          const what = `conv2d x[${c.x}] w[${c.w}] s${c.strides} ${c.padding}`;
          await check(share(x).conv2d(share(w), { strides: c.strides, padding: c.padding }), want, tol, what);
          await check(
            share(x).conv2d(w, { strides: c.strides, padding: c.padding }),
            want,
            tol,
            `${what}, public filter`,
          );
          await check(
            sy.F.conv2d(x, share(w), { strides: c.strides, padding: c.padding }),
            want,
            tol,
            `${what}, public input`,
          );
        }
        const x = randomTensor(tf, rng, [1, 7, 7, 2], { max: 4 });
        const w = randomTensor(tf, rng, [3, 3, 2, 2], { max: 4 });
        await check(
          share(x).conv2d(share(w), { dilations: 2, padding: "same" }),
          tf.conv2d(x as tfjs.Tensor4D, w as tfjs.Tensor4D, 1, "same", "NHWC", 2),
          dotTolerance(18, 4),
          "conv2d dilation 2",
        );
      });

      it("depthwiseConv2d: multipliers 1-3, strides 1 and 2, padding same and valid, dilation 2, shared or public filter", async () => {
        const rng = new Rng(26);
        const cases: Array<{
          x: number[];
          w: number[];
          strides: number;
          padding: "same" | "valid";
          dilations: number;
        }> = [
          { x: [1, 5, 5, 1], w: [3, 3, 1, 1], strides: 1, padding: "valid", dilations: 1 },
          { x: [1, 6, 6, 3], w: [3, 3, 3, 2], strides: 1, padding: "same", dilations: 1 },
          { x: [2, 7, 6, 2], w: [3, 2, 2, 3], strides: 2, padding: "same", dilations: 1 },
          { x: [1, 8, 8, 4], w: [5, 5, 4, 1], strides: 2, padding: "valid", dilations: 1 },
          { x: [1, 7, 7, 2], w: [3, 3, 2, 2], strides: 1, padding: "same", dilations: 2 },
        ];
        for (const c of cases) {
          const x = randomTensor(tf, rng, c.x, { max: 4 });
          const w = randomTensor(tf, rng, c.w, { max: 4 });
          const options = { strides: c.strides, padding: c.padding, dilations: c.dilations };
          const want = tf.depthwiseConv2d(
            x as tfjs.Tensor4D,
            w as tfjs.Tensor4D,
            c.strides,
            c.padding,
            "NHWC",
            c.dilations,
          );
          // Each output sums KH*KW products: its input channel's window only.
          const tol = dotTolerance(c.w[0]! * c.w[1]!, 4);
          const what = `depthwiseConv2d x[${c.x}] w[${c.w}] s${c.strides} ${c.padding} d${c.dilations}`;
          await check(sy.F.depthwiseConv2d(share(x), share(w), options), want, tol, what);
          await check(sy.F.depthwiseConv2d(share(x), w, options), want, tol, `${what}, public filter`);
          await check(sy.F.depthwiseConv2d(x, share(w), options), want, tol, `${what}, public input`);
        }
      });

      it("sy.F.linear with shared or public weights and bias, then relu (a two-layer MLP)", async () => {
        const rng = new Rng(25);
        const x = randomTensor(tf, rng, [4, 10], { max: 4 });
        const w1 = randomTensor(tf, rng, [8, 10], { max: 1 });
        const b1 = randomTensor(tf, rng, [8], { max: 4 });
        const w2 = randomTensor(tf, rng, [3, 8], { max: 1 });
        const want1 = tf.add(tf.matMul(x, w1, false, true), b1);
        const tol = dotTolerance(10, 4);
        await check(sy.F.linear(share(x), share(w1), share(b1)), want1, tol, "linear all shared");
        await check(sy.F.linear(share(x), w1, b1), want1, tol, "linear public weights");
        await check(sy.F.linear(share(x), share(w1)), tf.matMul(x, w1, false, true), tol, "linear without bias");
        await check(
          sy.F.linear(share(x), w1, 0.5),
          tf.add(tf.matMul(x, w1, false, true), 0.5),
          tol,
          "linear numeric bias",
        );
        const hidden = sy.F.relu(sy.F.linear(share(x), share(w1), share(b1)));
        const want2 = tf.matMul(tf.relu(want1), w2, false, true);
        await check(sy.F.linear(hidden, share(w2)), want2, { atol: 1e-3, rtol: 1e-5 }, "linear-relu-linear");
      });
    });

    describe("comparisons (ltz, by the suite's comparison protocol)", () => {
      const ops = ["lt", "gt", "le", "ge", "eq"] as const;
      const plain = {
        lt: (a: tfjs.Tensor | number, b: tfjs.Tensor | number) => tf.less(a, b).cast("float32"),
        gt: (a: tfjs.Tensor | number, b: tfjs.Tensor | number) => tf.greater(a, b).cast("float32"),
        le: (a: tfjs.Tensor | number, b: tfjs.Tensor | number) => tf.lessEqual(a, b).cast("float32"),
        ge: (a: tfjs.Tensor | number, b: tfjs.Tensor | number) => tf.greaterEqual(a, b).cast("float32"),
        eq: (a: tfjs.Tensor | number, b: tfjs.Tensor | number) => tf.equal(a, b).cast("float32"),
      };

      it("lt, gt, le, ge, eq of shared tensors with ties, negatives, zeros and near-limit values", async () => {
        const rng = new Rng(31);
        for (const max of [8, NEAR_LIMIT]) {
          const shape = [5, 6];
          const x = randomTensor(tf, rng, shape, { max, fracBits: 2 });
          // y: half copies of x (ties), half fresh values; include x = -y at the extremes.
          const fresh = randomTensor(tf, rng, shape, { max, fracBits: 2 }).dataSync();
          const xv = x.dataSync();
          const y = tf.tensor(
            Array.from(xv, (v, i) => (i < 2 ? -v : i % 2 ? v : fresh[i]!)),
            shape,
          );
          const [xs, ys] = [share(x), share(y)];
          for (const op of ops) await check(xs[op](ys), plain[op](x, y), EXACT, `${op} max ${max}`);
        }
      });

      it("comparisons with a public tf tensor or number, on either side, and the TF.js aliases", async () => {
        const rng = new Rng(32);
        const x = randomTensor(tf, rng, [3, 4], { max: 4, fracBits: 1 });
        const p = randomTensor(tf, rng, [4], { max: 4, fracBits: 1 });
        const xs = share(x);
        for (const op of ops) {
          await check(xs[op](p), plain[op](x, p), EXACT, `${op} shared vs tf`);
          await check(xs[op](0), plain[op](x, 0), EXACT, `${op} shared vs 0`);
          await check(sy.F[op](1.5, xs), plain[op](1.5, x), EXACT, `${op} number vs shared`);
          await check(sy.F[op](p, xs), plain[op](p, x), EXACT, `${op} tf vs shared`);
        }
        await check(xs.less(p), plain.lt(x, p), EXACT, "less");
        await check(xs.greaterEqual(p), plain.ge(x, p), EXACT, "greaterEqual");
        await check(xs.equal(p), plain.eq(x, p), EXACT, "equal");
      });

      it("relu on random shapes, including zeros and values near the encode limit (exact)", async () => {
        const rng = new Rng(33);
        for (const max of [1, 100, NEAR_LIMIT]) {
          const shape = rng.shape(1, 4, 6);
          const x = randomTensor(tf, rng, shape, { max, zeros: 0.2 });
          await check(share(x).relu(), tf.relu(x), EXACT, `relu ${shape} max ${max}`);
        }
        const tiny = tf.tensor([2 ** -16, -(2 ** -16), 0, 2 ** -15, -(2 ** -15)]);
        await check(sy.F.relu(share(tiny)), tf.relu(tiny), EXACT, "relu at ±1 ulp");
      });
    });

    describe("pooling and argmax (comparison tournaments)", () => {
      it("maxPool2d: 2x2, 3x3 stride 2 same, 3x1 stride 1, 2x2 stride 1 (exact)", async () => {
        const rng = new Rng(41);
        const cases: Array<{
          x: number[];
          f: number | [number, number];
          s?: number | [number, number];
          p: "same" | "valid";
        }> = [
          { x: [1, 4, 4, 2], f: 2, p: "valid" },
          { x: [2, 5, 5, 3], f: 3, s: 2, p: "same" },
          { x: [1, 6, 4, 1], f: [3, 1], s: 1, p: "valid" },
          { x: [1, 5, 5, 2], f: 2, s: 1, p: "same" },
          { x: [1, 6, 6, 2], f: 2, p: "valid" },
        ];
        for (const c of cases) {
          const x = randomTensor(tf, rng, c.x, { max: c.x[1] === 6 && c.x[2] === 6 ? NEAR_LIMIT : 20, zeros: 0.2 });
          const want = tf.maxPool(x as tfjs.Tensor4D, c.f, c.s ?? c.f, c.p);
          await check(
            share(x).maxPool2d(c.f, c.s, c.p),
            want,
            EXACT,
            `maxPool2d x[${c.x}] f${c.f} s${c.s ?? c.f} ${c.p}`,
          );
        }
        // All-negative windows with "same" padding: padding must never win.
        const neg = tf.neg(tf.add(tf.abs(randomTensor(tf, rng, [1, 3, 3, 1], { max: 5 })), 1));
        await check(
          sy.F.maxPool2d(share(neg), 2, 2, "same"),
          tf.maxPool(neg as tfjs.Tensor4D, 2, 2, "same"),
          EXACT,
          "maxPool2d all negative, same",
        );
        // ... not even when every value is near the negative end of the encodable range.
        const deep = tf.tensor(
          [-6e13, -6.5e13, -6.9e13, -5e13, -4e13, -6e13, -NEAR_LIMIT, -6.1e13, -6.2e13],
          [1, 3, 3, 1],
        );
        await check(
          share(deep).maxPool2d(2, 2, "same"),
          tf.maxPool(deep as tfjs.Tensor4D, 2, 2, "same"),
          EXACT,
          "maxPool2d same, near -limit",
        );
        await check(
          share(deep).maxPool2d(3, 1, "same"),
          tf.maxPool(deep as tfjs.Tensor4D, 3, 1, "same"),
          EXACT,
          "maxPool2d 3x3 same, near -limit",
        );
      });

      it("avgPool2d: valid and same, strides 1 and 2, windows 2x2 and 3x3", async () => {
        const rng = new Rng(42);
        const cases: Array<{ x: number[]; f: number; s: number; p: "same" | "valid" }> = [
          { x: [1, 4, 4, 2], f: 2, s: 2, p: "valid" },
          { x: [2, 6, 6, 3], f: 3, s: 3, p: "valid" },
          { x: [1, 5, 5, 2], f: 3, s: 1, p: "same" },
          { x: [1, 5, 6, 1], f: 3, s: 2, p: "same" },
          { x: [1, 5, 5, 1], f: 2, s: 1, p: "valid" },
        ];
        for (const c of cases) {
          const x = randomTensor(tf, rng, c.x, { max: 100 });
          const want = tf.avgPool(x as tfjs.Tensor4D, c.f, c.s, c.p);
          // "same" multiplies by the encoded reciprocal of each count (error <= window sum · 2^-17).
          const tol = c.p === "same" ? { atol: 9 * 100 * 2 ** -17 + 2 ** -15, rtol: 2 ** -20 } : ONE_TRUNC;
          await check(share(x).avgPool2d(c.f, c.s, c.p), want, tol, `avgPool2d x[${c.x}] f${c.f} s${c.s} ${c.p}`);
        }
      });

      it("argmax along each axis; ties go to the lower index, as in TF.js", async () => {
        const rng = new Rng(43);
        const cases: Array<[number[], number]> = [
          [[16, 10], -1],
          [[16, 10], 0],
          [[3, 4, 5], 1],
          [[3, 4, 5], 2],
          [[7], 0],
          [[2, 3], 1],
          [[4, 1], 1],
          [[1, 6], 0],
        ];
        for (const [shape, axis] of cases) {
          const x = distinctTensor(tf, rng, shape);
          await check(
            share(x).argmax(axis),
            tf.argMax(x, axis).cast("float32"),
            EXACT,
            `argmax [${shape}] axis ${axis}`,
          );
        }
        const ties = tf.tensor([
          [1, 3, 3, 0],
          [-2, -2, -2, -2],
          [0, 0, 5, 5],
        ]);
        await check(sy.F.argmax(share(ties), 1), tf.argMax(ties, 1).cast("float32"), EXACT, "argmax with ties");
        await check(share(ties).argMax(1), tf.argMax(ties, 1).cast("float32"), EXACT, "argMax alias");
        // Without an axis each name keeps its library's meaning: TF.js's argMax the first axis, PySyft's argmax
        // the index into the flattened tensor (a scalar; the first of the tied maxima).
        await check(share(ties).argMax(), tf.argMax(ties).cast("float32"), EXACT, "argMax() is tf.argMax(x)");
        const flat = share(ties).argmax();
        expect(flat.shape).toEqual([]);
        await check(flat, tf.scalar(10), EXACT, "argmax() indexes the flattened tensor");
        await check(sy.F.argmax(share(ties)), tf.argMax(tf.reshape(ties, [-1])).cast("float32"), EXACT, "F.argmax()");
      });

      it("pooling accepts one HWC image as TF.js does, and returns HWC", async () => {
        const x = randomTensor(tf, new Rng(9), [4, 4, 2], { max: 100 });
        const maxed = share(x).maxPool2d(2);
        expect(maxed.shape).toEqual([2, 2, 2]);
        await check(maxed, tf.maxPool(x as tfjs.Tensor3D, 2, 2, "valid"), EXACT, "maxPool2d of an HWC image");
        const averaged = sy.F.avgPool2d(share(x), 2, 1, "same");
        await check(
          averaged,
          tf.avgPool(x as tfjs.Tensor3D, 2, 1, "same"),
          {
            atol: 4 * 100 * 2 ** -17 + 2 ** -15,
            rtol: 2 ** -20,
          },
          "avgPool2d of an HWC image",
        );
      });
    });

    describe("PySyft's encoding (base 10, 3 fractional digits)", () => {
      const pysyft = { base: 10, precisionFractional: 3 };
      /** One ulp is 1e-3; after a product the floor division adds at most one more, plus float32 rounding. */
      const PYSYFT_TOL: Tolerance = { atol: 2.5e-3, rtol: 2 ** -22 };
      const rounded = (t: tfjs.Tensor) => tf.div(tf.round(tf.mul(t, 1000)), 1000);

      it("linear ops, mul, matmul, div, mean and avgPool2d", async () => {
        const rng = new Rng(51);
        // Multiples of 1/8 are exact in base 10 with 3 digits.
        const x = randomTensor(tf, rng, [4, 6], { max: 50, fracBits: 3 });
        const y = randomTensor(tf, rng, [4, 6], { max: 50, fracBits: 3 });
        const w = randomTensor(tf, rng, [6, 3], { max: 4, fracBits: 3 });
        const [xs, ys] = [share(x, pysyft), share(y, pysyft)];
        expect(xs.encoding).toEqual(pysyft);
        await check(xs.add(ys), tf.add(x, y), EXACT, "pysyft add");
        await check(xs.sub(y), tf.sub(x, y), EXACT, "pysyft sub public");
        await check(xs.mul(ys), tf.mul(x, y), PYSYFT_TOL, "pysyft mul");
        await check(xs.mul(2.5), tf.mul(x, 2.5), PYSYFT_TOL, "pysyft mul by number");
        await check(xs.matmul(share(w, pysyft)), tf.matMul(x, w), { atol: 6 * 2.5e-3, rtol: 1e-6 }, "pysyft matmul");
        await check(xs.div(3), tf.div(x, 3), PYSYFT_TOL, "pysyft div 3");
        await check(xs.div(2.5), tf.div(x, 2.5), { atol: 50 * 5e-4 + 2.5e-3, rtol: 0 }, "pysyft div 2.5");
        await check(xs.mean(1), tf.mean(x, 1), PYSYFT_TOL, "pysyft mean");
        const img = randomTensor(tf, rng, [1, 4, 4, 2], { max: 50, fracBits: 3 });
        await check(
          share(img, pysyft).avgPool2d(2),
          tf.avgPool(img as tfjs.Tensor4D, 2, 2, "valid"),
          PYSYFT_TOL,
          "pysyft avgPool2d",
        );
        // A value with more digits than the encoding keeps is rounded to 3 digits.
        const fine = tf.tensor([0.12345, -7.0006]);
        await check(
          share(fine, pysyft).add(0),
          rounded(fine),
          { atol: 0, rtol: 2 ** -22 },
          "pysyft rounds to 3 digits",
        );
      });

      it("relu, comparisons, maxPool2d and argmax", async () => {
        const rng = new Rng(52);
        const x = randomTensor(tf, rng, [1, 4, 4, 2], { max: 50, fracBits: 3, zeros: 0.2 });
        const xs = share(x, pysyft);
        await check(xs.relu(), tf.relu(x), EXACT, "pysyft relu");
        await check(xs.lt(1.5), tf.less(x, 1.5).cast("float32"), EXACT, "pysyft lt");
        await check(xs.ge(xs), tf.greaterEqual(x, x).cast("float32"), EXACT, "pysyft ge self");
        await check(xs.maxPool2d(2), tf.maxPool(x as tfjs.Tensor4D, 2, 2, "valid"), EXACT, "pysyft maxPool2d");
        const logits = distinctTensor(tf, rng, [5, 10]);
        await check(share(logits, pysyft).argmax(1), tf.argMax(logits, 1).cast("float32"), EXACT, "pysyft argmax");
      });

      it("refuses to mix encodings (PRECISION_MISMATCH, at once)", () => {
        const x = tf.tensor([1, 2]);
        const err = catchSync(() => share(x, pysyft).add(share(x)));
        expect(err).toBeInstanceOf(sy.ProtocolError);
        expect(err).toMatchObject({ code: "TSYFT_ERR_PRECISION_MISMATCH" });
        expect(err.message).toMatch(/base 10, 3 fractional digits.*base 2, 16 fractional bits/);
      });
    });

    describe("three share holders", () => {
      it("linear ops work for any number of holders (add, sub, neg, sum, reshape, transpose, slice, concat, public add)", async () => {
        const rng = new Rng(61);
        const x = randomTensor(tf, rng, [3, 4], { max: 2 ** 40 });
        const y = randomTensor(tf, rng, [3, 4], { max: 2 ** 40 });
        const p = randomTensor(tf, rng, [4], { max: 1000 });
        const [xs, ys] = [share3(x), share3(y)];
        expect(xs.group?.holders.map((h) => h.id)).toEqual([fx.alice.id, fx.bob.id, fx.charlie.id]);
        await check(xs.add(ys), tf.add(x, y), EXACT, "3 holders add");
        await check(xs.sub(ys), tf.sub(x, y), EXACT, "3 holders sub");
        await check(xs.neg(), tf.neg(x), EXACT, "3 holders neg");
        await check(xs.add(p), tf.add(x, p), EXACT, "3 holders add public");
        await check(sy.F.sub(5, xs), tf.sub(5, x), EXACT, "3 holders number - shared");
        await check(xs.sum(1), tf.sum(x, 1), EXACT, "3 holders sum");
        await check(xs.reshape([2, 6]), tf.reshape(x, [2, 6]), EXACT, "3 holders reshape");
        await check(xs.transpose(), tf.transpose(x), EXACT, "3 holders transpose");
        await check(xs.slice([1, 1], [2, 2]), tf.slice(x, [1, 1], [2, 2]), EXACT, "3 holders slice");
        await check(sy.F.concat([xs, ys], 0), tf.concat([x, y], 0), EXACT, "3 holders concat");
      });

      it("nonlinear ops with three holders are refused at once with TSYFT_ERR_UNSUPPORTED_PARTIES, naming the op", async () => {
        const x = tf.tensor([1.5, -2, 0]);
        const xs = share3(x);
        const cases: Array<[string, () => sy.TensorLike]> = [
          ["relu", () => xs.relu()],
          ["lt", () => xs.lt(0)],
          ["eq", () => xs.eq(xs)],
          ["argmax", () => xs.argmax()],
          ["maxPool2d", () => share3(tf.zeros([1, 2, 2, 1])).maxPool2d(2)],
          // Products need truncation; two-holder local truncation does not extend to three.
          ["mul", () => xs.mul(xs)],
          ["matmul", () => xs.matmul(xs)],
          ["div", () => xs.div(3)],
        ];
        for (const [op, run] of cases) {
          let err: sy.TsyftError | undefined;
          try {
            run();
          } catch (e) {
            err = e as sy.TsyftError;
          }
          expect(err, op).toBeInstanceOf(sy.ProtocolError);
          expect(err!.code, op).toBe("TSYFT_ERR_UNSUPPORTED_PARTIES");
          expect(err!.message, op).toMatch(
            new RegExp(`^${op} on shares needs exactly 2 share holders .*shared among 3 \\(\\[alice, bob, charlie\\]`),
          );
        }
        // The holders are still usable afterwards.
        await check(xs.add(1), tf.add(x, 1), EXACT, "after failures");
      });

      it.skip("mul by a public value with three holders: needs dealer truncation pairs (DESIGN.md 3), not implemented yet", () => {});
    });

    describe("client-side misuse throws at once", () => {
      it("shape mismatches are refused before anything is sent", () => {
        const a = share(tf.zeros([2, 3]));
        const b = share(tf.zeros([4, 3]));
        for (const run of [() => a.add(b), () => a.mul(b), () => a.matmul(b), () => a.lt(b), () => a.reshape([5])]) {
          const err = catchSync(run);
          expect(err).toBeInstanceOf(sy.ProtocolError);
          expect(err).toMatchObject({ code: "TSYFT_ERR_SHAPE_MISMATCH" });
        }
      });
    });
  });
}

/** torch.matmul semantics on plaintext (1-D operands promoted, batch broadcast). */
function torchMatmul(tf: typeof tfjs, a: tfjs.Tensor, b: tfjs.Tensor): tfjs.Tensor {
  const a2 = a.rank === 1 ? a.reshape([1, a.shape[0]!]) : a;
  const b2 = b.rank === 1 ? b.reshape([b.shape[0]!, 1]) : b;
  const out = tf.matMul(a2, b2);
  const shape = [...out.shape];
  if (b.rank === 1) shape.splice(shape.length - 1, 1);
  if (a.rank === 1) shape.splice(shape.length - (b.rank === 1 ? 1 : 2), 1);
  return out.reshape(shape);
}

function catchSync(fn: () => unknown): sy.TsyftError {
  try {
    fn();
  } catch (error) {
    return error as sy.TsyftError;
  }
  throw new Error("expected a throw");
}
