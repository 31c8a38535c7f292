/**
 * The class behind `sy.Plan`: a plan's identity, its state and its IR, with
 * thin methods over the files that do the work (trace, run, preprocess,
 * serialize, host). Every instance is a function, `plan(x)` being
 * `plan.run(x)`; `plan.ts` gives the class the type that says so.
 */
import type * as tfjs from "@tensorflow/tfjs";
import { DISPLAY, escapeHtml, type MimeBundle } from "../core/display-protocol";
import { ErrorCode, PlanError } from "../core/errors";
import { encoding as resolveEncoding, type FixedPointEncoding, type FixedPointOptions } from "../encoding/fixed-point";
import { type AnyTensor, type Operand, type TsyftTensor } from "../tensors/base";
import { FixedPrecisionTensor, commonSharing } from "../tensors/fixed-precision";
import type { WorkerHandle } from "../tensors/handle";
import { currentHook, type Hook } from "../tensors/hook";
import { describeGroup, parseShareArgs, type ShareOptions } from "../tensors/shared";
import { CallableInstance } from "./callable";
import { convertModel } from "./from-model";
import { grantKeyOf, isGrantHolder, sendPlan, type PlanHost, type SendOptions, type UseGrant } from "./host";
import { readableCode, type PlanIR } from "./ir";
import type { PointerPlan } from "./pointer-plan";
import { PreprocessedRuns, preprocessPlan } from "./preprocess";
import { runPlan, runPlanEagerly, unwrapOutputs } from "./run";
import { planFromBytes, planToBytes, stateFromWire, stateToWire, type SerializedPlan } from "./serialize";
import { isSharedState, isStateTensor, type StateTensor } from "./state";
import { traceOnExamples } from "./trace";

export interface PlanOptions {
  /** The id under which workers store the plan (random when absent). */
  id?: string;
  /** A display name (the class name when absent). */
  name?: string;
}

/** Options of `Plan.fromModel`. */
export interface FromModelOptions extends PlanOptions {
  /**
   * Build at once from the model's input shape with a batch of 1 (default false). Plans from models run on any
   * batch size (their ops keep the batch axis), so this is all most models need.
   */
  build?: boolean;
}

/**
 * What a plan is made of when it is not a subclass with tensor fields and a
 * `forward` method: `func2plan`, `Plan.fromModel` and fetched plans give it.
 */
export interface PlanDefinition {
  /** The state by name, in the order the plan takes it. */
  state?: Record<string, StateTensor>;
  /** The computation, traced on placeholders: the inputs, then the state by name. */
  forward?: (inputs: TsyftTensor[], state: Record<string, TsyftTensor>) => AnyTensor | AnyTensor[];
  /** The input shape `build()` uses when given no example. */
  inputShape?: number[];
}

export class Plan extends CallableInstance<Operand[], AnyTensor | AnyTensor[]> {
  // Own, non-enumerable properties of the instance, set in the constructor (`name` replaces the function's own).
  declare readonly id: string;
  declare readonly name: string;
  /** The traced IR, once built. */
  declare ir?: PlanIR;
  readonly #definition: PlanDefinition;
  readonly #preprocessedRuns = new PreprocessedRuns();

  /**
   * Subclasses give the state as tensor fields and override `forward`; the
   * `definition` is for plans made from a function, a model or bytes.
   */
  constructor(options: PlanOptions = {}, definition: PlanDefinition = {}) {
    super();
    Object.defineProperties(this, {
      name: { value: options.name ?? new.target.name, writable: true, configurable: true },
      id: { value: options.id ?? currentHook().ids.next() },
    });
    this.#definition = { ...definition, state: definition.state && { ...definition.state } };
  }

  protected override invoke(...inputs: Operand[]): AnyTensor | AnyTensor[] {
    return this.run(...inputs);
  }

  /** The computation; override it in a subclass (or give a function to `func2plan`). */
  forward(...inputs: AnyTensor[]): AnyTensor | AnyTensor[];
  forward(): AnyTensor | AnyTensor[] {
    throw new PlanError(
      ErrorCode.PLAN_INVALID,
      `${this.name} has no forward: override forward(x) in your Plan subclass, or use sy.func2plan(fn).`,
    );
  }

  get hook(): Hook {
    return currentHook();
  }

  get isBuilt(): boolean {
    return this.ir !== undefined;
  }

  /** The state, by name, in declaration order. */
  get state(): Array<[string, StateTensor]> {
    if (this.#definition.state) return Object.entries(this.#definition.state);
    return Object.entries(this).filter((entry): entry is [string, StateTensor] => isStateTensor(entry[1]));
  }

  private get stateValues(): StateTensor[] {
    return this.state.map(([, v]) => v);
  }

  private setState(entries: Array<[string, unknown]>): void {
    Object.assign(this.#definition.state ?? this, Object.fromEntries(entries));
  }

  /**
   * Makes a plan from a tf.Sequential or tf.LayersModel (Dense, Conv2D,
   * pooling, Flatten, ReLU, Dropout...). Build it before use; without an
   * example, `build()` uses the model's input shape with a batch of 1.
   *
   * @example
   * ```ts
   * const plan = sy.Plan.fromModel(model, { id: "convnet" });
   * await plan.build(tf.zeros([1, 32, 32, 3]));
   * ```
   */
  static fromModel(model: tfjs.LayersModel, options: FromModelOptions = {}): Plan {
    const { steps, state, inputShape } = convertModel(model);
    const plan = new Plan(
      { id: options.id, name: options.name ?? model.name },
      { state, inputShape, forward: ([x], s) => steps.reduce<AnyTensor>((y, step) => step(y, s), x!) },
    );
    return options.build ? plan.trace([]) : plan;
  }

  /** Traces forward on placeholders shaped like the examples. */
  async build(...examples: Operand[]): Promise<this> {
    return this.trace(examples);
  }

  /** build's work, synchronous: tracing awaits nothing. */
  private trace(examples: Operand[]): this {
    const { inputShape, forward } = this.#definition;
    if (examples.length === 0 && inputShape) examples = [this.hook.tf.zeros(inputShape)];
    if (examples.length === 0) {
      throw new PlanError(
        ErrorCode.PLAN_INVALID,
        `${this.name}.build needs example inputs to know their shapes, e.g. build(tf.zeros([1, 784])).`,
      );
    }
    const state = this.state;
    this.ir = traceOnExamples(this.hook, examples, state, (inputs, placeholders) => {
      if (forward) return forward(inputs, Object.fromEntries(state.map(([name], i) => [name, placeholders[i]!])));
      // Swap the fields for placeholders while forward runs, then put the tensors back.
      this.setState(state.map(([name], i) => [name, placeholders[i]]));
      try {
        return this.forward(...inputs);
      } finally {
        this.setState(state);
      }
    });
    return this;
  }

  /** The readable form: one op per line with ids and shapes, never weight values. */
  get code(): string {
    return readableCode(this.name, this.requireBuilt());
  }

  protected requireBuilt(): PlanIR {
    if (!this.ir) {
      throw new PlanError(
        ErrorCode.PLAN_NOT_BUILT,
        `${this.name} is not built: call await ${this.name.charAt(0).toLowerCase() + this.name.slice(1)}.build(exampleInput) first.`,
      );
    }
    return this.ir;
  }

  /** Encodes the state in fixed point (PySyft's `fix_precision`). */
  fixPrecision(options: FixedPointOptions = {}): this {
    this.encodeState(resolveEncoding(options));
    return this;
  }

  /** Alias of `fixPrecision` (PySyft's `fix_prec`). */
  fixPrec(options: FixedPointOptions = {}): this {
    return this.fixPrecision(options);
  }

  /** Encodes what is still plaintext; returns the whole state, now fixed point. */
  private encodeState(enc: FixedPointEncoding): Array<[string, FixedPrecisionTensor]> {
    const encoded = this.state.map(([name, value]): [string, FixedPrecisionTensor] => [
      name,
      value instanceof FixedPrecisionTensor ? value : FixedPrecisionTensor.fromTensor(this.hook, value, enc),
    ]);
    this.setState(encoded);
    return encoded;
  }

  /** Secret-shares the state among holders: `share(bob, charlie, { cryptoProvider: dan })`. */
  share(...args: Array<WorkerHandle | ShareOptions>): this {
    parseShareArgs(args);
    // Shares are ring elements, so what is still plaintext is encoded first, in the default encoding.
    for (const [name, value] of this.encodeState(resolveEncoding({}))) {
      if (value.isShared)
        throw new PlanError(ErrorCode.PLAN_INVALID, `${this.name}.${name} is already shared; a plan is shared once.`);
      this.setState([[name, value.share(...args)]]);
    }
    return this;
  }

  /**
   * Stores the plan on `worker` (the plan host); returns a pointer to it. An
   * encrypted plan's state stays on its holders: the host keeps the IR and
   * the ids of the shares, never weights.
   */
  send(worker: WorkerHandle & PlanHost, options: SendOptions = {}): PointerPlan {
    const serialized = this.serialize();
    return sendPlan(this.hook, worker, this.id, planToBytes(serialized), options, {
      grants: this.grantUse(serialized, options),
      className: this.constructor.name,
    });
  }

  /**
   * Sent with `allowRemoteInference`, an encrypted plan lets anyone run exactly its IR over its weight shares: each
   * holder records that use grant (and refuses any other IR over them).
   */
  private grantUse(serialized: SerializedPlan, options: SendOptions): Array<Promise<void>> {
    if (!options.policy?.allowRemoteInference) return [];
    const shared = this.stateValues.filter(isSharedState);
    if (shared.length === 0) return [];
    const grant: UseGrant = {
      ...grantKeyOf(serialized),
      anyone: true,
      ownerTokenHash: options.policy.ownerTokenHash,
      label: options.label ?? this.name,
    };
    const holders = commonSharing(shared, "plan").lead?.group.holders ?? [];
    return holders.map((holder, i) => {
      // Only the lead holder counts runs (see UseGrant.maxRuns).
      const counted = i === 0 && options.maxRuns !== undefined ? { maxRuns: options.maxRuns } : {};
      if (isGrantHolder(holder)) return holder.grant({ ...grant, ...counted });
      throw new PlanError(
        ErrorCode.PLAN_INVALID,
        `${this.name} is sent with allowRemoteInference, but its share holder ${holder.id} cannot record a use grant.`,
      );
    });
  }

  /** Runs the plan: on plaintext, on shares (one command per holder), or through pointers. */
  run(...inputs: Operand[]): AnyTensor | AnyTensor[] {
    const ir = this.requireBuilt();
    return unwrapOutputs(runPlan(this.hook, ir, inputs, this.stateValues, () => this.#preprocessedRuns.take(inputs)));
  }

  /** `run`, under TensorFlow.js's name: a model shared with `model.fixPrecision().share(...)` predicts on shares. */
  predict(...inputs: Operand[]): AnyTensor | AnyTensor[] {
    return this.run(...inputs);
  }

  /**
   * Offline phase: has the crypto provider deal now the material of `runs`
   * future encrypted runs on inputs of these shapes, so that those runs only
   * talk holder to holder. Resolves with the number of pieces dealt.
   *
   * @example
   * ```ts
   * await fetched.preprocess(1, [1, 32, 32, 3]);   // offline
   * const y = fetched(xSh);                          // online: no dealer round trips
   * ```
   */
  async preprocess(runs: number, ...inputShapes: number[][]): Promise<number> {
    const ir = this.requireBuilt();
    const { runIds, dealt } = await preprocessPlan(this.hook, this.name, ir, this.stateValues, runs, inputShapes);
    this.#preprocessedRuns.add(inputShapes, runIds);
    return dealt;
  }

  /** Runs the plan op by op from the client (each op its own command): the slow path, for comparison. */
  runEagerly(...inputs: Operand[]): AnyTensor | AnyTensor[] {
    return unwrapOutputs(runPlanEagerly(this.hook, this.requireBuilt(), inputs, this.stateValues));
  }

  /** The versioned binary form (with plaintext weights if the state is not shared). */
  toBytes(): Uint8Array {
    return planToBytes(this.serialize());
  }

  /** The plan as `toBytes()` encodes it: id, name, IR, and each state entry's wire form. */
  serialize(): SerializedPlan {
    const ir = this.requireBuilt();
    return { id: this.id, name: this.name, ir, state: this.state.map(([name, value]) => stateToWire(name, value)) };
  }

  /** Rebuilds a plan from `toBytes()`; shared state is resolved to the hook's workers by id. */
  static fromBytes(bytes: Uint8Array, hook: Hook = currentHook()): Plan {
    return Plan.deserialize(planFromBytes(bytes), hook);
  }

  /** Rebuilds a plan from `serialize()`; shared state is resolved to the hook's workers by id. */
  static deserialize(serialized: SerializedPlan, hook: Hook = currentHook()): Plan {
    const state = Object.fromEntries(serialized.state.map((s) => [s.name, stateFromWire(hook, s)]));
    const plan = new Plan({ id: serialized.id, name: serialized.name }, { state });
    plan.ir = serialized.ir;
    return plan;
  }

  override toString(): string {
    const ir = this.ir;
    const shared = this.stateValues.find(isSharedState);
    const where = shared?.group ? `encrypted among ${describeGroup(shared.group)}` : "plaintext";
    return `Plan ${this.name} (id ${this.id}, ${ir ? `${ir.ops.length} ops` : "not built"}, ${this.state.length} state tensors, ${where})`;
  }

  [DISPLAY](): MimeBundle {
    const text = this.ir ? `${this.toString()}\n${this.code}` : this.toString();
    return {
      "text/plain": text,
      "text/html": `<b>${escapeHtml(this.toString())}</b>${this.ir ? `<pre>${escapeHtml(this.code)}</pre>` : ""}`,
    };
  }
}
