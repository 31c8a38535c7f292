/**
 * BatchNormalization at inference, for model conversion (from-model.ts): y = gamma·(x - mean)/sqrt(var + eps) +
 * beta per channel is the affine map y = x·scale + shift, with scale = gamma/sqrt(var + eps) and shift = beta -
 * mean·scale. Both are computed here in float64 from the layer's weights, before anything is encoded, so the
 * only rounding a plan adds is the fixed-point encoding of the folded weights.
 *
 * After a linear layer (Dense, Conv2D, DepthwiseConv2D without an activation) the map is folded into it: output
 * channel o of the layer becomes kernel[..., o]·scale[o] with bias·scale + shift, which costs nothing at run time.
 * Elsewhere the plan applies it as a product with the shared scale and an addition of the shared shift.
 */
import type * as tfjs from "@tensorflow/tfjs";
import { ErrorCode, PlanError } from "../core/errors";

/** A BatchNormalization layer as a per-channel affine map, in float64. */
export interface ChannelAffine {
  scale: Float64Array;
  shift: Float64Array;
}

/** The layer's weight named `name` (TF.js scopes names as "layer_name/moving_mean"), or undefined. */
function weightNamed(layer: tfjs.layers.Layer, name: string): tfjs.Tensor | undefined {
  const index = layer.weights.findIndex((w) => w.originalName.split("/").pop() === name);
  return index < 0 ? undefined : layer.getWeights()[index];
}

/**
 * The affine map of a BatchNormalization layer at inference, honouring its `center`, `scale` and `epsilon`.
 *
 * @example
 * ```ts
 * const { scale, shift } = batchNormAffine(model.layers[1]!);   // scale[c] = gamma[c] / sqrt(var[c] + eps)
 * ```
 */
export function batchNormAffine(layer: tfjs.layers.Layer): ChannelAffine {
  const config = layer.getConfig() as { epsilon?: number; center?: boolean; scale?: boolean };
  const values = (name: string) => {
    const w = weightNamed(layer, name);
    return w === undefined ? undefined : Float64Array.from(w.dataSync());
  };
  const mean = values("moving_mean");
  const variance = values("moving_variance");
  if (mean === undefined || variance === undefined) {
    throw new PlanError(
      ErrorCode.UNSUPPORTED_LAYER,
      `Layer "${layer.name}" (BatchNormalization) has no moving mean and variance: build the model (give the first ` +
        `layer an inputShape) before converting it.`,
      { layer: layer.name, className: layer.getClassName() },
    );
  }
  const gamma = config.scale === false ? undefined : values("gamma");
  const beta = config.center === false ? undefined : values("beta");
  const epsilon = config.epsilon ?? 1e-3;
  const scale = mean.map((_, c) => (gamma?.[c] ?? 1) / Math.sqrt(variance[c]! + epsilon));
  const shift = mean.map((m, c) => (beta?.[c] ?? 0) - m * scale[c]!);
  return { scale, shift };
}

/**
 * A linear layer's kernel and bias with `affine` applied to its output channels, the last axis of the kernel
 * viewed as [..., channels] (Dense [in, units], Conv2D [KH, KW, C, OC], DepthwiseConv2D [KH, KW, C, M], whose
 * output channel c·M + m is the flat index mod C·M). A layer without a bias gets one: the shift.
 *
 * @example
 * ```ts
 * const folded = foldIntoLinear(tf, conv.getWeights()[0]!, conv.getWeights()[1], batchNormAffine(bn));
 * ```
 */
export function foldIntoLinear(
  tf: typeof tfjs,
  kernel: tfjs.Tensor,
  bias: tfjs.Tensor | undefined,
  affine: ChannelAffine,
): { kernel: tfjs.Tensor; bias: tfjs.Tensor } {
  const channels = affine.scale.length;
  const k = kernel.dataSync();
  const b = bias?.dataSync();
  const scaled = Float64Array.from(k, (v, i) => v * affine.scale[i % channels]!);
  const shifted = affine.shift.map((t, o) => (b?.[o] ?? 0) * affine.scale[o]! + t);
  return {
    kernel: tf.tensor(Float32Array.from(scaled), kernel.shape),
    bias: tf.tensor(Float32Array.from(shifted), [channels]),
  };
}
