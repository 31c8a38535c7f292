/**
 * The ring: tensors over Z_2^64 and everything the layers above need from them.
 *
 * Arithmetic wraps mod 2^64; values are stored as two's complement in a
 * BigInt64Array. Hot kernels run in WebAssembly (build/ring.wasm, from
 * src/ring/wasm/) with a plain JavaScript BigInt reference beside them;
 * `withConfig({ ringKernels: "js" }, fn)` selects the reference.
 *
 * @example
 * ```ts
 * import * as ring from "./ring";
 * const x = ring.fromFloat([1.5, -2.25], [2], 2 ** 16);
 * const r = ring.sample([2]);
 * const share0 = ring.sub(x, r);                // x = share0 + r
 * ring.toFloat(ring.add(share0, r), 2 ** 16);   // Float64Array [1.5, -2.25]
 * ```
 */
export { RingTensor } from "./tensor";
export {
  zeros,
  fill,
  scalar,
  fromBigInts,
  toBigInts,
  fromInts,
  fromFloat,
  toFloat,
  toBytes,
  fromBytes,
  equal,
} from "./convert";
export { randomSeed, sample, expand, xorKeystream, SEED_BYTES } from "./prg";
export { add, sub, mul, neg, addScalar, mulScalar, shr, divFloor, xor, and, not, shl, shrLogical } from "./elementwise";
export { matmul, conv2d, depthwiseConv2d, extractPatches } from "./linalg";
export { reshape, transpose, slice, concat, split, broadcastTo, expandDims, gather } from "./shape-ops";
export {
  andMasks,
  andCombine,
  andCorrection,
  expandTriple,
  type BitOperand,
  type BinaryTriple,
  type SeededTriple,
  type TensorTriple,
} from "./and-gates";
export { sum } from "./reduce";
export { dcfGen, dcfEval, dcfRoots, dcfKeyWords, type DcfCorrections } from "./dcf";
export { shapes } from "./shapes";
export type { Shape } from "./shape-basics";
export { activeKernels } from "./kernels";

export { claimHeadroom } from "./wire";

// Side effect: registers the wire form of RingTensor with the message codec.
import "./wire";
