/**
 * What `sy.hook(tf)` adds to TensorFlow.js tensors: `send`, `fixPrecision`
 * (alias `fixPrec`) and `share`, declared by module augmentation so that
 * notebooks type-check.
 */
import type * as tfjs from "@tensorflow/tfjs";
import type { FixedPointOptions } from "../encoding/fixed-point";
import { FixedPrecisionTensor } from "./fixed-precision";
import type { WorkerHandle } from "./handle";
import type { Hook } from "./hook";
import { PointerTensor } from "./pointer";
import type { ShareOptions } from "./shared";

declare module "@tensorflow/tfjs-core/dist/tensor" {
  interface Tensor {
    /** Stores this tensor on `worker`; returns a pointer to it. */
    send(worker: WorkerHandle): PointerTensor;
    /** Encodes in fixed point (base 2, 16 fractional bits unless configured). */
    fixPrecision(options?: FixedPointOptions): FixedPrecisionTensor;
    /** Alias of fixPrecision. */
    fixPrec(options?: FixedPointOptions): FixedPrecisionTensor;
    /** fixPrecision() then share: `x.share(bob, charlie, { cryptoProvider: dan })`. */
    share(...args: Array<WorkerHandle | ShareOptions>): FixedPrecisionTensor;
  }
}

/** Adds tsyft's methods to `tf.Tensor.prototype` (idempotent; the latest hook wins). */
export function patchTensorPrototype(hook: Hook): void {
  const proto = hook.tf.Tensor.prototype as tfjs.Tensor;
  const methods: Partial<tfjs.Tensor> = {
    send(this: tfjs.Tensor, worker: WorkerHandle) {
      return PointerTensor.send(hook, this, worker);
    },
    fixPrecision(this: tfjs.Tensor, options?: FixedPointOptions) {
      return FixedPrecisionTensor.fromTensor(hook, this, options);
    },
    fixPrec(this: tfjs.Tensor, options?: FixedPointOptions) {
      return FixedPrecisionTensor.fromTensor(hook, this, options);
    },
    share(this: tfjs.Tensor, ...args: Array<WorkerHandle | ShareOptions>) {
      return FixedPrecisionTensor.fromTensor(hook, this).share(...args);
    },
  };
  for (const [name, fn] of Object.entries(methods)) {
    Object.defineProperty(proto, name, { value: fn, writable: true, configurable: true, enumerable: false });
  }
}
