/**
 * Sums over axes.
 */
import { kernels } from "./kernels";
import { reductionAxes, sum as sumShape } from "./layout-shapes";
import { size } from "./shape-basics";
import { RingTensor } from "./tensor";

/**
 * Sum mod 2^64 over `axes` (a number, a list, or all axes when omitted);
 * `keepDims` keeps reduced axes as 1s.
 *
 * @example
 * ```ts
 * sum(fromInts([1, 2, 3, 4, 5, 6], [2, 3]), 1);   // [6, 15]
 * sum(fromInts([1, 2, 3, 4, 5, 6], [2, 3]));      // 21 (shape [])
 * ```
 */
export function sum(a: RingTensor, axes?: number | number[], keepDims = false): RingTensor {
  const reduced = reductionAxes(a.shape, axes, "sum");
  const outShape = sumShape(a.shape, reduced, keepDims);
  let data = a.data;
  let shape = [...a.shape];
  // From the last axis down, merging runs of neighbouring reduced axes into one call.
  for (let i = reduced.length - 1; i >= 0;) {
    let first = i;
    while (first > 0 && reduced[first - 1] === reduced[first] - 1) first--;
    const lo = reduced[first];
    const hi = reduced[i];
    const r = size(shape.slice(lo, hi + 1));
    data = kernels().sumAxis(data, size(shape.slice(0, lo)), r, size(shape.slice(hi + 1)));
    shape = [...shape.slice(0, lo), ...shape.slice(hi + 1)];
    i = first - 1;
  }
  return new RingTensor(data, outShape);
}
