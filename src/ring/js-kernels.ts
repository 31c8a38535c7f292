/**
 * The plain JavaScript kernels: BigInt arithmetic, the reference implementation.
 *
 * Storing a BigInt into a BigInt64Array reduces it mod 2^64 (two's complement),
 * so each kernel computes the exact integer result and lets the store wrap it.
 */
import type { Encrypt, MatmulDims, RingKernels, ShiftedWords } from "./kernels";
import type { WindowGeometry } from "./window-shapes";

type Binary = (x: bigint, y: bigint) => bigint;

function zip(a: BigInt64Array, b: BigInt64Array, f: Binary): BigInt64Array {
  if (a.length === b.length) {
    const out = new BigInt64Array(a.length);
    for (let i = 0; i < a.length; i++) out[i] = f(a[i], b[i]);
    return out;
  }
  if (b.length === 1) {
    const y = b[0];
    const out = new BigInt64Array(a.length);
    for (let i = 0; i < a.length; i++) out[i] = f(a[i], y);
    return out;
  }
  const x = a[0];
  const out = new BigInt64Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = f(x, b[i]);
  return out;
}

function map(a: BigInt64Array, f: (x: bigint) => bigint): BigInt64Array {
  const out = new BigInt64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = f(a[i]);
  return out;
}

function matmul(a: BigInt64Array, b: BigInt64Array, { batch, m, k, n, aStride, bStride }: MatmulDims): BigInt64Array {
  const out = new BigInt64Array(batch * m * n);
  for (let t = 0; t < batch; t++) {
    const a0 = t * aStride;
    const b0 = t * bStride;
    const c0 = t * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0n;
        for (let q = 0; q < k; q++) s += a[a0 + i * k + q] * b[b0 + q * n + j];
        out[c0 + i * n + j] = s;
      }
    }
  }
  return out;
}

function im2col(x: BigInt64Array, g: WindowGeometry, padValue: bigint): BigInt64Array {
  const c = g.channels;
  const out = new BigInt64Array(g.batch * g.outH * g.outW * g.filterH * g.filterW * c);
  let dst = 0;
  for (let b = 0; b < g.batch; b++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        for (let i = 0; i < g.filterH; i++) {
          const ih = oh * g.strideH - g.padTop + i * g.dilationH;
          for (let j = 0; j < g.filterW; j++) {
            const iw = ow * g.strideW - g.padLeft + j * g.dilationW;
            if (ih >= 0 && ih < g.inH && iw >= 0 && iw < g.inW) {
              const src = ((b * g.inH + ih) * g.inW + iw) * c;
              out.set(x.subarray(src, src + c), dst);
            } else {
              out.fill(padValue, dst, dst + c);
            }
            dst += c;
          }
        }
      }
    }
  }
  return out;
}

function sumAxis(x: BigInt64Array, outer: number, r: number, inner: number): BigInt64Array {
  const out = new BigInt64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let s = 0n;
      for (let j = 0; j < r; j++) s += x[(o * r + j) * inner + i];
      out[o * inner + i] = s;
    }
  }
  return out;
}

function conv2d(x: BigInt64Array, w: BigInt64Array, g: WindowGeometry, outChannels: number): BigInt64Array {
  const columns = im2col(x, g, 0n);
  const depth = g.filterH * g.filterW * g.channels;
  return matmul(columns, w, {
    batch: 1,
    m: g.batch * g.outH * g.outW,
    k: depth,
    n: outChannels,
    aStride: 0,
    bStride: 0,
  });
}

/** The shifted operands end to end. */
function shiftedRun(parts: readonly ShiftedWords[]): bigint[] {
  return parts.flatMap(({ data, shift }) => Array.from(data, (v) => BigInt.asIntN(64, v << BigInt(shift))));
}

/** [skip zero bytes, the words], as bytes. */
function laidOut(skip: number, words: readonly bigint[]): Uint8Array {
  const bytes = new Uint8Array(skip + 8 * words.length);
  new BigInt64Array(bytes.buffer, skip, words.length).set(words);
  return bytes;
}

function xorAll(arrays: readonly BigInt64Array[], length: number): bigint[] {
  return Array.from({ length }, (_, i) => arrays.reduce((acc, x) => acc ^ x[i], 0n));
}

function andMask(xs: readonly ShiftedWords[], ys: readonly ShiftedWords[], skip: number, encrypt: Encrypt): Uint8Array {
  return encrypt(laidOut(skip, [...shiftedRun(xs), ...shiftedRun(ys)]));
}

function andCombine(
  es: readonly BigInt64Array[],
  fs: readonly BigInt64Array[],
  xs: readonly ShiftedWords[],
  ys: readonly ShiftedWords[],
  c: BigInt64Array | Encrypt,
  skip: number,
  withProduct: boolean,
  addend?: BigInt64Array,
): Uint8Array {
  const x = shiftedRun(xs);
  const y = shiftedRun(ys);
  const e = xorAll(es, x.length);
  const f = xorAll(fs, x.length);
  const t = x.map((xi, i) => {
    const a = es[0][i] ^ xi;
    const b = fs[0][i] ^ y[i];
    const extra = (withProduct ? e[i] & f[i] : 0n) ^ (addend && i < addend.length ? addend[i] : 0n);
    return (e[i] & b) ^ (a & f[i]) ^ extra;
  });
  return typeof c === "function"
    ? c(laidOut(skip, t))
    : laidOut(
        0,
        t.map((v, i) => v ^ c[i]),
      );
}

function andCorrection(a: BigInt64Array, b: BigInt64Array, skip: number, encrypt: Encrypt): Uint8Array {
  return encrypt(
    laidOut(
      skip,
      Array.from(a, (v, i) => v & b[i]),
    ),
  );
}

/** The reference kernels (selected by `withConfig({ ringKernels: "js" }, ...)`). */
export const jsKernels: RingKernels = {
  name: "js",
  add: (a, b) => zip(a, b, (x, y) => x + y),
  sub: (a, b) => zip(a, b, (x, y) => x - y),
  mul: (a, b) => zip(a, b, (x, y) => x * y),
  xor: (a, b) => zip(a, b, (x, y) => x ^ y),
  and: (a, b) => zip(a, b, (x, y) => x & y),
  neg: (a) => map(a, (x) => -x),
  not: (a) => map(a, (x) => ~x),
  addScalar: (a, k) => map(a, (x) => x + k),
  mulScalar: (a, k) => map(a, (x) => x * k),
  shr: (a, bits) => {
    const s = BigInt(bits);
    return map(a, (x) => x >> s);
  },
  shrLogical: (a, bits) => {
    const s = BigInt(bits);
    return map(a, (x) => BigInt.asUintN(64, x) >> s);
  },
  shl: (a, bits) => {
    const s = BigInt(bits);
    return map(a, (x) => x << s);
  },
  divFloor: (a, d) =>
    map(a, (x) => {
      const q = x / d; // truncates toward zero
      return x % d !== 0n && x < 0n ? q - 1n : q;
    }),
  matmul,
  im2col,
  conv2d,
  sumAxis,
  andMask,
  andCombine,
  andCorrection,
};
