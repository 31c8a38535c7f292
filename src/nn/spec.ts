/**
 * The model spec: a JSON description of a sequential model (its layers, loss and optimizer) that a client builds
 * with `sy.nn` and a domain node receives, checks and trains. It carries no weights and no code, so a node can
 * accept it from a data scientist without running anything the data scientist wrote.
 *
 * Images are channels-last, `[height, width, channels]` (TensorFlow.js's layout and `sy.data.loadIdc`'s), where
 * PySyft 0.7's layers were channels-first.
 */
import { ErrorCode, fmtShape, TsyftError } from "../core/errors";

/** The version tag every spec carries, so a node can refuse one it does not understand. */
export const MODEL_SPEC_FORMAT = "tsyft.nn/1";

/** An activation: a Keras name, or a leaky ReLU with its slope (PySyft's `leaky_ReLU(slope)`). */
export type ActivationSpec =
  "linear" | "relu" | "sigmoid" | "softmax" | "tanh" | { readonly name: "leakyReLU"; readonly slope: number };

/** The activation names a spec accepts as strings. */
export const ACTIVATION_NAMES = ["linear", "relu", "sigmoid", "softmax", "tanh"] as const;

/** One layer of a {@link ModelSpec}, as the `sy.nn` layer functions make it. */
export type LayerSpec =
  | {
      readonly type: "Convolution";
      readonly nbFilter: number;
      readonly filterSize: readonly [number, number];
      readonly stride: readonly [number, number];
      /** Zero padding on each side (PySyft's integer), or Keras's "same" / "valid". */
      readonly padding: number | "same" | "valid";
      readonly activation: ActivationSpec;
      readonly inputShape?: readonly number[];
    }
  | {
      readonly type: "MaxPool" | "AvgPool";
      readonly poolSize: readonly [number, number];
      readonly stride: readonly [number, number];
    }
  | {
      readonly type: "Linear";
      readonly units: number;
      readonly activation: ActivationSpec;
      readonly inputShape?: readonly number[];
    }
  | {
      readonly type: "BatchNorm";
      readonly epsilon: number;
      readonly momentum: number;
      readonly activation: ActivationSpec;
    }
  | { readonly type: "Flatten" }
  | { readonly type: "LeakyReLU"; readonly slope: number };

/** The layer kinds a spec may hold. */
export const LAYER_TYPES = [
  "Convolution",
  "MaxPool",
  "AvgPool",
  "Linear",
  "BatchNorm",
  "Flatten",
  "LeakyReLU",
] as const;

/** The losses a spec may name. */
export const LOSS_NAMES = ["BinaryCrossEntropy", "CrossEntropy"] as const;
export type LossName = (typeof LOSS_NAMES)[number];

/** The optimizers a spec may name. */
export const OPTIMIZER_NAMES = ["Adamax", "Adam", "SGD"] as const;

/** An optimizer and its settings (defaults: PySyft's and Keras's, see `sy.nn.Adamax`). */
export interface OptimizerSpec {
  readonly name: (typeof OPTIMIZER_NAMES)[number];
  readonly learningRate?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
  /** SGD only: heavy-ball momentum (0 = plain SGD). */
  readonly momentum?: number;
}

/** A whole model: JSON-serializable, so it travels to a domain node as it is. */
export interface ModelSpec {
  readonly format: typeof MODEL_SPEC_FORMAT;
  /** One example's shape, without the batch axis (e.g. `[32, 32, 3]`). */
  readonly inputShape: readonly number[];
  readonly layers: readonly LayerSpec[];
  readonly loss: LossName;
  readonly optimizer: OptimizerSpec;
}

/** What {@link checkModelSpec} found: each layer's output shape (one example, no batch axis) and parameter count. */
export interface LayerShapes {
  readonly output: number[];
  readonly params: number;
}

/** Throws a MODEL_SPEC error naming the layer (index and type) and what was expected. */
export function specError(message: string, where?: { index: number; type: string }): TsyftError {
  const prefix = where === undefined ? "Model spec" : `Model spec, layer ${where.index} (${where.type})`;
  return new TsyftError(
    ErrorCode.MODEL_SPEC,
    `${prefix}: ${message}`,
    where ? { layer: where.index, type: where.type } : {},
  );
}

const isPositiveInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 1;
const isPair = (v: unknown): v is [number, number] => Array.isArray(v) && v.length === 2 && v.every(isPositiveInt);

/**
 * Checks a spec (anything that came over the wire) and infers each layer's output shape and parameter count,
 * the way the built TensorFlow.js model will have them. Throws a `TsyftError` with code `TSYFT_ERR_MODEL_SPEC`
 * that names the layer and says what was expected.
 *
 * @example
 * ```ts
 * checkModelSpec(net.toSpec()).map((l) => l.output);   // [[30, 30, 8], [15, 15, 8], [1800], [1]]
 * ```
 */
export function checkModelSpec(spec: unknown): LayerShapes[] {
  if (typeof spec !== "object" || spec === null) throw specError(`expected an object, got ${typeof spec}.`);
  const s = spec as Partial<ModelSpec>;
  if (s.format !== MODEL_SPEC_FORMAT) {
    throw specError(
      `expected format "${MODEL_SPEC_FORMAT}", got ${JSON.stringify(s.format)}; build it with sy.nn.Model#toSpec().`,
    );
  }
  if (!Array.isArray(s.inputShape) || s.inputShape.length === 0 || !s.inputShape.every(isPositiveInt)) {
    throw specError(
      `inputShape must be a list of positive integers (one example's shape), got ${JSON.stringify(s.inputShape)}.`,
    );
  }
  if (!Array.isArray(s.layers) || s.layers.length === 0) throw specError("expected at least one layer.");
  if (!(LOSS_NAMES as readonly unknown[]).includes(s.loss)) {
    throw specError(`loss must be one of ${LOSS_NAMES.join(", ")}, got ${JSON.stringify(s.loss)}.`);
  }
  checkOptimizer(s.optimizer);
  let shape = [...s.inputShape];
  return s.layers.map((layer: unknown, index) => {
    const type =
      typeof layer === "object" && layer !== null ? String((layer as { type?: unknown }).type) : typeof layer;
    if (!(LAYER_TYPES as readonly string[]).includes(type)) {
      throw specError(`unknown layer type; expected one of ${LAYER_TYPES.join(", ")}.`, { index, type });
    }
    const out = layerShapes(layer as LayerSpec, shape, { index, type });
    shape = out.output;
    return out;
  });
}

function checkOptimizer(optimizer: unknown): void {
  const o = optimizer as Partial<OptimizerSpec> | undefined;
  if (typeof o !== "object" || o === null || !(OPTIMIZER_NAMES as readonly unknown[]).includes(o.name)) {
    throw specError(
      `optimizer must be { name: ${OPTIMIZER_NAMES.join(" | ")}, learningRate? }, got ${JSON.stringify(o)}.`,
    );
  }
  for (const key of ["learningRate", "beta1", "beta2", "epsilon", "momentum"] as const) {
    const v = o[key];
    if (v !== undefined && !(typeof v === "number" && Number.isFinite(v) && v >= 0)) {
      throw specError(`optimizer ${o.name}: ${key} must be a finite number >= 0, got ${JSON.stringify(v)}.`);
    }
  }
}

function checkActivation(activation: unknown, where: { index: number; type: string }): void {
  if ((ACTIVATION_NAMES as readonly unknown[]).includes(activation)) return;
  const a = activation as { name?: unknown; slope?: unknown } | null;
  if (typeof a === "object" && a !== null && a.name === "leakyReLU" && typeof a.slope === "number" && a.slope >= 0)
    return;
  throw specError(
    `activation must be one of ${ACTIVATION_NAMES.join(", ")} or sy.nn.leakyReLU(slope), got ${JSON.stringify(activation)}.`,
    where,
  );
}

/** One layer's output shape for an input of `shape`, and its parameter count; throws naming the layer. */
function layerShapes(layer: LayerSpec, shape: number[], where: { index: number; type: string }): LayerShapes {
  const fail = (message: string) => specError(message, where);
  const needImage = () => {
    if (shape.length !== 3) {
      throw fail(`expects an image input [height, width, channels], got ${fmtShape(shape)}.`);
    }
  };
  switch (layer.type) {
    case "Convolution": {
      needImage();
      if (!isPositiveInt(layer.nbFilter))
        throw fail(`nbFilter must be a positive integer, got ${JSON.stringify(layer.nbFilter)}.`);
      if (!isPair(layer.filterSize))
        throw fail(`filterSize must be [h, w] of positive integers, got ${JSON.stringify(layer.filterSize)}.`);
      if (!isPair(layer.stride))
        throw fail(`stride must be [h, w] of positive integers, got ${JSON.stringify(layer.stride)}.`);
      const padding = layer.padding;
      if (!(padding === "same" || padding === "valid" || (Number.isInteger(padding) && (padding as number) >= 0))) {
        throw fail(`padding must be an integer >= 0, "same" or "valid", got ${JSON.stringify(padding)}.`);
      }
      checkActivation(layer.activation, where);
      const [h, w, c] = shape as [number, number, number];
      const [kh, kw] = layer.filterSize;
      const [sh, sw] = layer.stride;
      let out: [number, number];
      if (padding === "same") out = [Math.ceil(h / sh), Math.ceil(w / sw)];
      else {
        const pad = padding === "valid" ? 0 : padding;
        if (kh > h + 2 * pad || kw > w + 2 * pad) {
          throw fail(
            `filter ${kh}x${kw} is larger than its (padded) input ${h + 2 * pad}x${w + 2 * pad}; use a smaller filter or padding.`,
          );
        }
        out = [Math.floor((h + 2 * pad - kh) / sh) + 1, Math.floor((w + 2 * pad - kw) / sw) + 1];
      }
      return { output: [...out, layer.nbFilter], params: kh * kw * c * layer.nbFilter + layer.nbFilter };
    }
    case "MaxPool":
    case "AvgPool": {
      needImage();
      if (!isPair(layer.poolSize))
        throw fail(`poolSize must be [h, w] of positive integers, got ${JSON.stringify(layer.poolSize)}.`);
      if (!isPair(layer.stride))
        throw fail(`stride must be [h, w] of positive integers, got ${JSON.stringify(layer.stride)}.`);
      const [h, w, c] = shape as [number, number, number];
      const [ph, pw] = layer.poolSize;
      if (ph > h || pw > w) throw fail(`pool ${ph}x${pw} is larger than its input ${h}x${w}.`);
      return {
        output: [Math.floor((h - ph) / layer.stride[0]) + 1, Math.floor((w - pw) / layer.stride[1]) + 1, c],
        params: 0,
      };
    }
    case "Linear": {
      if (!isPositiveInt(layer.units))
        throw fail(`units must be a positive integer, got ${JSON.stringify(layer.units)}.`);
      checkActivation(layer.activation, where);
      if (shape.length !== 1) {
        throw fail(
          `expects a flat input [features], got ${fmtShape(shape)}; add sy.nn.Flatten() before it (as PySyft requires).`,
        );
      }
      return { output: [layer.units], params: shape[0]! * layer.units + layer.units };
    }
    case "BatchNorm": {
      if (!(typeof layer.epsilon === "number" && layer.epsilon > 0))
        throw fail(`epsilon must be > 0, got ${JSON.stringify(layer.epsilon)}.`);
      if (!(typeof layer.momentum === "number" && layer.momentum >= 0 && layer.momentum < 1)) {
        throw fail(`momentum must be in [0, 1), got ${JSON.stringify(layer.momentum)}.`);
      }
      checkActivation(layer.activation, where);
      // gamma and beta are trained; the moving mean and variance are weights too, but not trainable.
      return { output: shape, params: 2 * shape[shape.length - 1]! };
    }
    case "Flatten":
      if (shape.length < 2) throw fail(`expects an input of rank >= 2 to flatten, got ${fmtShape(shape)}.`);
      return { output: [shape.reduce((a, b) => a * b, 1)], params: 0 };
    case "LeakyReLU":
      if (!(typeof layer.slope === "number" && layer.slope >= 0))
        throw fail(`slope must be a number >= 0, got ${JSON.stringify(layer.slope)}.`);
      return { output: shape, params: 0 };
  }
}
