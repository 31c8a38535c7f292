/**
 * The offline phase of an encrypted plan: the crypto provider deals now the
 * correlated randomness of future runs on inputs of known shapes, so that
 * those runs only talk holder to holder.
 * 1. The client sends one "preprocess-plan" command to the last holder, with
 *    the IR, the shapes and the run ids it reserves (to every holder when the
 *    comparison may be "fss", whose DCF keys every holder receives).
 * 2. That holder learns by a dry run on zeros what material one run needs,
 *    has the provider deal it for every run id in one request, and reports
 *    the number of pieces dealt.
 * 3. The client keeps the run ids by input shapes; a later run on inputs of
 *    those shapes is sent under one of them, so it uses the material dealt.
 */
import { getConfig } from "../core/config";
import { ErrorCode, PlanError } from "../core/errors";
import { shapeOf, type Operand } from "../tensors/base";
import { FixedPrecisionTensor } from "../tensors/fixed-precision";
import type { Hook } from "../tensors/hook";
import { AdditiveSharingTensor } from "../tensors/shared";
import { inferPlanShapes, type PlanIR } from "./ir";
import { isSharedState, type StateTensor } from "./state";

/** Run ids whose material was dealt ahead, by input shapes. */
export class PreprocessedRuns {
  private readonly byShapes = new Map<string, string[]>();

  add(inputShapes: ReadonlyArray<readonly number[]>, runIds: readonly string[]): void {
    const key = shapeKey(inputShapes);
    this.byShapes.set(key, [...(this.byShapes.get(key) ?? []), ...runIds]);
  }

  /** A run id dealt ahead for inputs of these shapes, if any is left (each is used once). */
  take(inputs: readonly Operand[]): string | undefined {
    return this.byShapes.get(shapeKey(inputs.map(shapeOf)))?.shift();
  }
}

/**
 * Has the crypto provider of a plan's shared state deal the material of
 * `runs` runs on inputs of `inputShapes` (steps 1-2 above). Resolves with the
 * reserved run ids and the number of pieces dealt.
 */
export async function preprocessPlan(
  hook: Hook,
  planName: string,
  ir: PlanIR,
  state: readonly StateTensor[],
  runs: number,
  inputShapes: number[][],
): Promise<{ runIds: string[]; dealt: number }> {
  const shared = state.find(isSharedState);
  const group = shared?.group;
  if (!shared || !group?.provider) {
    throw new PlanError(
      ErrorCode.NO_CRYPTO_PROVIDER,
      `${planName}.preprocess needs a plan whose state is shared with a crypto provider: share(bob, charlie, { cryptoProvider: dan }).`,
    );
  }
  inferPlanShapes(
    ir,
    inputShapes,
    state.map((s) => s.shape),
  );
  const runIds = Array.from({ length: runs }, () => hook.ids.next());
  const { cryptoProvider, comparison, fssBits } = getConfig();
  // DCF keys (the "fss" comparison) go to every holder, the rest to the last one only.
  const last = group.holders[group.holders.length - 1]!;
  const dealtTo = comparison === "kogge-stone" ? [last] : group.holders;
  const outputs = dealtTo.map((holder) => {
    const output = hook.ids.next();
    holder.submit({
      type: "preprocess-plan",
      ir,
      inputShapes: inputShapes.map((s) => [...s]),
      sharedInputs: inputShapes.map(() => true),
      stateShapes: state.map((s) => [...s.shape]),
      sharedState: state.map(isSharedState),
      stateIds: state.map((s) =>
        s instanceof FixedPrecisionTensor && s.child instanceof AdditiveSharingTensor ? s.child.id : null,
      ),
      runIds,
      holders: group.holders.map((h) => h.id),
      provider: group.provider!.id,
      providerKind: cryptoProvider,
      comparison,
      fssBits,
      encoding: shared.encoding,
      output,
    });
    return holder.fetch(output, { remove: true });
  });
  const done = await Promise.all(outputs);
  const fromLast = done[done.length - 1]!;
  return { runIds, dealt: fromLast.kind === "tensor" ? fromLast.value.values[0]! : 0 };
}

function shapeKey(shapes: ReadonlyArray<readonly number[]>): string {
  return shapes.map((s) => s.join("x")).join("|");
}
