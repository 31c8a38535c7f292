/**
 * Running a plan's IR from the client, three ways:
 * 1. on plaintext: the IR is interpreted here with TensorFlow.js (fixed-point
 *    operands are decoded first);
 * 2. on shares: every holder gets the whole IR in one "run-plan" command and
 *    runs it on its own shares, talking to the other holders directly; the
 *    client gets handles on the outputs at once;
 * 3. eagerly: op by op, each op its own command (the slow path, kept to
 *    compare against).
 * Pointers are refused: a plan runs where its inputs are, through a PointerPlan.
 */
import type * as tfjs from "@tensorflow/tfjs";
import { ErrorCode, PlanError } from "../core/errors";
import type { FixedPointEncoding } from "../encoding/fixed-point";
import { dispatch, shapeOf, type AnyTensor, type Operand } from "../tensors/base";
import { FixedPrecisionTensor, commonSharing, inputRefOf } from "../tensors/fixed-precision";
import { fromTensorData, type Hook } from "../tensors/hook";
import { runPlainOp } from "../tensors/plain-ops";
import { PointerTensor } from "../tensors/pointer";
import { AdditiveSharingTensor, providerFields, type SharingGroup } from "../tensors/shared";
import type { RunPlanCommand } from "./commands";
import { interpretSync } from "./interpreter";
import { inferPlanShapes, type PlanIR } from "./ir";
import { isSharedState, type StateTensor } from "./state";

/**
 * Runs an IR on the given inputs and state. Shared operands make it a secure
 * run (one command per holder); otherwise it runs on plaintext here.
 * `preprocessedRun` gives the id of a run whose material was dealt ahead.
 *
 * @example
 * ```ts
 * const [y] = runPlan(hook, plan.ir, [xSh], plan.state.map(([, v]) => v));
 * ```
 */
export function runPlan(
  hook: Hook,
  ir: PlanIR,
  inputs: readonly Operand[],
  state: readonly StateTensor[],
  preprocessedRun: () => string | undefined = () => undefined,
): AnyTensor[] {
  const all = [...inputs, ...state];
  if (all.some((v) => v instanceof PointerTensor)) {
    throw new PlanError(
      ErrorCode.PLAN_INVALID,
      "This plan got a pointer as input: send the plan to that worker (plan.send(worker)) and run it there through its PointerPlan, or run it eagerly with plan.runEagerly(...).",
    );
  }
  if (all.some(isSharedState)) {
    const { encoding, lead } = commonSharing(all, "plan");
    if (encoding && lead) return runShared(hook, ir, inputs, state, lead.group, encoding, preprocessedRun);
  }
  const tf = hook.tf;
  const decodeLocal = (v: Operand) =>
    v instanceof FixedPrecisionTensor ? v.floatPrecision() : hook.toTf(v as tfjs.Tensor | number);
  return tf.tidy(() =>
    interpretSync<tfjs.Tensor>(ir, inputs.map(decodeLocal), state.map(decodeLocal), {
      constant: (data) => fromTensorData(tf, data),
      scalar: (value) => tf.scalar(value),
      run: (op, args, attrs) => runPlainOp(tf, op, args, attrs as never),
    }),
  );
}

/** Sends the whole IR to every holder in one command; returns handles on the outputs at once. */
function runShared(
  hook: Hook,
  ir: PlanIR,
  inputs: readonly Operand[],
  state: readonly StateTensor[],
  group: SharingGroup,
  encoding: FixedPointEncoding,
  preprocessedRun: () => string | undefined,
): AnyTensor[] {
  const toRef = (v: Operand) => inputRefOf(hook, v, encoding, "plan");
  const outShapes = inferPlanShapes(
    ir,
    inputs.map(shapeOf),
    state.map((s) => s.shape),
  );
  const runId = preprocessedRun() ?? hook.ids.next();
  const outputs = outShapes.map(() => hook.ids.next());
  const command: RunPlanCommand = {
    type: "run-plan",
    ir,
    inputs: inputs.map(toRef),
    state: state.map(toRef),
    outputs,
    runId,
    holders: group.holders.map((h) => h.id),
    ...providerFields(group),
    encoding,
  };
  for (const holder of group.holders) holder.submit(command);
  return outputs.map(
    (id, i) => new FixedPrecisionTensor(hook, new AdditiveSharingTensor(hook, group, id, outShapes[i]!), encoding),
  );
}

/** Runs an IR op by op from the client, each op its own command: the slow path, for comparison. */
export function runPlanEagerly(
  hook: Hook,
  ir: PlanIR,
  inputs: readonly Operand[],
  state: readonly StateTensor[],
): AnyTensor[] {
  const tf = hook.tf;
  return interpretSync<Operand>(ir, inputs, state, {
    constant: (data) => fromTensorData(tf, data),
    scalar: (value) => value,
    run: (op, args, attrs) => dispatch(op, args, attrs as never),
  }) as AnyTensor[];
}

/** A plan's result as users get it: the tensor when there is one output, else the array. */
export function unwrapOutputs<T>(outputs: T[]): T | T[] {
  return outputs.length === 1 ? outputs[0]! : outputs;
}
