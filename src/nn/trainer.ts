/**
 * One model being trained: its TensorFlow.js model, optimizer and loss, and the two kinds of step, ordinary
 * (TensorFlow.js's gradient of the batch's mean loss) and DP-SGD (per-example gradients, clipped, summed, noised).
 * `trainModel` loops over these steps; a domain node can hold a Trainer to take single steps (the design's
 * `model_ptr.step(x, y)`).
 */
import type * as tfjs from "@tensorflow/tfjs";
import { ErrorCode, fmtShape, TsyftError } from "../core/errors";
import { clipAndNoise } from "../dp/clip";
import { gaussianNoise } from "../dp/noise";
import { buildModel } from "./build";
import { countCorrect, createOptimizer, perExampleLoss, prepareTargets } from "./objectives";
import { checkPerExampleSupport, perExampleGradients } from "./per-example";
import type { ModelSpec } from "./spec";

type TF = typeof tfjs;

/** DP-SGD's settings: each example's gradient is clipped to L2 norm `clipNorm`, noise std is `noiseMultiplier * clipNorm`. */
export interface DpOptions {
  readonly noiseMultiplier: number;
  readonly clipNorm: number;
}

/** What one DP-SGD step did. */
export interface DpStepResult {
  /** Mean loss of the batch's examples (NaN for an empty Poisson batch). */
  readonly loss: number;
  /** How many examples had their gradient scaled down to `clipNorm`. */
  readonly clipped: number;
}

/** One tensor of an optimizer's state, as plain numbers (JSON-safe). */
export interface OptimizerSlot {
  readonly name: string;
  readonly values: number[];
  readonly shape: number[];
  readonly dtype: "float32" | "int32";
}

/** Loss and accuracy of a model on some data, in inference mode. */
export interface Evaluation {
  readonly loss: number;
  readonly accuracy: number;
}

/**
 * A model in training. Built from a spec (and optionally starting weights); the caller disposes it.
 *
 * @example
 * ```ts
 * const trainer = Trainer.create(tf, net.toSpec());
 * const targets = trainer.targets(yBatch);
 * trainer.step(xBatch, targets);                                            // ordinary
 * trainer.dpStep(xBatch, targets, { noiseMultiplier: 1.1, clipNorm: 1 }, 64); // DP-SGD
 * trainer.dispose();
 * ```
 */
export class Trainer {
  /** Steps taken so far (both kinds). */
  steps = 0;
  private readonly variables: tfjs.Variable[];

  private constructor(
    readonly tf: TF,
    readonly spec: ModelSpec,
    readonly model: tfjs.Sequential,
    private readonly optimizer: tfjs.Optimizer,
  ) {
    // The LayerVariables' tf.Variables: what the optimizer updates, and nothing else in the engine.
    this.variables = model.trainableWeights.map((w) => w.read() as tfjs.Variable);
  }

  /** Builds the model `spec` describes (from `weights` when given) with the spec's optimizer. */
  static create(tf: TF, spec: ModelSpec, options: { weights?: readonly tfjs.Tensor[] } = {}): Trainer {
    const model = buildModel(tf, spec, options.weights);
    return new Trainer(tf, spec, model, createOptimizer(tf, spec.optimizer));
  }

  /**
   * A trainer as one was left: its weights, its optimizer's state ({@link optimizerState}) and its step count, so
   * that the next step is the step it would have taken (a stepped model on a domain that restarted).
   */
  static async restore(
    tf: TF,
    spec: ModelSpec,
    saved: { weights: readonly tfjs.Tensor[]; optimizer: readonly OptimizerSlot[]; steps: number },
  ): Promise<Trainer> {
    const trainer = Trainer.create(tf, spec, { weights: saved.weights });
    const named = saved.optimizer.map((s) => ({ name: s.name, tensor: tf.tensor(s.values, s.shape, s.dtype) }));
    try {
      await trainer.optimizer.setWeights(named);
    } finally {
      tf.dispose(named.map((n) => n.tensor));
    }
    trainer.steps = saved.steps;
    return trainer;
  }

  /** The optimizer's state (its iteration count, then its slots such as Adam's moments), copied out. */
  async optimizerState(): Promise<OptimizerSlot[]> {
    const named = await this.optimizer.getWeights();
    const slots = named.map(({ name, tensor }) => ({
      name,
      values: Array.from(tensor.dataSync()),
      shape: tensor.shape,
      dtype: tensor.dtype === "int32" ? ("int32" as const) : ("float32" as const),
    }));
    named[0]?.tensor.dispose(); // the iteration count is a new scalar; the slots are the optimizer's own
    return slots;
  }

  /** The model's output shape for one example. */
  get outputShape(): number[] {
    return (this.model.outputShape as number[]).slice(1);
  }

  /** `y` as the loss reads it (see `prepareTargets`); the caller disposes the result. */
  targets(y: tfjs.Tensor): tfjs.Tensor {
    return prepareTargets(this.tf, this.spec.loss, y, this.outputShape);
  }

  /** Throws SHAPE_MISMATCH unless `x` is a batch of examples of the spec's input shape. */
  checkInput(x: tfjs.Tensor, where: string): void {
    const expected = this.spec.inputShape;
    if (x.rank === expected.length + 1 && x.shape.slice(1).every((d, i) => d === expected[i])) return;
    throw new TsyftError(
      ErrorCode.SHAPE_MISMATCH,
      `${where}: the model takes a batch of examples of shape ${fmtShape(expected)}, i.e. [n, ${expected.join(", ")}], ` +
        `got ${fmtShape(x.shape)}. Images are channels-last [n, height, width, channels].`,
      { expected: fmtShape(expected), got: fmtShape(x.shape) },
    );
  }

  /** Throws now, before any step, when DP-SGD cannot train this model (BatchNorm). */
  checkDp(): void {
    checkPerExampleSupport(this.model);
  }

  /**
   * One ordinary step on a batch (targets from {@link targets}): TensorFlow.js's gradient of the mean loss, applied
   * by the optimizer. Returns the batch's mean loss.
   */
  step(x: tfjs.Tensor, targets: tfjs.Tensor): number {
    const { tf, model } = this;
    const loss = this.optimizer.minimize(
      () => tf.mean(perExampleLoss(tf, this.spec.loss, model.apply(x, { training: true }) as tfjs.Tensor, targets)),
      true,
      this.variables,
    );
    this.steps++;
    const value = loss!.dataSync()[0]!;
    loss!.dispose();
    return value;
  }

  /**
   * One DP-SGD step (Abadi et al. 2016): per-example gradients, each clipped to L2 norm `clipNorm` over all
   * parameters, summed, plus N(0, (noiseMultiplier * clipNorm)^2) noise on every coordinate, divided by
   * `expectedBatchSize` (with Poisson sampling the batch's actual size varies and is not divided by, as in Opacus,
   * since it would depend on who is in the batch), then applied by the optimizer. An empty batch still takes a step
   * of pure noise, as the accountant counts it.
   *
   * Accounting a step taken here directly (the design's `model_ptr.step(x_batch, y_batch)`): the batch was chosen,
   * not Poisson-sampled, so there is no amplification by subsampling; record it with sampleRate 1 (and pass the
   * batch's own size as `expectedBatchSize`, which is then public).
   */
  dpStep(x: tfjs.Tensor, targets: tfjs.Tensor, dp: DpOptions, expectedBatchSize: number): DpStepResult {
    const { tf } = this;
    const batch = x.shape[0]!;
    let gradients: tfjs.Tensor[];
    let loss = NaN;
    let clipped = 0;
    if (batch === 0) {
      const std = dp.noiseMultiplier * dp.clipNorm;
      gradients = this.variables.map((v) => tf.tidy(() => tf.div(gaussianNoise(v.shape, std), expectedBatchSize)));
    } else {
      const perExample = perExampleGradients(tf, this.model, this.spec.loss, x, targets);
      const noisy = clipAndNoise(perExample.gradients, {
        clipNorm: dp.clipNorm,
        noiseMultiplier: dp.noiseMultiplier,
        batchSize: expectedBatchSize,
      });
      const meanLoss = tf.mean(perExample.losses);
      loss = meanLoss.dataSync()[0]!;
      tf.dispose([...perExample.gradients, perExample.losses, meanLoss]);
      gradients = noisy.gradients;
      clipped = noisy.clipped;
    }
    this.optimizer.applyGradients(this.variables.map((v, i) => ({ name: v.name, tensor: gradients[i]! })));
    gradients.forEach((g) => g.dispose());
    this.steps++;
    return { loss, clipped };
  }

  /** Mean loss and accuracy over `x`, in chunks of `batchSize`, in inference mode. */
  evaluate(x: tfjs.Tensor, targets: tfjs.Tensor, batchSize: number): Evaluation {
    const { tf } = this;
    const n = x.shape[0]!;
    let lossSum = 0;
    let correct = 0;
    for (let begin = 0; begin < n; begin += batchSize) {
      const size = Math.min(batchSize, n - begin);
      const [xb, tb] = [sliceRows(tf, x, begin, size), sliceRows(tf, targets, begin, size)];
      const output = this.model.apply(xb, { training: false }) as tfjs.Tensor;
      const sum = tf.tidy(() => tf.sum(perExampleLoss(tf, this.spec.loss, output, tb)));
      lossSum += sum.dataSync()[0]!;
      correct += countCorrect(tf, this.spec.loss, output, tb);
      tf.dispose([xb, tb, output, sum]);
    }
    return { loss: lossSum / n, accuracy: correct / n };
  }

  /** Copies of all the model's weights (trainable or not), in `model.getWeights()` order; the caller owns them. */
  getWeights(): tfjs.Tensor[] {
    return this.model.getWeights().map((w) => w.clone());
  }

  /** Frees the model's and the optimizer's tensors. */
  dispose(): void {
    this.optimizer.dispose();
    this.model.dispose();
  }
}

/** Rows [begin, begin + size) of a tensor. */
export function sliceRows(tf: TF, t: tfjs.Tensor, begin: number, size: number): tfjs.Tensor {
  return tf.slice(t, [begin, ...t.shape.slice(1).map(() => 0)], [size, ...t.shape.slice(1).map(() => -1)]);
}

/** Throws INVALID_ARGUMENT when DP settings are not finite non-negative numbers (clipNorm must be > 0). */
export function checkDpOptions(dp: DpOptions, where: string): void {
  if (
    !(Number.isFinite(dp.clipNorm) && dp.clipNorm > 0) ||
    !(Number.isFinite(dp.noiseMultiplier) && dp.noiseMultiplier >= 0)
  ) {
    throw new TsyftError(
      ErrorCode.INVALID_ARGUMENT,
      `${where}: dp needs clipNorm > 0 and noiseMultiplier >= 0 (finite), got clipNorm ${dp.clipNorm}, noiseMultiplier ${dp.noiseMultiplier}.`,
      { clipNorm: dp.clipNorm, noiseMultiplier: dp.noiseMultiplier },
    );
  }
}
