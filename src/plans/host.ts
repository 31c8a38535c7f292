/**
 * What a worker that hosts plans offers: storing a plan's bytes, and handing
 * them out under PySyft's rules (without `copy` once only; with a token only
 * to who knows it). Implemented by VirtualWorker and the grid's clients.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { WorkerHandle } from "../tensors/handle";
import type { Hook } from "../tensors/hook";
import { irHash } from "./ir-hash";
import { PointerPlan } from "./pointer-plan";
import { planFromBytes, type SerializedPlan } from "./serialize";

/**
 * Who else may use a hosted plan; enforced by its host. Its owner (who stored
 * it) and the admin may always fetch it; others need `allowDownload` for
 * plaintext plan bytes, and `allowRemoteInference` to run it or to fetch an
 * encrypted plan's copy (its bytes hold only the ids of the weight shares).
 */
export interface PlanPolicy {
  allowRemoteInference: boolean;
  allowDownload: boolean;
  /** sha256 (hex) of the model's owner token: whoever presents the token may overwrite or release the plan. */
  ownerTokenHash?: string;
}

/**
 * The hash a host keeps of a model's owner token (sha256, hex).
 *
 * @example
 * ```ts
 * const policy = { allowRemoteInference: true, allowDownload: false, ownerTokenHash: ownerTokenHash(ownerToken) };
 * ```
 */
export function ownerTokenHash(ownerToken: string): string {
  return createHash("sha256").update(ownerToken).digest("hex");
}

/**
 * Whether `ownerToken` is the one whose hash was kept (compared in constant time).
 *
 * @example
 * ```ts
 * matchesOwnerToken(policy.ownerTokenHash, request.ownerToken);   // true or false
 * ```
 */
export function matchesOwnerToken(hash: string | undefined, ownerToken: unknown): boolean {
  if (typeof hash !== "string" || typeof ownerToken !== "string") return false;
  const given = Buffer.from(ownerTokenHash(ownerToken), "hex");
  const kept = Buffer.from(hash, "hex");
  return kept.length === given.length && timingSafeEqual(kept, given);
}

/**
 * A use grant: the weight shares `stateIds` of their owner may be the state of plans whose IR hashes to `irHash`
 * (plans/ir-hash.ts), run by anyone or by the owner only. Kept and enforced by each share holder
 * (workers/grants.ts), so a fetched plan whose IR was rewritten (`return state[0]`) cannot touch the weights.
 */
export interface UseGrant {
  irHash: string;
  /** The command's state, in order: an object id, or null for a public entry. */
  stateIds: Array<string | null>;
  /** Anyone may run it (allowRemoteInference); else only the owner. */
  anyone: boolean;
  /** sha256 (hex) of the model's owner token: whoever presents it may release the granted objects. */
  ownerTokenHash?: string;
  /**
   * Runs by others this holder admits under the grant, counted here (answered runs; a failed one gives its
   * place back). 0: none (shared, not served); absent: no limit. Set on the lead holder only: a run cannot
   * complete without it, so one count decides, and concurrent queries reaching the holders in different orders
   * cannot be admitted by one and refused by the other.
   */
  maxRuns?: number;
  /** The model's name, for the holders' messages ("Model \"convnet\" served its 3 requests"). */
  label?: string;
}

/**
 * What a use grant over a plan's weight shares names: the hash of its IR and its state's ids in order (null for a
 * public entry). The holders find a run's grant by it, and `grant-usage` asks by it.
 *
 * @example
 * ```ts
 * const key = grantKeyOf(plan.serialize());   // { irHash: "3f…", stateIds: ["w1", "b1"] }
 * ```
 */
export function grantKeyOf(serialized: SerializedPlan): Pick<UseGrant, "irHash" | "stateIds"> {
  return {
    irHash: irHash(serialized.ir),
    stateIds: serialized.state.map((s) => (s.kind === "shared" ? s.id : null)),
  };
}

/** How a holder counts the runs of a grant with `maxRuns` (workers/grants.ts), as `grant-usage` answers. */
export interface GrantUsage {
  /** Runs by others answered under the grant since it was made. */
  served: number;
  /** Runs admitted and still running. */
  inFlight: number;
  maxRuns?: number;
  anyone: boolean;
  label?: string;
}

/** A share holder that records use grants (VirtualWorker and the grid's clients). */
export interface GrantHolder {
  grant(grant: UseGrant): Promise<void>;
}

export function isGrantHolder(value: unknown): value is GrantHolder {
  return typeof value === "object" && value !== null && typeof (value as GrantHolder).grant === "function";
}

export interface StorePlanOptions {
  token?: string;
  /** Default: neither remote inference nor download by others. */
  policy?: PlanPolicy;
  /** The owner token of the plan being overwritten, when the caller is not its owner. */
  ownerToken?: string;
}

export interface PlanHost {
  /** Stores a plan (pipelined after earlier commands); resolves once stored. */
  storePlan(id: string, bytes: Uint8Array, options: StorePlanOptions): Promise<void>;
  /** The plan's bytes; without `copy` a plan can be fetched once. */
  fetchPlanBytes(id: string, options: { copy: boolean; token?: string }): Promise<Uint8Array>;
}

export function isPlanHost(value: unknown): value is PlanHost {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as PlanHost).storePlan === "function" &&
    typeof (value as PlanHost).fetchPlanBytes === "function"
  );
}

export interface SendOptions {
  /** A secret that `fetchPlan` must present. */
  token?: string;
  /** Who else may run or fetch it (see PlanPolicy); default: nobody but its owner and the admin. */
  policy?: PlanPolicy;
  /** The owner token of a plan this one overwrites. */
  ownerToken?: string;
  /** With allowRemoteInference: how many runs by others the lead holder admits (UseGrant.maxRuns). */
  maxRuns?: number;
  /** The name the holders use for the model in their messages (default: the plan's name). */
  label?: string;
}

/**
 * Stores a plan's bytes on `worker` and returns a pointer to it at once; the
 * pointer's `ready()` resolves once the host has stored it (and the holders
 * have recorded `extra.grants`, when there are); `extra.className` names the
 * plan's class in the pointer's display.
 *
 * @example
 * ```ts
 * const ptr = sendPlan(hook, alice, plan.id, plan.toBytes(), { token: "s3cret" });
 * ```
 */
export function sendPlan(
  hook: Hook,
  worker: WorkerHandle & PlanHost,
  id: string,
  bytes: Uint8Array,
  options: SendOptions = {},
  extra: { grants?: ReadonlyArray<Promise<void>>; className?: string } = {},
): PointerPlan {
  const stored = Promise.all([worker.storePlan(id, bytes, options), ...(extra.grants ?? [])]).then(() => undefined);
  return new PointerPlan(hook, worker, id, planFromBytes(bytes), stored, options.token, extra.className);
}
