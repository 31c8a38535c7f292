/**
 * The WebAssembly kernels: the same contract as the JS reference, run in build/ring.wasm.
 */
import type { Encrypt, MatmulDims, RingKernels, ShiftedWords } from "./kernels";
import type { WindowGeometry } from "./window-shapes";
import { RingWasm, type RingWasmExports } from "./wasm-module";

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
  const binary =
    (full: ArrayKernel, right: ScalarKernel, left: ScalarKernel) =>
    (a: BigInt64Array, b: BigInt64Array): BigInt64Array => {
      if (a.length === b.length) {
        if (a.length === 0) return new BigInt64Array(0);
        return wasm.call([a, b], a.length, ([pa, pb], out) => full(pa, pb, out, a.length), { outOver: 0 });
      }
      if (b.length === 1) return withScalar(right, a, b[0]);
      return withScalar(left, b, a[0]);
    };

  const unary =
    (kernel: UnaryKernel) =>
    (a: BigInt64Array): BigInt64Array => {
      if (a.length === 0) return new BigInt64Array(0);
      return wasm.call([a], a.length, ([pa], out) => kernel(pa, out, a.length), { outOver: 0 });
    };

  const shift =
    (kernel: ShiftKernel) =>
    (a: BigInt64Array, bits: number): BigInt64Array => {
      if (a.length === 0) return new BigInt64Array(0);
      return wasm.call([a], a.length, ([pa], out) => kernel(pa, bits, out, a.length), { outOver: 0 });
    };

  const im2colInto = (x: number, out: number, g: WindowGeometry, padValue: bigint): void =>
    ex().im2col(
      x,
      out,
      g.batch,
      g.inH,
      g.inW,
      g.channels,
      g.filterH,
      g.filterW,
      g.strideH,
      g.strideW,
      g.dilationH,
      g.dilationW,
      g.padTop,
      g.padLeft,
      g.outH,
      g.outW,
      padValue,
    );

  /** Copies parts end to end into wasm memory at `at`, each shifted left, and XORed with the words at `mask` when given. */
  const placeRun = (buffer: ArrayBuffer, parts: readonly ShiftedWords[], at: number, mask?: number): void => {
    let offset = 0;
    for (const { data, shift } of parts) {
      put(buffer, at + offset, data);
      if (mask !== undefined) ex().shlXor(at + offset, shift, mask + offset, at + offset, data.length);
      else if (shift > 0) ex().shl(at + offset, shift, at + offset, data.length);
      offset += 8 * data.length;
    }
  };

  /** The XOR of arrays[1..] into wasm memory at `at` (zeros when there are none); `temp` is scratch for a third holder on. */
  const foldOthers = (
    buffer: ArrayBuffer,
    arrays: readonly BigInt64Array[],
    at: number,
    temp: number,
    m: number,
  ): void => {
    if (arrays.length === 1) new Uint8Array(buffer, at, 8 * m).fill(0);
    else put(buffer, at, arrays[1]!);
    for (const more of arrays.slice(2)) {
      put(buffer, temp, more);
      ex().xor(at, temp, at, m);
    }
  };

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

    andMask(xs: readonly ShiftedWords[], ys: readonly ShiftedWords[], skip: number, encrypt: Encrypt): Uint8Array {
      const bytes = skip + 8 * (runLength(xs) + runLength(ys));
      return wasm.withMemory([bytes], ([plain], buffer) => {
        new Uint8Array(buffer, plain!, skip).fill(0);
        placeRun(buffer, xs, plain! + skip);
        placeRun(buffer, ys, plain! + skip + 8 * runLength(xs));
        return encrypt(new Uint8Array(buffer, plain!, bytes));
      });
    },

    andCombine(
      es: readonly BigInt64Array[],
      fs: readonly BigInt64Array[],
      xs: readonly ShiftedWords[],
      ys: readonly ShiftedWords[],
      c: BigInt64Array | Encrypt,
      skip: number,
      withProduct: boolean,
      addend?: BigInt64Array,
    ): Uint8Array {
      const m = es[0]!.length;
      const cWords = typeof c === "function" ? undefined : c;
      const tSkip = cWords ? 0 : skip;
      const words = 8 * m;
      const regions = [
        words,
        words,
        words,
        words,
        words,
        words,
        tSkip + words,
        cWords ? words : 0,
        8 * (addend?.length ?? 0),
        es.length > 2 ? words : 0,
      ];
      return wasm.withMemory(regions, ([e0, e1, f0, f1, a, b, t, pc, pAddend, temp], buffer) => {
        put(buffer, e0!, es[0]!);
        put(buffer, f0!, fs[0]!);
        foldOthers(buffer, es, e1!, temp!, m);
        foldOthers(buffer, fs, f1!, temp!, m);
        // This holder's a and b, back from its masks: a = e0 ^ X, b = f0 ^ Y.
        placeRun(buffer, xs, a!, e0!);
        placeRun(buffer, ys, b!, f0!);
        if (cWords) put(buffer, pc!, cWords);
        const out = t! + tSkip;
        ex().andCombine(e0!, e1!, f0!, f1!, a!, b!, cWords ? pc! : 0, withProduct ? -1n : 0n, out, m);
        if (addend && addend.length > 0) {
          put(buffer, pAddend!, addend);
          ex().xor(out, pAddend!, out, addend.length);
        }
        if (cWords) return new Uint8Array(buffer.slice(out, out + words));
        new Uint8Array(buffer, t!, tSkip).fill(0);
        return (c as Encrypt)(new Uint8Array(buffer, t!, tSkip + words));
      });
    },

    andCorrection(a: BigInt64Array, b: BigInt64Array, skip: number, encrypt: Encrypt): Uint8Array {
      const m = a.length;
      return wasm.withMemory([8 * m, 8 * m, skip + 8 * m], ([pa, pb, t], buffer) => {
        put(buffer, pa!, a);
        put(buffer, pb!, b);
        new Uint8Array(buffer, t!, skip).fill(0);
        ex().and(pa!, pb!, t! + skip, m);
        return encrypt(new Uint8Array(buffer, t!, skip + 8 * m));
      });
    },
  };
}

function runLength(parts: readonly ShiftedWords[]): number {
  return parts.reduce((n, p) => n + p.data.length, 0);
}

/** Copies `data` into wasm memory at byte offset `at`. */
function put(buffer: ArrayBuffer, at: number, data: BigInt64Array): void {
  new BigInt64Array(buffer, at, data.length).set(data);
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
