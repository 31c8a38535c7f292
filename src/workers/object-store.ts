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

export class ObjectStore {
  private readonly objects = new Map<string, StoredObject>();

  constructor(readonly owner: string) {}

  set(id: string, object: StoredObject): void {
    this.dispose(this.objects.get(id));
    this.objects.set(id, object);
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
        { worker: this.owner, id, op: object.op, cause: object.error.code || object.error.name },
      );
    }
    return object;
  }

  delete(id: string): boolean {
    this.dispose(this.objects.get(id));
    return this.objects.delete(id);
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
  }

  private dispose(object: StoredObject | undefined): void {
    if (object?.kind === "tensor") object.value.dispose();
  }
}
