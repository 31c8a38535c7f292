/**
 * Plans hosted by a worker, under PySyft's rules: a plan sent without a token
 * can be fetched by anyone; with a token only by who presents it; without
 * `copy` a plan is fetched once, and a second such fetch fails with
 * TSYFT_ERR_PLAN_ALREADY_FETCHED (copies stay available). Requests run one at
 * a time, so of two concurrent fetches exactly one succeeds.
 */
import type * as tfjs from "@tensorflow/tfjs";
import { AuthError, ErrorCode, PlanError, WorkerError } from "../core/errors";
import type { RunHostedPlanCommand } from "../plans/commands";
import { interpretSync } from "../plans/interpreter";
import { planFromBytes, type SerializedPlan } from "../plans/serialize";
import type { InputRef } from "../tensors/handle";
import { fromTensorData } from "../tensors/hook";
import { runPlainOpWithinLimits, type TF } from "../tensors/plain-ops";
import type { ObjectStore } from "./object-store";

interface HostedPlan {
  bytes: Uint8Array;
  plan: SerializedPlan;
  token?: string;
  fetchedOnce: boolean;
}

/** What the plan store needs of its worker. */
export interface PlanStoreOwner {
  readonly id: string;
  readonly tf: TF;
  readonly objects: ObjectStore;
  plainInput(ref: InputRef, op: string): tfjs.Tensor;
}

export class PlanStore {
  constructor(private readonly owner: PlanStoreOwner) {}

  store(id: string, bytes: Uint8Array, token?: string): void {
    if (typeof id !== "string" || !(bytes instanceof Uint8Array)) {
      throw new PlanError(ErrorCode.SERIALIZATION, "store-plan: expected a plan id and the plan's bytes.");
    }
    const plan = planFromBytes(bytes);
    const hosted: HostedPlan = {
      bytes,
      plan,
      token: typeof token === "string" ? token : undefined,
      fetchedOnce: false,
    };
    this.owner.objects.set(id, { kind: "other", type: "plan", value: hosted });
  }

  fetch(id: string, options: { copy: boolean; token?: string }): Uint8Array {
    const hosted = this.get(id, options.token);
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
      this.owner.objects.set(id, { kind: "other", type: "plan", value: hosted });
    }
    return hosted.bytes;
  }

  /** Runs a plaintext hosted plan on inputs that live here or came with the command. */
  runHosted(command: RunHostedPlanCommand): void {
    const hosted = this.get(command.planId, command.token);
    const { plan } = hosted;
    if (plan.state.some((s) => s.kind !== "plain")) {
      throw new PlanError(
        ErrorCode.PLAN_INVALID,
        `Plan "${command.planId}" is encrypted: its state is shared, so it runs on its holders, not on ${this.owner.id}. Fetch it and call it on shared inputs.`,
      );
    }
    const tf = this.owner.tf;
    const inputs = command.inputs.map((ref) => this.owner.plainInput(ref, "plan"));
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
    outputs.forEach((t, i) => this.owner.objects.set(command.outputs[i]!, { kind: "tensor", value: t }));
  }

  private get(id: string, token: string | undefined): HostedPlan {
    const object = this.owner.objects.get(id);
    if (object.kind !== "other" || object.type !== "plan") {
      throw new WorkerError(ErrorCode.OBJECT_NOT_FOUND, `"${id}" on ${this.owner.id} is not a plan.`, {
        worker: this.owner.id,
        id,
      });
    }
    const hosted = object.value as HostedPlan;
    if (hosted.token !== undefined && hosted.token !== token) {
      throw new AuthError(
        ErrorCode.AUTH,
        `Plan "${id}" on ${this.owner.id} was sent with a token; ${token === undefined ? "none was given" : "the one given does not match"}. Pass { token } to fetchPlan.`,
        { worker: this.owner.id, id },
      );
    }
    return hosted;
  }
}
