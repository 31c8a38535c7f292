/**
 * The training function a domain's jobs call: the interface agreed with
 * src/nn (`trainModel` in src/nn/train.ts), declared here so the domain
 * depends on its shape, not on nn's module. A domain is given one
 * (`startDomain({ trainModel })`); without it, jobs are refused with a message
 * saying so.
 *
 * @example
 * ```ts
 * import { trainModel } from "../nn/train";
 * const domain = await startDomain({ name: "A", dataDir, trainModel });
 * ```
 */
import type * as tfjs from "@tensorflow/tfjs";

/** A model as JSON: layers, loss and optimizer by name (src/nn defines the layer specs). */
export interface ModelSpec {
  layers: readonly Record<string, unknown>[];
  loss: string;
  optimizer: { name: string; learningRate?: number };
}

export interface StepReport {
  step: number;
  epoch: number;
  loss: number;
  sampleRate: number;
  /** Set for DP-SGD steps. */
  noiseMultiplier?: number;
}

export interface EpochReport {
  epoch: number;
  loss: number;
  valLoss?: number;
  valAccuracy?: number;
}

export interface TrainOptions {
  epochs?: number;
  maxIter?: number;
  batchSize: number;
  validationSplit?: number;
  /** DP-SGD: per-example gradients clipped to clipNorm, Gaussian noise noiseMultiplier * clipNorm. */
  dp?: { noiseMultiplier: number; clipNorm: number };
  signal?: AbortSignal;
  onStep?(s: StepReport): void | Promise<void>;
  onEpoch?(e: EpochReport): void | Promise<void>;
}

/** `trainModel(tf, spec, x, y, options)`: the trained weights and the history. */
export type TrainModelFn = (
  tf: typeof tfjs,
  spec: ModelSpec,
  x: tfjs.Tensor,
  y: tfjs.Tensor,
  options: TrainOptions,
) => Promise<{ weights: tfjs.Tensor[]; history: unknown }>;
