/**
 * Shapes of sliding-window ops over NHWC inputs (conv2d, depthwiseConv2d,
 * pooling and extractPatches), with TensorFlow's meaning of strides, dilations and padding,
 * and the window geometry the im2col kernels take.
 */
import { fmtShape } from "../core/errors";
import { pair, type Conv2dOptions, type Padding, type Pool2dAttrs } from "../core/ops";
import { argumentError, describe, shapeError, type Shape } from "./shape-basics";

/** conv2d's options at the ring: as a user gives them, but the padding is stated (the ring has no default). */
export type RingConv2dOptions = Conv2dOptions & { padding: Padding };

/** Where a sliding window goes over an NHWC input: everything im2col needs. */
export interface WindowGeometry {
  batch: number;
  inH: number;
  inW: number;
  channels: number;
  filterH: number;
  filterW: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  padTop: number;
  padLeft: number;
  outH: number;
  outW: number;
}

/** Normalizes a stride, dilation or window size to a pair and checks both are positive integers. */
function checkPair(
  value: number | [number, number] | undefined,
  fallback: number,
  what: string,
  op: string,
): [number, number] {
  const p = pair(value, fallback);
  if (!(Array.isArray(value) ? value.length === 2 : true) || !p.every((v) => Number.isInteger(v) && v >= 1)) {
    throw argumentError(`${op}: expected ${what} as a positive integer or a pair of them, got ${describe(value)}.`, {
      op,
    });
  }
  return p;
}

function checkPadding(padding: unknown, op: string): Padding {
  if (padding !== "same" && padding !== "valid") {
    throw argumentError(`${op}: expected padding "same" or "valid", got ${describe(padding)}.`, { op });
  }
  return padding;
}

/** Output size and leading padding along one axis, as TensorFlow computes them. */
function windowAxis(
  input: number,
  filter: number,
  stride: number,
  dilation: number,
  padding: Padding,
): { out: number; padBefore: number } {
  const effective = (filter - 1) * dilation + 1;
  if (padding === "same") {
    const out = Math.ceil(input / stride);
    const total = Math.max(0, (out - 1) * stride + effective - input);
    return { out, padBefore: Math.floor(total / 2) };
  }
  return { out: Math.ceil((input - effective + 1) / stride), padBefore: 0 };
}

/** Window placement over an NHWC input; shared by conv2d, depthwiseConv2d, extractPatches and pool. */
function windowGeometry(
  xShape: Shape,
  filter: [number, number],
  strides: [number, number],
  dilations: [number, number],
  padding: Padding,
  op: string,
): WindowGeometry {
  if (xShape.length !== 4) {
    throw shapeError(
      `${op}: expected an NHWC input of rank 4 [batch, height, width, channels], got ${fmtShape(xShape)}. ` +
        `Reshape it, e.g. a single image [H, W, C] to [1, H, W, C].`,
      { op, x: [...xShape] },
    );
  }
  const [batch, inH, inW, channels] = xShape;
  const h = windowAxis(inH, filter[0], strides[0], dilations[0], padding);
  const w = windowAxis(inW, filter[1], strides[1], dilations[1], padding);
  if (h.out <= 0 || w.out <= 0) {
    const effH = (filter[0] - 1) * dilations[0] + 1;
    const effW = (filter[1] - 1) * dilations[1] + 1;
    throw shapeError(
      `${op}: the ${effH}x${effW} window (dilated) does not fit the ${inH}x${inW} input of ${fmtShape(xShape)} with ` +
        `"valid" padding. Use padding "same" or a smaller window.`,
      { op, x: [...xShape] },
    );
  }
  return {
    batch,
    inH,
    inW,
    channels,
    filterH: filter[0],
    filterW: filter[1],
    strideH: strides[0],
    strideW: strides[1],
    dilationH: dilations[0],
    dilationW: dilations[1],
    padTop: h.padBefore,
    padLeft: w.padBefore,
    outH: h.out,
    outW: w.out,
  };
}

/**
 * The two filter layouts over NHWC inputs: conv2d's HWIO [KH,KW,C,OC], every output channel a sum over all
 * input channels, and depthwiseConv2d's [KH,KW,C,M], M outputs per input channel (C*M in all, channel c*M+m).
 */
export type FilterKind = "conv2d" | "depthwiseConv2d";

const filterLayout: Record<FilterKind, { name: string; last: string }> = {
  conv2d: { name: "an HWIO filter", last: "outChannels" },
  depthwiseConv2d: { name: "a depthwise filter", last: "channelMultiplier" },
};

/**
 * Checks conv2d or depthwiseConv2d operands and returns the window geometry and the filter's last dimension
 * (conv2d's output channels, depthwiseConv2d's channel multiplier).
 */
export function conv2dGeometry(
  xShape: Shape,
  wShape: Shape,
  opts: RingConv2dOptions,
  op: FilterKind = "conv2d",
): WindowGeometry & { outChannels: number } {
  const layout = filterLayout[op];
  if (wShape.length !== 4) {
    throw shapeError(
      `${op}: expected ${layout.name} of rank 4 [filterHeight, filterWidth, inChannels, ${layout.last}], ` +
        `got ${fmtShape(wShape)} (input ${fmtShape(xShape)}).`,
      { op, x: [...xShape], w: [...wShape] },
    );
  }
  if (xShape.length === 4 && xShape[3] !== wShape[2]) {
    throw shapeError(
      `${op}: input ${fmtShape(xShape)} has ${xShape[3]} channels ` +
        `but filter ${fmtShape(wShape)} expects ${wShape[2]} (x is NHWC, w is [KH, KW, inChannels, ${layout.last}]: ` +
        `x.shape[3] must equal w.shape[2]).`,
      { op, x: [...xShape], w: [...wShape] },
    );
  }
  const strides = checkPair(opts?.strides, 1, "strides", op);
  const dilations = checkPair(opts?.dilations, 1, "dilations", op);
  const padding = checkPadding(opts?.padding, op);
  const geometry = windowGeometry(xShape, [wShape[0], wShape[1]], strides, dilations, padding, op);
  return { ...geometry, outChannels: wShape[3] };
}

/**
 * Result shape of `conv2d` (NHWC input, HWIO filter): [N, OH, OW, OC].
 *
 * @example
 * ```ts
 * shapes.conv2d([1, 32, 32, 3], [5, 5, 3, 32], { padding: "same" }); // [1, 32, 32, 32]
 * ```
 */
export function conv2d(xShape: Shape, wShape: Shape, opts: RingConv2dOptions): number[] {
  const g = conv2dGeometry(xShape, wShape, opts);
  return [g.batch, g.outH, g.outW, g.outChannels];
}

/**
 * Result shape of `depthwiseConv2d` (NHWC input, filter [KH, KW, C, M]): [N, OH, OW, C*M].
 *
 * @example
 * ```ts
 * shapes.depthwiseConv2d([1, 32, 32, 3], [3, 3, 3, 2], { padding: "same" }); // [1, 32, 32, 6]
 * ```
 */
export function depthwiseConv2d(xShape: Shape, wShape: Shape, opts: RingConv2dOptions): number[] {
  const g = conv2dGeometry(xShape, wShape, opts, "depthwiseConv2d");
  return [g.batch, g.outH, g.outW, g.channels * g.outChannels];
}

/** Checks pooling/patch options and returns the window geometry. */
export function poolGeometry(xShape: Shape, opts: Pool2dAttrs, op = "pool"): WindowGeometry {
  const filter = checkPair(opts?.filterSize, 0, "filterSize", op);
  const strides = checkPair(opts?.strides, 0, "strides", op);
  const padding = checkPadding(opts?.padding, op);
  return windowGeometry(xShape, filter, strides, [1, 1], padding, op);
}

/**
 * Result shape of a 2-D pooling window (as tf.maxPool / tf.avgPool): [N, OH, OW, C].
 *
 * @example
 * ```ts
 * shapes.pool([1, 28, 28, 8], { filterSize: [2, 2], strides: [2, 2], padding: "valid" }); // [1, 14, 14, 8]
 * ```
 */
export function pool(xShape: Shape, opts: Pool2dAttrs): number[] {
  const g = poolGeometry(xShape, opts);
  return [g.batch, g.outH, g.outW, g.channels];
}
