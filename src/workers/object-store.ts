/**
 * A worker's objects: tensors, shares, plans, and the failures of pipelined
 * ops kept under the ids their results would have had.
 */
import type * as tfjs from "@tensorflow/tfjs";
import { ErrorCode, WorkerError, type SerializedError } from "../core/errors";
import type { RingTensor } from "../ring";

export type StoredObject =
  | { kind: "share"; value: RingTensor }
  | { kind: "tensor"; value: tfjs.Tensor }
  | { kind: "failed"; error: SerializedError; op: string }
  | { kind: "other"; value: unknown; type: string };

/** A change to a store, as its observers see it (persistence). */
export type ObjectStoreChange =
  { type: "set"; id: string; object: StoredObject } | { type: "delete"; id: string } | { type: "clear" };

export class ObjectStore {
  private readonly objects = new Map<string, StoredObject>();
  private readonly observers = new Set<(change: ObjectStoreChange) => void>();

  constructor(readonly owner: string) {}

  set(id: string, object: StoredObject): void {
    this.dispose(this.objects.get(id));
    this.objects.set(id, object);
    this.notify({ type: "set", id, object });
  }

  has(id: string): boolean {
    return this.objects.has(id);
  }

  /** The object `id`; a failed op's result rethrows its failure, naming op, worker and id. */
  get(id: string): StoredObject {
    const object = this.objects.get(id);
    if (!object) {
      throw new WorkerError(
        ErrorCode.OBJECT_NOT_FOUND,
        `Worker ${this.owner} holds no object "${id}". It may have been fetched with get() (which frees it), moved, or never sent.`,
        { worker: this.owner, id },
      );
    }
    if (object.kind === "failed") {
      throw new WorkerError(
        ErrorCode.REMOTE_OP_FAILED,
        `Op "${object.op}" producing "${id}" failed on ${this.owner}: ${object.error.message}`,
        // A failure of an op whose input had failed keeps the root cause's code, not REMOTE_OP_FAILED.
        { worker: this.owner, id, op: object.op, cause: rootCause(object.error) },
      );
    }
    return object;
  }

  delete(id: string): boolean {
    this.dispose(this.objects.get(id));
    const deleted = this.objects.delete(id);
    if (deleted) this.notify({ type: "delete", id });
    return deleted;
  }

  /** Ids of the objects held, in insertion order. */
  list(): string[] {
    return [...this.objects.keys()];
  }

  get count(): number {
    return this.objects.size;
  }

  clear(): void {
    for (const object of this.objects.values()) this.dispose(object);
    this.objects.clear();
    this.notify({ type: "clear" });
  }

  /** Sees every change from now on (a node's persistence); returns a function that stops it. */
  observe(observer: (change: ObjectStoreChange) => void): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  private notify(change: ObjectStoreChange): void {
    for (const observer of this.observers) observer(change);
  }

  private dispose(object: StoredObject | undefined): void {
    if (object?.kind === "tensor") object.value.dispose();
  }
}

function rootCause(error: SerializedError): string {
  const inner = error.details?.cause;
  if (error.code === ErrorCode.REMOTE_OP_FAILED && typeof inner === "string" && inner.length > 0) return inner;
  return error.code || error.name;
}

/**
 * What a stored object is, in words for error messages.
 *
 * @example
 * ```ts
 * describeObject({ kind: "tensor", value: t });   // "plaintext tensor"
 * ```
 */
export function describeObject(object: StoredObject): string {
  return object.kind === "other" ? object.type : object.kind === "tensor" ? "plaintext tensor" : object.kind;
}
