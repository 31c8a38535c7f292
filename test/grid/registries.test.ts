// The gateway's registries without sockets: staleness on a fake clock, and
// model metadata checks.
import { describe, expect, it } from "vitest";
import * as sy from "../../src";
import * as grid from "../../src/grid";

describe("NodeRegistry", () => {
  it("online until more than missedHeartbeats intervals pass without a beat", () => {
    let now = 1_000_000;
    const registry = new grid.NodeRegistry({ heartbeatMs: 100, missedHeartbeats: 3, now: () => now });
    registry.join("bob", "ws://localhost:3000");
    now += 300;
    expect(registry.get("bob")!.status).toBe("online");
    now += 1;
    expect(registry.get("bob")!.status).toBe("stale");
    expect(registry.heartbeat("bob")).toBe(true);
    expect(registry.get("bob")!.status).toBe("online");
    expect(registry.heartbeat("nobody")).toBe(false);
    registry.join("alice", "ws://localhost:3001");
    expect(registry.list().map((n) => n.id)).toEqual(["alice", "bob"]);
    expect(registry.leave("bob")).toBe(true);
    expect(registry.leave("bob")).toBe(false);
    expect(() => registry.join("a b", "ws://x:1")).toThrow(expect.objectContaining({ code: sy.ErrorCode.WORKER_ID }));
    expect(() => registry.join("x", "localhost:1")).toThrow(
      expect.objectContaining({ code: sy.ErrorCode.INVALID_ARGUMENT }),
    );
  });
});

describe("ModelRegistry", () => {
  it("checks metadata and keeps only known fields", () => {
    const info = grid.checkModelInfo({
      id: "m",
      mpc: true,
      allowRemoteInference: false,
      allowDownload: false,
      nodes: { host: "alice", holders: ["bob", "charlie"], provider: "dan", extra: 1 },
      junk: true,
    });
    expect(info).toEqual({
      id: "m",
      mpc: true,
      allowRemoteInference: false,
      allowDownload: false,
      nodes: { host: "alice", holders: ["bob", "charlie"], provider: "dan" },
    });
    expect(() => grid.checkModelInfo({ ...info, allowDownload: 1 })).toThrow(/allowDownload/);
    expect(() => grid.checkModelInfo({ ...info, nodes: { host: "alice", holders: "bob" } })).toThrow(/nodes.holders/);
    expect(() => grid.checkModelInfo(null)).toThrow(/an object/);
  });

  it("register refuses a taken id unless overwrite; search filters combine", async () => {
    const models = new grid.ModelRegistry(new grid.MemoryKeyValueStore().namespace("models"));
    const base = { mpc: false, allowRemoteInference: true, allowDownload: false, nodes: { host: "bob", holders: [] } };
    await models.register({ ...base, id: "a", description: "Skin lesions" });
    await models.register({ ...base, id: "b", mpc: true, nodes: { host: "alice", holders: ["bob", "charlie"] } });
    await expect(models.register({ ...base, id: "a" })).rejects.toMatchObject({
      code: sy.ErrorCode.INVALID_ARGUMENT,
      details: { conflict: true },
    });
    await models.register({ ...base, id: "a", description: "Skin lesions", allowDownload: true }, { overwrite: true });
    expect((await models.get("a"))!.allowDownload).toBe(true);
    expect((await models.search({ query: "LESION" })).map((m) => m.id)).toEqual(["a"]);
    expect((await models.search({ node: "bob" })).map((m) => m.id)).toEqual(["a", "b"]);
    expect((await models.search({ node: "bob", mpc: true })).map((m) => m.id)).toEqual(["b"]);
    expect(await models.delete("a")).toBe(true);
    expect(await models.delete("a")).toBe(false);
  });
});
