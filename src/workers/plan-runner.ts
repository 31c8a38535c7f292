/**
 * How a holder runs whole plans on its shares (SPMD: one "run-plan" command
 * per holder, one scope and one tag sequence for all its ops), and deals
 * ahead the material of future runs ("preprocess-plan").
 *
 * A run's inputs are the caller's objects; its state (the weights) is the
 * caller's own, or another owner's under a use grant for exactly this IR's
 * hash and these state ids (grants.ts). Weights are "fixed" operands whose
 * masked form is opened once and reused (beaver.ts): their mask is named by
 * owner and id, so two owners' objects of the same id never share a mask.
 *
 * @example
 * ```ts
 * await runPlanCommand(worker, access, command);   // outputs stored under command.outputs, in access.owner's namespace
 * ```
 */
import { decode, encode, type FixedPointEncoding } from "../encoding/fixed-point";
import type { OpName } from "../core/ops";
import { inLayer } from "../core/profiler";
import type { PartyContext, PartyStats } from "../mpc/context";
import { publicAsShare, runPartyOp, type Operand } from "../mpc/party-ops";
import type { ProviderEndpoint } from "../mpc/provider/endpoint";
import { zeroOperands } from "../mpc/provider/recording";
import type { PreprocessPlanCommand, RunPlanCommand } from "../plans/commands";
import { interpret, type PlanBackend } from "../plans/interpreter";
import { validateIR } from "../plans/ir";
import { irHash } from "../plans/ir-hash";
import type { RingTensor } from "../ring";
import type { InputRef } from "../tensors/handle";
import { checkOpOutput, runPlainOp, type TF } from "../tensors/plain-ops";
import type { Access } from "./caller";
import type { Grants } from "./grants";
import type { StoredObject } from "./object-store";

/** What running plans needs of its worker. */
export interface PlanRunnerHost {
  readonly tf: TF;
  readonly providers: ProviderEndpoint;
  readonly grants: Grants;
  readonly stats: { party: PartyStats };
  shareOperand(ref: InputRef, op: string, owner: string): Operand;
  /** Creates (or replaces) `owner`'s object, within that owner's object limit. */
  put(owner: string, id: string, object: StoredObject): void;
}

/** The name a weight's mask is bound to: its owner and id ("|" never appears in an id). */
export function fixedName(owner: string, id: string): string {
  return `${owner}|${id}`;
}

/** Runs a whole plan on this holder's shares; its outputs are the caller's. */
export async function runPlanCommand(host: PlanRunnerHost, access: Access, command: RunPlanCommand): Promise<void> {
  const ir = validateIR(command.ir);
  const stateIds = command.state.map((ref) => (ref.kind === "object" ? ref.id : null));
  // Under a counted grant (a model served for N requests) the run takes one of its places, given back if it fails.
  // Hashed once: the grant's key, and part of what decides the run's material.
  const hash = irHash(ir);
  const admission = host.grants.admit(access, hash, stateIds);
  const stateOwner = admission.owner;
  let answered = false;
  try {
    // The state is the plan's weights: fixed values whose masked form can be opened once and reused.
    const state = command.state.map((ref): Operand => {
      const o = host.shareOperand(ref, "plan", stateOwner);
      return o.shared && ref.kind === "object" ? { ...o, fixed: fixedName(stateOwner, ref.id) } : o;
    });
    const inputs = command.inputs.map((ref) => host.shareOperand(ref, "plan", access.owner));
    const identity = planRunIdentity(command, hash, {
      inputShapes: inputs.map((o) => o.value.shape),
      stateShapes: state.map((o) => o.value.shape),
      sharedInputs: inputs.map((o) => o.shared),
      sharedState: state.map((o) => o.shared),
      fixedIds: state.map((o) => (o.shared && o.fixed) || null),
    });
    const { ctx, outputs } = await host.providers.run(
      command,
      command.runId,
      host.stats.party,
      async (ctx) => ({
        ctx,
        outputs: await interpret<Operand>(ir, inputs, state, planBackend(host, ctx, command.encoding)),
      }),
      identity,
    );
    outputs.forEach((out, i) =>
      host.put(access.owner, command.outputs[i]!, {
        kind: "share",
        value: out.shared ? out.value : publicAsShare(ctx, out.value),
      }),
    );
    answered = true;
  } finally {
    admission.settle(answered);
  }
}

/**
 * Everything that decides what material a run of a plan needs: the same for
 * a run and for the offline phase's dry run of it, so that both find what
 * one run needs under one key (ProviderEndpoint's per-run cache).
 */
function planRunIdentity(
  command: Pick<RunPlanCommand, "holders" | "encoding" | "comparison" | "fssBits">,
  hash: string,
  operands: {
    inputShapes: ReadonlyArray<readonly number[]>;
    stateShapes: ReadonlyArray<readonly number[]>;
    sharedInputs: readonly boolean[];
    sharedState: readonly boolean[];
    /** The names of the weights' masks (fixed operands), null for the rest. */
    fixedIds: ReadonlyArray<string | null>;
  },
): unknown {
  const { inputShapes, stateShapes, sharedInputs, sharedState, fixedIds } = operands;
  return [
    hash,
    inputShapes.map((s) => [...s]),
    stateShapes.map((s) => [...s]),
    sharedInputs,
    sharedState,
    fixedIds,
    command.holders,
    command.encoding,
    // The comparison decides the material (DCF keys or AND triples).
    command.comparison ?? null,
    command.fssBits ?? null,
  ];
}

/** Offline phase: the provider deals now what a run of the plan needs (found by a dry run), for each run id. */
export async function preprocessPlanCommand(
  host: PlanRunnerHost,
  access: Access,
  command: PreprocessPlanCommand,
): Promise<void> {
  const ir = validateIR(command.ir);
  const { inputShapes, stateShapes, sharedInputs, sharedState, encoding } = command;
  const hash = irHash(ir);
  // Where the state resolves: the owner a grant names for this IR and these state ids.
  const stateOwner = host.grants.stateOwner(access, hash, command.stateIds);
  const stateIds = command.stateIds.map((id) => (id === null ? null : fixedName(stateOwner, id)));
  const pieces = await host.providers.preprocess(command, command.runIds, {
    identity: planRunIdentity(command, hash, {
      inputShapes,
      stateShapes,
      sharedInputs,
      sharedState,
      fixedIds: stateIds,
    }),
    run: (ctx) =>
      interpret<Operand>(
        ir,
        zeroOperands(inputShapes, sharedInputs),
        zeroOperands(stateShapes, sharedState, stateIds),
        planBackend(host, ctx, encoding),
      ),
  });
  host.put(access.owner, command.output, { kind: "tensor", value: host.tf.tensor([pieces]) });
}

/** How a holder runs plan ops: protocols on shares, plaintext on values every holder knows. */
function planBackend(host: PlanRunnerHost, ctx: PartyContext, enc: FixedPointEncoding): PlanBackend<Operand> {
  return {
    constant: (data) => ({ shared: false, value: encode(data.values, data.shape, enc) }),
    scalar: (value) => ({ shared: false, value: encode([value], [], enc) }),
    run: (op, args, attrs, index) => inLayer(`${index}:${op}`, () => runPlanOp(host, ctx, enc, op, args, attrs)),
  };
}

/** One op of a plan on this holder's operands. */
async function runPlanOp(
  host: PlanRunnerHost,
  ctx: PartyContext,
  enc: FixedPointEncoding,
  op: OpName,
  args: Operand[],
  attrs: Record<string, unknown>,
): Promise<Operand> {
  checkOpOutput(
    op,
    attrs as never,
    args.map((a) => a.value.shape),
  );
  // Ops on public values only (e.g. on a plaintext weight) give the same public result on every holder.
  if (args.every((a) => !a.shared)) return { shared: false, value: runPublic(host.tf, op, args, attrs, enc) };
  return { shared: true, value: await runPartyOp(ctx, op, args, attrs as never, enc) };
}

function runPublic(
  tf: TF,
  op: OpName,
  args: Operand[],
  attrs: Record<string, unknown>,
  enc: FixedPointEncoding,
): RingTensor {
  const result = tf.tidy(() =>
    runPlainOp(
      tf,
      op,
      args.map((a) => tf.tensor(Float32Array.from(decode(a.value, enc)), [...a.value.shape])),
      attrs as never,
    ),
  );
  const encoded = encode(result.dataSync(), result.shape, enc);
  result.dispose();
  return encoded;
}
