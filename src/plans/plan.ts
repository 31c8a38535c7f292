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
import type { AnyTensor, Operand, TensorLike } from "../tensors/base";
import type { Hook } from "../tensors/hook";
import { Plan as PlanClass, type FromModelOptions, type PlanDefinition, type PlanOptions } from "./plan-class";
import type { SerializedPlan } from "./serialize";

export type { FromModelOptions, PlanDefinition, PlanOptions } from "./plan-class";
export type { SendOptions } from "./host";
export type { StateTensor } from "./state";

/** A plan is callable: `plan(x)` is `plan.run(x)`. */
export interface Plan extends PlanClass {
  (...inputs: Operand[]): AnyTensor | AnyTensor[];
}

/** `sy.Plan` as a value: what `new` makes is a callable {@link Plan}. */
export interface PlanConstructor {
  new (options?: PlanOptions, definition?: PlanDefinition): Plan;
  readonly prototype: Plan;
  /** Makes a plan from a tf.Sequential or tf.LayersModel; see `Plan.fromModel` in plan-class.ts. */
  fromModel(model: tfjs.LayersModel, options?: FromModelOptions): Plan;
  /** Rebuilds a plan from `toBytes()`; shared state is resolved to the hook's workers by id. */
  fromBytes(bytes: Uint8Array, hook?: Hook): Plan;
  /** Rebuilds a plan from `serialize()`; shared state is resolved to the hook's workers by id. */
  deserialize(serialized: SerializedPlan, hook?: Hook): Plan;
}

/**
 * The base of every plan (PySyft's `sy.Plan`): subclass it with tensor fields
 * as state and a `forward` (see the example at the top of this file).
 */
// The class's constructor returns a function (see callable.ts); class syntax cannot say that its instances are
// callable, so the constructor is typed here instead.
export const Plan = PlanClass as PlanConstructor;

/** A function traced into a plan without state: it gets the inputs. */
export type PlanFunction = (...inputs: TensorLike[]) => AnyTensor | AnyTensor[];

/**
 * A function traced into a plan with state: it gets the inputs, then the state by name. Declared as a method,
 * whose parameters TypeScript compares both ways, so that `(x: TensorLike, state: Record<string, TensorLike>)`
 * fits: the last argument differs in type from the others, which a rest parameter cannot say.
 */
export type StatefulPlanFunction = {
  fn(...args: Array<TensorLike | Record<string, TensorLike>>): AnyTensor | AnyTensor[];
}["fn"];

/**
 * Makes a plan from a function (PySyft's `func2plan`): `fn(inputs..., state)`.
 *
 * @example
 * ```ts
 * const plan = sy.func2plan((x: sy.TensorLike, state: Record<string, sy.TensorLike>) => x.add(state.bias!), {
 *   state: { bias: tf.tensor([1]) },
 * });
 * await plan.build(tf.tensor([1, 2]));
 * ```
 */
export function func2plan(fn: PlanFunction, options?: PlanOptions & { state?: undefined }): Plan;
export function func2plan(
  fn: StatefulPlanFunction,
  options: PlanOptions & { state: Record<string, tfjs.Tensor> },
): Plan;
export function func2plan(
  fn: PlanFunction | StatefulPlanFunction,
  options: PlanOptions & { state?: Record<string, tfjs.Tensor> } = {},
): Plan {
  const traced: StatefulPlanFunction = fn;
  const { state } = options;
  return new Plan(
    { name: options.name ?? (fn.name || "plan"), id: options.id },
    {
      state: state ?? {},
      forward: (inputs, named) => (state !== undefined ? traced(...inputs, named) : traced(...inputs)),
    },
  );
}
