/**
 * Every op on plaintext TensorFlow.js tensors: what pointers run on a worker,
 * what plans run on plaintext, and the oracle of the validation mode.
 * Comparisons and argmax yield float32 (0/1, indices) as their secure
 * counterparts do, so one plan gives the same values on both.
 */
import type * as tfjs from "@tensorflow/tfjs";
import { ErrorCode, ProtocolError, fmtShape } from "../core/errors";
import { checkLimit } from "../core/limits";
import { Op, isOpName, type AttrsOf, type OpName } from "../core/ops";
import { inferShape } from "./shape-inference";

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
  [Op.DepthwiseConv2d]: (tf, [x, w], attrs) =>
    tf.depthwiseConv2d(x as tfjs.Tensor4D, w as tfjs.Tensor4D, attrs.strides, attrs.padding, "NHWC", attrs.dilations),
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

/**
 * `runPlainOp` for a worker computing on someone else's behalf: it first
 * checks from the shapes that the output is within `maxOpElements`
 * (checkOpOutput), so a small request cannot make a node compute for
 * seconds and allocate gigabytes. A user's own local runs are not limited.
 *
 * @example
 * ```ts
 * runPlainOpWithinLimits(tf, Op.Add, [a, b], {});   // TSYFT_ERR_LIMIT for [10000, 1] + [1, 10000]
 * ```
 */
export function runPlainOpWithinLimits<O extends OpName>(
  tf: TF,
  op: O,
  inputs: readonly tfjs.Tensor[],
  attrs: AttrsOf<O>,
): tfjs.Tensor {
  checkOpOutput(
    op,
    attrs,
    inputs.map((t) => t.shape),
  );
  return runPlainOp(tf, op, inputs, attrs);
}

/**
 * Throws TSYFT_ERR_LIMIT (`maxOpElements`) when `op` on inputs of these
 * shapes would make more elements than a worker computes for one op, and
 * SHAPE_MISMATCH when the shapes do not fit the op; nothing is computed.
 * A broadcast of [10000, 1] + [1, 10000] (80 KB of inputs) would make 10^8.
 *
 * @example
 * ```ts
 * checkOpOutput(Op.Add, {}, [[10000, 1], [1, 10000]]);   // throws TSYFT_ERR_LIMIT
 * ```
 */
export function checkOpOutput<O extends OpName>(
  op: O,
  attrs: AttrsOf<O>,
  inputShapes: readonly (readonly number[])[],
): number[] {
  if (!isOpName(op)) throw new ProtocolError(ErrorCode.UNSUPPORTED_OP, `Unknown op ${JSON.stringify(op)}.`);
  const shape = inferShape(op, inputShapes, attrs);
  const elements = shape.reduce((n, d) => n * d, 1);
  checkLimit("maxOpElements", elements, `elements in the output ${fmtShape(shape)} of ${op}`);
  return shape;
}
