/**
 * Plans hosted by a worker, under PySyft's rules and their owner's policy,
 * all enforced here (the host), never only in a client library:
 * - a plan belongs to whoever stored it (its namespace) and is named by its
 *   id by everyone; only the admin and users may store plans, and a plan of
 *   another owner is overwritten only by the admin or with its owner token;
 * - a plan sent with a token is fetched and run only by who presents it;
 * - without `copy` a plan is fetched once (a second such fetch fails with
 *   TSYFT_ERR_PLAN_ALREADY_FETCHED); copies are for its owner and the admin;
 * - others follow its PlanPolicy: plaintext plan bytes (which carry the
 *   weights) go out only with `allowDownload`, and a copy of them only while
 *   the plan was never fetched; an encrypted plan's bytes (its IR and the ids
 *   of its shares) go to whoever may run it (`allowRemoteInference`) or
 *   download it; running it on the host needs `allowRemoteInference`.
 * Requests of one session run in order and a fetch is synchronous, so of two
 * concurrent fetch-once fetches exactly one succeeds.
 *
 * @example
 * ```ts
 * worker.plans.store(access, "convnet", bytes, { policy: { allowRemoteInference: true, allowDownload: false } });
 * worker.plans.fetch(otherAccess, "convnet", { copy: true });   // the bytes, if the policy allows it
 * ```
 */
import type * as tfjs from "@tensorflow/tfjs";
import { AuthError, ErrorCode, PlanError, WorkerError } from "../core/errors";
import type { RunHostedPlanCommand } from "../plans/commands";
import { matchesOwnerToken, type PlanPolicy, type StorePlanOptions } from "../plans/host";
import { interpretSync } from "../plans/interpreter";
import { planFromBytes, type SerializedPlan } from "../plans/serialize";
import type { InputRef } from "../tensors/handle";
import { fromTensorData } from "../tensors/hook";
import { runPlainOpWithinLimits, type TF } from "../tensors/plain-ops";
import type { Access } from "./caller";
import type { ObjectStore } from "./object-store";
import { TypeIndex, type Indexed } from "./type-index";

/** A hosted plan as the store keeps it (and persisted-plans.ts writes it). */
export interface HostedPlan {
  bytes: Uint8Array;
  plan: SerializedPlan;
  token?: string;
  fetchedOnce: boolean;
  policy: PlanPolicy;
}

export const PLAN_TYPE = "plan";

/** What the plan store needs of its worker. */
export interface PlanStoreOwner {
  readonly id: string;
  readonly tf: TF;
  readonly objects: ObjectStore;
  /** Creates (or replaces) `owner`'s object, within that owner's object limit. */
  put(owner: string, id: string, object: { kind: "tensor"; value: tfjs.Tensor }): void;
  plainInput(ref: InputRef, op: string, owner: string): tfjs.Tensor;
}

export class PlanStore {
  private readonly index: TypeIndex<HostedPlan>;

  constructor(private readonly owner: PlanStoreOwner) {
    this.index = new TypeIndex<HostedPlan>(owner.objects, PLAN_TYPE, (id) => id);
  }

  store(access: Access, id: string, bytes: Uint8Array, options: StorePlanOptions = {}): void {
    if (access.anonymous) {
      throw new AuthError(
        ErrorCode.AUTH,
        `Anonymous clients cannot store plans on ${this.owner.id}; pass { token } (an admin or user token).`,
      );
    }
    if (typeof id !== "string" || !(bytes instanceof Uint8Array)) {
      throw new PlanError(ErrorCode.SERIALIZATION, "store-plan: expected a plan id and the plan's bytes.");
    }
    const plan = planFromBytes(bytes);
    const existing = this.find(id);
    if (existing && existing.owner !== access.owner) {
      if (!access.admin && !matchesOwnerToken(existing.value.policy.ownerTokenHash, options.ownerToken)) {
        throw new AuthError(
          ErrorCode.AUTH,
          `Plan "${id}" on ${this.owner.id} belongs to someone else: overwriting it needs its owner token ` +
            "(serveModel's ownerToken) or the admin. Pick another id.",
          { worker: this.owner.id, id },
        );
      }
      this.owner.objects.delete(existing.owner, id);
    }
    const hosted: HostedPlan = {
      bytes,
      plan,
      token: typeof options.token === "string" ? options.token : undefined,
      fetchedOnce: false,
      policy: checkPolicy(options.policy),
    };
    this.owner.objects.set(access.owner, id, { kind: "other", type: PLAN_TYPE, value: hosted });
  }

  fetch(access: Access, id: string, options: { copy: boolean; token?: string }): Uint8Array {
    const { owner, value: hosted } = this.get(id, options.token);
    if (!this.isOwner(access, owner)) this.checkOthersFetch(access, id, hosted, options.copy);
    if (!options.copy) {
      if (hosted.fetchedOnce) {
        throw new PlanError(
          ErrorCode.PLAN_ALREADY_FETCHED,
          `Plan "${id}" on ${this.owner.id} was already fetched once; a plan sent without copy can be fetched only once. ` +
            "Fetch a copy instead: fetchPlan(id, worker, { copy: true }).",
          { worker: this.owner.id, id },
        );
      }
      hosted.fetchedOnce = true;
      // Store it again so that persistence (grid nodes) records the flag.
      this.owner.objects.set(owner, id, { kind: "other", type: PLAN_TYPE, value: hosted });
    }
    return hosted.bytes;
  }

  /** Runs a plaintext hosted plan on the caller's inputs (held here in its namespace, or sent along). */
  runHosted(access: Access, command: RunHostedPlanCommand): void {
    const { owner, value: hosted } = this.get(command.planId, command.token);
    if (!this.isOwner(access, owner) && !hosted.policy.allowRemoteInference) {
      throw refused(`Plan "${command.planId}" on ${this.owner.id} is not served for remote inference by others`);
    }
    const { plan } = hosted;
    if (plan.state.some((s) => s.kind !== "plain")) {
      throw new PlanError(
        ErrorCode.PLAN_INVALID,
        `Plan "${command.planId}" is encrypted: its state is shared, so it runs on its holders, not on ${this.owner.id}. Fetch it and call it on shared inputs.`,
      );
    }
    if (!Array.isArray(command.outputs) || command.outputs.length !== plan.ir.outputs.length) {
      throw new PlanError(
        ErrorCode.PLAN_INVALID,
        `run-hosted-plan of "${command.planId}": the plan has ${plan.ir.outputs.length} outputs, the command names ` +
          `${Array.isArray(command.outputs) ? command.outputs.length : 0} output ids. Name one id per output.`,
      );
    }
    const tf = this.owner.tf;
    const inputs = command.inputs.map((ref) => this.owner.plainInput(ref, "plan", access.owner));
    const outputs = tf.tidy(() =>
      interpretSync<tfjs.Tensor>(
        plan.ir,
        inputs,
        plan.state.map((s) => (s.kind === "plain" ? fromTensorData(tf, s.data) : tf.scalar(0))),
        {
          constant: (data) => fromTensorData(tf, data),
          scalar: (value) => tf.scalar(value),
          run: (op, args, attrs) => runPlainOpWithinLimits(tf, op, args, attrs as never),
        },
      ),
    );
    outputs.forEach((t, i) => this.owner.put(access.owner, command.outputs[i]!, { kind: "tensor", value: t }));
  }

  /**
   * Deletes the plans among `ids` that the caller may delete besides its own
   * (which `release` frees in its namespace): any for the admin, those of
   * this owner token for others (deleteModel by whoever holds the token).
   */
  releaseOthers(access: Access, ids: readonly string[], ownerToken: unknown): void {
    if (access.anonymous) return;
    for (const id of ids) {
      const found = this.find(id);
      if (found && (access.admin || matchesOwnerToken(found.value.policy.ownerTokenHash, ownerToken)))
        this.owner.objects.delete(found.owner, id);
    }
  }

  private isOwner(access: Access, owner: string): boolean {
    return access.admin || access.owner === owner;
  }

  /** Throws TSYFT_ERR_AUTH unless a caller other than the owner may have these bytes (see the file's header). */
  private checkOthersFetch(access: Access, id: string, hosted: HostedPlan, copy: boolean): void {
    const { allowRemoteInference, allowDownload } = hosted.policy;
    const encrypted = hosted.plan.state.every((s) => s.kind === "shared");
    const what = `Plan "${id}" on ${this.owner.id}`;
    if (access.anonymous && !(copy && encrypted && allowRemoteInference)) {
      throw refused(
        "Anonymous clients may only query models served with allowRemoteInference (fetching copies of encrypted plans); pass { token }",
      );
    }
    if (!encrypted && !allowDownload) {
      throw refused(`${what} holds its weights in the clear and is not served with allowDownload`);
    }
    if (encrypted && !allowDownload && !allowRemoteInference) {
      throw refused(`${what} is served without allowRemoteInference and without allowDownload`);
    }
    if (copy && !allowRemoteInference) {
      throw refused(
        `${what}: copies are for its owner and models served with allowRemoteInference; fetch it without copy`,
      );
    }
    if (copy && !encrypted && hosted.fetchedOnce) {
      throw refused(`${what} was already fetched once; a copy of its plaintext weights is for its owner only`);
    }
  }

  private find(id: string): Indexed<HostedPlan> | undefined {
    return this.index.lookup(id)[0];
  }

  private get(id: string, token: string | undefined): Indexed<HostedPlan> {
    const found = this.find(id);
    if (!found) {
      throw new WorkerError(ErrorCode.OBJECT_NOT_FOUND, `"${id}" on ${this.owner.id} is not a plan.`, {
        worker: this.owner.id,
        id,
      });
    }
    const hosted = found.value;
    if (hosted.token !== undefined && hosted.token !== token) {
      throw new AuthError(
        ErrorCode.AUTH,
        `Plan "${id}" on ${this.owner.id} was sent with a token; ${token === undefined ? "none was given" : "the one given does not match"}. Pass { token } to fetchPlan.`,
        { worker: this.owner.id, id },
      );
    }
    return found;
  }
}

function refused(why: string): AuthError {
  return new AuthError(ErrorCode.AUTH, `${why}. Ask the model's owner, or use the owner's or admin's token.`);
}

/**
 * A policy from a request or a file, with the safe default (nobody but the
 * owner and the admin) for what it leaves out.
 *
 * @example
 * ```ts
 * checkPolicy(undefined);   // { allowRemoteInference: false, allowDownload: false }
 * ```
 */
export function checkPolicy(policy: unknown): PlanPolicy {
  const p = (typeof policy === "object" && policy !== null ? policy : {}) as Partial<PlanPolicy>;
  return {
    allowRemoteInference: p.allowRemoteInference === true,
    allowDownload: p.allowDownload === true,
    ...(typeof p.ownerTokenHash === "string" && /^[0-9a-f]{64}$/.test(p.ownerTokenHash)
      ? { ownerTokenHash: p.ownerTokenHash }
      : {}),
  };
}
