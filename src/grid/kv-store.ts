/**
 * A small key/value store for everything a node or gateway keeps across
 * restarts: objects (shares and tensors), peer links, model metadata, and
 * later hosted plans. Keys are strings grouped by a namespace prefix; values
 * are bytes (the message codec's encoding).
 *
 * On disk it is LevelDB through `classic-level`, which ships prebuilt
 * binaries inside its npm package (nothing is downloaded at install), holds a
 * lock so two processes cannot open one data dir, and applies a batch
 * atomically. `MemoryKeyValueStore` is the same contract in memory.
 *
 * @example
 * ```ts
 * const db = await openKeyValueStore("out/bob");
 * const objects = db.namespace("objects");
 * await objects.put("x1", encodeMessage({ hello: "world" }));
 * for await (const [id, bytes] of objects.entries()) console.log(id, bytes.byteLength);
 * await db.close();
 * ```
 */
import * as fs from "node:fs";
import type { ClassicLevel } from "classic-level";
import { CommunicationError, ErrorCode } from "../core/errors";

export type KeyValueOperation = { type: "put"; key: string; value: Uint8Array } | { type: "del"; key: string };

/** The contract of every store. */
export interface KeyValueStore {
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, value: Uint8Array): Promise<void>;
  del(key: string): Promise<void>;
  /** Applies every operation, in order, atomically. */
  batch(operations: readonly KeyValueOperation[]): Promise<void>;
  /** Entries whose keys start with `prefix`, in key order. */
  entries(prefix: string): AsyncIterable<[string, Uint8Array]>;
  /** Deletes every key that starts with `prefix`. */
  clear(prefix: string): Promise<void>;
  close(): Promise<void>;
  /** A view of the keys under `name/`. */
  namespace(name: string): Namespace;
}

/**
 * The keys of one namespace (`objects`, `peers`, `models`...), without their prefix.
 *
 * @example
 * ```ts
 * const peers = db.namespace("peers");
 * await peers.put("alice", encodeMessage({ url: "ws://localhost:3001" }));
 * ```
 */
export class Namespace {
  private readonly prefix: string;

  constructor(
    private readonly store: KeyValueStore,
    readonly name: string,
  ) {
    if (name.includes("/")) throw new RangeError(`A namespace name holds no "/", got "${name}".`);
    this.prefix = `${name}/`;
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.store.get(this.prefix + key);
  }

  put(key: string, value: Uint8Array): Promise<void> {
    return this.store.put(this.prefix + key, value);
  }

  del(key: string): Promise<void> {
    return this.store.del(this.prefix + key);
  }

  /** Applies operations on this namespace's keys atomically. */
  batch(operations: readonly KeyValueOperation[]): Promise<void> {
    return this.store.batch(operations.map((op) => ({ ...op, key: this.prefix + op.key })));
  }

  async *entries(): AsyncIterable<[string, Uint8Array]> {
    for await (const [key, value] of this.store.entries(this.prefix)) yield [key.slice(this.prefix.length), value];
  }

  clear(): Promise<void> {
    return this.store.clear(this.prefix);
  }
}

/**
 * classic-level hands Buffers; the codec needs plain Uint8Arrays (its `slice()`
 * must copy, and `Buffer#slice` makes a view).
 */
function plainView(value: Uint8Array): Uint8Array {
  return value.constructor === Uint8Array ? value : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

/** The upper bound of keys starting with `prefix` (prefix + the largest code unit). */
function prefixEnd(prefix: string): string {
  return prefix + "\uffff";
}

/**
 * LevelDB on disk (classic-level). Open it with {@link openKeyValueStore}.
 *
 * @example
 * ```ts
 * const db = await LevelKeyValueStore.open("out/bob");
 * await db.put("objects/x", bytes);
 * await db.close();
 * ```
 */
export class LevelKeyValueStore implements KeyValueStore {
  private constructor(
    private readonly db: ClassicLevel<string, Uint8Array>,
    readonly location: string,
  ) {}

  /** Opens (creating) the store in `dir`; fails with CONNECTION when another process holds it. */
  static async open(dir: string): Promise<LevelKeyValueStore> {
    fs.mkdirSync(dir, { recursive: true });
    // Loaded on first use: importing tsyft does not load the native binding unless a data dir is used.
    const { ClassicLevel: Level } = require("classic-level") as typeof import("classic-level");
    const db = new Level<string, Uint8Array>(dir, { keyEncoding: "utf8", valueEncoding: "view" });
    try {
      await db.open();
    } catch (error) {
      const cause = (error as { cause?: Error }).cause ?? (error as Error);
      throw new CommunicationError(
        ErrorCode.CONNECTION,
        `Cannot open the data dir ${dir}: ${cause.message}. Is another node or gateway using it? Give each its own --data-dir.`,
        { dir },
        { cause: error },
      );
    }
    return new LevelKeyValueStore(db, dir);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const value = await this.db.get(key);
    return value === undefined ? undefined : plainView(value);
  }

  put(key: string, value: Uint8Array): Promise<void> {
    return this.db.put(key, value);
  }

  del(key: string): Promise<void> {
    return this.db.del(key);
  }

  batch(operations: readonly KeyValueOperation[]): Promise<void> {
    if (operations.length === 0) return Promise.resolve();
    return this.db.batch(
      operations.map((op) =>
        op.type === "put"
          ? { type: "put" as const, key: op.key, value: op.value }
          : { type: "del" as const, key: op.key },
      ),
    );
  }

  async *entries(prefix: string): AsyncIterable<[string, Uint8Array]> {
    for await (const [key, value] of this.db.iterator({ gte: prefix, lt: prefixEnd(prefix) }))
      yield [key, plainView(value)];
  }

  clear(prefix: string): Promise<void> {
    return this.db.clear({ gte: prefix, lt: prefixEnd(prefix) });
  }

  async close(): Promise<void> {
    if (this.db.status === "open" || this.db.status === "opening") await this.db.close();
  }

  namespace(name: string): Namespace {
    return new Namespace(this, name);
  }
}

/**
 * The same contract in memory: for nodes without a data dir, and tests.
 *
 * @example
 * ```ts
 * const db = new MemoryKeyValueStore();
 * await db.namespace("models").put("convnet", bytes);
 * ```
 */
export class MemoryKeyValueStore implements KeyValueStore {
  private readonly data = new Map<string, Uint8Array>();

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.data.get(key);
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    this.data.set(key, value);
  }

  async del(key: string): Promise<void> {
    this.data.delete(key);
  }

  async batch(operations: readonly KeyValueOperation[]): Promise<void> {
    for (const op of operations) {
      if (op.type === "put") this.data.set(op.key, op.value);
      else this.data.delete(op.key);
    }
  }

  async *entries(prefix: string): AsyncIterable<[string, Uint8Array]> {
    const keys = [...this.data.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const key of keys) {
      const value = this.data.get(key);
      if (value) yield [key, value];
    }
  }

  async clear(prefix: string): Promise<void> {
    for (const key of [...this.data.keys()]) if (key.startsWith(prefix)) this.data.delete(key);
  }

  async close(): Promise<void> {}

  namespace(name: string): Namespace {
    return new Namespace(this, name);
  }
}

/**
 * Opens the store of a data dir, or an in-memory one when `dir` is undefined.
 *
 * @example
 * ```ts
 * const db = await openKeyValueStore(process.env.TSYFT_NODE_DATA);
 * ```
 */
export async function openKeyValueStore(dir: string | undefined): Promise<KeyValueStore> {
  return dir === undefined ? new MemoryKeyValueStore() : LevelKeyValueStore.open(dir);
}
