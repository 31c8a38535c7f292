/**
 * The fast kernels: the same contract as the JS reference, run in build/ring.wasm,
 * except the fused AND kernels, which run in JavaScript over 32-bit words
 * (word-kernels.ts).
 */
import type { MatmulDims, RingKernels } from "./kernels";
import type { WindowGeometry } from "./shapes";
import { RingWasm, type RingWasmExports } from "./wasm-module";
import { wordKernels } from "./word-kernels";

type ArrayKernel = (a: number, b: number, out: number, n: number) => void;
type ScalarKernel = (a: number, k: bigint, out: number, n: number) => void;
type UnaryKernel = (a: number, out: number, n: number) => void;
type ShiftKernel = (a: number, bits: number, out: number, n: number) => void;

function makeKernels(wasm: RingWasm): RingKernels {
  // Read on every call: the instance is replaced when its memory has grown too large.
  const ex = (): RingWasmExports => wasm.exports;

  const withScalar = (kernel: ScalarKernel, a: BigInt64Array, k: bigint): BigInt64Array => {
    if (a.length === 0) return new BigInt64Array(0);
    return wasm.call([a], a.length, ([pa], out) => kernel(pa, k, out, a.length), { outOver: 0 });
  };

  /**
   * An elementwise binary op: equal lengths go to `full`; a broadcast left or right
   * operand goes to the scalar kernels (`left(b, x)` computes x op b[i]).
   */
  const binary = (
    full: ArrayKernel,
    right: ScalarKernel,
    left: ScalarKernel,
  ) => (a: BigInt64Array, b: BigInt64Array): BigInt64Array => {
    if (a.length === b.length) {
      if (a.length === 0) return new BigInt64Array(0);
      return wasm.call([a, b], a.length, ([pa, pb], out) => full(pa, pb, out, a.length), { outOver: 0 });
    }
    if (b.length === 1) return withScalar(right, a, b[0]);
    return withScalar(left, b, a[0]);
  };

  const unary = (kernel: UnaryKernel) => (a: BigInt64Array): BigInt64Array => {
    if (a.length === 0) return new BigInt64Array(0);
    return wasm.call([a], a.length, ([pa], out) => kernel(pa, out, a.length), { outOver: 0 });
  };

  const shift = (kernel: ShiftKernel) => (a: BigInt64Array, bits: number): BigInt64Array => {
    if (a.length === 0) return new BigInt64Array(0);
    return wasm.call([a], a.length, ([pa], out) => kernel(pa, bits, out, a.length), { outOver: 0 });
  };

  const im2colInto = (x: number, out: number, g: WindowGeometry, padValue: bigint): void =>
    ex().im2col(
      x, out, g.batch, g.inH, g.inW, g.channels, g.filterH, g.filterW,
      g.strideH, g.strideW, g.dilationH, g.dilationW, g.padTop, g.padLeft, g.outH, g.outW,
      padValue,
    );

  const addScalar: ScalarKernel = (a, k, out, n) => ex().addScalar(a, k, out, n);
  const mulScalar: ScalarKernel = (a, k, out, n) => ex().mulScalar(a, k, out, n);
  const xorScalar: ScalarKernel = (a, k, out, n) => ex().xorScalar(a, k, out, n);
  const andScalar: ScalarKernel = (a, k, out, n) => ex().andScalar(a, k, out, n);

  return {
    name: "wasm",
    add: binary((a, b, o, n) => ex().add(a, b, o, n), addScalar, addScalar),
    sub: binary(
      (a, b, o, n) => ex().sub(a, b, o, n),
      (a, k, o, n) => ex().addScalar(a, BigInt.asIntN(64, -k), o, n),
      (b, k, o, n) => ex().rsubScalar(b, k, o, n),
    ),
    mul: binary((a, b, o, n) => ex().mul(a, b, o, n), mulScalar, mulScalar),
    xor: binary((a, b, o, n) => ex().xor(a, b, o, n), xorScalar, xorScalar),
    and: binary((a, b, o, n) => ex().and(a, b, o, n), andScalar, andScalar),
    neg: unary((a, o, n) => ex().neg(a, o, n)),
    not: unary((a, o, n) => ex().not(a, o, n)),
    addScalar: (a, k) => withScalar(addScalar, a, k),
    mulScalar: (a, k) => withScalar(mulScalar, a, k),
    shr: shift((a, s, o, n) => ex().shr(a, s, o, n)),
    shrLogical: shift((a, s, o, n) => ex().shrLogical(a, s, o, n)),
    shl: shift((a, s, o, n) => ex().shl(a, s, o, n)),
    divFloor: (a, d) => withScalar((p, k, o, n) => ex().divFloor(p, k, o, n), a, d),

    matmul(a: BigInt64Array, b: BigInt64Array, d: MatmulDims): BigInt64Array {
      const outLength = d.batch * d.m * d.n;
      if (outLength === 0) return new BigInt64Array(0);
      const panelled = d.k * Math.ceil(d.n / 4) * 4;
      return wasm.call(
        [a, b],
        outLength,
        ([pa, pb], out, scratch) => ex().matmul(pa, pb, out, d.batch, d.m, d.k, d.n, d.aStride, d.bStride, scratch),
        { scratchLength: panelled },
      );
    },

    im2col(x: BigInt64Array, g: WindowGeometry, padValue: bigint): BigInt64Array {
      const outLength = g.batch * g.outH * g.outW * g.filterH * g.filterW * g.channels;
      if (outLength === 0) return new BigInt64Array(0);
      return wasm.call([x], outLength, ([px], out) => im2colInto(px, out, g, padValue));
    },

    conv2d(x: BigInt64Array, w: BigInt64Array, g: WindowGeometry, outChannels: number): BigInt64Array {
      // One call: the im2col rows stay in wasm memory (scratch) and feed matmul directly.
      const rows = g.batch * g.outH * g.outW;
      const depth = g.filterH * g.filterW * g.channels;
      if (rows * outChannels === 0) return new BigInt64Array(0);
      const columns = align2(rows * depth);
      return wasm.call(
        [x, w],
        rows * outChannels,
        ([px, pw], out, scratch) => {
          im2colInto(px, scratch, g, 0n);
          ex().matmul(scratch, pw, out, 1, rows, depth, outChannels, 0, 0, scratch + columns * 8);
        },
        { scratchLength: columns + depth * Math.ceil(outChannels / 4) * 4 },
      );
    },

    sumAxis(x: BigInt64Array, outer: number, r: number, inner: number): BigInt64Array {
      const outLength = outer * inner;
      if (outLength === 0) return new BigInt64Array(0);
      return wasm.call([x], outLength, ([px], out) => ex().sumAxis(px, out, outer, r, inner));
    },

    // Bitwise only, so plain JavaScript over 32-bit words: no copies into and out of wasm memory.
    ...wordKernels,
  };
}

/** Rounds an element count up to keep the next buffer 16-byte aligned. */
function align2(elements: number): number {
  return Math.ceil(elements / 2) * 2;
}

let loaded: RingKernels | undefined;

/** The WebAssembly kernel set, loading build/ring.wasm on first use. */
export function wasmKernels(): RingKernels {
  loaded ??= makeKernels(RingWasm.load());
  return loaded;
}
