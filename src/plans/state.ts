/**
 * A plan's state: the tensors it computes with besides its inputs (its
 * weights). Each entry is plaintext (a tf tensor), fixed point on the client,
 * or fixed point shared among holders; a plan encodes and shares them all
 * together, so the first shared entry tells where the whole plan runs.
 */
import type * as tfjs from "@tensorflow/tfjs";
import { FixedPrecisionTensor } from "../tensors/fixed-precision";
import { PointerTensor } from "../tensors/pointer";

export type StateTensor = tfjs.Tensor | FixedPrecisionTensor;

/**
 * Whether a field of a Plan subclass is state: a fixed-point tensor, or a tf
 * tensor (never a pointer) recognised by its methods, as no tf module is at
 * hand here to test its class.
 */
export function isStateTensor(value: unknown): value is StateTensor {
  return (
    value instanceof FixedPrecisionTensor ||
    (value !== null &&
      typeof value === "object" &&
      typeof (value as tfjs.Tensor).dataSync === "function" &&
      Array.isArray((value as tfjs.Tensor).shape) &&
      !(value instanceof PointerTensor))
  );
}

/** Whether a state entry (or any value) is a fixed-point tensor shared among holders. */
export function isSharedState(value: unknown): value is FixedPrecisionTensor {
  return value instanceof FixedPrecisionTensor && value.isShared;
}
