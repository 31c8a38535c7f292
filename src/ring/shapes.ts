/**
 * Shape inference for ring ops, without data: the `shapes` namespace.
 *
 * Upper layers call these to validate operands before anything is sent to a
 * party; the ring ops call the same functions, so a shape accepted here is a
 * shape the op accepts. The rules live by concern: shape-basics.ts (checks,
 * sizes, errors), broadcast-shapes.ts (elementwise and matmul),
 * window-shapes.ts (conv and pooling), layout-shapes.ts (transpose, sum,
 * concat, slice, reshape).
 */
import { broadcast, matmul } from "./broadcast-shapes";
import { concat, reshape, slice, sum, transpose } from "./layout-shapes";
import { size, type Shape } from "./shape-basics";
import { conv2d, depthwiseConv2d, pool } from "./window-shapes";

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
  depthwiseConv2d,
  pool,
  transpose,
  sum,
  concat,
  slice,
  reshape,
  size,
} as const;
