/**
 * One op surface for every tensor type, and the dispatch between them.
 *
 * tsyft's tensor types (fixed precision over local values or shares,
 * pointers, plan placeholders) extend `TsyftTensor`: their op methods are thin
 * forwards to `dispatch`, which hands an op to the operand whose type ranks
 * highest (placeholder > fixed precision > pointer > TensorFlow.js tensor or
 * number). So one `forward` runs on plaintext, on shares, through pointers
 * and while a plan is traced. Method names follow TensorFlow.js
 * (`matMul`, `less`, `argMax`) and PySyft (`matmul`, `lt`, `argmax`) alike.
 */
import type * as tfjs from "@tensorflow/tfjs";
import { ErrorCode, ProtocolError, fmtShape } from "../core/errors";
import { Op, pair, type AttrsOf, type Conv2dOptions, type OpName, type Padding } from "../core/ops";

/** Any tensor: a TensorFlow.js tensor or one of tsyft's. */
export type AnyTensor = tfjs.Tensor | TsyftTensor;
/** Anything an op accepts as an operand. */
export type Operand = AnyTensor | number;
/**
 * What a plan's `forward` receives and returns: tsyft tensors (placeholders
 * while tracing; fixed-precision, shared or pointer tensors when run op by
 * op). They accept tf tensors and numbers as operands.
 */
export type TensorLike = TsyftTensor;
/** An op's result type: a tf tensor when every operand is plaintext, else a tsyft tensor. */
export type OpResult<T> = [T] extends [tfjs.Tensor | number] ? tfjs.Tensor : TsyftTensor;

export type { Conv2dOptions } from "../core/ops";

export abstract class TsyftTensor {
  /** Dispatch rank: the highest-ranked operand type runs the op. */
  abstract readonly priority: number;
  abstract readonly shape: readonly number[];

  /** Runs `op` on operands of which at least one is of this type. Internal: use the op methods or `sy.F`. */
  abstract applyOp<O extends OpName>(op: O, operands: readonly Operand[], attrs: AttrsOf<O>): TsyftTensor;

  get rank(): number {
    return this.shape.length;
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  add(other: Operand): this {
    return dispatch(Op.Add, [this, other], {}) as this;
  }
  sub(other: Operand): this {
    return dispatch(Op.Sub, [this, other], {}) as this;
  }
  neg(): this {
    return dispatch(Op.Neg, [this], {}) as this;
  }
  mul(other: Operand): this {
    return dispatch(Op.Mul, [this, other], {}) as this;
  }
  /** Matrix product with torch's rules for 1-D operands (vector·vector gives a scalar). */
  matmul(other: AnyTensor): this {
    return matmul(this, other) as this;
  }
  matMul(other: AnyTensor): this {
    return this.matmul(other);
  }
  conv2d(filter: AnyTensor, options: Conv2dOptions = {}): this {
    return conv2d(this, filter, options) as this;
  }
  sum(axes?: number | number[], keepDims = false): this {
    return dispatch(Op.Sum, [this], { axes: axesAttr(axes), keepDims }) as this;
  }
  mean(axes?: number | number[], keepDims = false): this {
    return dispatch(Op.Mean, [this], { axes: axesAttr(axes), keepDims }) as this;
  }
  reshape(shape: readonly number[]): this {
    return dispatch(Op.Reshape, [this], { shape: [...shape] }) as this;
  }
  /** All elements in one axis (torch's flatten()). */
  flatten(): this {
    return this.reshape([-1]);
  }
  /** Alias of reshape, as in PySyft (`x.view(-1, 784)`). */
  view(...shape: number[]): this {
    return this.reshape(shape);
  }
  /** Reshaped to `other`'s shape (PySyft's `target.view_as(pred)`). */
  viewAs(other: AnyTensor): this {
    return this.reshape(shapeOf(other));
  }
  transpose(perm?: readonly number[]): this {
    return dispatch(Op.Transpose, [this], { perm: perm ? [...perm] : null }) as this;
  }
  slice(begin: readonly number[], size: readonly number[]): this {
    return dispatch(Op.Slice, [this], { begin: [...begin], size: [...size] }) as this;
  }
  /** Division by a public number. */
  div(divisor: number): this {
    if (typeof divisor !== "number") {
      throw new ProtocolError(
        ErrorCode.UNSUPPORTED_OP,
        "div: only division by a public number is supported; to divide by a secret, multiply by its inverse computed in plaintext by its owner.",
      );
    }
    return dispatch(Op.Div, [this], { divisor }) as this;
  }
  lt(other: Operand): this {
    return dispatch(Op.Lt, [this, other], {}) as this;
  }
  gt(other: Operand): this {
    return dispatch(Op.Gt, [this, other], {}) as this;
  }
  le(other: Operand): this {
    return dispatch(Op.Le, [this, other], {}) as this;
  }
  ge(other: Operand): this {
    return dispatch(Op.Ge, [this, other], {}) as this;
  }
  eq(other: Operand): this {
    return dispatch(Op.Eq, [this, other], {}) as this;
  }
  less(other: Operand): this {
    return this.lt(other);
  }
  greater(other: Operand): this {
    return this.gt(other);
  }
  lessEqual(other: Operand): this {
    return this.le(other);
  }
  greaterEqual(other: Operand): this {
    return this.ge(other);
  }
  equal(other: Operand): this {
    return this.eq(other);
  }
  relu(): this {
    return dispatch(Op.Relu, [this], {}) as this;
  }
  maxPool2d(
    filterSize: number | [number, number],
    strides?: number | [number, number],
    padding: Padding = "valid",
  ): this {
    return pool2d(Op.MaxPool2d, this, poolAttrs(filterSize, strides, padding)) as this;
  }
  avgPool2d(
    filterSize: number | [number, number],
    strides?: number | [number, number],
    padding: Padding = "valid",
  ): this {
    return pool2d(Op.AvgPool2d, this, poolAttrs(filterSize, strides, padding)) as this;
  }
  /** PySyft's argmax: along `axis`; with no axis, the index into the flattened tensor (as torch.argmax(x)). */
  argmax(axis?: number): this {
    return argmax(this, axis) as this;
  }
  /** TensorFlow.js's argMax: along `axis`, the first axis by default (as tf.argMax(x)). */
  argMax(axis = 0): this {
    return argmax(this, axis) as this;
  }
}

/** The shape of any operand (a number is a scalar). */
export function shapeOf(operand: Operand): readonly number[] {
  if (typeof operand === "number") return [];
  if (operand && Array.isArray((operand as { shape?: unknown }).shape)) return (operand as { shape: number[] }).shape;
  throw new ProtocolError(
    ErrorCode.INVALID_ARGUMENT,
    `Expected a tensor or a number as operand, got ${describe(operand)}.`,
  );
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return (value as object).constructor?.name ?? "object";
  return typeof value;
}

/** Plaintext kernels, set by the hook: the fallback when no operand is a tsyft tensor. */
let plainBackend:
  (<O extends OpName>(op: O, operands: readonly Operand[], attrs: AttrsOf<O>) => tfjs.Tensor) | undefined;

export function setPlainBackend(backend: typeof plainBackend): void {
  plainBackend = backend;
}

/** Hands `op` to the highest-ranked operand type. */
export function dispatch<O extends OpName>(op: O, operands: readonly Operand[], attrs: AttrsOf<O>): AnyTensor {
  let lead: TsyftTensor | undefined;
  for (const operand of operands) {
    if (operand instanceof TsyftTensor && (!lead || operand.priority > lead.priority)) lead = operand;
  }
  if (lead) return lead.applyOp(op, operands, attrs);
  if (!plainBackend) {
    throw new ProtocolError(
      ErrorCode.INVALID_ARGUMENT,
      `sy.F.${op} on plaintext tensors needs the hook: call sy.hook(tf) first.`,
    );
  }
  return plainBackend(op, operands, attrs);
}

function axesAttr(axes: number | number[] | undefined): number[] | null {
  return axes === undefined ? null : typeof axes === "number" ? [axes] : [...axes];
}

export function poolAttrs(
  filterSize: number | [number, number],
  strides: number | [number, number] | undefined,
  padding: Padding,
) {
  const size = pair(filterSize, 1);
  return { filterSize: size, strides: strides === undefined ? size : pair(strides, 1), padding };
}

/** torch.matmul's rules: 1-D operands are promoted to matrices and the added axis removed. */
export function matmul(a: AnyTensor, b: AnyTensor): AnyTensor {
  const sa = shapeOf(a);
  const sb = shapeOf(b);
  if (sa.length === 0 || sb.length === 0) {
    throw new ProtocolError(
      ErrorCode.SHAPE_MISMATCH,
      `matmul needs operands of rank 1 or more, got ${fmtShape(sa)} and ${fmtShape(sb)}; use mul for scalars.`,
    );
  }
  const a2 = sa.length === 1 ? dispatch(Op.Reshape, [a], { shape: [1, sa[0]!] }) : a;
  const b2 = sb.length === 1 ? dispatch(Op.Reshape, [b], { shape: [sb[0]!, 1] }) : b;
  const product = dispatch(Op.MatMul, [a2, b2], {});
  if (sa.length > 1 && sb.length > 1) return product;
  const outShape = [...shapeOf(product)];
  // Drop the axes the promotion added: the last one for b, the row axis for a.
  if (sb.length === 1) outShape.splice(outShape.length - 1, 1);
  if (sa.length === 1) outShape.splice(outShape.length - (sb.length === 1 ? 1 : 2), 1);
  return dispatch(Op.Reshape, [product], { shape: outShape });
}

/**
 * argmax along `axis`, or over all elements (the index into the flattened tensor, a scalar) when `axis` is
 * undefined: PySyft's and torch's `argmax()`.
 */
export function argmax(x: AnyTensor, axis?: number): AnyTensor {
  if (axis !== undefined) return dispatch(Op.ArgMax, [x], { axis });
  return dispatch(Op.ArgMax, [dispatch(Op.Reshape, [x], { shape: [-1] })], { axis: 0 });
}

/** 2-D pooling over NHWC, or over one HWC image as tf.maxPool / tf.avgPool accept (a batch of one, then unwrapped). */
export function pool2d(
  op: typeof Op.MaxPool2d | typeof Op.AvgPool2d,
  x: AnyTensor,
  attrs: ReturnType<typeof poolAttrs>,
) {
  const shape = shapeOf(x);
  if (shape.length !== 3) return dispatch(op, [x], attrs);
  const pooled = dispatch(op, [dispatch(Op.Reshape, [x], { shape: [1, ...shape] })], attrs);
  return dispatch(Op.Reshape, [pooled], { shape: shapeOf(pooled).slice(1) });
}

/** conv2d's or depthwiseConv2d's options normalized to the attributes plans record (padding "valid" by default). */
function convAttrs(options: Conv2dOptions): AttrsOf<typeof Op.Conv2d> {
  return {
    strides: pair(options.strides, 1),
    padding: options.padding ?? "valid",
    dilations: pair(options.dilations, 1),
  };
}

export function conv2d(x: AnyTensor, filter: AnyTensor, options: Conv2dOptions = {}): AnyTensor {
  return dispatch(Op.Conv2d, [x, filter], convAttrs(options));
}

/** tf.depthwiseConv2d over any tensor type: x [N,H,W,C], filter [KH,KW,C,M] -> [N,OH,OW,C*M]. */
export function depthwiseConv2d(x: AnyTensor, filter: AnyTensor, options: Conv2dOptions = {}): AnyTensor {
  return dispatch(Op.DepthwiseConv2d, [x, filter], convAttrs(options));
}
