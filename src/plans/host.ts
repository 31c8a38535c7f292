/**
 * What a worker that hosts plans offers: storing a plan's bytes, and handing
 * them out under PySyft's rules (without `copy` once only; with a token only
 * to who knows it). Implemented by VirtualWorker and the grid's clients.
 */
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
