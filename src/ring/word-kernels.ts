/**
 * The fused AND kernels of the fast kernel set, in JavaScript over 32-bit words.
 *
 * XOR and AND act on each 32-bit half of a 64-bit word independently, and a
 * left shift only carries bits from the low half into the high one, so these
 * kernels read and write the tensors' own bytes through Int32Array views.
 * Going through WebAssembly would copy every operand into its memory and the
 * result out again, which costs more than the arithmetic itself here.
 * Same contract as the BigInt reference in js-kernels.ts.
 */
import type { RingKernels, ShiftedWords } from "./kernels";

type AndKernels = Pick<RingKernels, "andMask" | "andCombine" | "andCorrection">;

/** Index of an element's low 32-bit word within its pair (0 on little-endian hosts). */
const LO = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;
const HI = 1 - LO;

/** The tensor's bytes as 32-bit words, two per element. */
function halves(data: BigInt64Array): Int32Array {
  return new Int32Array(data.buffer, data.byteOffset, data.length * 2);
}

/** out[at + i] = (src << shift) ^ mask[at + i] over src's words (pairs of halves). */
function shiftXor(src: Int32Array, shift: number, mask: Int32Array, out: Int32Array, at: number): void {
  const n = src.length;
  if (shift === 0) {
    for (let i = 0; i < n; i++) out[at + i] = src[i] ^ mask[at + i];
  } else if (shift < 32) {
    const back = 32 - shift;
    for (let i = 0; i < n; i += 2) {
      const lo = src[i + LO];
      out[at + i + LO] = (lo << shift) ^ mask[at + i + LO];
      out[at + i + HI] = ((src[i + HI] << shift) | (lo >>> back)) ^ mask[at + i + HI];
    }
  } else {
    // The low half moves wholly into the high one (shift - 32 is in [0, 31]).
    const up = shift - 32;
    for (let i = 0; i < n; i += 2) {
      out[at + i + LO] = mask[at + i + LO];
      out[at + i + HI] = (src[i + LO] << up) ^ mask[at + i + HI];
    }
  }
}

function maskInto(parts: readonly ShiftedWords[], mask: Int32Array, out: Int32Array, outAt: number): void {
  let at = 0;
  const masked = out.subarray(outAt, outAt + mask.length);
  for (const { data, shift } of parts) {
    const src = halves(data);
    shiftXor(src, shift, mask, masked, at);
    at += src.length;
  }
}

/** The XOR of `arrays`' words [from, from + length): the array itself when there is one. */
function xorWords(arrays: readonly Int32Array[], from: number, length: number): Int32Array {
  if (arrays.length === 1) return arrays[0].subarray(from, from + length);
  const out = new Int32Array(length);
  for (const x of arrays) for (let i = 0; i < length; i++) out[i] ^= x[from + i];
  return out;
}

function andMask(xs: readonly ShiftedWords[], ys: readonly ShiftedWords[], a: BigInt64Array, b: BigInt64Array): BigInt64Array {
  const out = new BigInt64Array(2 * a.length);
  const words = halves(out);
  maskInto(xs, halves(a), words, 0);
  maskInto(ys, halves(b), words, 2 * a.length);
  return out;
}

function andCombine(masked: readonly BigInt64Array[], a: BigInt64Array, b: BigInt64Array, c: BigInt64Array, withProduct: boolean): BigInt64Array {
  const n = 2 * a.length; // words
  const out = new BigInt64Array(a.length);
  const z = halves(out);
  const aw = halves(a);
  const bw = halves(b);
  const cw = halves(c);
  const p = (withProduct ? -1 : 0) | 0; // all ones keeps E & F, zero drops it
  if (masked.length === 2) {
    // Two holders: E and F straight from both masks, no temporary.
    const m0 = halves(masked[0]);
    const m1 = halves(masked[1]);
    for (let i = 0; i < n; i++) {
      const e = m0[i] ^ m1[i];
      const f = m0[n + i] ^ m1[n + i];
      z[i] = cw[i] ^ (e & bw[i]) ^ (aw[i] & f) ^ (e & f & p);
    }
    return out;
  }
  const all = masked.map(halves);
  const e = xorWords(all, 0, n);
  const f = xorWords(all, n, n);
  for (let i = 0; i < n; i++) z[i] = cw[i] ^ (e[i] & bw[i]) ^ (aw[i] & f[i]) ^ (e[i] & f[i] & p);
  return out;
}

function andCorrection(as: readonly BigInt64Array[], bs: readonly BigInt64Array[], cs: readonly BigInt64Array[]): BigInt64Array {
  const n = 2 * as[0].length;
  const out = new BigInt64Array(as[0].length);
  const z = halves(out);
  if (as.length === 2 && bs.length === 2 && cs.length === 1) {
    // Two holders: the dealer's case on every AND.
    const [a0, a1] = as.map(halves) as [Int32Array, Int32Array];
    const [b0, b1] = bs.map(halves) as [Int32Array, Int32Array];
    const c0 = halves(cs[0]);
    for (let i = 0; i < n; i++) z[i] = ((a0[i] ^ a1[i]) & (b0[i] ^ b1[i])) ^ c0[i];
    return out;
  }
  const a = xorWords(as.map(halves), 0, n);
  const b = xorWords(bs.map(halves), 0, n);
  const c = xorWords(cs.map(halves), 0, n);
  for (let i = 0; i < n; i++) z[i] = (a[i] & b[i]) ^ c[i];
  return out;
}

/** The fused AND kernels over 32-bit words (used by the fast kernel set). */
export const wordKernels: AndKernels = { andMask, andCombine, andCorrection };
