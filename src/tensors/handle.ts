/**
 * What the client needs of a worker, whatever the worker is (in process or a
 * remote node): the contract between the tensor types and the worker layer.
 *
 * Commands are pipelined: `submit` returns at once, the worker runs commands
 * in the order they were sent, and a failure is kept under the command's
 * output id so that it surfaces at the next `fetch` that depends on it.
 * Upper layers add command kinds by merging into `CommandMap`.
 */
import type { ComparisonSetting, ProviderKind } from "../core/config";
import type { AttrsOf, OpName } from "../core/ops";
import type { FixedPointEncoding } from "../encoding/fixed-point";
import type { RingTensor } from "../ring";

/** A plaintext tensor as it travels (TensorFlow.js tensors are rebuilt from it). */
export interface PlainTensorData {
  dtype: "float32" | "int32" | "bool";
  shape: number[];
  values: Float32Array | Int32Array | Uint8Array;
}

/** What a worker can hold and hand back. */
export type StoredValue = { kind: "share"; value: RingTensor } | { kind: "tensor"; value: PlainTensorData };

/** An op's operand: an object on the worker, or a value every party knows. */
export type InputRef =
  { kind: "object"; id: string } | { kind: "public"; value: RingTensor } | { kind: "plain"; value: PlainTensorData };

/** An op on additive shares, run by every holder on its own share (SPMD). */
export interface SharedOpCommand<O extends OpName = OpName> {
  type: "shared-op";
  op: O;
  inputs: InputRef[];
  attrs: AttrsOf<O>;
  output: string;
  holders: string[];
  provider?: string;
  /** How `provider` deals (config `cryptoProvider` where the command was sent); absent: the trusted dealer. */
  providerKind?: ProviderKind;
  /** How the holders compare (config `comparison` where the command was sent); absent: "kogge-stone". */
  comparison?: ComparisonSetting;
  /** Bits the "fss" comparison reads (config `fssBits`); absent: 64. */
  fssBits?: number;
  encoding: FixedPointEncoding;
}

/** An op on plaintext tensors held by the worker (through pointers). */
export interface PlainOpCommand<O extends OpName = OpName> {
  type: "plain-op";
  op: O;
  inputs: InputRef[];
  attrs: AttrsOf<O>;
  output: string;
}

/** Command kinds by name; plans and the grid add theirs by declaration merging. */
export interface CommandMap {
  "shared-op": SharedOpCommand;
  "plain-op": PlainOpCommand;
}

export type Command = CommandMap[keyof CommandMap];

export interface WorkerHandle {
  readonly id: string;
  /** Sends a command; returns at once. The worker runs commands in order. */
  submit(command: Command): void;
  /** Stores a value under `id` (pipelined like `submit`). */
  store(id: string, value: StoredValue): void;
  /** Resolves with the object `id` once everything sent before has run; `remove` frees it. */
  fetch(id: string, options: { remove: boolean }): Promise<StoredValue>;
  /** Frees objects (pipelined). */
  release(ids: readonly string[]): void;
}
