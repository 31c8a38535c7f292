/**
 * What a share holder runs for each op: the typed registry from op names to
 * protocols. Every holder runs the same entry on its own shares (SPMD).
 *
 * Operands are this holder's share of a secret, or a public value that every
 * holder knows (encoded at the same fixed-point scale by the client). All
 * values are fixed point at one scale: products are truncated, comparisons
 * yield the bit times the scale.
 */
import { ErrorCode, ProtocolError } from "../core/errors";
import { Op, type AttrsOf, type ComparisonOp, type OpName } from "../core/ops";
import { scaleBigInt, type FixedPointEncoding } from "../encoding/fixed-point";
import * as ring from "../ring";
import type { PartyContext } from "./context";
import { argmax } from "./protocols/argmax";
import { avgPool2d } from "./protocols/avgpool";
import { beaver } from "./protocols/beaver";
import { compare } from "./protocols/comparisons";
import { maxPool2d } from "./protocols/maxpool";
import { relu } from "./protocols/relu";
import { divPublicInteger, truncate } from "./protocols/truncate";
import { applyBeaverOp, type BeaverOp } from "./provider/provider";

/**
 * A holder's operand. `fixed` names a shared value that is used again and
 * again unchanged (a plan's weight): products then reuse its opened mask.
 */
export type Operand =
  { shared: true; value: ring.RingTensor; fixed?: string } | { shared: false; value: ring.RingTensor };

export type PartyOp<O extends OpName> = (
  ctx: PartyContext,
  inputs: readonly Operand[],
  attrs: AttrsOf<O>,
  enc: FixedPointEncoding,
) => ring.RingTensor | Promise<ring.RingTensor>;

/** A public value as shares: holder 0 holds it, the others hold zeros. */
export function publicAsShare(ctx: PartyContext, value: ring.RingTensor): ring.RingTensor {
  return ctx.isFirst ? value : ring.zeros(value.shape);
}

function asShare(ctx: PartyContext, operand: Operand): ring.RingTensor {
  return operand.shared ? operand.value : publicAsShare(ctx, operand.value);
}

function binary(inputs: readonly Operand[], op: string): [Operand, Operand] {
  if (inputs.length !== 2) {
    throw new ProtocolError(ErrorCode.INVALID_ARGUMENT, `${op} takes 2 operands, got ${inputs.length}.`);
  }
  return [inputs[0]!, inputs[1]!];
}

function unary(inputs: readonly Operand[], op: string): ring.RingTensor {
  const x = inputs[0];
  if (inputs.length !== 1 || !x?.shared) {
    throw new ProtocolError(
      ErrorCode.INVALID_ARGUMENT,
      `${op} takes 1 shared operand, got ${inputs.length} (${inputs.map((i) => (i.shared ? "shared" : "public"))}).`,
    );
  }
  return x.value;
}

/** A bilinear op: Beaver when both are shared, local when one is public; then truncation. */
async function bilinear(
  ctx: PartyContext,
  inputs: readonly Operand[],
  op: BeaverOp,
  enc: FixedPointEncoding,
): Promise<ring.RingTensor> {
  const [x, y] = binary(inputs, op.kind);
  const scale = scaleBigInt(enc);
  const product =
    x.shared && y.shared
      ? await beaver(ctx, x.value, y.value, op, { x: x.fixed, y: y.fixed })
      : applyBeaverOp(op, x.value, y.value);
  return truncate(ctx, product, scale);
}

function comparison(op: ComparisonOp): PartyOp<ComparisonOp> {
  return (ctx, inputs, _attrs, enc) => {
    const [x, y] = binary(inputs, op);
    return compare(ctx, op, asShare(ctx, x), asShare(ctx, y), scaleBigInt(enc));
  };
}

function divide(ctx: PartyContext, x: ring.RingTensor, divisor: number, enc: FixedPointEncoding): ring.RingTensor {
  if (!(divisor > 0) || !Number.isFinite(divisor)) {
    throw new ProtocolError(
      ErrorCode.INVALID_ARGUMENT,
      `Division of a shared tensor needs a positive finite public divisor, got ${divisor}. For a negative one, divide by its magnitude and negate.`,
    );
  }
  if (Number.isInteger(divisor)) return divPublicInteger(ctx, x, BigInt(divisor));
  const scale = scaleBigInt(enc);
  const reciprocal = ring.fromFloat([1 / divisor], [], Number(scale));
  return truncate(ctx, ring.mul(x, reciprocal), scale);
}

type Registry = { [O in OpName]: PartyOp<O> };

export const partyOps: Registry = {
  [Op.Add]: (ctx, inputs) => {
    const [x, y] = binary(inputs, "add");
    return ring.add(asShare(ctx, x), asShare(ctx, y));
  },
  [Op.Sub]: (ctx, inputs) => {
    const [x, y] = binary(inputs, "sub");
    return ring.sub(asShare(ctx, x), asShare(ctx, y));
  },
  [Op.Neg]: (_ctx, inputs) => ring.neg(unary(inputs, "neg")),
  [Op.Mul]: (ctx, inputs, _attrs, enc) => bilinear(ctx, inputs, { kind: "mul" }, enc),
  [Op.MatMul]: (ctx, inputs, _attrs, enc) => bilinear(ctx, inputs, { kind: "matmul" }, enc),
  [Op.Conv2d]: (ctx, inputs, attrs, enc) => bilinear(ctx, inputs, { kind: "conv2d", attrs }, enc),
  [Op.DepthwiseConv2d]: (ctx, inputs, attrs, enc) => bilinear(ctx, inputs, { kind: "depthwiseConv2d", attrs }, enc),
  [Op.Sum]: (_ctx, inputs, attrs) => ring.sum(unary(inputs, "sum"), attrs.axes ?? undefined, attrs.keepDims),
  [Op.Mean]: (ctx, inputs, attrs) => {
    const x = unary(inputs, "mean");
    const summed = ring.sum(x, attrs.axes ?? undefined, attrs.keepDims);
    return divPublicInteger(ctx, summed, BigInt(x.size / summed.size));
  },
  [Op.Reshape]: (_ctx, inputs, attrs) => ring.reshape(unary(inputs, "reshape"), attrs.shape),
  [Op.Transpose]: (_ctx, inputs, attrs) => ring.transpose(unary(inputs, "transpose"), attrs.perm ?? undefined),
  [Op.Slice]: (_ctx, inputs, attrs) => ring.slice(unary(inputs, "slice"), attrs.begin, attrs.size),
  [Op.Concat]: (ctx, inputs, attrs) =>
    ring.concat(
      inputs.map((i) => asShare(ctx, i)),
      attrs.axis,
    ),
  [Op.Div]: (ctx, inputs, attrs, enc) => divide(ctx, unary(inputs, "div"), attrs.divisor, enc),
  [Op.Lt]: comparison(Op.Lt),
  [Op.Gt]: comparison(Op.Gt),
  [Op.Le]: comparison(Op.Le),
  [Op.Ge]: comparison(Op.Ge),
  [Op.Eq]: comparison(Op.Eq),
  [Op.Relu]: (ctx, inputs) => relu(ctx, unary(inputs, "relu")),
  [Op.MaxPool2d]: (ctx, inputs, attrs) => maxPool2d(ctx, unary(inputs, "maxPool2d"), attrs),
  [Op.AvgPool2d]: (ctx, inputs, attrs, enc) => avgPool2d(ctx, unary(inputs, "avgPool2d"), attrs, scaleBigInt(enc)),
  [Op.ArgMax]: (ctx, inputs, attrs, enc) => argmax(ctx, unary(inputs, "argmax"), attrs.axis, scaleBigInt(enc)),
  [Op.Copy]: (_ctx, inputs) => unary(inputs, "copy"),
};

/** Runs one op on this holder's shares. */
export function runPartyOp<O extends OpName>(
  ctx: PartyContext,
  op: O,
  inputs: readonly Operand[],
  attrs: AttrsOf<O>,
  enc: FixedPointEncoding,
): Promise<ring.RingTensor> {
  const impl = partyOps[op] as PartyOp<O> | undefined;
  if (!impl) throw new ProtocolError(ErrorCode.UNSUPPORTED_OP, `No secure protocol for op "${op}".`);
  return Promise.resolve(impl(ctx, inputs, attrs, enc));
}
