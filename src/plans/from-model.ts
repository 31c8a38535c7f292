/**
 * Plans from TensorFlow.js Keras-style models (tf.Sequential, or a tf.LayersModel whose layers form a chain):
 * every layer TF Encrypted's Keras served, which is what `model.share(...)` and a cluster's `share` accept.
 *
 * - Dense, Conv2D and DepthwiseConv2D: a product with the kernel (matmul, conv2d, depthwiseConv2d, all Beaver
 *   products on shares) plus the bias, then the activation ("relu" or "linear");
 * - AveragePooling2D and GlobalAveragePooling2D: sums and a public division; MaxPooling2D and GlobalMaxPooling2D:
 *   comparison tournaments (a global max is maxPool2d with the whole image as its window);
 * - BatchNormalization at inference: folded into a preceding linear layer without an activation, else a shared
 *   per-channel scale and shift (batch-norm.ts);
 * - Activation and ReLU (relu, linear), Flatten, Reshape; InputLayer, Dropout and SpatialDropout2D are the
 *   identity at inference.
 * Softmax is refused rather than dropped: a served model returns logits, whose argmax is the same class.
 * Anything else is refused with the layer named, before any tracing, so a model converts whole or not at all.
 * TF.js' GlobalPooling2D layers have no keepDims: their output is [N, C], as here. A DepthwiseConv2D with a
 * dilationRate above 1 is refused: TF.js' layer ignores it, so a plan would disagree with TF.js or with Keras.
 */
import type * as tfjs from "@tensorflow/tfjs";
import { ErrorCode, PlanError } from "../core/errors";
import type { Conv2dAttrs, Padding } from "../core/ops";
import type { AnyTensor } from "../tensors/base";
import { F } from "../tensors/functional";
import { currentHook } from "../tensors/hook";
import { batchNormAffine, foldIntoLinear } from "./batch-norm";

type Step = (x: AnyTensor, state: Record<string, AnyTensor>) => AnyTensor;

interface Converted {
  steps: Step[];
  state: Record<string, tfjs.Tensor>;
  inputShape?: number[];
}

/** A linear layer without an activation that a following BatchNormalization folds into: its state keys. */
interface FoldTarget {
  kernel: string;
  bias: string;
  channels: number;
}

/** The conversion so far: what each layer's converter adds to. */
interface Conversion {
  steps: Step[];
  state: Record<string, tfjs.Tensor>;
  /** The last layer if it was linear without an activation, with identity layers skipped over. */
  foldTarget?: FoldTarget;
}

type Config = Record<string, unknown>;

/** What one kind of layer becomes: it adds steps and state, and returns the new fold target, if any. */
type LayerConverter = (layer: tfjs.layers.Layer, config: Config, c: Conversion) => FoldTarget | undefined;

function unsupported(layer: tfjs.layers.Layer, why: string): PlanError {
  return new PlanError(
    ErrorCode.UNSUPPORTED_LAYER,
    `Layer "${layer.name}" (${layer.getClassName()}) cannot be converted to a plan: ${why}. Supported layers: ${SUPPORTED}.`,
    { layer: layer.name, className: layer.getClassName() },
  );
}

function activation(layer: tfjs.layers.Layer, name: unknown): Step | undefined {
  if (name === undefined || name === null || name === "linear") return undefined;
  if (name === "relu") return (x) => F.relu(x);
  throw unsupported(
    layer,
    `activation "${String(name)}" has no secure version here (use "relu" or "linear"; apply argmax to logits instead of softmax)`,
  );
}

const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [Number(v), Number(v)]);

function paddingOf(layer: tfjs.layers.Layer, config: Config): Padding {
  if (config.padding !== "same" && config.padding !== "valid") {
    throw unsupported(layer, `padding "${String(config.padding)}" (only "same" and "valid")`);
  }
  return config.padding;
}

function convAttrs(layer: tfjs.layers.Layer, config: Config): Conv2dAttrs {
  return {
    strides: pair(config.strides),
    padding: paddingOf(layer, config),
    dilations: pair(config.dilationRate ?? 1),
  };
}

/**
 * A layer that multiplies by its kernel, adds its bias and applies its activation. The bias is looked up when the
 * plan is traced, so a BatchNormalization folded in later may give the layer one it did not have.
 */
function linearLayer(
  product: (x: AnyTensor, kernel: AnyTensor) => AnyTensor,
  outChannels: (kernel: tfjs.Tensor) => number,
): LayerConverter {
  return (layer, config, c) => {
    const [kernel, bias] = layer.getWeights();
    const target = { kernel: `${layer.name}.kernel`, bias: `${layer.name}.bias`, channels: outChannels(kernel!) };
    c.state[target.kernel] = kernel!;
    if (bias) c.state[target.bias] = bias;
    const act = activation(layer, config.activation);
    c.steps.push((x, s) => {
      const y = product(x, s[target.kernel]!);
      const b = s[target.bias];
      const biased = b ? F.add(y, b) : y;
      return act ? act(biased, s) : biased;
    });
    return act ? undefined : target;
  };
}

const identity: LayerConverter = (_layer, _config, c) => c.foldTarget;

function batchNormalization(layer: tfjs.layers.Layer, config: Config, c: Conversion): FoldTarget | undefined {
  // An unbuilt layer has no rank yet, and no weights: batchNormAffine refuses it.
  const rank = layer.inputSpec?.[0]?.ndim;
  const axis = Number(config.axis ?? -1);
  if (axis !== -1 && axis !== (rank ?? 0) - 1) {
    throw unsupported(layer, `normalization along axis ${axis} (only the last axis, channelsLast)`);
  }
  const affine = batchNormAffine(layer);
  const target = c.foldTarget;
  if (target && target.channels === affine.scale.length) {
    const folded = foldIntoLinear(currentHook().tf, c.state[target.kernel]!, c.state[target.bias], affine);
    c.state[target.kernel] = folded.kernel;
    c.state[target.bias] = folded.bias;
    return target;
  }
  const tf = currentHook().tf;
  const scale = `${layer.name}.scale`;
  const shift = `${layer.name}.shift`;
  c.state[scale] = tf.tensor(Float32Array.from(affine.scale), [affine.scale.length]);
  c.state[shift] = tf.tensor(Float32Array.from(affine.shift), [affine.shift.length]);
  c.steps.push((x, s) => F.add(F.mul(x, s[scale]!), s[shift]!));
  return undefined;
}

function pooling(kind: "max" | "avg"): LayerConverter {
  return (layer, config, c) => {
    const size = pair(config.poolSize);
    const strides = config.strides === null || config.strides === undefined ? size : pair(config.strides);
    const padding = paddingOf(layer, config);
    const pool = kind === "max" ? F.maxPool2d : F.avgPool2d;
    c.steps.push((x) => pool(x, size, strides, padding));
    return undefined;
  };
}

/** Pools over the whole image to [N, C]: a mean (sums and a public division) or one maxPool2d window. */
function globalPooling(kind: "max" | "avg"): LayerConverter {
  return (_layer, _config, c) => {
    c.steps.push((x) => {
      if (kind === "avg") return F.mean(x, [1, 2]);
      const window: [number, number] = [x.shape[1]!, x.shape[2]!];
      return F.flatten(F.maxPool2d(x, window, window, "valid"));
    });
    return undefined;
  };
}

/** Each supported layer class, by TF.js class name; the refusal lists these. */
const converters: Record<string, LayerConverter> = {
  Activation: (layer, config, c) => {
    const act = activation(layer, config.activation);
    if (!act) return c.foldTarget;
    c.steps.push(act);
    return undefined;
  },
  AveragePooling2D: pooling("avg"),
  BatchNormalization: batchNormalization,
  Conv2D: (layer, config, c) => {
    const attrs = convAttrs(layer, config);
    return linearLayer(
      (x, k) => F.conv2d(x, k, attrs),
      (k) => k.shape[3]!,
    )(layer, config, c);
  },
  Dense: linearLayer(
    (x, k) => F.matmul(x, k),
    (k) => k.shape[1]!,
  ),
  DepthwiseConv2D: (layer, config, c) => {
    const attrs = convAttrs(layer, config);
    if (attrs.dilations.some((d) => d !== 1)) {
      // TF.js's layer ignores dilationRate (its call passes none), while Keras's dilates: whichever a plan did, it
      // would disagree with one of them, so neither is guessed.
      throw unsupported(
        layer,
        `dilationRate ${JSON.stringify(config.dilationRate)} (TensorFlow.js's DepthwiseConv2D layer ignores it, so ` +
          `model.predict does not dilate; use dilationRate 1, or sy.F.depthwiseConv2d with dilations in a plan)`,
      );
    }
    return linearLayer(
      (x, k) => F.depthwiseConv2d(x, k, attrs),
      (k) => k.shape[2]! * k.shape[3]!,
    )(layer, config, c);
  },
  Dropout: identity,
  Flatten: (_layer, _config, c) => {
    c.steps.push((x) => F.flatten(x));
    return undefined;
  },
  GlobalAveragePooling2D: globalPooling("avg"),
  GlobalMaxPooling2D: globalPooling("max"),
  InputLayer: identity,
  MaxPooling2D: pooling("max"),
  ReLU: (layer, config, c) => {
    if (config.maxValue !== undefined && config.maxValue !== null) throw unsupported(layer, "ReLU with maxValue");
    c.steps.push((x) => F.relu(x));
    return undefined;
  },
  Reshape: (_layer, config, c) => {
    c.steps.push((x) => F.reshape(x, [-1, ...(config.targetShape as number[])]));
    return undefined;
  },
  SpatialDropout2D: identity,
};

const SUPPORTED = Object.keys(converters)
  .map((name) => (name === "Activation" ? "Activation (relu, linear)" : name))
  .join(", ");

/**
 * The steps and state of a plan computing `model`'s inference, or a PlanError (UNSUPPORTED_LAYER) naming the
 * first layer that has no secure version.
 *
 * @example
 * ```ts
 * const { steps, state } = convertModel(model);   // Plan.fromModel traces the steps
 * ```
 */
export function convertModel(model: tfjs.LayersModel): Converted {
  const c: Conversion = { steps: [], state: {} };
  for (const layer of model.layers) {
    const config = layer.getConfig() as Config;
    if (config.dataFormat !== undefined && config.dataFormat !== "channelsLast") {
      throw unsupported(layer, `dataFormat "${String(config.dataFormat)}" (only channelsLast, TensorFlow.js' default)`);
    }
    const className = layer.getClassName();
    const convert = Object.prototype.hasOwnProperty.call(converters, className) ? converters[className] : undefined;
    if (!convert) throw unsupported(layer, "no secure version of this layer");
    c.foldTarget = convert(layer, config, c);
  }
  const shape = model.inputs?.[0]?.shape;
  return { steps: c.steps, state: c.state, inputShape: shape ? shape.map((d) => (d === null ? 1 : d)) : undefined };
}
