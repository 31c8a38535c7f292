/**
 * Keeps a worker's objects in a key/value namespace, so that a node restarted
 * on the same data dir still holds its shares and tensors.
 *
 * 1. `restore()` reads every stored object back into the ObjectStore.
 * 2. `attach()` observes the store: each set/delete/clear marks the id dirty;
 *    dirty ids are written in one atomic batch on the next turn of the event
 *    loop (an intermediate result created and freed in between costs nothing).
 * 3. `flush()` waits until everything changed so far is on disk; a node
 *    flushes before it closes. A crash loses at most the last unflushed turn.
 *
 * Each object is kept under the key `<owner>/<id>` (ids have no "/"); a key
 * without one, written before objects had owners, is read back as the
 * admin's (the namespace a local grid's notebooks use).
 *
 * Values are encoded with the message codec: shares as ring tensors, tf
 * tensors as their wire form, failures as their serialized error. Other kinds
 * (hosted plans, later) register a codec by type with
 * {@link registerPersistedType}; objects of a type without one stay in memory.
 *
 * @example
 * ```ts
 * const persistence = new ObjectPersistence(db.namespace("objects"), worker.objects, tf);
 * await persistence.restore();
 * persistence.attach();
 * // ... later
 * await persistence.flush();
 * ```
 */
import { decodeMessage, encodeMessage } from "../core/codec";
import type { SerializedError } from "../core/errors";
import { RingTensor } from "../ring";
import { fromTensorData, tensorData } from "../tensors/hook";
import type { PlainTensorData } from "../tensors/handle";
import type { TF } from "../tensors/plain-ops";
import { ADMIN_OWNER, type ObjectStore, type StoredObject } from "../workers/object-store";
import type { Namespace, KeyValueOperation } from "./kv-store";

/** How objects of one "other" type are written and read back. */
export interface PersistedTypeCodec {
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array, tf: TF): unknown;
}

const typeCodecs = new Map<string, PersistedTypeCodec>();

/**
 * Makes objects of kind "other" with this `type` persist (hosted plans...).
 *
 * @example
 * ```ts
 * registerPersistedType("plan", { encode: (plan) => serializePlan(plan as Plan), decode: (bytes) => deserializePlan(bytes) });
 * ```
 */
export function registerPersistedType(type: string, codec: PersistedTypeCodec): void {
  typeCodecs.set(type, codec);
}

type PersistedRecord =
  | { k: "share"; v: RingTensor }
  | { k: "tensor"; v: PlainTensorData }
  | { k: "failed"; e: SerializedError; op: string }
  | { k: "other"; type: string; v: Uint8Array };

/**
 * An object's bytes, or undefined for a kind that does not persist.
 *
 * @example
 * ```ts
 * const bytes = encodeStoredObject({ kind: "share", value: ring.fromBigInts([1n], [1]) });
 * ```
 */
export function encodeStoredObject(object: StoredObject): Uint8Array | undefined {
  let record: PersistedRecord;
  switch (object.kind) {
    case "share":
      record = { k: "share", v: object.value };
      break;
    case "tensor":
      record = { k: "tensor", v: tensorData(object.value) };
      break;
    case "failed":
      record = { k: "failed", e: object.error, op: object.op };
      break;
    case "other": {
      const codec = typeCodecs.get(object.type);
      if (!codec) return undefined;
      record = { k: "other", type: object.type, v: codec.encode(object.value) };
      break;
    }
  }
  return encodeMessage(record);
}

/**
 * Rebuilds a stored object; undefined when its record is unreadable here.
 *
 * @example
 * ```ts
 * const object = decodeStoredObject(bytes, tf);   // { kind: "share", value: RingTensor }
 * ```
 */
export function decodeStoredObject(bytes: Uint8Array, tf: TF): StoredObject | undefined {
  const record = decodeMessage(bytes) as PersistedRecord;
  switch (record?.k) {
    case "share":
      return record.v instanceof RingTensor ? { kind: "share", value: record.v } : undefined;
    case "tensor":
      return { kind: "tensor", value: fromTensorData(tf, record.v) };
    case "failed":
      return { kind: "failed", error: record.e, op: record.op };
    case "other": {
      const codec = typeCodecs.get(record.type);
      return codec ? { kind: "other", type: record.type, value: codec.decode(record.v, tf) } : undefined;
    }
    default:
      return undefined;
  }
}

export interface PersistenceStats {
  written: number;
  deleted: number;
  restored: number;
  /** Objects found on disk that could not be read back (unknown type, corrupt). */
  skipped: number;
}

/**
 * Writes a worker's object changes to a namespace and reads them back.
 *
 * @example
 * ```ts
 * const persistence = new ObjectPersistence(db.namespace("objects"), worker.objects, tf);
 * await persistence.restore();
 * persistence.attach();
 * ```
 */
export class ObjectPersistence {
  /** Ids changed since the last flush: the object to write, or null to delete. */
  private dirty = new Map<string, StoredObject | null>();
  private clearPending = false;
  private writing: Promise<void> = Promise.resolve();
  private scheduled = false;
  private detach?: () => void;
  private lastError?: Error;
  readonly stats: PersistenceStats = { written: 0, deleted: 0, restored: 0, skipped: 0 };

  constructor(
    private readonly namespace: Namespace,
    private readonly store: ObjectStore,
    private readonly tf: TF,
  ) {}

  /** Loads every persisted object into the store (before `attach`, so nothing is written back). */
  async restore(): Promise<number> {
    for await (const [id, bytes] of this.namespace.entries()) {
      let object: StoredObject | undefined;
      try {
        object = decodeStoredObject(bytes, this.tf);
      } catch {
        object = undefined;
      }
      if (object) {
        const { owner, id: objectId } = parseObjectKey(id);
        this.store.set(owner, objectId, object);
        this.stats.restored++;
      } else {
        this.stats.skipped++;
      }
    }
    return this.stats.restored;
  }

  /** Starts writing the store's changes. */
  attach(): void {
    this.detach ??= this.store.observe((change) => {
      if (change.type === "clear") {
        this.dirty.clear();
        this.clearPending = true;
      } else {
        this.dirty.set(objectKey(change.owner, change.id), change.type === "set" ? change.object : null);
      }
      this.schedule();
    });
  }

  /** Stops writing changes (a closing worker clears its memory, not its disk). */
  stop(): void {
    this.detach?.();
    this.detach = undefined;
  }

  /** Resolves when every change made so far is written; rethrows the last write failure. */
  async flush(): Promise<void> {
    if (this.dirty.size > 0 || this.clearPending) this.writing = this.writing.then(() => this.writeDirty());
    await this.writing;
    const error = this.lastError;
    this.lastError = undefined;
    if (error) throw error;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.writing = this.writing.then(() => this.writeDirty());
    });
  }

  private async writeDirty(): Promise<void> {
    const clear = this.clearPending;
    const dirty = this.dirty;
    this.clearPending = false;
    this.dirty = new Map();
    if (!clear && dirty.size === 0) return;
    const operations: KeyValueOperation[] = [];
    for (const [id, object] of dirty) {
      const bytes = object === null ? undefined : safeEncode(object);
      if (bytes) operations.push({ type: "put", key: id, value: bytes });
      else operations.push({ type: "del", key: id });
    }
    try {
      if (clear) await this.namespace.clear();
      await this.namespace.batch(operations);
      for (const op of operations) {
        if (op.type === "put") this.stats.written++;
        else this.stats.deleted++;
      }
    } catch (error) {
      this.lastError = error as Error;
    }
  }
}

/**
 * The database key of `owner`'s object `id`.
 *
 * @example
 * ```ts
 * objectKey("user:ada", "x1");   // "user:ada/x1"
 * ```
 */
export function objectKey(owner: string, id: string): string {
  return `${owner}/${id}`;
}

/**
 * The owner and id a database key names; a key from before owners is the admin's.
 *
 * @example
 * ```ts
 * parseObjectKey("user:ada/x1");   // { owner: "user:ada", id: "x1" }
 * parseObjectKey("x1");            // { owner: "admin", id: "x1" }
 * ```
 */
export function parseObjectKey(key: string): { owner: string; id: string } {
  // Ids never hold "/", owners (a user's subject) might: the id is after the last one.
  const slash = key.lastIndexOf("/");
  return slash < 0 ? { owner: ADMIN_OWNER, id: key } : { owner: key.slice(0, slash), id: key.slice(slash + 1) };
}

function safeEncode(object: StoredObject): Uint8Array | undefined {
  try {
    return encodeStoredObject(object);
  } catch {
    // A tensor disposed meanwhile, or a value its codec refuses: keep it in memory only.
    return undefined;
  }
}
