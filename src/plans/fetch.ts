/**
 * Fetching a plan from its host (PySyft's `me.fetch_plan`): the plan comes
 * back with its IR and, for an encrypted plan, references to the shares of
 * its weights on their holders, never the weights.
 */
import type { Hook } from "../tensors/hook";
import type { PlanHost } from "./host";
import { Plan } from "./plan";

export interface FetchPlanOptions {
  /** Fetch a copy; without it a plan can be fetched only once. */
  copy?: boolean;
  /** The token the plan was sent with, if any. */
  token?: string;
}

export async function fetchPlan(
  hook: Hook,
  id: string,
  location: PlanHost,
  options: FetchPlanOptions = {},
): Promise<Plan> {
  const bytes = await location.fetchPlanBytes(id, { copy: options.copy ?? false, token: options.token });
  return Plan.fromBytes(bytes, hook);
}
