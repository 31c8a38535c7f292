/**
 * A worker's objects: tensors, shares, plans, and the failures of pipelined
 * ops kept under the ids their results would have had.
 *
 * Objects are namespaced by owner (the principal id of whoever created them,
 * `principalId` in caller.ts): a client names objects in its own namespace
 * only, so someone else's id is answered exactly like a missing one and ids
 * of different clients never collide. In process everything is the admin's.
 *
 * @example
 * ```ts
 * const store = new ObjectStore("bob");
 * store.set("user:ada", "x", { kind: "share", value: share });
 * store.get("user:eve", "x");   // throws TSYFT_ERR_OBJECT_NOT_FOUND, as for an id nobody used
 * ```
 */
import type * as tfjs from "@tensorflow/tfjs";
import { ErrorCode, WorkerError, type SerializedError } from "../core/errors";
import type { RingTensor } from "../ring";

export type StoredObject =
  | { kind: "share"; value: RingTensor }
  | { kind: "tensor"; value: tfjs.Tensor }
  | { kind: "failed"; error: SerializedError; op: string }
  | { kind: "other"; value: unknown; type: string };

/** A change to a store, as its observers see it (persistence, the plan and grant indexes). */
export type ObjectStoreChange =
  | { type: "set"; owner: string; id: string; object: StoredObject }
  | { type: "delete"; owner: string; id: string }
  | { type: "clear" };

/** The namespace of the admin (and of every in-process client). */
export const ADMIN_OWNER = "admin";

export class ObjectStore {
  /** owner -> id -> object; an owner with no objects left is removed. */
  private readonly namespaces = new Map<string, Map<string, StoredObject>>();
  private readonly observers = new Set<(change: ObjectStoreChange) => void>();
  private total = 0;

  /** `worker` is the id of the worker holding the store, for error messages. */
  constructor(readonly worker: string) {}

  set(owner: string, id: string, object: StoredObject): void {
    let namespace = this.namespaces.get(owner);
    if (!namespace) this.namespaces.set(owner, (namespace = new Map()));
    const previous = namespace.get(id);
    if (previous) this.dispose(previous);
    else this.total++;
    namespace.set(id, object);
    this.notify({ type: "set", owner, id, object });
  }

  has(owner: string, id: string): boolean {
    return this.namespaces.get(owner)?.has(id) ?? false;
  }

  /** The object, failed results included, or undefined: for code that looks before it reads. */
  peek(owner: string, id: string): StoredObject | undefined {
    return this.namespaces.get(owner)?.get(id);
  }

  /** The object `id` of `owner`; a failed op's result rethrows its failure, naming op, worker and id. */
  get(owner: string, id: string): StoredObject {
    const object = this.peek(owner, id);
    if (!object) {
      // The same answer whether the id is unused or someone else's: ids do not leak.
      throw new WorkerError(
        ErrorCode.OBJECT_NOT_FOUND,
        `Worker ${this.worker} holds no object "${id}". It may have been fetched with get() (which frees it), moved, or never sent.`,
        { worker: this.worker, id },
      );
    }
    if (object.kind === "failed") {
      throw new WorkerError(
        ErrorCode.REMOTE_OP_FAILED,
        `Op "${object.op}" producing "${id}" failed on ${this.worker}: ${object.error.message}`,
        // A failure of an op whose input had failed keeps the root cause's code, not REMOTE_OP_FAILED.
        { worker: this.worker, id, op: object.op, cause: rootCause(object.error) },
      );
    }
    return object;
  }

  delete(owner: string, id: string): boolean {
    const namespace = this.namespaces.get(owner);
    const object = namespace?.get(id);
    if (!namespace || !object) return false;
    this.dispose(object);
    namespace.delete(id);
    this.total--;
    if (namespace.size === 0) this.namespaces.delete(owner);
    this.notify({ type: "delete", owner, id });
    return true;
  }

  /** Ids of `owner`'s objects, in insertion order. */
  list(owner: string): string[] {
    return [...(this.namespaces.get(owner)?.keys() ?? [])];
  }

  /** How many objects `owner` holds. */
  countOf(owner: string): number {
    return this.namespaces.get(owner)?.size ?? 0;
  }

  /** Every owner that holds objects. */
  owners(): string[] {
    return [...this.namespaces.keys()];
  }

  /** Objects held, all owners together. */
  get count(): number {
    return this.total;
  }

  /** Frees `owner`'s objects (each seen as a delete), or every object when no owner is given. */
  clear(owner?: string): void {
    if (owner !== undefined) {
      for (const id of this.list(owner)) this.delete(owner, id);
      return;
    }
    for (const namespace of this.namespaces.values()) for (const object of namespace.values()) this.dispose(object);
    this.namespaces.clear();
    this.total = 0;
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
