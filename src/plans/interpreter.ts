/**
 * One interpreter for the plan IR, whatever the values are: TensorFlow.js
 * tensors (plaintext), a party's shares (inside a worker), or the client's
 * tsyft tensors (op by op, each op a command). The caller says how to turn
 * inputs, state, constants and numbers into values and how to run one op.
 */
import type { OpName } from "../core/ops";
import type { PlainTensorData } from "../tensors/handle";
import type { PlanIR } from "./ir";

export interface PlanBackend<V> {
  constant(data: PlainTensorData, index: number): V;
  scalar(value: number): V;
  run(op: OpName, inputs: V[], attrs: Record<string, unknown>, index: number): V | Promise<V>;
}

/** Runs `ir` on `inputs` and `state`; resolves with the output values. */
export async function interpret<V>(
  ir: PlanIR,
  inputs: readonly V[],
  state: readonly V[],
  backend: PlanBackend<V>,
): Promise<V[]> {
  const values: V[] = [...inputs, ...state];
  const constants = new Map<number, V>();
  const constantAt = (i: number) => {
    let c = constants.get(i);
    if (c === undefined) {
      c = backend.constant(ir.constants[i]!, i);
      constants.set(i, c);
    }
    return c;
  };
  for (const [index, op] of ir.ops.entries()) {
    const args = op.inputs.map((ref) =>
      "v" in ref ? values[ref.v]! : "constant" in ref ? constantAt(ref.constant) : backend.scalar(ref.scalar),
    );
    values[op.output] = await backend.run(op.op, args, op.attrs, index);
  }
  return ir.outputs.map((o) => values[o]!);
}

/** The same, for backends that never wait (plaintext): no promise per op. */
export interface SyncPlanBackend<V> extends PlanBackend<V> {
  run(op: OpName, inputs: V[], attrs: Record<string, unknown>, index: number): V;
}

export function interpretSync<V>(
  ir: PlanIR,
  inputs: readonly V[],
  state: readonly V[],
  backend: SyncPlanBackend<V>,
): V[] {
  const values: V[] = [...inputs, ...state];
  const constants = ir.constants.map((c, i) => backend.constant(c, i));
  for (const [index, op] of ir.ops.entries()) {
    const args = op.inputs.map((ref) =>
      "v" in ref ? values[ref.v]! : "constant" in ref ? constants[ref.constant]! : backend.scalar(ref.scalar),
    );
    values[op.output] = backend.run(op.op, args, op.attrs, index);
  }
  return ir.outputs.map((o) => values[o]!);
}
