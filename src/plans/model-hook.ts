/**
 * What `sy.hook(tf)` adds to Keras-style TensorFlow.js models: `fixPrecision()` (alias `fixPrec`) and `share(...)`,
 * PySyft's `model.fix_precision().share(alice, bob, crypto_provider=james)` on an `nn.Module`.
 *
 * Both give a {@link Plan} made from the model (`Plan.fromModel`, built from its input shape), so a shared model
 * is a plan with shared state: one executor, the plans'. It runs on any batch size and answers to PySyft's call
 * (`sharedModel(data)`) and to TensorFlow.js's `sharedModel.predict(data)`; the model itself is left as it was
 * (TensorFlow.js models cannot hold shares), so it keeps training and predicting in plaintext.
 *
 * @example
 * ```ts
 * const secure = model.fixPrecision().share(alice, bob, { cryptoProvider: james });
 * const logits = secure.predict(images.fixPrecision().share(alice, bob, { cryptoProvider: james }));
 * const correct = (logits as sy.FixedPrecisionTensor).argmax(1).eq(labels.fixPrecision().share(alice, bob)).sum();
 * ```
 */
import type * as tfjs from "@tensorflow/tfjs";
import type { FixedPointOptions } from "../encoding/fixed-point";
import type { WorkerHandle } from "../tensors/handle";
import type { Hook } from "../tensors/hook";
import type { ShareOptions } from "../tensors/shared";
import { Plan } from "./plan";

declare module "@tensorflow/tfjs-layers/dist/engine/training" {
  interface LayersModel {
    /** A plan of this model with its weights in fixed point (PySyft's `model.fix_precision()`). */
    fixPrecision(options?: FixedPointOptions): Plan;
    /** Alias of fixPrecision. */
    fixPrec(options?: FixedPointOptions): Plan;
    /** fixPrecision() then share the weights: `model.share(alice, bob, { cryptoProvider: james })`. */
    share(...args: Array<WorkerHandle | ShareOptions>): Plan;
  }
}

/** The plan of `model`, built from its input shape, under the model's name. */
function planOf(model: tfjs.LayersModel): Plan {
  return Plan.fromModel(model, { name: model.name, build: true });
}

/**
 * Adds tsyft's methods to `tf.LayersModel.prototype` (tf.Sequential inherits them); idempotent.
 *
 * @example
 * ```ts
 * patchModelPrototype(hook);   // sy.hook(tf) does it
 * ```
 */
export function patchModelPrototype(hook: Hook): void {
  const proto = hook.tf.LayersModel.prototype as tfjs.LayersModel;
  // Typed by hand: `share` has a second overload (share(cluster), keras/model-hook.ts) that wraps this one.
  const methods: Record<"fixPrecision" | "fixPrec" | "share", (this: tfjs.LayersModel, ...args: never[]) => Plan> = {
    fixPrecision(this: tfjs.LayersModel, options?: FixedPointOptions) {
      return planOf(this).fixPrecision(options);
    },
    fixPrec(this: tfjs.LayersModel, options?: FixedPointOptions) {
      return planOf(this).fixPrecision(options);
    },
    share(this: tfjs.LayersModel, ...args: Array<WorkerHandle | ShareOptions>) {
      return planOf(this).share(...args);
    },
  };
  for (const [name, fn] of Object.entries(methods)) {
    Object.defineProperty(proto, name, { value: fn, writable: true, configurable: true, enumerable: false });
  }
}
