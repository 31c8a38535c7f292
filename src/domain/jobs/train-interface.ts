/**
 * The training function a domain's jobs call: src/nn's `trainModel` by default
 * (`startDomain({ trainModel })` may give another of the same shape). The
 * types are nn's own, so a spec a client builds with `sy.nn.Model#toSpec()` is
 * what the runner checks (`checkModelSpec`) and trains, with nothing to adapt.
 *
 * @example
 * ```ts
 * import { trainModel } from "../nn/train";
 * const domain = await startDomain({ name: "A", dataDir, trainModel });
 * ```
 */
import type * as tfjs from "@tensorflow/tfjs";
import type { ModelSpec } from "../../nn/spec";
import type { EpochRecord, StepEvent, TrainOptions } from "../../nn/train";

export type { ModelSpec, TrainOptions };
/** One step as the runner records it (a progress row, and for DP-SGD its ledger tally). */
export type StepReport = StepEvent;
/** One epoch as the runner records it. */
export type EpochReport = EpochRecord;

/** `trainModel(tf, spec, x, y, options)`: the trained weights and the history. */
export type TrainModelFn = (
  tf: typeof tfjs,
  spec: ModelSpec,
  x: tfjs.Tensor,
  y: tfjs.Tensor,
  options: TrainOptions,
) => Promise<{ weights: tfjs.Tensor[]; history: unknown }>;
