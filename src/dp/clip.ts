/**
 * The privacy step of DP-SGD (Abadi et al. 2016): bound each example's influence by clipping its gradient, then
 * hide any one example in Gaussian noise scaled to that bound.
 */
import * as tf from "@tensorflow/tfjs";
import { ErrorCode, fmtShape, TsyftError } from "../core/errors";
import { gaussianNoise } from "./noise";

/** Options of {@link clipAndNoise}. */
export interface ClipAndNoiseOptions {
  /** C: each example's gradient, over all parameters together, is scaled to L2 norm at most C. */
  readonly clipNorm: number;
  /** sigma: the noise added to the sum has std sigma * C. */
  readonly noiseMultiplier: number;
  /**
   * What the noisy sum is divided by (default: the batch's size). With Poisson sampling, Opacus divides by the
   * expected batch size (sample rate * dataset size), so that the size of a batch reveals nothing.
   */
  readonly batchSize?: number;
}

/** The result of {@link clipAndNoise}. */
export interface ClippedGradients {
  /** One tensor per parameter, of the parameter's shape: (sum of clipped gradients + noise) / batch size. */
  readonly gradients: tf.Tensor[];
  /** Each example's gradient norm before clipping, over all parameters. */
  readonly norms: Float32Array;
  /** How many examples were scaled down (norm above C). */
  readonly clipped: number;
}

/**
 * Clips per-example gradients to L2 norm C over all parameters, sums them over the batch, adds N(0, (sigma C)^2)
 * to every coordinate (cryptographically random) and divides by the batch size. `perExample` holds one tensor per
 * parameter, each `[batch, ...parameter shape]`. The caller disposes the returned gradients.
 *
 * Scaling follows Opacus: factor = min(1, C / (norm + 1e-6)), so a gradient at the bound is left as it is.
 *
 * @example
 * ```ts
 * const { gradients, clipped } = sy.dp.clipAndNoise([dW, db], { clipNorm: 1, noiseMultiplier: 1.1 });
 * optimizer.applyGradients({ [w.name]: gradients[0], [b.name]: gradients[1] });
 * ```
 */
export function clipAndNoise(perExample: readonly tf.Tensor[], options: ClipAndNoiseOptions): ClippedGradients {
  const { clipNorm, noiseMultiplier } = options;
  if (perExample.length === 0) {
    throw new TsyftError(
      ErrorCode.INVALID_ARGUMENT,
      "clipAndNoise: expected at least one per-example gradient tensor, got none.",
    );
  }
  const batch = perExample[0]!.shape[0];
  const shapes = perExample.map((g) => g.shape);
  if (perExample.some((g) => g.rank === 0 || g.shape[0] !== batch)) {
    throw new TsyftError(
      ErrorCode.SHAPE_MISMATCH,
      `clipAndNoise: every gradient must be [batch, ...] with the same batch; got ${shapes.map(fmtShape).join(", ")}.`,
      { shapes: shapes.map(fmtShape) },
    );
  }
  for (const [name, value] of [
    ["clipNorm", clipNorm],
    ["noiseMultiplier", noiseMultiplier],
  ] as const) {
    if (!(value >= 0 && Number.isFinite(value))) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `clipAndNoise: ${name} must be a finite number >= 0, got ${value}.`,
        { [name]: value },
      );
    }
  }
  const divisor = options.batchSize ?? batch!;
  if (!(divisor > 0)) {
    throw new TsyftError(ErrorCode.INVALID_ARGUMENT, `clipAndNoise: batchSize must be > 0, got ${divisor}.`, {
      batchSize: divisor,
    });
  }
  const std = noiseMultiplier * clipNorm;
  return tf.tidy(() => {
    const squares = perExample.map((g) => tf.sum(tf.square(g.reshape([batch!, -1])), 1));
    const norms = tf.sqrt(tf.addN(squares));
    const factors = tf.minimum(tf.scalar(1), tf.div(tf.scalar(clipNorm), tf.add(norms, 1e-6)));
    const gradients = perExample.map((g) => {
      const scaled = tf.mul(g, factors.reshape([batch!, ...g.shape.slice(1).map(() => 1)]));
      const summed = tf.sum(scaled, 0);
      const noisy = std > 0 ? tf.add(summed, gaussianNoise(summed.shape, std)) : summed;
      return tf.div(noisy, divisor);
    });
    const normValues = norms.dataSync() as Float32Array;
    const clipped = normValues.reduce((n, norm) => n + (norm + 1e-6 > clipNorm ? 1 : 0), 0);
    return { gradients, norms: Float32Array.from(normValues), clipped };
  });
}
