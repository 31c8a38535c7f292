/**
 * Output shapes of every op, computed on the client before anything is sent,
 * so that misuse throws at once (CONTRIBUTING.md, "Errors") and pointers, shared tensors and
 * plan placeholders know their shapes without asking a worker.
 */
import { ErrorCode, ProtocolError, fmtShape } from "../core/errors";
import { Op, type AttrsOf, type OpName } from "../core/ops";
import * as ring from "../ring";

type ShapeRule<O extends OpName> = (inputs: readonly (readonly number[])[], attrs: AttrsOf<O>) => number[];

const same: ShapeRule<OpName> = (inputs) => [...inputs[0]!];
const broadcast: ShapeRule<OpName> = (inputs) => ring.shapes.broadcast(inputs[0]!, inputs[1]!);

/** A convolution's input and filter, both of rank 4, or a SHAPE_MISMATCH naming the layout `op` expects. */
function rank4Operands(inputs: readonly (readonly number[])[], op: string, last: string): [number[], number[]] {
  const [x, w] = inputs as [number[], number[]];
  if (x.length !== 4 || w.length !== 4) {
    throw new ProtocolError(
      ErrorCode.SHAPE_MISMATCH,
      `${op} expects an input [batch, height, width, channels] and a filter [height, width, inChannels, ${last}], got ${fmtShape(x)} and ${fmtShape(w)}.`,
    );
  }
  return [x, w];
}

const rules: { [O in OpName]: ShapeRule<O> } = {
  [Op.Add]: broadcast,
  [Op.Sub]: broadcast,
  [Op.Mul]: broadcast,
  [Op.Lt]: broadcast,
  [Op.Gt]: broadcast,
  [Op.Le]: broadcast,
  [Op.Ge]: broadcast,
  [Op.Eq]: broadcast,
  [Op.Neg]: same,
  [Op.Relu]: same,
  [Op.Copy]: same,
  [Op.Div]: same,
  [Op.MatMul]: (inputs) => ring.shapes.matmul(inputs[0]!, inputs[1]!),
  [Op.Conv2d]: (inputs, attrs) => ring.shapes.conv2d(...rank4Operands(inputs, "conv2d", "outChannels"), attrs),
  [Op.DepthwiseConv2d]: (inputs, attrs) =>
    ring.shapes.depthwiseConv2d(...rank4Operands(inputs, "depthwiseConv2d", "channelMultiplier"), attrs),
  [Op.Sum]: (inputs, attrs) => ring.shapes.sum(inputs[0]!, attrs.axes ?? undefined, attrs.keepDims),
  [Op.Mean]: (inputs, attrs) => ring.shapes.sum(inputs[0]!, attrs.axes ?? undefined, attrs.keepDims),
  [Op.Reshape]: (inputs, attrs) => ring.shapes.reshape(inputs[0]!, attrs.shape),
  [Op.Transpose]: (inputs, attrs) => ring.shapes.transpose(inputs[0]!, attrs.perm ?? undefined),
  [Op.Slice]: (inputs, attrs) => ring.shapes.slice(inputs[0]!, attrs.begin, attrs.size),
  [Op.Concat]: (inputs, attrs) => ring.shapes.concat(inputs, attrs.axis),
  [Op.MaxPool2d]: (inputs, attrs) => ring.shapes.pool(inputs[0]!, attrs),
  [Op.AvgPool2d]: (inputs, attrs) => ring.shapes.pool(inputs[0]!, attrs),
  [Op.ArgMax]: (inputs, attrs) => {
    const x = inputs[0]!;
    const axis = attrs.axis < 0 ? attrs.axis + x.length : attrs.axis;
    if (!(axis >= 0 && axis < x.length)) {
      throw new ProtocolError(
        ErrorCode.INVALID_ARGUMENT,
        `argmax: axis ${attrs.axis} is out of range for a tensor of shape ${fmtShape(x)}.`,
      );
    }
    return x.filter((_, i) => i !== axis);
  },
};

/** The output shape of `op` on inputs of the given shapes; throws on misuse. */
export function inferShape<O extends OpName>(
  op: O,
  inputs: readonly (readonly number[])[],
  attrs: AttrsOf<O>,
): number[] {
  return (rules[op] as ShapeRule<O>)(inputs, attrs);
}
