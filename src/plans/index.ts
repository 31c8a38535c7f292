/** Plans: traced models that can be encrypted, sent, fetched and run as one command. */
export {
  Plan,
  func2plan,
  type PlanConstructor,
  type PlanDefinition,
  type PlanFunction,
  type PlanOptions,
  type SendOptions,
  type StatefulPlanFunction,
  type StateTensor,
} from "./plan";
export { runPlan } from "./run";
export { PointerPlan } from "./pointer-plan";
export { fetchPlan, type FetchPlanOptions } from "./fetch";
export {
  grantKeyOf,
  isPlanHost,
  matchesOwnerToken,
  ownerTokenHash,
  type PlanHost,
  type PlanPolicy,
  type StorePlanOptions,
  type GrantUsage,
} from "./host";
export { irHash } from "./ir-hash";
export { readableCode, inferPlanShapes, validateIR, type PlanIR, type PlanOp, type ValueRef } from "./ir";
export {
  planToBytes,
  planFromBytes,
  PLAN_FORMAT_VERSION,
  type SerializedPlan,
  type SerializedState,
} from "./serialize";
export type { RunPlanCommand, RunHostedPlanCommand } from "./commands";
