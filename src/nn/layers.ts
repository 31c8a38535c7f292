/**
 * The design's layers, losses and optimizers under PySyft 0.7's names (`syft/core/tensor/nn`): each function
 * returns the plain JSON piece of a {@link ModelSpec}, so a model is data from the start and can be sent to a
 * domain node as it is. Shapes are checked when the model is assembled (`Model#add`, {@link checkModelSpec}).
 */
import { ErrorCode, TsyftError } from "../core/errors";
import { ACTIVATION_NAMES, type ActivationSpec, type LayerSpec, type LossName, type OptimizerSpec } from "./spec";

/** An activation as a caller may give it: a spec, PySyft's `"leaky_relu"` name, or `sy.nn.leakyReLU(slope)`. */
export type ActivationLike =
  ActivationSpec | "leaky_relu" | "leakyReLU" | { readonly type: "LeakyReLU"; readonly slope: number };

/** A size given as one number for both sides or as `[height, width]`. */
export type Size2 = number | readonly [number, number];

/** PySyft's leaky ReLU slope default. */
const DEFAULT_SLOPE = 0.01;

const pair = (v: Size2): [number, number] => (typeof v === "number" ? [v, v] : [v[0], v[1]]);

/** Normalises an activation to its spec form; unknown names throw at once, naming the layer kind. */
function activationOf(activation: ActivationLike | undefined, layer: string): ActivationSpec {
  if (activation === undefined) return "linear";
  if (activation === "leaky_relu" || activation === "leakyReLU") return { name: "leakyReLU", slope: DEFAULT_SLOPE };
  if (typeof activation === "string") {
    if ((ACTIVATION_NAMES as readonly string[]).includes(activation)) return activation;
    throw new TsyftError(
      ErrorCode.INVALID_ARGUMENT,
      `${layer}: unknown activation "${activation}"; expected one of ${ACTIVATION_NAMES.join(", ")}, "leaky_relu" or sy.nn.leakyReLU(slope).`,
      { activation },
    );
  }
  if ("type" in activation) return { name: "leakyReLU", slope: activation.slope };
  return activation;
}

/** PySyft writes input shapes with the batch axis as `None` (`(None, 1, 28, 28)`); the spec keeps one example's. */
function exampleShape(shape: readonly (number | null)[] | undefined): number[] | undefined {
  if (shape === undefined) return undefined;
  return (shape[0] === null ? shape.slice(1) : shape) as number[];
}

/**
 * A 2-D convolution with `nbFilter` filters of `filterSize`, channels-last input `[height, width, channels]`.
 * `padding` is PySyft's zero padding on each side (default 0), or Keras's `"same"` / `"valid"`. The activation
 * runs as its own layer after the convolution.
 *
 * @example
 * ```ts
 * net.add(sy.nn.Convolution(8, [3, 3], { inputShape: [null, 32, 32, 3], activation: "relu", padding: 1 }));
 * ```
 */
export function Convolution(
  nbFilter: number,
  filterSize: Size2,
  options: {
    inputShape?: readonly (number | null)[];
    stride?: Size2;
    padding?: number | "same" | "valid";
    activation?: ActivationLike;
  } = {},
): LayerSpec {
  const inputShape = exampleShape(options.inputShape);
  return {
    type: "Convolution",
    nbFilter,
    filterSize: pair(filterSize),
    stride: pair(options.stride ?? 1),
    padding: options.padding ?? 0,
    activation: activationOf(options.activation, "Convolution"),
    ...(inputShape ? { inputShape } : {}),
  };
}

/**
 * Max pooling over `poolSize` windows. The stride defaults to the pool size, which halves an image for `(2, 2)`
 * as PySyft's docstring promises (its code defaulted to 1); pass `{ stride: 1 }` for overlapping windows.
 *
 * @example
 * ```ts
 * net.add(sy.nn.MaxPool([2, 2]));
 * ```
 */
export function MaxPool(poolSize: Size2, options: { stride?: Size2 } = {}): LayerSpec {
  return { type: "MaxPool", poolSize: pair(poolSize), stride: pair(options.stride ?? poolSize) };
}

/**
 * Average pooling over `poolSize` windows; the stride defaults to the pool size (see {@link MaxPool}).
 *
 * @example
 * ```ts
 * net.add(sy.nn.AvgPool(2));
 * ```
 */
export function AvgPool(poolSize: Size2, options: { stride?: Size2 } = {}): LayerSpec {
  return { type: "AvgPool", poolSize: pair(poolSize), stride: pair(options.stride ?? poolSize) };
}

/**
 * A fully connected layer of `units` outputs. As the first layer it needs `inputShape` (or PySyft's `nIn`).
 *
 * @example
 * ```ts
 * net.add(sy.nn.Linear(1, { activation: "sigmoid" }));
 * ```
 */
export function Linear(
  units: number,
  options: { activation?: ActivationLike; inputShape?: readonly (number | null)[]; nIn?: number } = {},
): LayerSpec {
  const inputShape = exampleShape(options.inputShape) ?? (options.nIn === undefined ? undefined : [options.nIn]);
  return {
    type: "Linear",
    units,
    activation: activationOf(options.activation, "Linear"),
    ...(inputShape ? { inputShape } : {}),
  };
}

/**
 * Batch normalization over the last (channel) axis, PySyft's defaults (epsilon 1e-6, momentum 0.9). Not
 * trainable under DP-SGD: batch statistics mix examples, so there is no per-example gradient (Opacus refuses it too).
 *
 * @example
 * ```ts
 * net.add(sy.nn.BatchNorm({ activation: "relu" }));
 * ```
 */
export function BatchNorm(
  options: { epsilon?: number; momentum?: number; activation?: ActivationLike } = {},
): LayerSpec {
  return {
    type: "BatchNorm",
    epsilon: options.epsilon ?? 1e-6,
    momentum: options.momentum ?? 0.9,
    activation: activationOf(options.activation, "BatchNorm"),
  };
}

/**
 * Flattens each example to one axis (needed before `Linear` after images).
 *
 * @example
 * ```ts
 * net.add(sy.nn.Flatten());
 * ```
 */
export function Flatten(): LayerSpec {
  return { type: "Flatten" };
}

/**
 * PySyft's `leaky_ReLU(slope)`: max(x, slope * x). A layer on its own, or an activation:
 * `Convolution(8, 3, { activation: sy.nn.leakyReLU(0.2) })`.
 *
 * @example
 * ```ts
 * net.add(sy.nn.leakyReLU());   // slope 0.01
 * ```
 */
export function leakyReLU(slope: number = DEFAULT_SLOPE): { readonly type: "LeakyReLU"; readonly slope: number } {
  return { type: "LeakyReLU", slope };
}

/**
 * Binary cross-entropy for a sigmoid output and 0/1 targets (PySyft's default loss), averaged over the outputs.
 *
 * @example
 * ```ts
 * net.compile({ loss: sy.nn.BinaryCrossEntropy(), optimizer: sy.nn.Adamax() });
 * ```
 */
export function BinaryCrossEntropy(): LossName {
  return "BinaryCrossEntropy";
}

/**
 * Categorical cross-entropy for a softmax output; targets are class ids `[n]` or one-hot `[n, classes]`.
 *
 * @example
 * ```ts
 * net.compile({ loss: sy.nn.CrossEntropy(), optimizer: sy.nn.Adam({ learningRate: 0.01 }) });
 * ```
 */
export function CrossEntropy(): LossName {
  return "CrossEntropy";
}

/**
 * Adamax (Kingma & Ba 2014, section 7.1), PySyft's default optimizer: learning rate 0.001, beta1 0.9,
 * beta2 0.999, epsilon 1e-8.
 *
 * @example
 * ```ts
 * sy.nn.Adamax({ learningRate: 0.002 });
 * ```
 */
export function Adamax(
  options: { learningRate?: number; beta1?: number; beta2?: number; epsilon?: number } = {},
): OptimizerSpec {
  return { name: "Adamax", learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, ...options };
}

/**
 * Adam with Keras's defaults (learning rate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-7).
 *
 * @example
 * ```ts
 * sy.nn.Adam({ learningRate: 0.01 });
 * ```
 */
export function Adam(
  options: { learningRate?: number; beta1?: number; beta2?: number; epsilon?: number } = {},
): OptimizerSpec {
  return { name: "Adam", learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, ...options };
}

/**
 * Stochastic gradient descent (learning rate 0.01), with heavy-ball `momentum` when given.
 *
 * @example
 * ```ts
 * sy.nn.SGD({ learningRate: 0.1, momentum: 0.9 });
 * ```
 */
export function SGD(options: { learningRate?: number; momentum?: number } = {}): OptimizerSpec {
  return { name: "SGD", learningRate: 0.01, momentum: 0, ...options };
}
