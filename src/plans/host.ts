/**
 * What a worker that hosts plans offers: storing a plan's bytes, and handing
 * them out under PySyft's rules (without `copy` once only; with a token only
 * to who knows it). Implemented by VirtualWorker and the grid's clients.
 */
import type { WorkerHandle } from "../tensors/handle";
import type { Hook } from "../tensors/hook";
import { PointerPlan } from "./pointer-plan";
import { planFromBytes } from "./serialize";

export interface PlanHost {
  /** Stores a plan (pipelined after earlier commands); resolves once stored. */
  storePlan(id: string, bytes: Uint8Array, options: { token?: string }): Promise<void>;
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
}

/**
 * Stores a plan's bytes on `worker` and returns a pointer to it at once; the
 * pointer's `ready()` resolves once the host has stored it.
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
  className?: string,
): PointerPlan {
  const stored = worker.storePlan(id, bytes, options);
  return new PointerPlan(hook, worker, id, planFromBytes(bytes), stored, options.token, className);
}
