/**
 * Shape inference for ring ops, without data.
 *
 * Upper layers call these to validate operands before anything is sent to a
 * party; the ring ops call the same functions, so a shape accepted here is a
 * shape the op accepts. Every failure is a `ProtocolError` with code
 * `SHAPE_MISMATCH` (operands disagree) or `INVALID_ARGUMENT` (a bad axis,
 * permutation, stride...), naming what was expected, what came, and what to do.
 */
import { ErrorCode, ProtocolError, fmtShape } from "../core/errors";

/** A tensor shape: non-negative integer dimensions, row-major. */
export type Shape = readonly number[];

/** Padding of a sliding window, with TensorFlow's meaning. */
export type Padding = "same" | "valid";

/** Options of `conv2d`, with TensorFlow.js's meaning (NHWC input, HWIO filter). */
export interface Conv2dOptions {
  strides?: number | [number, number];
  padding: Padding;
  dilations?: number | [number, number];
}

/** Window options of `extractPatches` and of pooling, as `tf.maxPool` takes them. */
export interface PoolOptions {
  filterSize: [number, number];
  strides: [number, number];
  padding: Padding;
}

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

/** A SHAPE_MISMATCH ProtocolError (operands or data disagree with a shape). */
export function shapeError(message: string, details: Record<string, unknown> = {}): ProtocolError {
  return new ProtocolError(ErrorCode.SHAPE_MISMATCH, message, details);
}

/** An INVALID_ARGUMENT ProtocolError (a bad axis, option, type or value). */
export function argumentError(message: string, details: Record<string, unknown> = {}): ProtocolError {
  return new ProtocolError(ErrorCode.INVALID_ARGUMENT, message, details);
}

/**
 * Checks that `shape` is an array of non-negative integers; returns a frozen copy.
 *
 * @example
 * ```ts
 * checkShape([2, 3], "zeros"); // [2, 3]
 * checkShape([2, -1], "zeros"); // throws INVALID_ARGUMENT
 * ```
 */
export function checkShape(shape: Shape, op: string): Shape {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw argumentError(
      `${op}: expected a shape of non-negative integers, got ${describe(shape)}. Pass dimensions such as [2, 3].`,
      { op },
    );
  }
  return Object.freeze([...shape]);
}

/**
 * Number of elements of a shape (1 for a scalar `[]`).
 *
 * @example
 * ```ts
 * shapes.size([2, 3, 4]); // 24
 * ```
 */
export function size(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides, in elements. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** Resolves a possibly negative axis against `rank`; `extra` widens the range (expandDims). */
export function normalizeAxis(axis: number, rank: number, op: string, extra = 0): number {
  const hi = rank + extra;
  if (!Number.isInteger(axis) || axis < -hi || axis >= hi) {
    throw argumentError(
      `${op}: expected an integer axis in [${-hi}, ${hi - 1}] for rank ${rank}, got ${axis}. ` +
        `Count axes from 0 (or from the end with negatives).`,
      { op, axis, rank },
    );
  }
  return axis < 0 ? axis + hi : axis;
}

/**
 * Result shape of numpy-style broadcasting between two operands.
 *
 * @example
 * ```ts
 * shapes.broadcast([4, 1, 3], [2, 1]); // [4, 2, 3]
 * ```
 */
export function broadcast(a: Shape, b: Shape, op = "broadcast"): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 1; i <= rank; i++) {
    const da = i <= a.length ? a[a.length - i] : 1;
    const db = i <= b.length ? b[b.length - i] : 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw shapeError(
        `${op}: cannot broadcast ${fmtShape(a)} with ${fmtShape(b)}: expected equal dimensions or 1 at axis -${i}, ` +
          `got ${da} and ${db}. Reshape one operand or use broadcastTo first.`,
        { op, a: [...a], b: [...b] },
      );
    }
    out[rank - i] = da === 1 ? db : da;
  }
  return out;
}

/** Checks that `from` broadcasts to exactly `to` (numpy's broadcast_to rule). */
export function broadcastTo(from: Shape, to: Shape, op = "broadcastTo"): number[] {
  const target = [...checkShape(to, op)];
  const ok =
    from.length <= target.length && from.every((d, i) => d === 1 || d === target[target.length - from.length + i]);
  if (!ok) {
    throw shapeError(
      `${op}: cannot broadcast ${fmtShape(from)} to ${fmtShape(target)}: expected each dimension to equal the ` +
        `target's (aligned from the right) or be 1. Reshape the operand first.`,
      { op, from: [...from], to: target },
    );
  }
  return target;
}

/**
 * Result shape of `matmul`: [m,k]x[k,n] -> [m,n]; rank 3 is batched, and a rank-2
 * operand (or a batch of 1) is used for every batch item.
 *
 * @example
 * ```ts
 * shapes.matmul([8, 2, 3], [3, 5]); // [8, 2, 5]
 * ```
 */
export function matmul(a: Shape, b: Shape): number[] {
  const explain = `expected [m, k] or [batch, m, k] times [k, n] or [batch, k, n]`;
  if (a.length < 2 || a.length > 3 || b.length < 2 || b.length > 3) {
    throw shapeError(`matmul: ${explain}, got ${fmtShape(a)} and ${fmtShape(b)}. Reshape operands to rank 2 or 3.`, {
      op: "matmul",
      a: [...a],
      b: [...b],
    });
  }
  const [m, k] = a.slice(-2);
  const [k2, n] = b.slice(-2);
  if (k !== k2) {
    throw shapeError(
      `matmul: inner dimensions differ in ${fmtShape(a)} x ${fmtShape(b)}: ${explain} with equal k, got ${k} and ${k2}. ` +
        `Transpose an operand if it is the wrong way round.`,
      { op: "matmul", a: [...a], b: [...b] },
    );
  }
  if (a.length === 2 && b.length === 2) return [m, n];
  const batchA = a.length === 3 ? a[0] : 1;
  const batchB = b.length === 3 ? b[0] : 1;
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) {
    throw shapeError(
      `matmul: batch dimensions differ in ${fmtShape(a)} x ${fmtShape(b)}: expected equal batches or a batch of 1, ` +
        `got ${batchA} and ${batchB}.`,
      { op: "matmul", a: [...a], b: [...b] },
    );
  }
  return [Math.max(batchA, batchB), m, n];
}

function pair(
  value: number | [number, number] | undefined,
  fallback: number,
  what: string,
  op: string,
): [number, number] {
  const p: [number, number] =
    value === undefined ? [fallback, fallback] : typeof value === "number" ? [value, value] : [value[0], value[1]];
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

/** Window placement over an NHWC input; shared by conv2d, extractPatches and pool. */
export function windowGeometry(
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

/** Checks conv2d operands and returns the window geometry and the filter's output channels. */
export function conv2dGeometry(
  xShape: Shape,
  wShape: Shape,
  opts: Conv2dOptions,
): WindowGeometry & { outChannels: number } {
  const op = "conv2d";
  if (wShape.length !== 4) {
    throw shapeError(
      `conv2d: expected an HWIO filter of rank 4 [filterHeight, filterWidth, inChannels, outChannels], ` +
        `got ${fmtShape(wShape)} (input ${fmtShape(xShape)}).`,
      { op, x: [...xShape], w: [...wShape] },
    );
  }
  if (xShape.length === 4 && xShape[3] !== wShape[2]) {
    throw shapeError(
      `conv2d: input ${fmtShape(xShape)} has ${xShape[3]} channels but filter ${fmtShape(wShape)} expects ${wShape[2]} ` +
        `(x is NHWC, w is HWIO: x.shape[3] must equal w.shape[2]).`,
      { op, x: [...xShape], w: [...wShape] },
    );
  }
  const strides = pair(opts?.strides, 1, "strides", op);
  const dilations = pair(opts?.dilations, 1, "dilations", op);
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
export function conv2d(xShape: Shape, wShape: Shape, opts: Conv2dOptions): number[] {
  const g = conv2dGeometry(xShape, wShape, opts);
  return [g.batch, g.outH, g.outW, g.outChannels];
}

/** Checks pooling/patch options and returns the window geometry. */
export function poolGeometry(xShape: Shape, opts: PoolOptions, op = "pool"): WindowGeometry {
  const filter = pair(opts?.filterSize, 0, "filterSize", op);
  const strides = pair(opts?.strides, 0, "strides", op);
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
export function pool(xShape: Shape, opts: PoolOptions): number[] {
  const g = poolGeometry(xShape, opts);
  return [g.batch, g.outH, g.outW, g.channels];
}

/** Checks a permutation (default: reversed axes) and returns it. */
export function permutation(shape: Shape, perm?: readonly number[]): number[] {
  const rank = shape.length;
  if (perm === undefined) return shape.map((_, i) => rank - 1 - i);
  const ok =
    Array.isArray(perm) &&
    perm.length === rank &&
    perm.every((p) => Number.isInteger(p) && p >= 0 && p < rank) &&
    new Set(perm).size === rank;
  if (!ok) {
    throw argumentError(
      `transpose: expected a permutation of [0..${rank - 1}] for shape ${fmtShape(shape)}, got ${describe(perm)}. ` +
        `List every axis exactly once.`,
      { op: "transpose", shape: [...shape] },
    );
  }
  return [...perm];
}

/**
 * Result shape of `transpose` (default: axes reversed).
 *
 * @example
 * ```ts
 * shapes.transpose([2, 3, 4], [0, 2, 1]); // [2, 4, 3]
 * ```
 */
export function transpose(shape: Shape, perm?: readonly number[]): number[] {
  return permutation(shape, perm).map((p) => shape[p]);
}

/** Resolves `axes` (a number, a list, or all axes) to sorted distinct non-negative axes. */
export function reductionAxes(shape: Shape, axes: number | readonly number[] | undefined, op: string): number[] {
  if (axes === undefined) return shape.map((_, i) => i);
  const list = (typeof axes === "number" ? [axes] : [...axes]).map((a) => normalizeAxis(a, shape.length, op));
  const sorted = [...new Set(list)].sort((x, y) => x - y);
  if (sorted.length !== list.length) {
    throw argumentError(`${op}: axes ${describe(axes)} name an axis twice. List each axis once.`, { op });
  }
  return sorted;
}

/**
 * Result shape of `sum` over `axes` (default: all).
 *
 * @example
 * ```ts
 * shapes.sum([2, 3, 4], 1);        // [2, 4]
 * shapes.sum([2, 3, 4], 1, true);  // [2, 1, 4]
 * ```
 */
export function sum(shape: Shape, axes?: number | readonly number[], keepDims = false): number[] {
  const reduced = new Set(reductionAxes(shape, axes, "sum"));
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!reduced.has(i)) out.push(d);
    else if (keepDims) out.push(1);
  });
  return out;
}

/**
 * Result shape of `concat` along `axis`.
 *
 * @example
 * ```ts
 * shapes.concat([[2, 3], [4, 3]], 0); // [6, 3]
 * ```
 */
export function concat(shapesList: readonly Shape[], axis: number): number[] {
  if (!shapesList || shapesList.length === 0) {
    throw argumentError(`concat: expected at least one tensor, got none.`, { op: "concat" });
  }
  const first = shapesList[0];
  const ax = normalizeAxis(axis, first.length, "concat");
  const out = [...first];
  for (let t = 1; t < shapesList.length; t++) {
    const s = shapesList[t];
    if (s.length !== first.length || s.some((d, i) => i !== ax && d !== first[i])) {
      throw shapeError(
        `concat: tensor ${t} has shape ${fmtShape(s)} but tensor 0 has ${fmtShape(first)}: expected the same rank ` +
          `and equal dimensions except on axis ${ax}.`,
        { op: "concat", axis: ax, shapes: shapesList.map((x) => fmtShape(x)) },
      );
    }
    out[ax] += s[ax];
  }
  return out;
}

/** Resolves slice arguments to full-rank begin and size (size -1 means to the end). */
export function sliceBounds(
  shape: Shape,
  begin: readonly number[],
  sizes: readonly number[],
): { begin: number[]; size: number[] } {
  const rank = shape.length;
  if (!Array.isArray(begin) || begin.length > rank || !Array.isArray(sizes) || sizes.length > rank) {
    throw argumentError(
      `slice: expected begin and size with at most ${rank} entries for shape ${fmtShape(shape)}, ` +
        `got begin ${describe(begin)} and size ${describe(sizes)}.`,
      { op: "slice", shape: [...shape] },
    );
  }
  const b: number[] = [];
  const s: number[] = [];
  for (let i = 0; i < rank; i++) {
    const bi = i < begin.length ? begin[i] : 0;
    const si = i < sizes.length ? (sizes[i] === -1 ? shape[i] - bi : sizes[i]) : shape[i] - bi;
    if (!Number.isInteger(bi) || !Number.isInteger(si) || bi < 0 || si < 0 || bi + si > shape[i]) {
      throw shapeError(
        `slice: begin ${describe(begin)} with size ${describe(sizes)} does not fit shape ${fmtShape(shape)} ` +
          `on axis ${i}: expected 0 <= begin and begin + size <= ${shape[i]}, got begin ${bi} and size ${si}. ` +
          `Use size -1 to take the rest of an axis.`,
        { op: "slice", shape: [...shape], begin: [...begin], size: [...sizes] },
      );
    }
    b.push(bi);
    s.push(si);
  }
  return { begin: b, size: s };
}

/**
 * Result shape of `slice` (size -1 takes the rest of an axis).
 *
 * @example
 * ```ts
 * shapes.slice([4, 5], [1, 2], [2, -1]); // [2, 3]
 * ```
 */
export function slice(shape: Shape, begin: readonly number[], sizes: readonly number[]): number[] {
  return sliceBounds(shape, begin, sizes).size;
}

/**
 * Result shape of `reshape`; one dimension may be -1 and is inferred.
 *
 * @example
 * ```ts
 * shapes.reshape([2, 3, 4], [6, -1]); // [6, 4]
 * ```
 */
export function reshape(shape: Shape, newShape: readonly number[]): number[] {
  const n = size(shape);
  const inferred = Array.isArray(newShape) ? newShape.filter((d) => d === -1).length : 0;
  const ok =
    Array.isArray(newShape) && inferred <= 1 && newShape.every((d) => Number.isInteger(d) && (d >= 0 || d === -1));
  if (!ok) {
    throw argumentError(
      `reshape: expected non-negative integer dimensions with at most one -1, got ${describe(newShape)}.`,
      { op: "reshape", shape: [...shape] },
    );
  }
  const known = size(newShape.filter((d) => d !== -1));
  const out = [...newShape];
  if (inferred === 1) {
    if (known === 0 || n % known !== 0) {
      throw shapeError(
        `reshape: cannot reshape ${fmtShape(shape)} (${n} elements) to ${fmtShape(newShape)}: ` +
          `expected the known dimensions to divide ${n}. Check the target shape.`,
        { op: "reshape", shape: [...shape], newShape: [...newShape] },
      );
    }
    out[out.indexOf(-1)] = n / known;
  } else if (known !== n) {
    throw shapeError(
      `reshape: cannot reshape ${fmtShape(shape)} (${n} elements) to ${fmtShape(newShape)} (${known} elements): ` +
        `expected the same number of elements.`,
      { op: "reshape", shape: [...shape], newShape: [...newShape] },
    );
  }
  return out;
}

/** Short rendering of any argument for messages. */
export function describe(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => describe(v)).join(", ")}]`;
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

/**
 * Shape inference without data, for validating operands before anything is sent.
 *
 * @example
 * ```ts
 * import { shapes } from "tsyft/ring";
 * shapes.matmul([2, 3], [3, 4]);                                   // [2, 4]
 * shapes.conv2d([1, 28, 28, 1], [5, 5, 1, 8], { padding: "valid" }); // [1, 24, 24, 8]
 * ```
 */
export const shapes = {
  broadcast: (a: Shape, b: Shape): number[] => broadcast(a, b),
  matmul,
  conv2d,
  pool,
  transpose,
  sum,
  concat,
  slice,
  reshape,
  size,
} as const;
