/**
 * The L2 sensitivity of an asset query (slices, then sums and means over
 * axes), from the asset's value bounds and its rows' data subjects.
 *
 * Neighbouring datasets differ in one data subject's rows, each value moving
 * anywhere within [min, max] (range = max - min): the dataset's size is public,
 * so a mean is its sum divided by a public count. With k the most rows one
 * subject has (among the rows the query keeps), m the number of elements of one
 * row that each output entry adds up (the product of the reduced non-row axes)
 * and K the number of output entries per row position:
 *
 * - rows reduced (a sum over axis 0, or over all): each output entry moves by at
 *   most k * m * range, and all K entries may: L2 = range * k * m * sqrt(K);
 * - rows kept: the subject's k rows move m-element sums in K entries each:
 *   L2 = range * m * sqrt(k * K);
 * - then each mean divides by the extent of the axes it averaged.
 *
 * Sums of sums are one sum over the union of their axes, so a chain of
 * reductions is accounted exactly; a slice after a reduction narrows K.
 *
 * @example
 * ```ts
 * // 400 images of 50x50x3 in [0, 1], at most 60 per patient: the mean image
 * querySensitivity({ min: 0, max: 1, shape: [400, 50, 50, 3], subjects }, [{ op: "mean", axis: [0] }]);
 * // = 1 * 60 * 1 * sqrt(7500) / 400
 * ```
 */
import type { DataSubject } from "../dp/private";
import type { RemoteOp } from "./remote-ops";

export interface SensitivityInput {
  min: number;
  max: number;
  shape: readonly number[];
  /** The data subject of each row. */
  subjects: readonly DataSubject[];
}

/**
 * The L2 sensitivity of `ops` applied to the asset.
 *
 * @example
 * ```ts
 * querySensitivity({ min: 0, max: 1, shape: [3, 2], subjects: ["a", "a", "b"] }, [{ op: "sum" }]);   // 2 * 2 = 4
 * ```
 */
export function querySensitivity(asset: SensitivityInput, ops: readonly RemoteOp[]): number {
  let axes = asset.shape.map((extent, original) => ({ original, extent }));
  let rows = [...asset.subjects];
  let k: number | undefined; // set once the rows are reduced
  let m = 1;
  let scale = 1;
  for (const op of ops) {
    if (op.op === "slice") {
      axes = axes.map((axis, i) => {
        if (i >= op.begin.length) return axis;
        if (axis.original === 0) rows = rows.slice(op.begin[i], op.begin[i]! + op.size[i]!);
        return { ...axis, extent: op.size[i]! };
      });
      continue;
    }
    const reduced = op.axis === undefined ? axes.map((_, i) => i) : op.axis;
    for (const i of reduced) {
      const axis = axes[i]!;
      if (axis.original === 0) k = maxRowsPerSubject(rows);
      else m *= axis.extent;
      if (op.op === "mean") scale /= Math.max(1, axis.extent);
    }
    axes = axes.filter((_, i) => !reduced.includes(i));
  }
  const K = axes.filter((a) => a.original !== 0).reduce((p, a) => p * a.extent, 1);
  const range = asset.max - asset.min;
  const l2 = k === undefined ? range * m * Math.sqrt(maxRowsPerSubject(rows) * K) : range * k * m * Math.sqrt(K);
  return l2 * scale;
}

/**
 * The most rows any one data subject has.
 *
 * @example
 * ```ts
 * maxRowsPerSubject(["a", "b", "a"]);   // 2
 * ```
 */
export function maxRowsPerSubject(subjects: readonly DataSubject[]): number {
  const counts = new Map<DataSubject, number>();
  let most = 0;
  for (const s of subjects) {
    const n = (counts.get(s) ?? 0) + 1;
    counts.set(s, n);
    if (n > most) most = n;
  }
  return most;
}
