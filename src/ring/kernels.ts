/**
 * The kernel interface of the ring, and the switch between its two implementations.
 *
 * Ops in this module check shapes and then hand flat row-major arrays to a kernel
 * set: the WebAssembly one (fast; the default) or the plain JavaScript BigInt one
 * (the reference the tests compare against), chosen by `getConfig().ringKernels`.
 */
import { getConfig } from "../core/config";
import { activeProfiler, type Profiler } from "../core/profiler";
import { jsKernels } from "./js-kernels";
import type { WindowGeometry } from "./window-shapes";
import { wasmKernels } from "./wasm-kernels";

/** Dimensions of a (batched) matrix product; strides in elements, 0 repeats one operand. */
export interface MatmulDims {
  batch: number;
  m: number;
  k: number;
  n: number;
  /** Elements between consecutive A matrices (m*k, or 0 to use one A for every item). */
  aStride: number;
  /** Elements between consecutive B matrices (k*n, or 0 to use one B for every item). */
  bStride: number;
}

/**
 * Bytes XORed with a keystream (AES-CTR, see prg.ts keystreamXor), in a new
 * buffer. It may be handed a view of a kernel's scratch memory: it reads it
 * before returning, keeps no reference and runs no ring kernel meanwhile.
 */
export type Encrypt = (plain: Uint8Array) => Uint8Array;

/** `data << shift` (0 <= shift <= 63): one operand of the fused AND kernels. */
export interface ShiftedWords {
  data: BigInt64Array;
  shift: number;
}

/**
 * Flat kernels over Z_2^64. Elementwise binary kernels take arrays of equal length,
 * or one of length 1 that is broadcast; the result has the other one's length.
 * Kernels never write into their inputs.
 */
export interface RingKernels {
  readonly name: "wasm" | "js";
  add(a: BigInt64Array, b: BigInt64Array): BigInt64Array;
  sub(a: BigInt64Array, b: BigInt64Array): BigInt64Array;
  mul(a: BigInt64Array, b: BigInt64Array): BigInt64Array;
  xor(a: BigInt64Array, b: BigInt64Array): BigInt64Array;
  and(a: BigInt64Array, b: BigInt64Array): BigInt64Array;
  neg(a: BigInt64Array): BigInt64Array;
  not(a: BigInt64Array): BigInt64Array;
  addScalar(a: BigInt64Array, k: bigint): BigInt64Array;
  mulScalar(a: BigInt64Array, k: bigint): BigInt64Array;
  /** Arithmetic shift right, 0 <= bits <= 63. */
  shr(a: BigInt64Array, bits: number): BigInt64Array;
  /** Logical shift right, 0 <= bits <= 63. */
  shrLogical(a: BigInt64Array, bits: number): BigInt64Array;
  /** Shift left, 0 <= bits <= 63. */
  shl(a: BigInt64Array, bits: number): BigInt64Array;
  /** Signed floor division by 0 < d < 2^63. */
  divFloor(a: BigInt64Array, d: bigint): BigInt64Array;
  /** C[batch][m,n] = A[m,k] * B[k,n] per batch item. */
  matmul(a: BigInt64Array, b: BigInt64Array, dims: MatmulDims): BigInt64Array;
  /** NHWC input to rows [N*OH*OW, KH*KW*C] ordered (kh, kw, c); padding taps get padValue. */
  im2col(x: BigInt64Array, g: WindowGeometry, padValue: bigint): BigInt64Array;
  /** NHWC x times HWIO w as [N*OH*OW, OC]: im2col(x) (zero padding) times w as [KH*KW*C, OC]. */
  conv2d(x: BigInt64Array, w: BigInt64Array, g: WindowGeometry, outChannels: number): BigInt64Array;
  /** Views x as [outer, r, inner] and sums over r: [outer, inner]. */
  sumAxis(x: BigInt64Array, outer: number, r: number, inner: number): BigInt64Array;
  /**
   * The masks of a batch of Beaver ANDs. Lays out [`skip` zero bytes, X, Y],
   * X the xs (each shifted left by its shift) end to end and Y the same of the
   * ys, and returns `encrypt` of it: past `skip`, [X ^ a, Y ^ b] for the a and
   * b of encrypt's keystream. Every `skip` is a multiple of 8.
   */
  andMask(xs: readonly ShiftedWords[], ys: readonly ShiftedWords[], skip: number, encrypt: Encrypt): Uint8Array;
  /**
   * A holder's share once the masks are opened: E is the XOR of the es and F
   * of the fs (every holder's masks, this holder's first: es[0] = X ^ a and
   * fs[0] = Y ^ b, which give back its a and b). With
   * t = (E & b) ^ (a & F), ^ (E & F) when `withProduct`, ^ `addend` over its
   * first addend.length words when one is given, returns [`skip` zero bytes, t]
   * through `c` when it is a keystream (c's), else t ^ c (then skip is 0).
   */
  andCombine(
    es: readonly BigInt64Array[],
    fs: readonly BigInt64Array[],
    xs: readonly ShiftedWords[],
    ys: readonly ShiftedWords[],
    c: BigInt64Array | Encrypt,
    skip: number,
    withProduct: boolean,
    addend?: BigInt64Array,
  ): Uint8Array;
  /** The dealer's side: returns `encrypt` of [`skip` zero bytes, a & b]. */
  andCorrection(a: BigInt64Array, b: BigInt64Array, skip: number, encrypt: Encrypt): Uint8Array;
}

/**
 * The kernel set in force (from `getConfig().ringKernels`).
 *
 * @example
 * ```ts
 * const out = kernels().add(a.data, b.data);
 * ```
 */
export function kernels(): RingKernels {
  const set = getConfig().ringKernels === "js" ? jsKernels : wasmKernels();
  const profiler = activeProfiler();
  return profiler ? timedKernels(set, profiler) : set;
}

const timedSets = new WeakMap<RingKernels, { profiler: Profiler; set: RingKernels }>();

/** `set` with every call timed as step "<set>.<kernel>" (e.g. "wasm.matmul"), made once per set and profiler. */
function timedKernels(set: RingKernels, profiler: Profiler): RingKernels {
  const made = timedSets.get(set);
  if (made?.profiler === profiler) return made.set;
  const timedSet = { ...set };
  for (const [name, fn] of Object.entries(set)) {
    if (typeof fn !== "function") continue;
    const step = `${set.name}.${name}`;
    Object.assign(timedSet, { [name]: (...args: unknown[]) => profiler.time(step, () => fn.apply(set, args)) });
  }
  timedSets.set(set, { profiler, set: timedSet });
  return timedSet;
}

/**
 * Which ring kernels run ops here: `"wasm"` (the default) or the `"js"` reference.
 *
 * @example
 * ```ts
 * activeKernels();                                           // "wasm"
 * withConfig({ ringKernels: "js" }, () => activeKernels());  // "js"
 * ```
 */
export function activeKernels(): "wasm" | "js" {
  return getConfig().ringKernels;
}
