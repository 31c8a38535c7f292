/**
 * Tracing: runs a forward function on placeholders and records each op into
 * the IR. tf tensors that show up (constants made inside forward) become
 * constants of the plan; numbers stay inline.
 */
import type * as tfjs from "@tensorflow/tfjs";
import { ErrorCode, PlanError } from "../core/errors";
import type { AttrsOf, OpName } from "../core/ops";
import { describe, shapeOf, type Operand, type AnyTensor } from "../tensors/base";
import { tensorData, type Hook } from "../tensors/hook";
import { PlaceholderTensor, type OpRecorder } from "../tensors/placeholder";
import { inferShape } from "../tensors/shape-inference";
import type { PlanIR, PlanOp, ValueRef } from "./ir";

class Tracer implements OpRecorder {
  readonly ops: PlanOp[] = [];
  readonly constants: tfjs.Tensor[] = [];
  private nextValue: number;

  constructor(
    private readonly hook: Hook,
    firstOpValue: number,
  ) {
    this.nextValue = firstOpValue;
  }

  record<O extends OpName>(op: O, operands: readonly Operand[], attrs: AttrsOf<O>): PlaceholderTensor {
    const inputs = operands.map((o) => this.ref(o, op));
    const shape = inferShape(op, operands.map(shapeOf), attrs);
    const output = this.nextValue++;
    this.ops.push({ op, inputs, attrs: { ...(attrs as Record<string, unknown>) }, output, shape });
    return new PlaceholderTensor(this, output, shape, `%${output}`);
  }

  private ref(operand: Operand, op: string): ValueRef {
    if (typeof operand === "number") return { scalar: operand };
    if (operand instanceof PlaceholderTensor) {
      if (operand.recorder !== this) {
        throw new PlanError(
          ErrorCode.PLAN_INVALID,
          `${op}: a placeholder of another plan's trace was used; plans cannot share traced values.`,
        );
      }
      return { v: operand.ref };
    }
    if (operand instanceof this.hook.tf.Tensor) {
      let index = this.constants.indexOf(operand);
      if (index < 0) index = this.constants.push(operand) - 1;
      return { constant: index };
    }
    throw new PlanError(
      ErrorCode.PLAN_INVALID,
      `${op}: a plan cannot capture a ${describe(operand)} while tracing; keep encrypted or remote values as plan inputs or state.`,
    );
  }
}

export interface TraceSpec {
  inputs: Array<{ name: string; shape: readonly number[] }>;
  state: Array<{ name: string; shape: readonly number[] }>;
}

/**
 * Traces `forward(inputs, state)` into an IR. `forward` gets placeholders in
 * place of its arguments and of the state, and must return a tensor or an
 * array of tensors computed from them.
 */
export function trace(
  hook: Hook,
  spec: TraceSpec,
  forward: (inputs: PlaceholderTensor[], state: PlaceholderTensor[]) => AnyTensor | AnyTensor[],
): PlanIR {
  const first = spec.inputs.length + spec.state.length;
  const tracer = new Tracer(hook, first);
  const inputs = spec.inputs.map((x, i) => new PlaceholderTensor(tracer, i, x.shape, x.name));
  const state = spec.state.map(
    (s, i) => new PlaceholderTensor(tracer, spec.inputs.length + i, s.shape, `self.${s.name}`),
  );
  const result = forward(inputs, state);
  if (result instanceof Promise) {
    throw new PlanError(
      ErrorCode.PLAN_INVALID,
      "forward returned a Promise: plans are traced synchronously; make forward a plain (non-async) function.",
    );
  }
  const outputs = (Array.isArray(result) ? result : [result]).map((out, i) => {
    if (!(out instanceof PlaceholderTensor) || out.recorder !== tracer) {
      throw new PlanError(
        ErrorCode.PLAN_INVALID,
        `forward's output ${i} is a ${describe(out)}, not a value computed from the plan's inputs or state. Return the result of tensor ops on them.`,
      );
    }
    return out.ref;
  });
  if (outputs.length === 0) throw new PlanError(ErrorCode.PLAN_INVALID, "forward returned no tensor.");
  return {
    inputs: spec.inputs.map((x) => ({ name: x.name, shape: [...x.shape] })),
    state: spec.state.map((s) => ({ name: s.name, shape: [...s.shape] })),
    constants: tracer.constants.map((c) => tensorData(c)),
    ops: tracer.ops,
    outputs,
  };
}

/**
 * Traces `forward` on placeholders shaped like `examples` (named arg_1,
 * arg_2...) and like the state entries (named after them).
 */
export function traceOnExamples(
  hook: Hook,
  examples: readonly Operand[],
  state: ReadonlyArray<readonly [string, { readonly shape: readonly number[] }]>,
  forward: (inputs: PlaceholderTensor[], state: PlaceholderTensor[]) => AnyTensor | AnyTensor[],
): PlanIR {
  const spec = {
    inputs: examples.map((e, i) => ({ name: `arg_${i + 1}`, shape: shapeOf(e) })),
    state: state.map(([name, v]) => ({ name, shape: v.shape })),
  };
  return trace(hook, spec, forward);
}
