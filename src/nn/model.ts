/**
 * `sy.nn.Model`: the design's model API ("User Flows for Remote Model Training"). Layers are added one by one
 * and checked as they come; the model is a {@link ModelSpec} (JSON) underneath, which is what travels to a domain.
 *
 * Local use trains in this process with the same loop a domain runs (`runTraining`): `compile({ loss, optimizer })`
 * then `fit(x, y, { maxIter, batchSize, validationSplit, dp })`, `step(x, y)`, `predict(x)`, `weights()`.
 *
 * Remote use goes through a {@link ModelHost}, the seam a domain client implements: `compile({ to: host, ... })`
 * (flow II), or `new Model({ to: host })` and then `compile({ ... })` (flow I), hands `toSpec()` to
 * `host.compileModel` and returns whatever the host returns, a model pointer on which the domain client offers
 * `fit` on data pointers, `progress()`, `step()` and `weights()`. Nothing here knows about networks.
 */
import * as tfjs from "@tensorflow/tfjs";
import { DISPLAY, escapeHtml, type MimeBundle } from "../core/display-protocol";
import { ErrorCode, TsyftError } from "../core/errors";
import { RDPAccountant } from "../dp/accountant";
import { Adamax, BinaryCrossEntropy } from "./layers";
import {
  checkModelSpec,
  MODEL_SPEC_FORMAT,
  type LayerShapes,
  type LayerSpec,
  type LossName,
  type ModelSpec,
  type OptimizerSpec,
} from "./spec";
import { runTraining, type EpochRecord, type TrainOptions } from "./train";
import { Trainer } from "./trainer";

/**
 * Where a model can be compiled other than here: a domain node's client implements it. `compileModel` receives the
 * checked spec (JSON) and returns the host's handle to the model created there (a model pointer).
 *
 * @example
 * ```ts
 * class DomainClient implements sy.nn.ModelHost<ModelPointer> {
 *   async compileModel(spec: sy.nn.ModelSpec) { return new ModelPointer(this, await this.post("/models", spec)); }
 * }
 * ```
 */
export interface ModelHost<Handle = unknown> {
  compileModel(spec: ModelSpec): Promise<Handle>;
}

/** Options of {@link Model.compile}: PySyft's defaults are BinaryCrossEntropy and Adamax. */
export interface CompileOptions {
  loss?: LossName;
  optimizer?: OptimizerSpec;
}

/** One row of {@link Model.summary}. */
export interface LayerSummary extends LayerShapes {
  readonly index: number;
  readonly type: LayerSpec["type"];
}

/**
 * A sequential model built layer by layer (PySyft's `nn.Model`).
 *
 * @example
 * ```ts
 * const net = new sy.nn.Model();
 * net.add(sy.nn.Convolution(8, [3, 3], { inputShape: [null, 32, 32, 3], activation: "relu" }));
 * net.add(sy.nn.MaxPool([2, 2]));
 * net.add(sy.nn.Flatten());
 * net.add(sy.nn.Linear(1, { activation: "sigmoid" }));
 * net.compile({ loss: sy.nn.BinaryCrossEntropy(), optimizer: sy.nn.Adamax() });
 * await net.fit(images, labels, { maxIter: 5, batchSize: 32, validationSplit: 0.1 });
 * // or, on a domain: const modelPtr = await net.compile({ to: ds, loss, optimizer });
 * ```
 */
export class Model<Host = never> {
  private readonly layerSpecs: LayerSpec[] = [];
  private inputShape: number[] | undefined;
  private compiled: Required<CompileOptions> | undefined;
  private trainer: Trainer | undefined;
  private readonly host: ModelHost<Host> | undefined;
  /** The epochs of every local `fit`, oldest first. */
  readonly history: EpochRecord[] = [];
  /** Every DP-SGD step of the local `fit` calls: `net.accountant.getEpsilon(1e-5)` is the privacy they spent. */
  readonly accountant = new RDPAccountant();

  /** An empty model; with `to`, `compile()` sends it to that host (the design's flow I, `nn.Model(to=domain)`). */
  constructor(options: { to?: ModelHost<Host>; layers?: readonly LayerSpec[] } = {}) {
    this.host = options.to;
    for (const layer of options.layers ?? []) this.add(layer);
  }

  /** Rebuilds a model from its spec (for instance one received over the wire), compiled with the spec's loss and optimizer. */
  static fromSpec(spec: ModelSpec): Model {
    checkModelSpec(spec);
    const model = new Model();
    model.inputShape = [...spec.inputShape];
    for (const layer of spec.layers) model.add(layer);
    return model.compile({ loss: spec.loss, optimizer: spec.optimizer });
  }

  /** The layers so far, as spec pieces. */
  get layers(): readonly LayerSpec[] {
    return this.layerSpecs;
  }

  /**
   * Appends a layer, checking at once that it fits the layers before it (a bad layer throws TSYFT_ERR_MODEL_SPEC
   * naming it and is not added). The first layer must give `inputShape`.
   */
  add(layer: LayerSpec): this {
    if (this.trainer !== undefined) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        "Model.add: the model is already compiled; add every layer before compile().",
      );
    }
    const { inputShape: given, ...rest } = layer as LayerSpec & { inputShape?: readonly number[] };
    const inputShape = this.inputShape ?? (given ? [...given] : undefined);
    if (inputShape === undefined) {
      throw new TsyftError(
        ErrorCode.MODEL_SPEC,
        `Model spec, layer 0 (${layer.type}): the first layer needs inputShape, one example's shape such as [null, 32, 32, 3].`,
        { layer: 0, type: layer.type },
      );
    }
    checkModelSpec(this.specWith([...this.layerSpecs, rest as LayerSpec], inputShape, {}));
    this.inputShape = inputShape;
    this.layerSpecs.push(rest as LayerSpec);
    return this;
  }

  /**
   * Each layer's output shape (one example) and parameter count.
   *
   * @example
   * ```ts
   * net.summary().map((l) => [l.type, l.output, l.params]);
   * ```
   */
  summary(): LayerSummary[] {
    return checkModelSpec(this.toSpec()).map((shapes, index) => ({
      index,
      type: this.layerSpecs[index]!.type,
      ...shapes,
    }));
  }

  /** The model as JSON: layers, input shape, loss and optimizer (PySyft's defaults until compiled). */
  toSpec(): ModelSpec {
    if (this.inputShape === undefined)
      throw new TsyftError(ErrorCode.MODEL_SPEC, "Model spec: the model has no layers yet; add some first.");
    return this.specWith(this.layerSpecs, this.inputShape, this.compiled ?? {});
  }

  /**
   * Sets the loss and optimizer. Locally (no host) it builds the TensorFlow.js model and returns this; with a host
   * (`to`, or the constructor's) it sends the spec and returns the host's handle (a model pointer).
   */
  compile<P>(options: CompileOptions & { to: ModelHost<P> }): Promise<P>;
  compile(this: Model<never>, options?: CompileOptions): this;
  compile(options?: CompileOptions): Promise<Host>;
  compile(options: CompileOptions & { to?: ModelHost<unknown> } = {}): this | Promise<unknown> {
    this.compiled = { loss: options.loss ?? BinaryCrossEntropy(), optimizer: options.optimizer ?? Adamax() };
    const host = options.to ?? this.host;
    if (host !== undefined) return host.compileModel(this.toSpec());
    return this;
  }

  /**
   * Trains in this process: the design's `fit(x, y, { maxIter, validationSplit, batchSize })`, plus `dp` for DP-SGD
   * (each step recorded in {@link accountant}), `onStep` / `onEpoch` and `signal`. Repeated calls continue from where
   * the last one stopped.
   */
  async fit(x: tfjs.Tensor, y: tfjs.Tensor, options: TrainOptions): Promise<EpochRecord[]> {
    const history = await runTraining(this.local("fit"), x, y, {
      ...options,
      onStep: (s) => {
        if (s.noiseMultiplier !== undefined)
          this.accountant.step({ noiseMultiplier: s.noiseMultiplier, sampleRate: s.sampleRate });
        return options.onStep?.(s);
      },
    });
    this.history.push(...history);
    return history;
  }

  /** One ordinary training step on a batch (the design's flow III); returns the batch's mean loss. */
  step(x: tfjs.Tensor, y: tfjs.Tensor): number {
    const trainer = this.local("step");
    trainer.checkInput(x, "Model.step");
    const targets = trainer.targets(y);
    try {
      return trainer.step(x, targets);
    } finally {
      targets.dispose();
    }
  }

  /** The model's outputs for `x`; the caller disposes them. */
  predict(x: tfjs.Tensor): tfjs.Tensor {
    const trainer = this.local("predict");
    trainer.checkInput(x, "Model.predict");
    return trainer.model.predict(x) as tfjs.Tensor;
  }

  /** Copies of the weights (`model.getWeights()` order); the caller disposes them. */
  weights(): tfjs.Tensor[] {
    if (this.trainer === undefined) throw notCompiled("weights");
    return this.trainer.getWeights();
  }

  /** Frees the local TensorFlow.js model. */
  dispose(): void {
    this.trainer?.dispose();
    this.trainer = undefined;
  }

  /** One line for people: layers, parameters, loss, optimizer, where it trains. */
  toString(): string {
    if (this.inputShape === undefined) return "Model (no layers yet)";
    const spec = this.toSpec();
    const params = this.summary().reduce((sum, l) => sum + l.params, 0);
    const where = this.host ? "on its host" : this.compiled ? "local" : "local, not compiled";
    return `Model: ${spec.layers.length} layers, ${params} parameters, ${spec.loss}, ${spec.optimizer.name} (${where})`;
  }

  /** In a notebook: the layers as a table (type, output shape per example, parameters). */
  [DISPLAY](): MimeBundle {
    const rows = this.inputShape === undefined ? [] : this.summary();
    const cells = rows.map((l) => [String(l.index), l.type, `[${l.output.join(", ")}]`, String(l.params)]);
    const header = ["#", "Layer", "Output shape", "Params"];
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
    const line = (values: string[]) =>
      values
        .map((v, i) => v.padEnd(widths[i]!))
        .join("  ")
        .trimEnd();
    const html = (tag: string, values: string[]) =>
      `<tr>${values.map((v) => `<${tag}>${escapeHtml(v)}</${tag}>`).join("")}</tr>`;
    return {
      "text/plain": [this.toString(), line(header), ...cells.map(line)].join("\n"),
      "text/html": `<b>${escapeHtml(this.toString())}</b><table>${html("th", header)}${cells.map((c) => html("td", c)).join("")}</table>`,
    };
  }

  private specWith(layers: readonly LayerSpec[], inputShape: readonly number[], compiled: CompileOptions): ModelSpec {
    return {
      format: MODEL_SPEC_FORMAT,
      inputShape: [...inputShape],
      layers: [...layers],
      loss: compiled.loss ?? BinaryCrossEntropy(),
      optimizer: compiled.optimizer ?? Adamax(),
    };
  }

  /** The local trainer, built on first use after compile(). */
  private local(method: string): Trainer {
    if (this.compiled === undefined) throw notCompiled(method);
    if (this.host !== undefined) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `Model.${method}: this model lives on its host; use the handle compile() returned.`,
      );
    }
    this.trainer ??= Trainer.create(tfjs, this.toSpec());
    return this.trainer;
  }
}

function notCompiled(method: string): TsyftError {
  return new TsyftError(
    ErrorCode.INVALID_ARGUMENT,
    `Model.${method}: compile the model first, e.g. net.compile({ loss: sy.nn.BinaryCrossEntropy(), optimizer: sy.nn.Adamax() }).`,
  );
}
