// One conformance suite for every KeyValueStore (in memory and LevelDB on
// disk), and the persistence of worker objects on top of it.
import * as tf from "@tensorflow/tfjs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as grid from "../../src/grid";
import { decodeStoredObject, encodeStoredObject } from "../../src/grid/object-persistence";
import * as ring from "../../src/ring";
import { ObjectStore } from "../../src/workers/object-store";
import { tempDir } from "./helpers";

const bytes = (...values: number[]) => Uint8Array.from(values);

function kvSuite(name: string, open: (dir: string) => Promise<grid.KeyValueStore>, persistent: boolean): void {
  describe(`KeyValueStore conformance: ${name}`, () => {
    let dir: ReturnType<typeof tempDir>;
    let db: grid.KeyValueStore;
    beforeEach(async () => {
      dir = tempDir("kv");
      db = await open(dir.dir);
    });
    afterEach(async () => {
      await db.close();
      dir.remove();
    });

    it("get, put, del; values come back as plain Uint8Arrays", async () => {
      expect(await db.get("a")).toBeUndefined();
      await db.put("a", bytes(1, 2, 3));
      const a = await db.get("a");
      expect(a?.constructor).toBe(Uint8Array);
      expect(Array.from(a!)).toEqual([1, 2, 3]);
      await db.del("a");
      await db.del("never-there");
      expect(await db.get("a")).toBeUndefined();
    });

    it("namespaces keep their keys apart; entries in key order; clear one namespace", async () => {
      const objects = db.namespace("objects");
      const peers = db.namespace("peers");
      await objects.batch([
        { type: "put", key: "b", value: bytes(2) },
        { type: "put", key: "a", value: bytes(1) },
        { type: "put", key: "c", value: bytes(3) },
        { type: "del", key: "c" },
      ]);
      await peers.put("a", bytes(9));
      const list = async (ns: grid.Namespace) => {
        const out: Array<[string, number[]]> = [];
        for await (const [k, v] of ns.entries()) out.push([k, Array.from(v)]);
        return out;
      };
      expect(await list(objects)).toEqual([
        ["a", [1]],
        ["b", [2]],
      ]);
      expect(await list(peers)).toEqual([["a", [9]]]);
      await objects.clear();
      expect(await list(objects)).toEqual([]);
      expect(await list(peers)).toEqual([["a", [9]]]);
      expect(() => db.namespace("a/b")).toThrow(RangeError);
    });

    it(persistent ? "survives a reopen" : "is gone after close (in memory)", async () => {
      await db.put("k", bytes(7));
      await db.close();
      db = await open(dir.dir);
      expect(await db.get("k")).toEqual(persistent ? bytes(7) : undefined);
    });
  });
}

kvSuite("MemoryKeyValueStore", async () => new grid.MemoryKeyValueStore(), false);
kvSuite("LevelKeyValueStore (classic-level)", (dir) => grid.LevelKeyValueStore.open(dir), true);

describe("LevelKeyValueStore", () => {
  it("a data dir open in one place cannot be opened again (a second node on it fails clearly)", async () => {
    const dir = tempDir("lock");
    const first = await grid.LevelKeyValueStore.open(dir.dir);
    try {
      await expect(grid.LevelKeyValueStore.open(dir.dir)).rejects.toMatchObject({
        code: "TSYFT_ERR_CONNECTION",
        message: expect.stringMatching(/another node/),
      });
    } finally {
      await first.close();
      dir.remove();
    }
  });
});

describe("ObjectPersistence", () => {
  it("encodes shares, tensors, failures, and registered other types; unknown types stay in memory", () => {
    const share = ring.fromBigInts([1n, -2n, 2n ** 62n], [3]);
    const back = decodeStoredObject(encodeStoredObject({ kind: "share", value: share })!, tf)!;
    expect(back.kind).toBe("share");
    expect(back.kind === "share" && Array.from(back.value.data)).toEqual([1n, -2n, 2n ** 62n]);
    const tensor = decodeStoredObject(encodeStoredObject({ kind: "tensor", value: tf.tensor([[1.5, -2]]) })!, tf)!;
    expect(tensor.kind === "tensor" && tensor.value.arraySync()).toEqual([[1.5, -2]]);
    const failed = {
      kind: "failed" as const,
      error: { name: "WorkerError", code: "TSYFT_ERR_REMOTE_OP_FAILED", message: "boom" },
      op: "mul",
    };
    expect(decodeStoredObject(encodeStoredObject(failed)!, tf)).toEqual(failed);
    expect(encodeStoredObject({ kind: "other", type: "mystery", value: {} })).toBeUndefined();
    grid.registerPersistedType("note", {
      encode: (v) => new TextEncoder().encode(String(v)),
      decode: (b) => new TextDecoder().decode(b),
    });
    expect(decodeStoredObject(encodeStoredObject({ kind: "other", type: "note", value: "hi" })!, tf)).toEqual({
      kind: "other",
      type: "note",
      value: "hi",
    });
  });

  it("writes changes in batches, restores them, and ignores the store's clear once stopped", async () => {
    const db = new grid.MemoryKeyValueStore();
    const store = new ObjectStore("bob");
    const persistence = new grid.ObjectPersistence(db.namespace("objects"), store, tf);
    persistence.attach();
    store.set("user:ada", "x", { kind: "share", value: ring.fromBigInts([5n], [1]) });
    store.set("user:ada", "tmp", { kind: "tensor", value: tf.tensor([1]) });
    store.delete("user:ada", "tmp"); // created and freed within one turn: never written
    await persistence.flush();
    expect(persistence.stats).toMatchObject({ written: 1 });
    store.clear();
    await persistence.flush();
    expect(await db.namespace("objects").get("user:ada/x")).toBeUndefined();
    store.set("user:ada", "y", { kind: "tensor", value: tf.tensor([2, 3]) });
    await persistence.flush();
    persistence.stop();
    store.clear(); // a closing worker: memory only

    const restored = new ObjectStore("bob");
    const again = new grid.ObjectPersistence(db.namespace("objects"), restored, tf);
    expect(await again.restore()).toBe(1);
    const y = restored.get("user:ada", "y");
    expect(y.kind === "tensor" && Array.from(y.value.dataSync())).toEqual([2, 3]);
  });

  it("keeps each object's owner, and reads a key from before owners as the admin's", async () => {
    const db = new grid.MemoryKeyValueStore();
    const objects = db.namespace("objects");
    await objects.put("old", encodeStoredObject({ kind: "share", value: ring.fromBigInts([7n], [1]) })!);
    const store = new ObjectStore("bob");
    const persistence = new grid.ObjectPersistence(objects, store, tf);
    expect(await persistence.restore()).toBe(1);
    expect(store.list("admin")).toEqual(["old"]);
    persistence.attach();
    store.set("user:a/b", "x", { kind: "share", value: ring.fromBigInts([1n], [1]) });
    store.set("user:ada", "x", { kind: "share", value: ring.fromBigInts([2n], [1]) });
    await persistence.flush();
    persistence.stop();
    const restored = new ObjectStore("bob");
    await new grid.ObjectPersistence(objects, restored, tf).restore();
    expect(restored.owners().sort()).toEqual(["admin", "user:a/b", "user:ada"]);
    const x = restored.get("user:a/b", "x");
    expect(x.kind === "share" && ring.toBigInts(x.value)).toEqual([1n]);
  });
});
