/**
 * Every op on plaintext TensorFlow.js tensors: what pointers run on a worker,
 * what plans run on plaintext, and the oracle of the validation mode.
 * Comparisons and argmax yield float32 (0/1, indices) as their secure
 * counterparts do, so one plan gives the same values on both.
 */
import type * as tfjs from "@tensorflow/tfjs";
import { ErrorCode, ProtocolError } from "../core/errors";
import { Op, type AttrsOf, type OpName } from "../core/ops";

export type TF = typeof tfjs;
type PlainOp<O extends OpName> = (tf: TF, inputs: readonly tfjs.Tensor[], attrs: AttrsOf<O>) => tfjs.Tensor;

const f32 = (t: tfjs.Tensor) => (t.dtype === "float32" ? t : t.cast("float32"));

export const plainOps: { [O in OpName]: PlainOp<O> } = {
  [Op.Add]: (tf, [a, b]) => tf.add(a!, b!),
  [Op.Sub]: (tf, [a, b]) => tf.sub(a!, b!),
  [Op.Neg]: (tf, [a]) => tf.neg(a!),
  [Op.Mul]: (tf, [a, b]) => tf.mul(a!, b!),
  [Op.MatMul]: (tf, [a, b]) => tf.matMul(a as tfjs.Tensor2D, b as tfjs.Tensor2D),
  [Op.Conv2d]: (tf, [x, w], attrs) =>
    tf.conv2d(x as tfjs.Tensor4D, w as tfjs.Tensor4D, attrs.strides, attrs.padding, "NHWC", attrs.dilations),
  [Op.Sum]: (tf, [x], attrs) => tf.sum(x!, attrs.axes ?? undefined, attrs.keepDims),
  [Op.Mean]: (tf, [x], attrs) => tf.mean(x!, attrs.axes ?? undefined, attrs.keepDims),
  [Op.Reshape]: (tf, [x], attrs) => tf.reshape(x!, attrs.shape),
  [Op.Transpose]: (tf, [x], attrs) => tf.transpose(x!, attrs.perm ?? undefined),
  [Op.Slice]: (tf, [x], attrs) => tf.slice(x!, attrs.begin, attrs.size),
  [Op.Concat]: (tf, inputs, attrs) => tf.concat([...inputs], attrs.axis),
  [Op.Div]: (tf, [x], attrs) => tf.div(x!, attrs.divisor),
  [Op.Lt]: (tf, [a, b]) => f32(tf.less(a!, b!)),
  [Op.Gt]: (tf, [a, b]) => f32(tf.greater(a!, b!)),
  [Op.Le]: (tf, [a, b]) => f32(tf.lessEqual(a!, b!)),
  [Op.Ge]: (tf, [a, b]) => f32(tf.greaterEqual(a!, b!)),
  [Op.Eq]: (tf, [a, b]) => f32(tf.equal(a!, b!)),
  [Op.Relu]: (tf, [x]) => tf.relu(x!),
  [Op.MaxPool2d]: (tf, [x], attrs) => tf.maxPool(x as tfjs.Tensor4D, attrs.filterSize, attrs.strides, attrs.padding),
  [Op.AvgPool2d]: (tf, [x], attrs) => tf.avgPool(x as tfjs.Tensor4D, attrs.filterSize, attrs.strides, attrs.padding),
  [Op.ArgMax]: (tf, [x], attrs) => f32(tf.argMax(x!, attrs.axis)),
  [Op.Copy]: (tf, [x]) => tf.clone(x!),
};

/** Runs `op` on plaintext tensors (inside tf.tidy: intermediates are freed). */
export function runPlainOp<O extends OpName>(
  tf: TF,
  op: O,
  inputs: readonly tfjs.Tensor[],
  attrs: AttrsOf<O>,
): tfjs.Tensor {
  const impl = plainOps[op] as PlainOp<O> | undefined;
  if (!impl) throw new ProtocolError(ErrorCode.UNSUPPORTED_OP, `No plaintext kernel for op "${op}".`);
  return tf.tidy(() => impl(tf, inputs, attrs));
}
