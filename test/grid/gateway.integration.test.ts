// The gateway's node registry (join, heartbeat, stale, leave; over HTTP and
// WebSocket) and its model registry (persisted in the embedded database).
import * as http from "node:http";
import * as tf from "@tensorflow/tfjs";
import WebSocket from "ws";
import { afterEach, describe, expect, it } from "vitest";
import * as sy from "../../src";
import * as grid from "../../src/grid";
import { clientKey, createGridCredentials, httpProof, loadOrCreateIdentity, signMembership } from "../../src/grid/auth";
import { httpJson } from "../../src/grid/http-util";
import { eventually, tempDir } from "./helpers";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function gateway(options: grid.GatewayOptions = {}): Promise<grid.Gateway> {
  const g = await grid.startGateway({ port: 0, ...options });
  cleanups.push(() => g.close());
  return g;
}

type NodesBody = { nodes: grid.RegisteredNode[] };

const identities = new Map<string, grid.NodeIdentity>();

/** A signed membership request by node `id`, enrolled once in the gateway's grid (one key per id). */
function member(g: grid.Gateway, type: "join" | "heartbeat" | "leave", id: string, address?: string) {
  const key = `${g.gridKey}/${id}`;
  if (!identities.has(key)) identities.set(key, loadOrCreateIdentity({ id, adminToken: g.adminToken }));
  return signMembership(identities.get(key)!, type, id, address);
}

/** A JSON request signed with `token` (default: the gateway's admin token), as GatewayClient sends it. */
function signed<T = unknown>(g: grid.Gateway, method: string, path: string, body?: unknown, token = g.adminToken!) {
  const text = body === undefined ? "" : JSON.stringify(body);
  const authorization = httpProof({ pair: clientKey(token).pair }, method, path, text);
  return httpJson<T>(method, `${g.url}${path}`, body === undefined ? undefined : text, {
    timeoutMs: 5_000,
    headers: { authorization },
  });
}

describe("node registry", () => {
  it("nodes started with a gateway join it, beat, and leave when they close", async () => {
    const g = await gateway({ heartbeatMs: 50 });
    const bob = await grid.startNode({ id: "bob", port: 0, tf, gateway: g.url, adminToken: g.adminToken });
    cleanups.push(() => bob.close());
    await eventually(
      async () => (await httpJson<NodesBody>("GET", `${g.url}/nodes`)).body.nodes.length === 1,
      10_000,
      "bob joined",
    );
    const { body } = await httpJson<NodesBody>("GET", `${g.url}/nodes`);
    expect(body.nodes[0]).toMatchObject({ id: "bob", address: bob.url, status: "online" });
    await eventually(() => (bob.gateway?.beats ?? 0) >= 3, 10_000, "three heartbeats");
    expect((await httpJson<NodesBody>("GET", `${g.url}/nodes`)).body.nodes[0]!.status).toBe("online");
    await bob.close();
    expect((await httpJson<NodesBody>("GET", `${g.url}/nodes`)).body.nodes).toEqual([]);
  });

  it("a node that stops beating is listed as stale; an unknown heartbeat is told to join", async () => {
    const g = await gateway({ heartbeatMs: 50, missedHeartbeats: 2 });
    expect(
      (await httpJson("POST", `${g.url}/join`, member(g, "join", "ghost", "ws://10.0.0.9:3000"))).body,
    ).toMatchObject({ ok: true, heartbeatMs: 50 });
    expect((await httpJson<NodesBody>("GET", `${g.url}/nodes`)).body.nodes[0]!.status).toBe("online");
    await eventually(
      async () => (await httpJson<NodesBody>("GET", `${g.url}/nodes`)).body.nodes[0]!.status === "stale",
      5_000,
      "ghost stale",
    );
    expect((await httpJson("POST", `${g.url}/heartbeat`, member(g, "heartbeat", "ghost"))).status).toBe(200);
    expect((await httpJson<NodesBody>("GET", `${g.url}/nodes`)).body.nodes[0]!.status).toBe("online");
    const unknown = await httpJson<{ error: sy.SerializedError }>(
      "POST",
      `${g.url}/heartbeat`,
      member(g, "heartbeat", "nobody"),
    );
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toMatch(/join/);
    expect((await httpJson("POST", `${g.url}/join`, member(g, "join", "bad id", "ws://x:1"))).status).toBe(400);
    expect((await httpJson("POST", `${g.url}/join`, member(g, "join", "x", "not a url"))).status).toBe(400);
    expect((await httpJson("POST", `${g.url}/leave`, member(g, "leave", "ghost"))).status).toBe(200);
    expect((await httpJson("POST", `${g.url}/leave`, member(g, "leave", "ghost"))).status).toBe(404);
  });

  it("a node rejoins a gateway that restarted and forgot it", async () => {
    const { adminToken, gridKey } = createGridCredentials();
    let g = await grid.startGateway({ port: 0, heartbeatMs: 50, gridKey });
    const port = g.port;
    const bob = await grid.startNode({ id: "bob", port: 0, tf, gateway: g.url, adminToken });
    cleanups.push(() => bob.close());
    await eventually(() => g.nodes.size === 1, 10_000, "joined");
    await g.close();
    g = await gateway({ port, heartbeatMs: 50, gridKey });
    await eventually(() => g.nodes.get("bob")?.status === "online", 10_000, "rejoined");
  });

  it("over WebSocket: join, heartbeat, nodes, and subscribed events", async () => {
    const g = await gateway({ heartbeatMs: 1_000 });
    const socket = new WebSocket(g.url.replace("http", "ws"));
    cleanups.push(() => socket.terminate());
    const messages: Array<Record<string, unknown>> = [];
    socket.on("message", (data) => messages.push(JSON.parse(data.toString())));
    await new Promise((resolve) => socket.once("open", resolve));
    const ask = async (message: object) => {
      const rid = Math.random();
      socket.send(JSON.stringify({ ...message, rid }));
      await eventually(() => messages.some((m) => m.rid === rid), 5_000, "answer");
      return messages.find((m) => m.rid === rid)!;
    };
    expect(await ask({ type: "subscribe" })).toMatchObject({ ok: true, nodes: [] });
    expect(await ask({ type: "join", ...member(g, "join", "alice", "ws://127.0.0.1:3001") })).toMatchObject({
      ok: true,
      heartbeatMs: 1_000,
    });
    await eventually(() => messages.some((m) => m.type === "event" && m.event === "joined"), 5_000, "joined event");
    expect(await ask({ type: "heartbeat", ...member(g, "heartbeat", "alice") })).toMatchObject({ ok: true });
    expect(await ask({ type: "nodes" })).toMatchObject({ ok: true, nodes: [{ id: "alice", status: "online" }] });
    expect(await ask({ type: "frobnicate" })).toMatchObject({
      ok: false,
      error: { code: sy.ErrorCode.MALFORMED_MESSAGE },
    });
    socket.send("not json");
    await eventually(
      () => messages.some((m) => m.ok === false && (m.error as { message: string }).message.includes("JSON")),
      5_000,
      "bad json answer",
    );
    expect(await ask({ type: "leave", ...member(g, "leave", "alice") })).toMatchObject({ ok: true });
    await eventually(() => messages.some((m) => m.type === "event" && m.event === "left"), 5_000, "left event");
  });
});

describe("model registry", () => {
  const convnet: grid.HostedModelInfo = {
    id: "convnet",
    mpc: true,
    allowRemoteInference: true,
    allowDownload: false,
    nodes: { host: "alice", holders: ["bob", "charlie"], provider: "dan" },
    description: "HAM10000 skin lesions, bkl vs mel",
  };
  const plainNet: grid.HostedModelInfo = {
    id: "mnist-dense",
    mpc: false,
    allowRemoteInference: false,
    allowDownload: true,
    nodes: { host: "bob", holders: [] },
  };

  it("register, list, search, get and delete; persisted across a gateway restart", async () => {
    const data = tempDir("gateway");
    cleanups.push(() => data.remove());
    const { gridKey, adminToken } = createGridCredentials();
    let g = await grid.startGateway({ port: 0, dataDir: data.dir, gridKey });
    const post = (path: string, body: unknown) => signed<grid.HostedModelInfo>(g, "POST", path, body, adminToken);
    const created = await post("/models", convnet);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject(convnet);
    expect(typeof created.body.registeredAt).toBe("string");
    expect((await post("/models", plainNet)).status).toBe(201);
    expect((await post("/models", convnet)).status).toBe(409);
    expect((await post("/models?overwrite=1", { ...convnet, allowDownload: true })).status).toBe(201);

    const ids = async (path: string) =>
      (await httpJson<{ models: grid.HostedModelInfo[] }>("GET", `${g.url}${path}`)).body.models
        .map((m) => m.id)
        .sort();
    expect(await ids("/models")).toEqual(["convnet", "mnist-dense"]);
    expect(await ids("/models/search?query=lesion")).toEqual(["convnet"]);
    expect(await ids("/models/search?mpc=false")).toEqual(["mnist-dense"]);
    expect(await ids("/models/search?node=dan")).toEqual(["convnet"]);
    expect(await ids("/models/search?allowDownload=true")).toEqual(["convnet", "mnist-dense"]);

    await g.close();
    g = await gateway({ port: 0, dataDir: data.dir, gridKey });
    expect((await httpJson("GET", `${g.url}/models/convnet`)).body).toMatchObject({ ...convnet, allowDownload: true });
    expect((await signed(g, "DELETE", "/models/convnet", undefined, adminToken)).status).toBe(204);
    expect((await signed(g, "DELETE", "/models/convnet", undefined, adminToken)).status).toBe(404);
    expect((await httpJson("GET", `${g.url}/models/convnet`)).status).toBe(404);
    expect(await ids("/models")).toEqual(["mnist-dense"]);
  });

  it("refuses bad metadata with 400 naming the field", async () => {
    const g = await gateway();
    const bad = async (body: unknown) => {
      const r = await signed<{ error: sy.SerializedError }>(g, "POST", "/models", body);
      expect(r.status).toBe(400);
      return r.body.error.message;
    };
    expect(await bad({ ...convnet, mpc: "yes" })).toMatch(/mpc/);
    expect(await bad({ ...convnet, nodes: { host: "alice", holders: ["bob"] } })).toMatch(/at least 2 holders/);
    expect(await bad({ ...convnet, id: "a b" })).toMatch(/id/);
    const notJson = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${g.url}/models`, { method: "POST" }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end("{ not json");
    });
    expect(notJson).toBe(400);
    expect((await httpJson("GET", `${g.url}/nowhere`)).status).toBe(404);
  });
});
