/**
 * Tensors over the domain's JSON API: `{ dtype, shape, data }` with the values'
 * little-endian bytes in base64 (float32, int32, or bool as one byte each).
 * Both the client and the server use it.
 *
 * @example
 * ```ts
 * const payload = tensorPayload(tf.tensor([1, 2, 3]));   // { dtype: "float32", shape: [3], data: "AACAPwAAAEAAAEBA" }
 * const { values } = readTensorPayload(payload);         // Float32Array [1, 2, 3]
 * ```
 */
import * as tf from "@tensorflow/tfjs";
import { ErrorCode, fmtShape, TsyftError } from "../core/errors";

export type PayloadDtype = "float32" | "int32" | "bool";

export interface TensorPayload {
  dtype: PayloadDtype;
  shape: number[];
  /** base64 of the values' bytes. */
  data: string;
}

export type TensorValues = Float32Array | Int32Array | Uint8Array;

/**
 * A payload of typed values.
 *
 * @example
 * ```ts
 * payloadOf(new Float32Array([0.5]), [1], "float32");
 * ```
 */
export function payloadOf(values: TensorValues, shape: readonly number[], dtype: PayloadDtype): TensorPayload {
  return {
    dtype,
    shape: [...shape],
    data: Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString("base64"),
  };
}

/**
 * The payload of a TF.js tensor (its values read synchronously).
 *
 * @example
 * ```ts
 * tensorPayload(tf.tensor([[1, 2]])).shape;   // [1, 2]
 * ```
 */
export function tensorPayload(tensor: tf.Tensor): TensorPayload {
  const dtype = checkDtype(tensor.dtype);
  const values = tensor.dataSync();
  const typed = dtype === "bool" ? Uint8Array.from(values as Uint8Array) : (values as Float32Array | Int32Array);
  return payloadOf(typed, tensor.shape, dtype);
}

/**
 * The values of a payload, checked: a known dtype, a shape of non-negative integers, and as many bytes as the
 * shape needs (INVALID_ARGUMENT otherwise).
 *
 * @example
 * ```ts
 * readTensorPayload({ dtype: "int32", shape: [2], data: "AQAAAAIAAAA=" }).values;   // Int32Array [1, 2]
 * ```
 */
export function readTensorPayload(value: unknown): { dtype: PayloadDtype; shape: number[]; values: TensorValues } {
  const p = (typeof value === "object" && value !== null ? value : {}) as Partial<TensorPayload>;
  const dtype = checkDtype(p.dtype);
  if (!Array.isArray(p.shape) || !p.shape.every((d) => Number.isInteger(d) && d >= 0) || typeof p.data !== "string") {
    throw new TsyftError(
      ErrorCode.INVALID_ARGUMENT,
      "Expected a tensor as { dtype, shape: [non-negative integers], data: base64 of its values }.",
    );
  }
  const bytes = Buffer.from(p.data, "base64");
  const size = p.shape.reduce((a, b) => a * b, 1);
  const width = dtype === "bool" ? 1 : 4;
  if (bytes.byteLength !== size * width) {
    throw new TsyftError(
      ErrorCode.INVALID_ARGUMENT,
      `A ${dtype} tensor of shape ${fmtShape(p.shape)} needs ${size * width} bytes, got ${bytes.byteLength}.`,
    );
  }
  return { dtype, shape: p.shape, values: valuesOf(bytes, dtype) };
}

/** Typed values over a copy of `bytes` (aligned for Float32Array / Int32Array). */
export function valuesOf(bytes: Uint8Array, dtype: PayloadDtype): TensorValues {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  if (dtype === "float32") return new Float32Array(copy.buffer);
  if (dtype === "int32") return new Int32Array(copy.buffer);
  return copy;
}

function checkDtype(dtype: unknown): PayloadDtype {
  if (dtype === "float32" || dtype === "int32" || dtype === "bool") return dtype;
  throw new TsyftError(
    ErrorCode.INVALID_ARGUMENT,
    `Expected a float32, int32 or bool tensor, got dtype ${JSON.stringify(dtype)}.`,
  );
}

/**
 * TF.js tensors from payloads (checked by {@link readTensorPayload}); the caller owns them.
 *
 * @example
 * ```ts
 * const [kernel, bias] = tensorsOfPayloads(answer.weights);
 * ```
 */
export function tensorsOfPayloads(payloads: readonly unknown[]): tf.Tensor[] {
  return payloads.map((p) => {
    const { values, shape, dtype } = readTensorPayload(p);
    return tf.tensor(values, shape, dtype);
  });
}
