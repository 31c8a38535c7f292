/**
 * Builds the TensorFlow.js model a {@link ModelSpec} describes. TensorFlow.js runs it (forward, gradients,
 * optimizers): nothing here differentiates by hand.
 *
 * Each activation becomes its own layer after the linear layer it follows, so a linear layer's output (the
 * pre-activation) is a tensor of its own: DP-SGD's per-example gradients need the gradient there
 * (see per-example.ts). PySyft's integer padding becomes a ZeroPadding2D layer before a "valid" convolution.
 */
import type * as tfjs from "@tensorflow/tfjs";
import { ErrorCode, TsyftError } from "../core/errors";
import { checkModelSpec, type ActivationSpec, type LayerSpec, type ModelSpec } from "./spec";

type TF = typeof tfjs;

/**
 * The Keras class names of the layers whose parameters DP-SGD trains, with a per-example gradient rule each
 * (per-example.ts). BatchNormalization has parameters but no per-example gradient.
 */
export const PER_EXAMPLE_LAYERS = ["Dense", "Conv2D"] as const;

/**
 * A `tf.Sequential` built from `spec` (checked first: a bad spec throws `TSYFT_ERR_MODEL_SPEC` naming the layer).
 * Its weights are freshly initialised (Glorot uniform kernels, zero biases, Keras's defaults); pass `weights` to
 * start from given ones instead (in `model.getWeights()` order, checked against the spec's shapes).
 *
 * @example
 * ```ts
 * const model = sy.nn.buildModel(tf, net.toSpec());
 * model.predict(tf.zeros([1, 32, 32, 3]));
 * ```
 */
export function buildModel(tf: TF, spec: ModelSpec, weights?: readonly tfjs.Tensor[]): tfjs.Sequential {
  checkModelSpec(spec);
  const model = tf.sequential();
  spec.layers.forEach((layer, index) => {
    const first = index === 0 ? { inputShape: [...spec.inputShape] } : {};
    for (const [k, built] of kerasLayers(tf, layer).entries()) {
      // Only the very first Keras layer carries the input shape.
      model.add(k === 0 && index === 0 ? built(first) : built({}));
    }
  });
  if (weights !== undefined) setWeights(model, weights);
  return model;
}

/** Sets `weights` on `model`, with a MODEL_SPEC error that lists what was expected when they do not fit. */
export function setWeights(model: tfjs.LayersModel, weights: readonly tfjs.Tensor[]): void {
  const expected = model.weights.map((w) => w.shape);
  const fits = weights.length === expected.length && weights.every((w, i) => w.shape.join() === expected[i]!.join());
  if (!fits) {
    throw new TsyftError(
      ErrorCode.MODEL_SPEC,
      `Model weights: expected ${expected.length} tensors of shapes ${expected.map((s) => `[${s.join(", ")}]`).join(", ")}, ` +
        `got ${weights.length} of shapes ${weights.map((w) => `[${w.shape.join(", ")}]`).join(", ")}. ` +
        "Pass the weights of a model built from the same spec.",
      { expected: expected.length, got: weights.length },
    );
  }
  model.setWeights([...weights]);
}

type Make = (first: { inputShape?: number[] }) => tfjs.layers.Layer;

/** The Keras layers one spec layer becomes, in order; each takes the input shape when it is the model's first. */
function kerasLayers(tf: TF, layer: LayerSpec): Make[] {
  switch (layer.type) {
    case "Convolution": {
      const pad = typeof layer.padding === "number" && layer.padding > 0 ? layer.padding : 0;
      const padding = layer.padding === "same" ? "same" : "valid";
      const conv: Make = (first) =>
        tf.layers.conv2d({
          ...first,
          filters: layer.nbFilter,
          kernelSize: [...layer.filterSize],
          strides: [...layer.stride],
          padding,
        });
      const padded: Make[] = pad > 0 ? [(first) => tf.layers.zeroPadding2d({ ...first, padding: pad }), conv] : [conv];
      return [...padded, ...activationLayers(tf, layer.activation)];
    }
    case "MaxPool":
      return [
        (first) => tf.layers.maxPooling2d({ ...first, poolSize: [...layer.poolSize], strides: [...layer.stride] }),
      ];
    case "AvgPool":
      return [
        (first) => tf.layers.averagePooling2d({ ...first, poolSize: [...layer.poolSize], strides: [...layer.stride] }),
      ];
    case "Linear":
      return [(first) => tf.layers.dense({ ...first, units: layer.units }), ...activationLayers(tf, layer.activation)];
    case "BatchNorm":
      return [
        (first) =>
          tf.layers.batchNormalization({ ...first, axis: -1, epsilon: layer.epsilon, momentum: layer.momentum }),
        ...activationLayers(tf, layer.activation),
      ];
    case "Flatten":
      return [(first) => tf.layers.flatten(first)];
    case "LeakyReLU":
      return [(first) => tf.layers.leakyReLU({ ...first, alpha: layer.slope })];
  }
}

function activationLayers(tf: TF, activation: ActivationSpec): Make[] {
  if (activation === "linear") return [];
  if (typeof activation === "object") return [() => tf.layers.leakyReLU({ alpha: activation.slope })];
  return [() => tf.layers.activation({ activation })];
}
