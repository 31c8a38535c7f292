/**
 * The command that runs a whole plan on the holders of its shares: each
 * holder gets the IR and the ids of its inputs and state in one message and
 * runs every op against its own shares (SPMD), talking to the other holders
 * directly. A plaintext plan hosted on a worker runs there with "run-hosted-plan".
 */
import type { ComparisonSetting, ProviderKind } from "../core/config";
import type { FixedPointEncoding } from "../encoding/fixed-point";
import type { InputRef } from "../tensors/handle";
import type { PlanIR } from "./ir";

export interface RunPlanCommand {
  type: "run-plan";
  ir: PlanIR;
  inputs: InputRef[];
  state: InputRef[];
  outputs: string[];
  /** Scope of every message of this run. */
  runId: string;
  holders: string[];
  provider?: string;
  /** How `provider` deals, and how the holders compare, as in SharedOpCommand. */
  providerKind?: ProviderKind;
  comparison?: ComparisonSetting;
  fssBits?: number;
  encoding: FixedPointEncoding;
}

export interface RunHostedPlanCommand {
  type: "run-hosted-plan";
  planId: string;
  inputs: InputRef[];
  outputs: string[];
  token?: string;
}

/**
 * Deals ahead of time the material of future runs of a plan (offline phase):
 * sent to the last holder, which dry-runs the plan on zeros to learn what
 * material each run needs and asks the crypto provider for all of it at once.
 * Completion is reported as a one-element tensor under `output` (the count).
 */
export interface PreprocessPlanCommand {
  type: "preprocess-plan";
  ir: PlanIR;
  inputShapes: number[][];
  /** Which inputs and state entries will be shared (the rest public). */
  sharedInputs: boolean[];
  sharedState: boolean[];
  stateShapes: number[][];
  /** Object ids of the shared state entries (their masks are bound to them). */
  stateIds: Array<string | null>;
  runIds: string[];
  holders: string[];
  provider: string;
  providerKind?: ProviderKind;
  comparison?: ComparisonSetting;
  fssBits?: number;
  encoding: FixedPointEncoding;
  output: string;
}

declare module "../tensors/handle" {
  interface CommandMap {
    "preprocess-plan": PreprocessPlanCommand;
    "run-plan": RunPlanCommand;
    "run-hosted-plan": RunHostedPlanCommand;
  }
}
