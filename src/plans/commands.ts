/**
 * The command that runs a whole plan on the holders of its shares: each
 * holder gets the IR and the ids of its inputs and state in one message and
 * runs every op against its own shares (SPMD), talking to the other holders
 * directly. A plaintext plan hosted on a worker runs there with "run-hosted-plan".
 */
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
  encoding: FixedPointEncoding;
}

export interface RunHostedPlanCommand {
  type: "run-hosted-plan";
  planId: string;
  inputs: InputRef[];
  outputs: string[];
  token?: string;
}

declare module "../tensors/handle" {
  interface CommandMap {
    "run-plan": RunPlanCommand;
    "run-hosted-plan": RunHostedPlanCommand;
  }
}
