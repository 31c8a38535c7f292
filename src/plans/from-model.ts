/**
 * Plans from TensorFlow.js Keras-style models: tf.Sequential or a
 * tf.LayersModel made of Dense, Conv2D, AveragePooling2D, MaxPooling2D,
 * Flatten, Activation (relu, linear), ReLU and Dropout (the identity at
 * inference). Anything else is refused with the layer named, before any
 * tracing, so a model either converts whole or not at all.
 */
import type * as tfjs from "@tensorflow/tfjs";
import { ErrorCode, PlanError } from "../core/errors";
import type { Padding } from "../core/ops";
import { dispatch, type AnyTensor } from "../tensors/base";
import { F } from "../tensors/functional";

type Step = (x: AnyTensor, state: Record<string, AnyTensor>) => AnyTensor;

interface Converted {
  steps: Step[];
  state: Record<string, tfjs.Tensor>;
  inputShape?: number[];
}

const SUPPORTED = "Dense, Conv2D, AveragePooling2D, MaxPooling2D, Flatten, Activation (relu, linear), ReLU, Dropout";

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

export function convertModel(model: tfjs.LayersModel): Converted {
  const steps: Step[] = [];
  const state: Record<string, tfjs.Tensor> = {};
  for (const layer of model.layers) {
    const config = layer.getConfig() as Record<string, unknown>;
    const className = layer.getClassName();
    const weights = layer.getWeights();
    const key = (w: string) => `${layer.name}.${w}`;
    if (config.dataFormat !== undefined && config.dataFormat !== "channelsLast") {
      throw unsupported(layer, `dataFormat "${String(config.dataFormat)}" (only channelsLast, TensorFlow.js' default)`);
    }
    switch (className) {
      case "InputLayer":
      case "Dropout":
      case "SpatialDropout2D":
        break;
      case "Dense": {
        const [kernel, bias] = weights;
        state[key("kernel")] = kernel!;
        if (bias) state[key("bias")] = bias;
        const act = activation(layer, config.activation);
        steps.push((x, s) => {
          let y = F.matmul(x, s[key("kernel")]!);
          if (bias) y = F.add(y, s[key("bias")]!);
          return act ? act(y, s) : y;
        });
        break;
      }
      case "Conv2D": {
        const [kernel, bias] = weights;
        state[key("kernel")] = kernel!;
        if (bias) state[key("bias")] = bias;
        const options = {
          strides: pair(config.strides),
          padding: config.padding as Padding,
          dilations: pair(config.dilationRate ?? 1),
        };
        if (options.padding !== "same" && options.padding !== "valid")
          throw unsupported(layer, `padding "${String(config.padding)}"`);
        const act = activation(layer, config.activation);
        steps.push((x, s) => {
          let y = F.conv2d(x, s[key("kernel")]!, options);
          if (bias) y = F.add(y, s[key("bias")]!);
          return act ? act(y, s) : y;
        });
        break;
      }
      case "AveragePooling2D":
      case "MaxPooling2D": {
        const size = pair(config.poolSize);
        const strides = config.strides === null || config.strides === undefined ? size : pair(config.strides);
        const padding = config.padding as Padding;
        const pool = className === "MaxPooling2D" ? F.maxPool2d : F.avgPool2d;
        steps.push((x) => pool(x, size, strides, padding));
        break;
      }
      case "Flatten":
        steps.push((x) => F.flatten(x));
        break;
      case "Activation": {
        const act = activation(layer, config.activation);
        if (act) steps.push(act);
        break;
      }
      case "ReLU":
        if (config.maxValue !== undefined && config.maxValue !== null) throw unsupported(layer, "ReLU with maxValue");
        steps.push((x) => F.relu(x));
        break;
      case "Reshape":
        steps.push((x) => dispatch("reshape", [x], { shape: [-1, ...(config.targetShape as number[])] }));
        break;
      default:
        throw unsupported(layer, "no secure version of this layer");
    }
  }
  const shape = model.inputs?.[0]?.shape;
  return { steps, state, inputShape: shape ? shape.map((d) => (d === null ? 1 : d)) : undefined };
}
