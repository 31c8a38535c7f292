/**
 * `sy.F`: ops as functions over any tensor type (PySyft's `F`, torch.nn.functional).
 * Each dispatches to the highest-ranked operand type, so it works on tf
 * tensors, fixed-precision and shared tensors, pointers and plan placeholders.
 * The result is a tf tensor when every operand is plaintext, else a tsyft tensor.
 *
 * @example
 * ```ts
 * const y = sy.F.relu(sy.F.linear(xSh, w, b));   // secure if xSh is shared
 * ```
 */
import { Op, type Padding } from "../core/ops";
import {
  argmax,
  conv2d,
  depthwiseConv2d,
  dispatch,
  matmul,
  pool2d,
  poolAttrs,
  type Conv2dOptions,
  type OpResult,
  type Operand,
  type AnyTensor,
} from "./base";

const axesAttr = (axes: number | number[] | undefined) => (axes === undefined ? null : ([] as number[]).concat(axes));

export const F = {
  add: <A extends Operand, B extends Operand>(a: A, b: B) => dispatch(Op.Add, [a, b], {}) as OpResult<A | B>,
  sub: <A extends Operand, B extends Operand>(a: A, b: B) => dispatch(Op.Sub, [a, b], {}) as OpResult<A | B>,
  mul: <A extends Operand, B extends Operand>(a: A, b: B) => dispatch(Op.Mul, [a, b], {}) as OpResult<A | B>,
  neg: <A extends AnyTensor>(a: A) => dispatch(Op.Neg, [a], {}) as OpResult<A>,
  /** torch.matmul: 1-D operands are promoted (vector·vector gives a scalar). */
  matmul: <A extends AnyTensor, B extends AnyTensor>(a: A, b: B) => matmul(a, b) as OpResult<A | B>,
  /** conv2d in TensorFlow.js layout: x [N,H,W,C], filter [KH,KW,C,OC]. */
  conv2d: <A extends AnyTensor, B extends AnyTensor>(x: A, filter: B, options?: Conv2dOptions) =>
    conv2d(x, filter, options) as OpResult<A | B>,
  /** tf.depthwiseConv2d: x [N,H,W,C], filter [KH,KW,C,M] -> [N,OH,OW,C*M], channel c*M+m from input channel c. */
  depthwiseConv2d: <A extends AnyTensor, B extends AnyTensor>(x: A, filter: B, options?: Conv2dOptions) =>
    depthwiseConv2d(x, filter, options) as OpResult<A | B>,
  /** torch.nn.functional.linear: x · weightᵀ + bias, weight [out, in]. */
  linear: <A extends AnyTensor, B extends AnyTensor, C extends Operand = never>(x: A, weight: B, bias?: C) => {
    const y = matmul(x, dispatch(Op.Transpose, [weight], { perm: null }));
    return (bias === undefined ? y : dispatch(Op.Add, [y, bias], {})) as OpResult<A | B | C>;
  },
  relu: <A extends AnyTensor>(x: A) => dispatch(Op.Relu, [x], {}) as OpResult<A>,
  maxPool2d: <A extends AnyTensor>(
    x: A,
    filterSize: number | [number, number],
    strides?: number | [number, number],
    padding: Padding = "valid",
  ) => pool2d(Op.MaxPool2d, x, poolAttrs(filterSize, strides, padding)) as OpResult<A>,
  avgPool2d: <A extends AnyTensor>(
    x: A,
    filterSize: number | [number, number],
    strides?: number | [number, number],
    padding: Padding = "valid",
  ) => pool2d(Op.AvgPool2d, x, poolAttrs(filterSize, strides, padding)) as OpResult<A>,
  /** PySyft's argmax: along `axis`, or with no axis the index into the flattened tensor. */
  argmax: <A extends AnyTensor>(x: A, axis?: number) => argmax(x, axis) as OpResult<A>,
  sum: <A extends AnyTensor>(x: A, axes?: number | number[], keepDims = false) =>
    dispatch(Op.Sum, [x], { axes: axesAttr(axes), keepDims }) as OpResult<A>,
  mean: <A extends AnyTensor>(x: A, axes?: number | number[], keepDims = false) =>
    dispatch(Op.Mean, [x], { axes: axesAttr(axes), keepDims }) as OpResult<A>,
  reshape: <A extends AnyTensor>(x: A, shape: readonly number[]) =>
    dispatch(Op.Reshape, [x], { shape: [...shape] }) as OpResult<A>,
  /** Keeps the first (batch) axis and flattens the rest, like Keras' Flatten; any batch size fits. */
  flatten: <A extends AnyTensor>(x: A) =>
    dispatch(Op.Reshape, [x], { shape: [-1, x.shape.slice(1).reduce((a, b) => a * b, 1)] }) as OpResult<A>,
  transpose: <A extends AnyTensor>(x: A, perm?: readonly number[]) =>
    dispatch(Op.Transpose, [x], { perm: perm ? [...perm] : null }) as OpResult<A>,
  slice: <A extends AnyTensor>(x: A, begin: readonly number[], size: readonly number[]) =>
    dispatch(Op.Slice, [x], { begin: [...begin], size: [...size] }) as OpResult<A>,
  concat: <A extends AnyTensor>(xs: readonly A[], axis = 0) => dispatch(Op.Concat, xs, { axis }) as OpResult<A>,
  div: <A extends AnyTensor>(x: A, divisor: number) => dispatch(Op.Div, [x], { divisor }) as OpResult<A>,
  lt: <A extends Operand, B extends Operand>(a: A, b: B) => dispatch(Op.Lt, [a, b], {}) as OpResult<A | B>,
  gt: <A extends Operand, B extends Operand>(a: A, b: B) => dispatch(Op.Gt, [a, b], {}) as OpResult<A | B>,
  le: <A extends Operand, B extends Operand>(a: A, b: B) => dispatch(Op.Le, [a, b], {}) as OpResult<A | B>,
  ge: <A extends Operand, B extends Operand>(a: A, b: B) => dispatch(Op.Ge, [a, b], {}) as OpResult<A | B>,
  eq: <A extends Operand, B extends Operand>(a: A, b: B) => dispatch(Op.Eq, [a, b], {}) as OpResult<A | B>,
};
