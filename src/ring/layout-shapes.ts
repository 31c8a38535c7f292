/**
 * Shapes of ops that move or reduce axes: transpose, sum, concat, slice and
 * reshape.
 */
import { fmtShape } from "../core/errors";
import { argumentError, describe, normalizeAxis, shapeError, size, type Shape } from "./shape-basics";

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
