/**
 * Per-example gradients for DP-SGD, computed the way Opacus's grad samplers compute them: from each trainable
 * layer's input activations a and the gradient delta of the loss at the layer's output (before its activation),
 * both of which an ordinary backward pass already has, one pass for the whole batch instead of one per example.
 *
 * 1. Forward through the model once, adding a zero tensor e_l to each trainable layer's output z_l and keeping
 *    the layer's input a_l.
 * 2. One backward pass of sum_i loss_i with respect to the e_l only (TensorFlow.js computes no weight gradient for
 *    it: the weights are not on a path from an e_l). Example i's loss depends on example i alone, so row i of
 *    d(sum loss)/d e_l is delta_l,i = d loss_i / d z_l,i exactly.
 * 3. Dense (z = a W + b): grad W_i = outer(a_i, delta_i), a broadcast product [B, in, 1] * [B, 1, out];
 *    grad b_i = delta_i.
 * 4. Conv2D (stride s): grad W_i[kh, kw, ci, co] = sum over output positions (oh, ow) of
 *    a_i[oh s + kh, ow s + kw, ci] delta_i[oh, ow, co], with a_i padded (or cropped) to exactly the rows and
 *    columns the layer read; grad b_i = sum over positions of delta_i. Opacus's grad sampler computes these sums
 *    as im2col patches times delta; here they run as one depthwise convolution, which needs no patch matrix:
 *    a^T as [cin, H, W, B] (examples as channels) convolved with delta as a filter [oh, ow, B, cout] (channel
 *    multiplier cout, dilation s) gives [cin, kh, kw, B * cout], each example its own channel, so nothing is
 *    summed across examples. (On wasm this is 3-10x faster than im2col and a batched matmul.)
 * Pooling, flattening, padding and activations have no parameters; gradients pass through them in step 2.
 */
import type * as tfjs from "@tensorflow/tfjs";
import { ErrorCode, TsyftError } from "../core/errors";
import { PER_EXAMPLE_LAYERS } from "./build";
import { perExampleLoss } from "./objectives";
import type { LossName } from "./spec";

type TF = typeof tfjs;
type Pair = [number, number];

/** Per-example gradients and losses of one batch; the caller disposes the tensors. */
export interface PerExampleGradients {
  /** One tensor per trainable weight, in `model.trainableWeights` order, each `[batch, ...weight shape]`. */
  readonly gradients: tfjs.Tensor[];
  /** Each example's loss, `[batch]`. */
  readonly losses: tfjs.Tensor1D;
}

/**
 * Refuses a model DP-SGD cannot train: every layer with trainable weights must be one with a per-example rule
 * ({@link PER_EXAMPLE_LAYERS}). BatchNorm is refused with the reason and what to do (Opacus refuses it too).
 *
 * @example
 * ```ts
 * checkPerExampleSupport(model);   // throws TSYFT_ERR_UNSUPPORTED_LAYER for a model with BatchNorm
 * ```
 */
export function checkPerExampleSupport(model: tfjs.Sequential): void {
  for (const layer of model.layers) {
    if (layer.trainableWeights.length === 0) continue;
    const className = layer.getClassName();
    if ((PER_EXAMPLE_LAYERS as readonly string[]).includes(className)) continue;
    const why =
      className === "BatchNormalization"
        ? "BatchNorm normalises each example by statistics of the whole batch, so one example's influence is spread over " +
          "every gradient and cannot be clipped on its own (Opacus refuses BatchNorm for the same reason). " +
          "Remove the BatchNorm layer, or train without dp."
        : `DP-SGD computes per-example gradients only for ${PER_EXAMPLE_LAYERS.join(" and ")} layers.`;
    throw new TsyftError(
      ErrorCode.UNSUPPORTED_LAYER,
      `DP-SGD cannot train layer "${layer.name}" (${className}): ${why}`,
      {
        layer: layer.name,
        className,
      },
    );
  }
}

/**
 * Every example's gradient of its own loss with respect to every trainable weight, for a batch `x` and targets
 * shaped like the model's output (see `prepareTargets`), in one forward and one backward pass (module comment).
 *
 * @example
 * ```ts
 * const { gradients, losses } = perExampleGradients(tf, model, "BinaryCrossEntropy", x, targets);
 * gradients[0].shape;   // [batch, 3, 3, 3, 8] for a first Conv2D kernel of [3, 3, 3, 8]
 * ```
 */
export function perExampleGradients(
  tf: TF,
  model: tfjs.Sequential,
  loss: LossName,
  x: tfjs.Tensor,
  targets: tfjs.Tensor,
): PerExampleGradients {
  checkPerExampleSupport(model);
  const batch = x.shape[0]!;
  const trainable = model.layers.filter((layer) => layer.trainableWeights.length > 0);
  const perturbations = trainable.map((layer) => tf.zeros([batch, ...(layer.outputShape as number[]).slice(1)]));
  const inputs: tfjs.Tensor[] = [];
  let losses: tfjs.Tensor1D | undefined;
  try {
    // 1-2. One forward pass with the zero perturbations, one backward pass to them.
    const deltas = tf.grads((...es: tfjs.Tensor[]) => {
      let h = x;
      let k = 0;
      for (const layer of model.layers) {
        if (layer.trainableWeights.length > 0) {
          inputs.push(tf.keep(h));
          h = tf.add(layer.apply(h, { training: true }) as tfjs.Tensor, es[k++]!);
        } else {
          h = layer.apply(h, { training: true }) as tfjs.Tensor;
        }
      }
      losses = tf.keep(perExampleLoss(tf, loss, h, targets));
      return tf.sum(losses);
    })(perturbations);
    // 3-4. The per-layer rules.
    const gradients = tf.tidy(() =>
      trainable.flatMap((layer, k) => {
        const perLayer = layerGradients(tf, layer, inputs[k]!, deltas[k]!);
        return perLayer;
      }),
    );
    deltas.forEach((d) => d.dispose());
    return { gradients, losses: losses! };
  } catch (error) {
    losses?.dispose();
    throw error;
  } finally {
    perturbations.forEach((e) => e.dispose());
    // An input that is the batch itself stays the caller's.
    inputs.forEach((a) => a !== x && a.dispose());
  }
}

/** [grad kernel, grad bias] per example for one Dense or Conv2D layer, from its input and output gradient. */
function layerGradients(tf: TF, layer: tfjs.layers.Layer, a: tfjs.Tensor, delta: tfjs.Tensor): tfjs.Tensor[] {
  const batch = a.shape[0]!;
  const config = layer.getConfig();
  const useBias = config.useBias !== false;
  if (layer.getClassName() === "Dense") {
    const kernel = tf.mul(tf.expandDims(a, 2), tf.expandDims(delta, 1));
    return useBias ? [kernel, delta.clone()] : [kernel];
  }
  const [kh, kw, cin, cout] = layer.trainableWeights[0]!.shape as [number, number, number, number];
  const strides = pairOf(config.strides);
  const read = convInputAsRead(
    tf,
    a as tfjs.Tensor4D,
    [kh, kw],
    strides,
    config.padding as "same" | "valid",
    delta.shape as number[],
  );
  const perChannel = tf.depthwiseConv2d(
    tf.transpose(read, [3, 1, 2, 0]) as tfjs.Tensor4D,
    tf.transpose(delta, [1, 2, 0, 3]) as tfjs.Tensor4D,
    1,
    "valid",
    "NHWC",
    strides,
  );
  const kernel = tf.transpose(tf.reshape(perChannel, [cin, kh, kw, batch, cout]), [3, 1, 2, 0, 4]);
  return useBias ? [kernel, tf.sum(delta, [1, 2])] : [kernel];
}

const pairOf = (v: unknown): Pair => (typeof v === "number" ? [v, v] : [(v as number[])[0]!, (v as number[])[1]!]);

/**
 * The layer's input padded as a Conv2D pads it ("same": by TensorFlow's padInfo) and cut to exactly the
 * (oh - 1) s + kh rows and (ow - 1) s + kw columns its windows read, so that a valid, stride-1 correlation with
 * the output gradient dilated by s lands on [kh, kw].
 */
function convInputAsRead(
  tf: TF,
  a: tfjs.Tensor4D,
  kernel: Pair,
  strides: Pair,
  padding: "same" | "valid",
  deltaShape: number[],
): tfjs.Tensor4D {
  const [, height, width, channels] = a.shape;
  const [, oh, ow] = deltaShape as [number, number, number];
  const { top, left } = tf.backend_util.computeConv2DInfo(
    a.shape,
    [kernel[0], kernel[1], channels, 1],
    strides,
    1,
    padding,
  ).padInfo;
  const rows = (oh - 1) * strides[0] + kernel[0];
  const cols = (ow - 1) * strides[1] + kernel[1];
  const padded = tf.pad(a, [
    [0, 0],
    [top, Math.max(0, rows - top - height)],
    [left, Math.max(0, cols - left - width)],
    [0, 0],
  ]);
  return tf.slice(padded, [0, 0, 0, 0], [-1, rows, cols, -1]);
}
