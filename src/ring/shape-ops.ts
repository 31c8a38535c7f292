/**
 * Shape ops: pure data movement, no arithmetic, so one implementation serves
 * both kernel sets. Elements move as pairs of 32-bit words (bit-exact, and no
 * BigInt per element); contiguous runs move with TypedArray.set.
 */
import { fmtShape } from "../core/errors";
import { wordsOf } from "./convert";
import { broadcastTo as broadcastShape } from "./broadcast-shapes";
import { concat as concatShape, permutation, reshape as reshapeShape, sliceBounds } from "./layout-shapes";
import { argumentError, describe, normalizeAxis, shapeError, size, stridesOf, type Shape } from "./shape-basics";
import { RingTensor } from "./tensor";

/** Runs shorter than this are copied word by word rather than with subarray + set. */
const SHORT_RUN = 16;

/**
 * Copies a strided view of `src` into a new row-major array of shape `outShape`:
 * out[i0..ir] = src[offset + sum(i_d * srcStrides[d])]. A stride of 0 repeats.
 */
export function stridedCopy(
  src: BigInt64Array,
  offset: number,
  outShape: Shape,
  srcStrides: readonly number[],
): BigInt64Array {
  const n = size(outShape);
  const out = new BigInt64Array(n);
  if (n === 0) return out;
  const [shape, strides] = collapse(outShape, srcStrides);
  const rank = shape.length;
  const inner = shape[rank - 1];
  const step = strides[rank - 1];
  const outWords = wordsOf(out);
  const srcWords = wordsOf(src);
  const index = new Array<number>(rank).fill(0);
  let from = offset;
  for (let pos = 0; pos < n; pos += inner) {
    if (step === 1 && inner >= SHORT_RUN) {
      out.set(src.subarray(from, from + inner), pos);
    } else {
      for (let j = 0, s = 2 * from, d = 2 * pos; j < inner; j++, s += 2 * step, d += 2) {
        outWords[d] = srcWords[s];
        outWords[d + 1] = srcWords[s + 1];
      }
    }
    for (let d = rank - 2; d >= 0; d--) {
      from += strides[d];
      if (++index[d] < shape[d]) break;
      from -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
  return out;
}

/** Drops unit axes and merges neighbours that are contiguous in the source. */
function collapse(shape: Shape, strides: readonly number[]): [number[], number[]] {
  const outShape: number[] = [];
  const outStrides: number[] = [];
  shape.forEach((d, i) => {
    if (d === 1) return;
    const last = outShape.length - 1;
    if (last >= 0 && outStrides[last] === strides[i] * d) {
      outShape[last] *= d;
      outStrides[last] = strides[i];
    } else {
      outShape.push(d);
      outStrides.push(strides[i]);
    }
  });
  if (outShape.length === 0) return [[1], [0]];
  return [outShape, outStrides];
}

/**
 * The same elements with a new shape; one dimension may be -1 (inferred).
 * Shares the (immutable) data.
 *
 * @example
 * ```ts
 * reshape(zeros([2, 3, 4]), [6, -1]).shape; // [6, 4]
 * ```
 */
export function reshape(a: RingTensor, shape: readonly number[]): RingTensor {
  return new RingTensor(a.data, reshapeShape(a.shape, shape));
}

/**
 * Cuts `a`, read flat, into consecutive pieces of `sizes` elements, as flat
 * tensors that share its (immutable) data: nothing is copied.
 *
 * @example
 * ```ts
 * split(fromInts([1, 2, 3, 4, 5], [5]), [2, 3]); // [1, 2] and [3, 4, 5]
 * ```
 */
export function split(a: RingTensor, sizes: readonly number[]): RingTensor[] {
  if (!(a instanceof RingTensor))
    throw argumentError(`split: expected a RingTensor, got ${describe(a)}.`, { op: "split" });
  const total =
    Array.isArray(sizes) && sizes.every((n) => Number.isInteger(n) && n >= 0) ? sizes.reduce((x, y) => x + y, 0) : -1;
  if (total !== a.size) {
    throw shapeError(
      `split: expected sizes of non-negative integers adding up to ${a.size} (the elements of ${fmtShape(a.shape)}), got ${describe(sizes)}.`,
      { op: "split", shape: [...a.shape] },
    );
  }
  let at = 0;
  return sizes.map((n) => new RingTensor(a.data.subarray(at, (at += n)), [n]));
}

/**
 * Permutes axes (default: reversed, i.e. the matrix transpose for rank 2).
 *
 * @example
 * ```ts
 * transpose(fromInts([1, 2, 3, 4, 5, 6], [2, 3])); // [[1, 4], [2, 5], [3, 6]]
 * transpose(x, [0, 2, 1]);                          // swap the last two axes
 * ```
 */
export function transpose(a: RingTensor, perm?: readonly number[]): RingTensor {
  const p = permutation(a.shape, perm);
  const strides = stridesOf(a.shape);
  const outShape = p.map((axis) => a.shape[axis]);
  return new RingTensor(
    stridedCopy(
      a.data,
      0,
      outShape,
      p.map((axis) => strides[axis]),
    ),
    outShape,
  );
}

/**
 * A box of `a`: `size[i]` elements from `begin[i]` on each axis (-1: to the end).
 * Shorter `begin`/`size` lists leave the remaining axes whole, as in tf.slice.
 *
 * @example
 * ```ts
 * slice(x, [1, 0], [2, -1]); // rows 1..2, all columns
 * ```
 */
export function slice(a: RingTensor, begin: readonly number[], sizes: readonly number[]): RingTensor {
  const bounds = sliceBounds(a.shape, begin, sizes);
  const strides = stridesOf(a.shape);
  const offset = bounds.begin.reduce((acc, b, i) => acc + b * strides[i], 0);
  return new RingTensor(stridedCopy(a.data, offset, bounds.size, strides), bounds.size);
}

/**
 * Joins tensors along `axis` (negative counts from the end); other dimensions must agree.
 *
 * @example
 * ```ts
 * concat([zeros([2, 3]), zeros([1, 3])], 0).shape; // [3, 3]
 * ```
 */
export function concat(list: readonly RingTensor[], axis: number): RingTensor {
  if (!Array.isArray(list) || list.length === 0 || !list.every((t) => t instanceof RingTensor)) {
    throw argumentError(`concat: expected a non-empty array of RingTensors, got ${describe(list)}.`, { op: "concat" });
  }
  const outShape = concatShape(
    list.map((t) => t.shape),
    axis,
  );
  const ax = normalizeAxis(axis, outShape.length, "concat");
  const outer = size(outShape.slice(0, ax));
  const inner = size(outShape.slice(ax + 1));
  const out = new BigInt64Array(size(outShape));
  let pos = 0;
  for (let o = 0; o < outer; o++) {
    for (const t of list) {
      const block = t.shape[ax] * inner;
      out.set(t.data.subarray(o * block, (o + 1) * block), pos);
      pos += block;
    }
  }
  return new RingTensor(out, outShape);
}

/**
 * Repeats `a` along unit and missing leading axes to `shape` (numpy's broadcast_to).
 *
 * @example
 * ```ts
 * broadcastTo(fromInts([1, 2], [2]), [3, 2]).shape; // [3, 2]
 * ```
 */
export function broadcastTo(a: RingTensor, shape: readonly number[]): RingTensor {
  const target = broadcastShape(a.shape, shape);
  if (a.size === size(target)) return new RingTensor(a.data, target);
  const strides = stridesOf(a.shape);
  const lead = target.length - a.rank;
  const srcStrides = target.map((_, i) => (i < lead || a.shape[i - lead] === 1 ? 0 : strides[i - lead]));
  return new RingTensor(stridedCopy(a.data, 0, target, srcStrides), target);
}

/**
 * Inserts a unit axis at `axis` (in [-(rank+1), rank]).
 *
 * @example
 * ```ts
 * expandDims(zeros([2, 3]), 0).shape;  // [1, 2, 3]
 * expandDims(zeros([2, 3]), -1).shape; // [2, 3, 1]
 * ```
 */
export function expandDims(a: RingTensor, axis: number): RingTensor {
  const ax = normalizeAxis(axis, a.rank, "expandDims", 1);
  const shape = [...a.shape];
  shape.splice(ax, 0, 1);
  return new RingTensor(a.data, shape);
}

/**
 * Picks entries `indices` along `axis` (as tf.gather with 1-D indices): the
 * result has `indices.length` in place of that axis.
 *
 * @example
 * ```ts
 * gather(fromInts([10, 20, 30], [3]), [2, 0], 0); // [30, 10]
 * ```
 */
export function gather(a: RingTensor, indices: ArrayLike<number>, axis: number): RingTensor {
  const ax = normalizeAxis(axis, a.rank, "gather");
  const dim = a.shape[ax];
  for (let t = 0; t < indices.length; t++) {
    const i = indices[t];
    if (!Number.isInteger(i) || i < 0 || i >= dim) {
      throw shapeError(
        `gather: index ${i} (position ${t}) is out of range for axis ${ax} of ${fmtShape(a.shape)}: ` +
          `expected an integer in [0, ${dim - 1}].`,
        { op: "gather", shape: [...a.shape], axis: ax },
      );
    }
  }
  const outShape = [...a.shape];
  outShape[ax] = indices.length;
  const outer = size(a.shape.slice(0, ax));
  const inner = size(a.shape.slice(ax + 1));
  const out = new BigInt64Array(size(outShape));
  const outWords = wordsOf(out);
  const srcWords = wordsOf(a.data);
  let pos = 0;
  for (let o = 0; o < outer; o++) {
    for (let t = 0; t < indices.length; t++) {
      const from = (o * dim + indices[t]) * inner;
      if (inner >= SHORT_RUN) {
        out.set(a.data.subarray(from, from + inner), pos);
      } else {
        for (let w = 2 * from, d = 2 * pos, end = 2 * (from + inner); w < end; w++, d++) outWords[d] = srcWords[w];
      }
      pos += inner;
    }
  }
  return new RingTensor(out, outShape);
}
