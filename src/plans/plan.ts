/**
 * Plans: models traced into a static list of ops that can be encrypted, sent,
 * fetched and run as one command (PySyft's `sy.Plan`).
 *
 * A plan's state is its tensor fields (subclass) or the state given to
 * `func2plan`. `build` traces `forward` on placeholders; afterwards the plan
 * runs from its IR: on plaintext tensors, on shares (every holder gets the
 * whole plan in one command and runs it against its shares), or through
 * pointers. A plan is callable: `plan(x)` is `plan.run(x)`.
 *
 * @example
 * ```ts
 * class Net extends sy.Plan {
 *   fc1 = tf.tensor([2.0, 4.0]);
 *   bias = tf.tensor([1000.0]);
 *   forward(x: sy.AnyTensor) { return sy.F.matmul(this.fc1, x).add(this.bias); }
 * }
 * const model = new Net({ id: "net" });
 * await model.build(tf.tensor([1.0, 2]));
 * model.run(tf.tensor([5, 3])).print();   // [1022]
 * ```
 */
import type * as tfjs from "@tensorflow/tfjs";
import { getConfig } from "../core/config";
import { DISPLAY, escapeHtml, type MimeBundle } from "../core/display-protocol";
import { ErrorCode, PlanError } from "../core/errors";
import {
  encoding as resolveEncoding,
  sameEncoding,
  describeEncoding,
  type FixedPointEncoding,
  type FixedPointOptions,
} from "../encoding/fixed-point";
import { dispatch, shapeOf, type Operand, type AnyTensor } from "../tensors/base";
import { FixedPrecisionTensor, inputRefOf } from "../tensors/fixed-precision";
import type { InputRef, WorkerHandle } from "../tensors/handle";
import { currentHook, fromTensorData, type Hook } from "../tensors/hook";
import { runPlainOp } from "../tensors/plain-ops";
import { PointerTensor } from "../tensors/pointer";
import {
  AdditiveSharingTensor,
  describeGroup,
  parseShareArgs,
  providerFields,
  sameGroup,
  type ShareOptions,
  type SharingGroup,
} from "../tensors/shared";
import type { RunPlanCommand } from "./commands";
import type { PlanHost } from "./host";
import { PointerPlan } from "./pointer-plan";
import { inferPlanShapes, readableCode, type PlanIR } from "./ir";
import { interpretSync } from "./interpreter";
import { planFromBytes, planToBytes, type SerializedPlan, type SerializedState } from "./serialize";
import { trace } from "./trace";
import { convertModel } from "./from-model";

export type StateTensor = tfjs.Tensor | FixedPrecisionTensor;

export interface PlanOptions {
  /** The id under which workers store the plan (random when absent). */
  id?: string;
  /** A display name (the class name when absent). */
  name?: string;
}

export interface SendOptions {
  /** A secret that `fetchPlan` must present. */
  token?: string;
}

/** A plan is callable: `plan(x)` is `plan.run(x)`. */
export interface Plan {
  (...inputs: Operand[]): AnyTensor | AnyTensor[];
}

export class Plan {
  readonly id!: string;
  /** The traced IR, once built. */
  ir?: PlanIR;
  /** State given explicitly (func2plan, fromModel, fetched plans) rather than as fields. */
  protected explicitState?: Record<string, StateTensor>;
  protected forwardFn?: (inputs: AnyTensor[], state: Record<string, AnyTensor>) => AnyTensor | AnyTensor[];

  constructor(options: PlanOptions = {}) {
    const callable = function (this: unknown, ...inputs: Operand[]) {
      return (callable as unknown as Plan).run(...inputs);
    } as unknown as Plan;
    Object.setPrototypeOf(callable, new.target.prototype);
    Object.defineProperty(callable, "name", {
      value: options.name ?? new.target.name,
      writable: true,
      configurable: true,
      enumerable: false,
    });
    Object.defineProperty(callable, "id", {
      value: options.id ?? currentHook().ids.next(),
      writable: false,
      enumerable: false,
    });
    // The constructor returns `callable`, so Plan's own fields must be set on it here, not by initializers.
    Object.defineProperty(callable, "preprocessedRuns", { value: new Map<string, string[]>(), enumerable: false });
    return callable;
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
    if (this.explicitState) return Object.entries(this.explicitState);
    return Object.entries(this).filter(([, v]) => isStateTensor(v)) as Array<[string, StateTensor]>;
  }

  protected setState(name: string, value: StateTensor): void {
    if (this.explicitState) this.explicitState[name] = value;
    else (this as unknown as Record<string, unknown>)[name] = value;
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
  static fromModel(model: tfjs.LayersModel, options: PlanOptions = {}): Plan {
    const { steps, state, inputShape } = convertModel(model);
    const plan = new Plan({ id: options.id, name: options.name ?? model.name });
    plan.explicitState = { ...state };
    plan.forwardFn = ([x], s) => steps.reduce((y, step) => step(y, s), x!);
    plan.defaultInputShape = inputShape;
    return plan;
  }

  /** The input shape `build()` uses when given no example (models converted by fromModel). */
  protected defaultInputShape?: number[];

  /** Traces forward on placeholders shaped like the examples. */
  async build(...examples: Operand[]): Promise<this> {
    if (examples.length === 0 && this.defaultInputShape) examples = [this.hook.tf.zeros(this.defaultInputShape)];
    if (examples.length === 0) {
      throw new PlanError(
        ErrorCode.PLAN_INVALID,
        `${this.name}.build needs example inputs to know their shapes, e.g. build(tf.zeros([1, 784])).`,
      );
    }
    const state = this.state;
    this.ir = trace(
      this.hook,
      {
        inputs: examples.map((e, i) => ({ name: `arg_${i + 1}`, shape: shapeOf(e) })),
        state: state.map(([name, v]) => ({ name, shape: v.shape })),
      },
      (inputs, statePlaceholders) => {
        if (this.forwardFn) {
          return this.forwardFn(inputs, Object.fromEntries(state.map(([name], i) => [name, statePlaceholders[i]!])));
        }
        // Swap the fields for placeholders while forward runs, then put the tensors back.
        state.forEach(([name], i) => ((this as unknown as Record<string, unknown>)[name] = statePlaceholders[i]));
        try {
          return this.forward(...inputs);
        } finally {
          state.forEach(([name, value]) => ((this as unknown as Record<string, unknown>)[name] = value));
        }
      },
    );
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
    const enc = resolveEncoding(options);
    for (const [name, value] of this.state) {
      if (value instanceof FixedPrecisionTensor) continue;
      this.setState(name, FixedPrecisionTensor.fromTensor(this.hook, value, enc));
    }
    return this;
  }

  fixPrec(options: FixedPointOptions = {}): this {
    return this.fixPrecision(options);
  }

  /** Secret-shares the state among holders: `share(bob, charlie, { cryptoProvider: dan })`. */
  share(...args: Array<WorkerHandle | ShareOptions>): this {
    parseShareArgs(args);
    this.fixPrecision();
    for (const [name, value] of this.state) {
      const fpt = value as FixedPrecisionTensor;
      if (fpt.isShared)
        throw new PlanError(ErrorCode.PLAN_INVALID, `${this.name}.${name} is already shared; a plan is shared once.`);
      this.setState(name, fpt.share(...args));
    }
    return this;
  }

  /**
   * Stores the plan on `worker` (the plan host); returns a pointer to it. An
   * encrypted plan's state stays on its holders: the host keeps the IR and
   * the ids of the shares, never weights.
   */
  send(worker: WorkerHandle & PlanHost, options: SendOptions = {}): PointerPlan {
    const bytes = this.toBytes();
    const stored = worker.storePlan(this.id, bytes, options);
    return new PointerPlan(this.hook, worker, this.id, planFromBytes(bytes), stored, options.token);
  }

  /** Runs the plan: on plaintext, on shares (one command per holder), or through pointers. */
  run(...inputs: Operand[]): AnyTensor | AnyTensor[] {
    const ir = this.requireBuilt();
    const state = this.state.map(([, v]) => v);
    const outputs = runPlan(this.hook, ir, inputs, state, () => this.takePreprocessedRun(inputs));
    return outputs.length === 1 ? outputs[0]! : outputs;
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
    const stateValues = this.state.map(([, v]) => v);
    const shared = stateValues.filter(
      (v): v is FixedPrecisionTensor => v instanceof FixedPrecisionTensor && v.isShared,
    );
    const group = shared[0]?.group;
    if (!group?.provider) {
      throw new PlanError(
        ErrorCode.NO_CRYPTO_PROVIDER,
        `${this.name}.preprocess needs a plan whose state is shared with a crypto provider: share(bob, charlie, { cryptoProvider: dan }).`,
      );
    }
    inferPlanShapes(
      ir,
      inputShapes,
      stateValues.map((s) => s.shape),
    );
    const hook = this.hook;
    const runIds = Array.from({ length: runs }, () => hook.ids.next());
    const output = hook.ids.next();
    const last = group.holders[group.holders.length - 1]!;
    last.submit({
      type: "preprocess-plan",
      ir,
      inputShapes: inputShapes.map((s) => [...s]),
      sharedInputs: inputShapes.map(() => true),
      stateShapes: stateValues.map((s) => [...s.shape]),
      sharedState: stateValues.map((s) => s instanceof FixedPrecisionTensor && s.isShared),
      stateIds: stateValues.map((s) =>
        s instanceof FixedPrecisionTensor && s.child instanceof AdditiveSharingTensor ? s.child.id : null,
      ),
      runIds,
      holders: group.holders.map((h) => h.id),
      provider: group.provider.id,
      providerKind: getConfig().cryptoProvider,
      encoding: shared[0]!.encoding,
      output,
    });
    const done = await last.fetch(output, { remove: true });
    const key = shapeKey(inputShapes);
    this.preprocessedRuns.set(key, [...(this.preprocessedRuns.get(key) ?? []), ...runIds]);
    return done.kind === "tensor" ? done.value.values[0]! : 0;
  }

  /** Run ids whose material was dealt ahead, by input shapes (set in the constructor). */
  private readonly preprocessedRuns!: Map<string, string[]>;

  /** A run id dealt ahead for these input shapes, if any is left. */
  protected takePreprocessedRun(inputs: readonly Operand[]): string | undefined {
    return this.preprocessedRuns.get(shapeKey(inputs.map(shapeOf)))?.shift();
  }

  /** Runs the plan op by op from the client (each op its own command): the slow path, for comparison. */
  runEagerly(...inputs: Operand[]): AnyTensor | AnyTensor[] {
    const ir = this.requireBuilt();
    const tf = this.hook.tf;
    const outputs = interpretSync<Operand>(
      ir,
      inputs,
      this.state.map(([, v]) => v),
      {
        constant: (data) => fromTensorData(tf, data),
        scalar: (value) => value,
        run: (op, args, attrs) => dispatch(op, args, attrs as never),
      },
    ) as AnyTensor[];
    return outputs.length === 1 ? outputs[0]! : outputs;
  }

  /** The versioned binary form (with plaintext weights if the state is not shared). */
  toBytes(): Uint8Array {
    return planToBytes(this.serialize());
  }

  serialize(): SerializedPlan {
    const ir = this.requireBuilt();
    const state: SerializedState[] = this.state.map(([name, value]) => {
      if (!(value instanceof FixedPrecisionTensor)) return { kind: "plain", name, data: tensorDataOf(value) };
      if (value.child instanceof AdditiveSharingTensor) {
        const group = value.child.group;
        return {
          kind: "shared",
          name,
          encoding: value.encoding,
          id: value.child.id,
          shape: [...value.shape],
          holders: group.holders.map((h) => h.id),
          provider: group.provider?.id,
        };
      }
      return { kind: "fixed", name, encoding: value.encoding, value: value.child };
    });
    return { id: this.id, name: this.name, ir, state };
  }

  /** Rebuilds a plan from `toBytes()`; shared state is resolved to the hook's workers by id. */
  static fromBytes(bytes: Uint8Array, hook: Hook = currentHook()): Plan {
    return Plan.deserialize(planFromBytes(bytes), hook);
  }

  static deserialize(serialized: SerializedPlan, hook: Hook = currentHook()): Plan {
    const plan = new Plan({ id: serialized.id, name: serialized.name });
    plan.ir = serialized.ir;
    plan.explicitState = Object.fromEntries(serialized.state.map((s) => [s.name, stateFromWire(hook, s)]));
    return plan;
  }

  toString(): string {
    const ir = this.ir;
    const where = this.state.some(([, v]) => v instanceof FixedPrecisionTensor && v.isShared)
      ? `encrypted among ${describeGroup((this.state.find(([, v]) => v instanceof FixedPrecisionTensor && v.isShared)![1] as FixedPrecisionTensor).group!)}`
      : "plaintext";
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

/**
 * Makes a plan from a function (PySyft's `func2plan`): `fn(inputs..., state)`.
 *
 * @example
 * ```ts
 * const plan = sy.func2plan((x, state) => x.add(state.bias), { state: { bias: tf.tensor([1]) } });
 * await plan.build(tf.tensor([1, 2]));
 * ```
 */
export function func2plan(
  fn: (...args: any[]) => AnyTensor | AnyTensor[],
  options: PlanOptions & { state?: Record<string, tfjs.Tensor> } = {},
): Plan {
  const plan = new Plan({ name: options.name ?? (fn.name || "plan"), id: options.id });
  const withState = options.state !== undefined;
  (plan as unknown as { explicitState: Record<string, StateTensor> }).explicitState = { ...(options.state ?? {}) };
  (plan as unknown as { forwardFn: Plan["forwardFn"] }).forwardFn = (inputs, state) =>
    withState ? fn(...inputs, state) : fn(...inputs);
  return plan;
}

function shapeKey(shapes: ReadonlyArray<readonly number[]>): string {
  return shapes.map((s) => s.join("x")).join("|");
}

function isStateTensor(value: unknown): value is StateTensor {
  return (
    value instanceof FixedPrecisionTensor ||
    (value !== null &&
      typeof value === "object" &&
      typeof (value as tfjs.Tensor).dataSync === "function" &&
      Array.isArray((value as tfjs.Tensor).shape) &&
      !(value instanceof PointerTensor))
  );
}

function tensorDataOf(t: tfjs.Tensor) {
  return { dtype: "float32" as const, shape: [...t.shape], values: Float32Array.from(t.dataSync()) };
}

function stateFromWire(hook: Hook, s: SerializedState): StateTensor {
  switch (s.kind) {
    case "plain":
      return fromTensorData(hook.tf, s.data);
    case "fixed":
      return new FixedPrecisionTensor(hook, s.value, s.encoding);
    case "shared": {
      const group: SharingGroup = {
        holders: s.holders.map((id) => hook.resolveWorker(id)),
        provider: s.provider ? hook.resolveWorker(s.provider) : undefined,
      };
      return new FixedPrecisionTensor(hook, new AdditiveSharingTensor(hook, group, s.id, s.shape), s.encoding);
    }
  }
}

/**
 * Runs an IR on the given inputs and state. Shared operands make it a secure
 * run (one command per holder); otherwise it runs on plaintext here.
 */
export function runPlan(
  hook: Hook,
  ir: PlanIR,
  inputs: readonly Operand[],
  state: readonly StateTensor[],
  preprocessedRun: () => string | undefined = () => undefined,
): AnyTensor[] {
  const all = [...inputs, ...state];
  if (all.some((v) => v instanceof PointerTensor)) {
    throw new PlanError(
      ErrorCode.PLAN_INVALID,
      "This plan got a pointer as input: send the plan to that worker (plan.send(worker)) and run it there through its PointerPlan, or run it eagerly with plan.runEagerly(...).",
    );
  }
  const shared = all.filter((v): v is FixedPrecisionTensor => v instanceof FixedPrecisionTensor && v.isShared);
  if (shared.length > 0) return runShared(hook, ir, inputs, state, shared, preprocessedRun);
  const tf = hook.tf;
  const decodeLocal = (v: Operand) =>
    v instanceof FixedPrecisionTensor ? v.floatPrecision() : hook.toTf(v as tfjs.Tensor | number);
  return tf.tidy(() =>
    interpretSync<tfjs.Tensor>(ir, inputs.map(decodeLocal), state.map(decodeLocal), {
      constant: (data) => fromTensorData(tf, data),
      scalar: (value) => tf.scalar(value),
      run: (op, args, attrs) => runPlainOp(tf, op, args, attrs as never),
    }),
  );
}

function runShared(
  hook: Hook,
  ir: PlanIR,
  inputs: readonly Operand[],
  state: readonly StateTensor[],
  shared: FixedPrecisionTensor[],
  preprocessedRun: () => string | undefined,
): AnyTensor[] {
  const group = shared[0]!.group!;
  let enc: FixedPointEncoding = shared[0]!.encoding;
  for (const v of shared) {
    if (!sameGroup(v.group!, group)) {
      throw new PlanError(
        ErrorCode.HOLDERS_MISMATCH,
        `Plan inputs and state are shared among different parties: ${describeGroup(group)} and ${describeGroup(v.group!)}.`,
      );
    }
  }
  for (const v of [...inputs, ...state]) {
    if (v instanceof FixedPrecisionTensor) {
      if (!sameEncoding(v.encoding, enc)) {
        throw new PlanError(
          ErrorCode.PRECISION_MISMATCH,
          `Plan operands have different encodings: ${describeEncoding(enc)} and ${describeEncoding(v.encoding)}.`,
        );
      }
      enc = v.encoding;
    }
  }
  const toRef = (v: Operand): InputRef => inputRefOf(hook, v, enc, "plan");
  const outShapes = inferPlanShapes(
    ir,
    inputs.map(shapeOf),
    state.map((s) => s.shape),
  );
  const runId = preprocessedRun() ?? hook.ids.next();
  const outputs = outShapes.map(() => hook.ids.next());
  const command: RunPlanCommand = {
    type: "run-plan",
    ir,
    inputs: inputs.map(toRef),
    state: state.map(toRef),
    outputs,
    runId,
    holders: group.holders.map((h) => h.id),
    ...providerFields(group),
    encoding: enc,
  };
  for (const holder of group.holders) holder.submit(command);
  return outputs.map(
    (id, i) => new FixedPrecisionTensor(hook, new AdditiveSharingTensor(hook, group, id, outShapes[i]!), enc),
  );
}
