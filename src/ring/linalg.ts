/**
 * Linear algebra over Z_2^64: matrix products, and convolutions (plain and depthwise) as im2col + matmul.
 * Shapes and window geometry follow TensorFlow.js (NHWC inputs, HWIO filters).
 */
import type { Pool2dAttrs } from "../core/ops";
import { kernels } from "./kernels";
import { matmul as matmulShape } from "./broadcast-shapes";
import { argumentError, describe } from "./shape-basics";
import { reshape, transpose } from "./shape-ops";
import { conv2dGeometry, poolGeometry, type RingConv2dOptions } from "./window-shapes";
import { RingTensor } from "./tensor";

/**
 * Matrix product mod 2^64: [m,k]x[k,n] -> [m,n]; rank 3 is batched
 * ([B,m,k]x[B,k,n] -> [B,m,n]), and a rank-2 operand (or a batch of 1) is
 * used for every item of the other's batch.
 *
 * @example
 * ```ts
 * matmul(fromInts([1, 2, 3, 4], [2, 2]), fromInts([5, 6], [2, 1])); // [[17], [39]]
 * ```
 */
export function matmul(a: RingTensor, b: RingTensor): RingTensor {
  if (!(a instanceof RingTensor) || !(b instanceof RingTensor)) {
    throw argumentError(`matmul: expected two RingTensors, got ${describe(a)} and ${describe(b)}.`, { op: "matmul" });
  }
  const outShape = matmulShape(a.shape, b.shape);
  const [m, k] = a.shape.slice(-2);
  const n = b.shape[b.rank - 1];
  const batchA = a.rank === 3 ? a.shape[0] : 1;
  const batchB = b.rank === 3 ? b.shape[0] : 1;
  if (batchB === 1) {
    // One B for all: stack A's batch into rows, a single product.
    const data = kernels().matmul(a.data, b.data, { batch: 1, m: batchA * m, k, n, aStride: 0, bStride: 0 });
    return new RingTensor(data, outShape);
  }
  const data = kernels().matmul(a.data, b.data, {
    batch: Math.max(batchA, batchB),
    m,
    k,
    n,
    aStride: batchA === 1 ? 0 : m * k,
    bStride: k * n,
  });
  return new RingTensor(data, outShape);
}

/**
 * 2-D convolution mod 2^64 with TensorFlow.js's layout and semantics: x NHWC
 * [N,H,W,C], w HWIO [KH,KW,C,OC] -> [N,OH,OW,OC]; "same" pads like TF (the odd
 * extra row/column at the bottom/right). Computed as im2col + matmul.
 * Unlike tf.conv2d, strides and dilations may both exceed 1.
 *
 * @example
 * ```ts
 * const y = conv2d(x, w, { strides: 1, padding: "same" }); // x [1,32,32,3], w [5,5,3,32] -> [1,32,32,32]
 * ```
 */
export function conv2d(x: RingTensor, w: RingTensor, opts: RingConv2dOptions): RingTensor {
  if (!(x instanceof RingTensor) || !(w instanceof RingTensor)) {
    throw argumentError(`conv2d: expected two RingTensors, got ${describe(x)} and ${describe(w)}.`, { op: "conv2d" });
  }
  const g = conv2dGeometry(x.shape, w.shape, opts);
  const data = kernels().conv2d(x.data, w.data, g, g.outChannels);
  return new RingTensor(data, [g.batch, g.outH, g.outW, g.outChannels]);
}

/**
 * Depthwise 2-D convolution mod 2^64 with tf.depthwiseConv2d's layout and semantics: x NHWC [N,H,W,C], w
 * [KH,KW,C,M] -> [N,OH,OW,C*M], output channel c*M+m the window of input channel c times w[:,:,c,m].
 * Computed with the same kernels as conv2d, so it runs in wasm with the JS reference behind it: im2col gives
 * [P,T,C] (P output positions, T = KH*KW taps), which as [C,P,T] times w as [C,T,M] is one batched matmul
 * per channel; a dense conv2d with a block-diagonal filter would multiply C times as many terms, mostly zeros.
 *
 * @example
 * ```ts
 * const y = depthwiseConv2d(x, w, { padding: "same" }); // x [1,8,8,3], w [3,3,3,2] -> [1,8,8,6]
 * ```
 */
export function depthwiseConv2d(x: RingTensor, w: RingTensor, opts: RingConv2dOptions): RingTensor {
  if (!(x instanceof RingTensor) || !(w instanceof RingTensor)) {
    throw argumentError(`depthwiseConv2d: expected two RingTensors, got ${describe(x)} and ${describe(w)}.`, {
      op: "depthwiseConv2d",
    });
  }
  const g = conv2dGeometry(x.shape, w.shape, opts, "depthwiseConv2d");
  const positions = g.batch * g.outH * g.outW;
  const taps = g.filterH * g.filterW;
  const multiplier = g.outChannels;
  const columns = new RingTensor(kernels().im2col(x.data, g, 0n), [positions, taps, g.channels]);
  const perChannel = matmul(
    transpose(columns, [2, 0, 1]),
    transpose(reshape(w, [taps, g.channels, multiplier]), [1, 0, 2]),
  );
  return reshape(transpose(perChannel, [1, 0, 2]), [g.batch, g.outH, g.outW, g.channels * multiplier]);
}

/**
 * The pooling windows of an NHWC input, as [N,OH,OW,KH*KW,C] (taps in row-major
 * window order); taps in the padding hold `padValue` (default 0n). The window
 * geometry is tf.maxPool's/tf.avgPool's, so a max or sum over axis 3 gives the pool.
 *
 * @example
 * ```ts
 * const p = extractPatches(x, { filterSize: [2, 2], strides: [2, 2], padding: "valid" });
 * // x [1,28,28,8] -> p [1,14,14,4,8]; sum(p, 3) is 4 * avgPool
 * ```
 */
export function extractPatches(x: RingTensor, opts: Pool2dAttrs & { padValue?: bigint }): RingTensor {
  if (!(x instanceof RingTensor)) {
    throw argumentError(`extractPatches: expected a RingTensor, got ${describe(x)}.`, { op: "extractPatches" });
  }
  const padValue = opts?.padValue ?? 0n;
  if (typeof padValue !== "bigint") {
    throw argumentError(`extractPatches: expected padValue as a bigint, got ${describe(padValue)}.`, {
      op: "extractPatches",
    });
  }
  const g = poolGeometry(x.shape, opts, "extractPatches");
  const data = kernels().im2col(x.data, g, BigInt.asIntN(64, padValue));
  return new RingTensor(data, [g.batch, g.outH, g.outW, g.filterH * g.filterW, g.channels]);
}
