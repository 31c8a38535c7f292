/**
 * `sy.F`: ops as functions over any tensor type (PySyft's `F`, torch.nn.functional).
 * Each dispatches to the highest-ranked operand type, so it works on tf
 * tensors, fixed-precision and shared tensors, pointers and plan placeholders.
 *
 * @example
 * ```ts
 * const y = sy.F.relu(sy.F.linear(xSh, w, b));   // secure if xSh is shared
 * ```
 */
import { Op, type Padding } from "../core/ops";
import { conv2d, dispatch, matmul, poolAttrs, type Conv2dOptions, type Operand, type TensorLike } from "./base";

export const F = {
  add: (a: Operand, b: Operand) => dispatch(Op.Add, [a, b], {}),
  sub: (a: Operand, b: Operand) => dispatch(Op.Sub, [a, b], {}),
  mul: (a: Operand, b: Operand) => dispatch(Op.Mul, [a, b], {}),
  neg: (a: TensorLike) => dispatch(Op.Neg, [a], {}),
  /** torch.matmul: 1-D operands are promoted (vector·vector gives a scalar). */
  matmul,
  /** conv2d in TensorFlow.js layout: x [N,H,W,C], filter [KH,KW,C,OC]. */
  conv2d: (x: TensorLike, filter: TensorLike, options?: Conv2dOptions) => conv2d(x, filter, options),
  /** torch.nn.functional.linear: x · weightᵀ + bias, weight [out, in]. */
  linear: (x: TensorLike, weight: TensorLike, bias?: Operand) => {
    const y = matmul(x, dispatch(Op.Transpose, [weight], { perm: null }));
    return bias === undefined ? y : dispatch(Op.Add, [y, bias], {});
  },
  relu: (x: TensorLike) => dispatch(Op.Relu, [x], {}),
  maxPool2d: (x: TensorLike, filterSize: number | [number, number], strides?: number | [number, number], padding: Padding = "valid") =>
    dispatch(Op.MaxPool2d, [x], poolAttrs(filterSize, strides, padding)),
  avgPool2d: (x: TensorLike, filterSize: number | [number, number], strides?: number | [number, number], padding: Padding = "valid") =>
    dispatch(Op.AvgPool2d, [x], poolAttrs(filterSize, strides, padding)),
  argmax: (x: TensorLike, axis = -1) => dispatch(Op.ArgMax, [x], { axis }),
  sum: (x: TensorLike, axes?: number | number[], keepDims = false) =>
    dispatch(Op.Sum, [x], { axes: axes === undefined ? null : ([] as number[]).concat(axes), keepDims }),
  mean: (x: TensorLike, axes?: number | number[], keepDims = false) =>
    dispatch(Op.Mean, [x], { axes: axes === undefined ? null : ([] as number[]).concat(axes), keepDims }),
  reshape: (x: TensorLike, shape: readonly number[]) => dispatch(Op.Reshape, [x], { shape: [...shape] }),
  /** Keeps the first (batch) axis and flattens the rest, like Keras' Flatten; any batch size fits. */
  flatten: (x: TensorLike) => dispatch(Op.Reshape, [x], { shape: [-1, x.shape.slice(1).reduce((a, b) => a * b, 1)] }),
  transpose: (x: TensorLike, perm?: readonly number[]) => dispatch(Op.Transpose, [x], { perm: perm ? [...perm] : null }),
  slice: (x: TensorLike, begin: readonly number[], size: readonly number[]) => dispatch(Op.Slice, [x], { begin: [...begin], size: [...size] }),
  concat: (xs: readonly TensorLike[], axis = 0) => dispatch(Op.Concat, xs, { axis }),
  div: (x: TensorLike, divisor: number) => dispatch(Op.Div, [x], { divisor }),
  lt: (a: Operand, b: Operand) => dispatch(Op.Lt, [a, b], {}),
  gt: (a: Operand, b: Operand) => dispatch(Op.Gt, [a, b], {}),
  le: (a: Operand, b: Operand) => dispatch(Op.Le, [a, b], {}),
  ge: (a: Operand, b: Operand) => dispatch(Op.Ge, [a, b], {}),
  eq: (a: Operand, b: Operand) => dispatch(Op.Eq, [a, b], {}),
};
