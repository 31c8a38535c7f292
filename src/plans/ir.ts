/**
 * The plan IR: a static list of ops over numbered values.
 *
 * Values 0..inputs-1 are the plan's arguments, the next ones its state (the
 * weights), then each op's output. Constants met while tracing (tf tensors
 * created inside `forward`) are kept apart; numbers appear inline. The IR
 * carries shapes, so it can be checked and shown without running it.
 */
import { ErrorCode, PlanError, fmtShape } from "../core/errors";
import { isOpName, type OpName } from "../core/ops";
import type { PlainTensorData } from "../tensors/handle";
import { inferShape } from "../tensors/shape-inference";

export type ValueRef = { v: number } | { scalar: number } | { constant: number };

export interface PlanOp {
  op: OpName;
  inputs: ValueRef[];
  attrs: Record<string, unknown>;
  output: number;
  shape: number[];
}

export interface PlanIR {
  inputs: Array<{ name: string; shape: number[] }>;
  state: Array<{ name: string; shape: number[] }>;
  constants: PlainTensorData[];
  ops: PlanOp[];
  outputs: number[];
}

/** Checks an IR read from elsewhere: every reference defined before use, known ops. */
export function validateIR(ir: PlanIR): PlanIR {
  const bad = (why: string) => new PlanError(ErrorCode.SERIALIZATION, `Corrupt plan: ${why}.`);
  if (
    !ir ||
    !Array.isArray(ir.inputs) ||
    !Array.isArray(ir.state) ||
    !Array.isArray(ir.ops) ||
    !Array.isArray(ir.outputs)
  ) {
    throw bad("missing inputs, state, ops or outputs");
  }
  const constants = Array.isArray(ir.constants) ? ir.constants.length : 0;
  let defined = ir.inputs.length + ir.state.length;
  for (const [i, op] of ir.ops.entries()) {
    if (!isOpName(op.op)) throw bad(`op ${i} has unknown name ${JSON.stringify(op.op)}`);
    for (const ref of op.inputs) {
      if (
        "v" in ref
          ? !(ref.v >= 0 && ref.v < defined)
          : "constant" in ref
            ? !(ref.constant >= 0 && ref.constant < constants)
            : typeof ref.scalar !== "number"
      ) {
        throw bad(`op ${i} (${op.op}) reads an undefined value ${JSON.stringify(ref)}`);
      }
    }
    if (op.output !== defined) throw bad(`op ${i} writes value ${op.output}, expected ${defined}`);
    defined++;
  }
  for (const out of ir.outputs) if (!(out >= 0 && out < defined)) throw bad(`output ${out} is undefined`);
  return ir;
}

/**
 * Output shapes for inputs of the given shapes (the batch may differ from
 * the traced one). Throws before anything runs if they do not fit.
 */
export function inferPlanShapes(
  ir: PlanIR,
  inputShapes: ReadonlyArray<readonly number[]>,
  stateShapes?: ReadonlyArray<readonly number[]>,
): number[][] {
  if (inputShapes.length !== ir.inputs.length) {
    throw new PlanError(
      ErrorCode.PLAN_INVALID,
      `This plan takes ${ir.inputs.length} input(s) (${ir.inputs.map((i) => fmtShape(i.shape)).join(", ")}), got ${inputShapes.length}.`,
    );
  }
  const shapes: Array<readonly number[]> = [...inputShapes, ...(stateShapes ?? ir.state.map((s) => s.shape))];
  const shapeOfRef = (ref: ValueRef) =>
    "v" in ref ? shapes[ref.v]! : "constant" in ref ? ir.constants[ref.constant]!.shape : [];
  for (const op of ir.ops) {
    try {
      shapes.push(inferShape(op.op, op.inputs.map(shapeOfRef), op.attrs as never));
    } catch (error) {
      throw new PlanError(
        ErrorCode.SHAPE_MISMATCH,
        `Plan op %${op.output} = ${op.op}: ${(error as Error).message}`,
        {},
        { cause: error },
      );
    }
  }
  return ir.outputs.map((o) => [...shapes[o]!]);
}

/**
 * The readable form: one op per line with ids and shapes, like PySyft's
 * readable plans. It shows the architecture, never a weight or constant value.
 */
export function readableCode(name: string, ir: PlanIR): string {
  const nameOf = (v: number) =>
    v < ir.inputs.length
      ? ir.inputs[v]!.name
      : v < ir.inputs.length + ir.state.length
        ? `self.${ir.state[v - ir.inputs.length]!.name}`
        : `%${v}`;
  const refText = (ref: ValueRef) =>
    "v" in ref
      ? nameOf(ref.v)
      : "constant" in ref
        ? `const#${ref.constant}${fmtShape(ir.constants[ref.constant]!.shape)}`
        : String(ref.scalar);
  const args = ir.inputs.map((i) => `${i.name}: ${fmtShape(i.shape)}`).join(", ");
  const lines = [`def ${name}(${args}):`];
  if (ir.state.length > 0) lines.push(`  # state: ${ir.state.map((s) => `${s.name} ${fmtShape(s.shape)}`).join(", ")}`);
  for (const op of ir.ops) {
    const attrs = Object.entries(op.attrs)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    lines.push(`  %${op.output} ${fmtShape(op.shape)} = ${op.op}(${[...op.inputs.map(refText), ...attrs].join(", ")})`);
  }
  lines.push(`  return ${ir.outputs.map(nameOf).join(", ")}`);
  return lines.join("\n");
}
