/**
 * The training loop a domain node runs for `fit` (and a local `sy.nn.Model` runs in process): epochs of
 * mini-batch steps, ordinary or DP-SGD, each step reported through `onStep` so the domain can record its privacy
 * cost in the ledger as it happens, each epoch through `onEpoch`, and cancellation through an AbortSignal between
 * steps.
 *
 * Batches: ordinary training shuffles and cuts ceil(n / batchSize) batches per epoch. DP-SGD samples each batch
 * by Poisson sampling with rate q = batchSize / n (sampling.ts says why), floor(n / batchSize) = 1/q steps per
 * epoch, as Opacus does; every step is reported with that q and the noise multiplier, what the accountant needs.
 *
 * Note for callers that release what they see: the losses and validation metrics reported are computed on the
 * training data without noise. They are not covered by the DP-SGD guarantee (only the weights are).
 */
import type * as tfjs from "@tensorflow/tfjs";
import { ErrorCode, fmtShape, TsyftError } from "../core/errors";
import { poissonSample } from "./sampling";
import type { ModelSpec } from "./spec";
import { checkDpOptions, sliceRows, Trainer, type DpOptions } from "./trainer";

type TF = typeof tfjs;

/** One step, as `onStep` sees it. */
export interface StepEvent {
  /** Steps taken by this model so far, this one included (1 for the first). */
  readonly step: number;
  /** The epoch the step belongs to (1 for the first). */
  readonly epoch: number;
  /** Mean loss of the batch (NaN for an empty Poisson batch). */
  readonly loss: number;
  /** The probability of each example being in the batch: batchSize / n (what the accountant needs). */
  readonly sampleRate: number;
  /** The noise multiplier of a DP-SGD step; absent for an ordinary step. */
  readonly noiseMultiplier?: number;
  /** The batch's actual size (it varies under Poisson sampling). */
  readonly batchSize: number;
}

/** One epoch, as `onEpoch` and the history see it. */
export interface EpochRecord {
  readonly epoch: number;
  /** Mean training loss over the epoch's examples. */
  readonly loss: number;
  readonly valLoss?: number;
  readonly valAccuracy?: number;
}

/** Options of {@link trainModel}. */
export interface TrainOptions {
  /** Passes over the data (default 1). */
  epochs?: number;
  /** The design's name for `epochs` (`fit(x, y, { maxIter })`); give one of the two. */
  maxIter?: number;
  /** Examples per batch; under DP-SGD the expected size of a Poisson batch. */
  batchSize: number;
  /** Fraction of the examples, taken from the end as Keras does, held out for validation after each epoch. */
  validationSplit?: number;
  /** Train by DP-SGD with these settings. */
  dp?: DpOptions;
  /** Stops training between two steps; the run then rejects with TSYFT_ERR_CANCELLED. */
  signal?: AbortSignal;
  /** Starting weights (`model.getWeights()` order); default fresh ones. */
  weights?: readonly tfjs.Tensor[];
  onStep?(s: StepEvent): void | Promise<void>;
  onEpoch?(e: EpochRecord): void | Promise<void>;
}

/** What {@link trainModel} returns; the caller disposes the weights. */
export interface TrainResult {
  readonly weights: tfjs.Tensor[];
  readonly history: EpochRecord[];
}

/**
 * Builds the model `spec` describes and trains it on `x`, `y` (ordinary mini-batch training, or DP-SGD with
 * `dp`). Returns the trained weights and the per-epoch history.
 *
 * @example
 * ```ts
 * const accountant = new sy.dp.RDPAccountant();
 * const { weights, history } = await sy.nn.trainModel(tf, net.toSpec(), images, labels, {
 *   epochs: 5, batchSize: 32, dp: { noiseMultiplier: 1.1, clipNorm: 1 },
 *   onStep: (s) => void accountant.step({ noiseMultiplier: s.noiseMultiplier!, sampleRate: s.sampleRate }),
 * });
 * accountant.getEpsilon(1e-5);
 * ```
 */
export async function trainModel(
  tf: TF,
  spec: ModelSpec,
  x: tfjs.Tensor,
  y: tfjs.Tensor,
  options: TrainOptions,
): Promise<TrainResult> {
  const trainer = Trainer.create(tf, spec, { weights: options.weights });
  try {
    const history = await runTraining(trainer, x, y, options);
    return { weights: trainer.getWeights(), history };
  } finally {
    trainer.dispose();
  }
}

/** The loop of {@link trainModel} on an existing {@link Trainer} (a local Model keeps one across `fit` calls). */
export async function runTraining(
  trainer: Trainer,
  x: tfjs.Tensor,
  y: tfjs.Tensor,
  options: TrainOptions,
): Promise<EpochRecord[]> {
  const { tf } = trainer;
  trainer.checkInput(x, "trainModel");
  const plan = planTraining(x, y, options);
  if (options.dp) trainer.checkDp();
  const history: EpochRecord[] = [];
  const targets = trainer.targets(y);
  const [xTrain, tTrain] = [sliceRows(tf, x, 0, plan.nTrain), sliceRows(tf, targets, 0, plan.nTrain)];
  const [xVal, tVal] =
    plan.nVal > 0 ? [sliceRows(tf, x, plan.nTrain, plan.nVal), sliceRows(tf, targets, plan.nTrain, plan.nVal)] : [];
  try {
    for (let epoch = 1; epoch <= plan.epochs; epoch++) {
      const batches = options.dp ? undefined : shuffledBatches(tf, plan.nTrain, options.batchSize);
      let lossSum = 0;
      let seen = 0;
      for (let b = 0; b < plan.stepsPerEpoch; b++) {
        throwIfAborted(options.signal, trainer.steps, epoch);
        const picked = batches ? batches[b]! : poissonSample(plan.nTrain, plan.sampleRate);
        const indices = tf.tensor1d(picked, "int32");
        const [xb, tb] = [tf.gather(xTrain, indices), tf.gather(tTrain, indices)];
        let loss: number;
        try {
          loss = options.dp ? trainer.dpStep(xb, tb, options.dp, options.batchSize).loss : trainer.step(xb, tb);
        } finally {
          tf.dispose([indices, xb, tb]);
        }
        if (picked.length > 0) {
          lossSum += loss * picked.length;
          seen += picked.length;
        }
        const event: StepEvent = {
          step: trainer.steps,
          epoch,
          loss,
          sampleRate: plan.sampleRate,
          batchSize: picked.length,
          ...(options.dp ? { noiseMultiplier: options.dp.noiseMultiplier } : {}),
        };
        await options.onStep?.(event);
        // Let the event loop run between steps (a domain answers progress queries and cancellations meanwhile).
        await new Promise((resolve) => setImmediate(resolve));
      }
      const record: EpochRecord = {
        epoch,
        loss: seen > 0 ? lossSum / seen : NaN,
        ...validation(trainer, xVal, tVal, options.batchSize),
      };
      history.push(record);
      await options.onEpoch?.(record);
    }
  } finally {
    tf.dispose([targets, xTrain, tTrain, ...(xVal ? [xVal, tVal!] : [])]);
  }
  return history;
}

/** The run's shape: how many examples train and validate, epochs, steps per epoch and the sampling rate. */
function planTraining(x: tfjs.Tensor, y: tfjs.Tensor, options: TrainOptions) {
  const bad = (message: string, details: Record<string, unknown> = {}) =>
    new TsyftError(ErrorCode.INVALID_ARGUMENT, `trainModel: ${message}`, details);
  const n = x.shape[0] ?? 0;
  if (y.shape[0] !== n) {
    throw new TsyftError(
      ErrorCode.SHAPE_MISMATCH,
      `trainModel: x and y must have as many rows, got x ${fmtShape(x.shape)} and y ${fmtShape(y.shape)}.`,
    );
  }
  if (options.epochs !== undefined && options.maxIter !== undefined && options.epochs !== options.maxIter) {
    throw bad(`epochs (${options.epochs}) and maxIter (${options.maxIter}) name the same thing; give one.`);
  }
  const epochs = options.epochs ?? options.maxIter ?? 1;
  if (!(Number.isInteger(epochs) && epochs >= 1))
    throw bad(`epochs must be a positive integer, got ${epochs}.`, { epochs });
  const split = options.validationSplit ?? 0;
  if (!(split >= 0 && split < 1))
    throw bad(`validationSplit must be in [0, 1), got ${split}.`, { validationSplit: split });
  const nVal = Math.floor(n * split);
  const nTrain = n - nVal;
  const batchSize = options.batchSize;
  if (!(Number.isInteger(batchSize) && batchSize >= 1))
    throw bad(`batchSize must be a positive integer, got ${batchSize}.`, { batchSize });
  if (nTrain < 1) throw bad(`no training examples left (${n} examples, validationSplit ${split}).`);
  if (options.dp) {
    checkDpOptions(options.dp, "trainModel");
    if (batchSize > nTrain) {
      throw bad(
        `under DP-SGD batchSize is the expected size of a Poisson batch and must be at most the ${nTrain} training examples, got ${batchSize}.`,
        { batchSize, examples: nTrain },
      );
    }
  }
  const sampleRate = Math.min(1, batchSize / nTrain);
  const stepsPerEpoch = options.dp ? Math.max(1, Math.floor(nTrain / batchSize)) : Math.ceil(nTrain / batchSize);
  return { epochs, nTrain, nVal, sampleRate, stepsPerEpoch };
}

/** A fresh shuffle of [0, n) cut into batches of `batchSize` (the last one smaller when n is not a multiple). */
function shuffledBatches(tf: TF, n: number, batchSize: number): Int32Array[] {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  tf.util.shuffle(order);
  const batches: Int32Array[] = [];
  for (let begin = 0; begin < n; begin += batchSize) batches.push(order.slice(begin, begin + batchSize));
  return batches;
}

function validation(trainer: Trainer, x: tfjs.Tensor | undefined, targets: tfjs.Tensor | undefined, batchSize: number) {
  if (x === undefined || targets === undefined) return {};
  const { loss, accuracy } = trainer.evaluate(x, targets, batchSize);
  return { valLoss: loss, valAccuracy: accuracy };
}

function throwIfAborted(signal: AbortSignal | undefined, steps: number, epoch: number): void {
  if (!signal?.aborted) return;
  throw new TsyftError(
    ErrorCode.CANCELLED,
    `Training cancelled after ${steps} steps (in epoch ${epoch}); each step taken was reported through onStep.`,
    { steps, epoch, reason: signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? "") },
  );
}
