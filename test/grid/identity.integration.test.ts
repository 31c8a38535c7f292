// Identities and authenticated handshakes on real sockets: every hello is a
// signed proof, peers must hold a node certificate of the grid, nodes prove
// themselves to their dialers, frames on a peer link speak only for that peer,
// the gateway takes membership only from the node holding the id's key, and
// the model registry is written only with proofs and owner credentials.
import * as tf from "@tensorflow/tfjs";
import { afterEach, describe, expect, it } from "vitest";
import * as sy from "../../src";
import * as grid from "../../src/grid";
import { createGridCredentials, generateKeyPair, issueCertificate, issueUserToken } from "../../src/grid/auth";
import { encodeControl } from "../../src/grid/control";
import { httpJson } from "../../src/grid/http-util";
import { encodeFrame } from "../../src/workers/messages";
import { RawSocket, eventually } from "./helpers";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function node(id: string, options: Partial<grid.NodeOptions> = {}): Promise<grid.GridNode> {
  const started = await grid.startNode({ id, port: 0, tf, ...options });
  cleanups.push(() => started.close());
  return started;
}

async function raw(url: string): Promise<RawSocket> {
  const socket = await RawSocket.open(url);
  cleanups.push(() => socket.close());
  return socket;
}

function client(hook: sy.Hook, n: grid.GridNode, options: Partial<grid.GridClientOptions> = {}) {
  const c = new grid.WebsocketGridClient(hook, n.url, { id: n.id, ...options });
  cleanups.push(() => c.close());
  return c;
}

/** The node still serves: a fresh admin socket's ping is answered. */
async function expectServing(n: grid.GridNode): Promise<void> {
  const socket = await raw(n.url);
  expect(await socket.hello(n.id, { token: n.adminToken })).toMatchObject({ t: "welcome" });
  socket.request({ t: "ping", rid: 5 });
  expect(await socket.nextReply()).toEqual({ rid: 5, ok: true, value: n.id });
}

/** The socket was refused with TSYFT_ERR_AUTH and closed with 4003. */
async function expectRefused(socket: RawSocket, answer: grid.ControlMessage, message: RegExp): Promise<void> {
  expect(answer.t).toBe("refused");
  if (answer.t === "refused") {
    expect(answer.error.code).toBe(sy.ErrorCode.AUTH);
    expect(answer.error.message).toMatch(message);
  }
  expect((await socket.waitClosed()).code).toBe(4003);
}

describe("client hellos", () => {
  it("a hello signed by another key than the one it names is refused; the node keeps serving", async () => {
    const bob = await node("bob");
    const socket = await raw(bob.url);
    const own = generateKeyPair();
    const auth = grid.signHello({ pair: own }, { role: "client", expect: "bob" });
    const forged = { ...auth, key: grid.adminKeyPair(bob.adminToken!).publicKey }; // claims the admin's key
    socket.send(
      grid.encodeGridFrame(
        grid.Channel.Control,
        encodeControl({ t: "hello", role: "client", expect: "bob", auth: forged }),
      ),
    );
    await expectRefused(socket, await socket.nextControl(), /signature does not match/);
    await expectServing(bob);
  });

  it("a replayed hello is refused", async () => {
    const bob = await node("bob");
    const auth = grid.signHello({ pair: grid.adminKeyPair(bob.adminToken!) }, { role: "client", expect: "bob" });
    const frame = grid.encodeGridFrame(
      grid.Channel.Control,
      encodeControl({ t: "hello", role: "client", expect: "bob", auth }),
    );
    const first = await raw(bob.url);
    first.send(frame);
    expect(await first.nextControl()).toMatchObject({ t: "welcome", id: "bob" });
    const replay = await raw(bob.url);
    replay.send(frame);
    await expectRefused(replay, await replay.nextControl(), /already used \(a replay\)/);
    await expectServing(bob);
  });

  it("requests before a hello are refused with TSYFT_ERR_AUTH", async () => {
    const bob = await node("bob");
    const socket = await raw(bob.url);
    socket.request({ t: "objects", rid: 1 });
    const reply = await socket.nextReply();
    expect(reply).toMatchObject({ ok: false, error: { code: sy.ErrorCode.AUTH } });
    if (!reply.ok) expect(reply.error.message).toMatch(/before hello/);
  });

  it("the principal follows the token: admin, user, anonymous; without a gateway link is the admin's only", async () => {
    const { adminToken } = createGridCredentials();
    const [bob, charlie] = [await node("bob", { adminToken }), await node("charlie", { adminToken })];
    const hook = sy.hook(tf);
    const anonymous = client(hook, bob, { token: null });
    const user = client(hook, bob, { token: issueUserToken(adminToken, { subject: "ada" }) });
    for (const [who, message] of [
      [anonymous, /Only the grid's admin or a signed-in user may link node bob.*anonymous/],
      [user, /Only the grid's admin may link node bob.*no gateway to vouch/],
    ] as const) {
      const error = await who.connectGridNode(charlie).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(sy.AuthError);
      expect((error as sy.TsyftError).code).toBe(sy.ErrorCode.AUTH);
      expect((error as Error).message).toMatch(message);
    }
    expect(bob.peers.has("charlie")).toBe(false);
    // status stays open to every principal.
    expect((await anonymous.status()).id).toBe("bob");
    const admin = client(hook, bob, { token: adminToken });
    await admin.connectGridNode(charlie);
    expect(bob.peers.has("charlie")).toBe(true);
  });
});

describe("nodes prove who they are to their dialers", () => {
  it("a client refuses an impostor answering as bob at the expected url; the real bob is verified", async () => {
    const { adminToken, gridKey } = createGridCredentials();
    const bob = await node("bob", { adminToken });
    const impostor = await node("bob"); // another grid's "bob"
    const hook = sy.hook(tf);
    const fooled = new grid.WebsocketGridClient(hook, impostor.url, { id: "bob", token: null, gridKey });
    cleanups.push(() => fooled.close());
    const error = await fooled.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(sy.AuthError);
    expect((error as Error).message).toMatch(/could not prove it is node bob/);
    expect((error as Error).message).toContain(impostor.url);
    const real = await client(hook, bob, { token: null, gridKey }).connect();
    expect(real.verified).toBe(true);
    // Knowing no grid key (not even as the process that started the node), a client accepts the node, unverified.
    grid.forgetLocalGrid(impostor.url);
    const unverified = await client(hook, impostor, { token: null }).connect();
    expect(unverified.verified).toBe(false);
  });
});

describe("peer links", () => {
  it("a peer hello claiming bob with an attacker's key, or with another grid's certificate, is refused", async () => {
    const { adminToken } = createGridCredentials();
    const dan = await node("dan", { adminToken });
    const attacker = generateKeyPair();
    const noCert = await raw(dan.url);
    await expectRefused(
      noCert,
      await noCert.hello("dan", { key: { pair: attacker }, from: "bob" }),
      /refused a peer link claiming to be "bob"/,
    );
    const otherGrid = createGridCredentials();
    const cert = issueCertificate(otherGrid.adminToken, { role: "node", sub: "bob", key: attacker.publicKey });
    const foreign = await raw(dan.url);
    await expectRefused(
      foreign,
      await foreign.hello("dan", { key: { pair: attacker, cert }, from: "bob" }),
      /not signed by this grid's admin key/,
    );
    // A certificate of this grid for another node does not make its holder bob either.
    const charlieCert = issueCertificate(adminToken, { role: "node", sub: "charlie", key: attacker.publicKey });
    const misnamed = await raw(dan.url);
    await expectRefused(
      misnamed,
      await misnamed.hello("dan", { key: { pair: attacker, cert: charlieCert }, from: "bob" }),
      /names "charlie", not "bob"/,
    );
    expect(dan.peers.ids()).toEqual([]);
    await expectServing(dan);
  });

  it("a frame on bob's peer link claiming to be from charlie is dropped", async () => {
    const { adminToken } = createGridCredentials();
    const dan = await node("dan", { adminToken });
    // A malicious bob: a real node certificate for bob, speaking by hand.
    const bobKey = generateKeyPair();
    const cert = issueCertificate(adminToken, { role: "node", sub: "bob", key: bobKey.publicKey });
    const link = await raw(dan.url);
    expect(await link.hello("dan", { key: { pair: bobKey, cert }, from: "bob" })).toMatchObject({ t: "welcome" });
    await eventually(() => dan.peers.has("bob"), 5_000, "dan accepts bob's link");
    const before = dan.traffic().malformed;
    const spoofed = encodeFrame({ kind: "request", from: "charlie", tag: "k/1", tensors: [], meta: { type: "key" } });
    link.send(grid.encodeGridFrame(grid.Channel.Peer, spoofed));
    await eventually(() => dan.peers.refused === 1, 5_000, "the spoofed frame is refused");
    expect(dan.traffic().malformed).toBe(before + 1);
    // Nothing came back on the link: dan answered no one.
    expect(link.frames.filter((f) => f[0] === grid.Channel.Peer)).toEqual([]);
  });
});

describe("the gateway", () => {
  async function gatewayWithBob() {
    const { adminToken, gridKey } = createGridCredentials();
    const g = await grid.startGateway({ port: 0, gridKey });
    cleanups.push(() => g.close());
    const bob = await node("bob", { adminToken, gateway: g.url });
    await eventually(() => g.nodes.get("bob")?.address === bob.url, 10_000, "bob joined");
    return { g, bob, adminToken, gridKey };
  }
  type Refusal = { error: sy.SerializedError };

  it("on a grid with a gateway a signed-in user may link two members (what serving a model needs), never elsewhere", async () => {
    const { g, bob, adminToken } = await gatewayWithBob();
    const charlie = await node("charlie", { adminToken, gateway: g.url });
    await eventually(() => g.nodes.get("charlie")?.address === charlie.url, 10_000, "charlie joined");
    const hook = sy.hook(tf);
    const user = client(hook, bob, { token: issueUserToken(adminToken, { subject: "ada" }) });
    const elsewhere = await node("charlie"); // not the address the gateway lists for charlie
    const refused = await user.connectGridNode(elsewhere).catch((e: unknown) => e);
    expect((refused as sy.TsyftError).code).toBe(sy.ErrorCode.AUTH);
    expect((refused as Error).message).toMatch(/links only to addresses its gateway lists/);
    const anonymous = client(hook, bob, { token: null });
    expect(((await anonymous.connectGridNode(charlie).catch((e: unknown) => e)) as sy.TsyftError).code).toBe(
      sy.ErrorCode.AUTH,
    );
    expect(bob.peers.has("charlie")).toBe(false);
    await user.connectGridNode(charlie);
    expect(bob.peers.has("charlie")).toBe(true);
  });

  it("a forged join for bob with another address is refused; the entry keeps bob's real address", async () => {
    const { g, bob } = await gatewayWithBob();
    const attacker = generateKeyPair();
    const evil = "ws://10.6.6.6:3000";
    // No certificate at all, a certificate of another grid, then a proof by bob's cert but the attacker's key.
    const unsigned = await httpJson<Refusal>("POST", `${g.url}/join`, { id: "bob", address: evil });
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.error.code).toBe(sy.ErrorCode.AUTH);
    const other = createGridCredentials();
    const foreign = grid.loadOrCreateIdentity({ id: "bob", adminToken: other.adminToken });
    expect((await httpJson("POST", `${g.url}/join`, grid.signMembership(foreign, "join", "bob", evil))).status).toBe(
      401,
    );
    const stolenCert = { pair: attacker, cert: bob.key.cert };
    expect((await httpJson("POST", `${g.url}/join`, grid.signMembership(stolenCert, "join", "bob", evil))).status).toBe(
      401,
    );
    expect((await httpJson<{ nodes: grid.RegisteredNode[] }>("GET", `${g.url}/nodes`)).body.nodes).toEqual([
      expect.objectContaining({ id: "bob", address: bob.url, status: "online" }),
    ]);
  });

  it("heartbeat and leave for bob by another key are refused (403); bob stays registered", async () => {
    const { g, bob, adminToken } = await gatewayWithBob();
    // Another key with a certificate for bob that never joined: not the key bob joined with.
    const rival = grid.loadOrCreateIdentity({ id: "bob", adminToken });
    for (const type of ["heartbeat", "leave"] as const) {
      const r = await httpJson<Refusal>("POST", `${g.url}/${type}`, grid.signMembership(rival, type, "bob"));
      expect(r.status, type).toBe(403);
      expect(r.body.error.message, type).toMatch(/another key/);
    }
    // Plain unsigned ones are refused as unauthenticated.
    expect((await httpJson("POST", `${g.url}/leave`, { id: "bob" })).status).toBe(401);
    expect(g.nodes.get("bob")).toMatchObject({ address: bob.url, status: "online" });
  });

  it("GET /health gives the grid key; model registry writes need a proof and, to overwrite or delete, the owner", async () => {
    const { g, adminToken, gridKey } = await gatewayWithBob();
    expect((await httpJson<grid.GatewayHealth>("GET", `${g.url}/health`)).body.gridKey).toBe(gridKey);
    const info: grid.HostedModelInfo = {
      id: "toy",
      mpc: false,
      allowRemoteInference: true,
      allowDownload: false,
      nodes: { host: "bob", holders: [] },
    };
    const unsigned = await httpJson<Refusal>("POST", `${g.url}/models`, info);
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.error.message).toMatch(/Authorization: Tsyft/);
    const stranger = new grid.GatewayClient(g.url, { token: grid.createGridCredentials().adminToken }); // another grid's admin: anonymous here
    await expect(stranger.registerModel(info)).rejects.toMatchObject({ code: sy.ErrorCode.AUTH });
    // Ada registers with an owner token; Eve (another user) cannot overwrite or delete it, nor can plain requests.
    const ada = new grid.GatewayClient(g.url, { token: issueUserToken(adminToken, { subject: "ada" }) });
    const eve = new grid.GatewayClient(g.url, { token: issueUserToken(adminToken, { subject: "eve" }) });
    const ownerToken = grid.createOwnerToken();
    await ada.registerModel(info, { ownerToken });
    const hijack = { ...info, nodes: { host: "evil", holders: [] } };
    await expect(eve.registerModel(hijack, { overwrite: true })).rejects.toMatchObject({
      code: sy.ErrorCode.AUTH,
      message: expect.stringMatching(/owner/),
    });
    await expect(
      eve.registerModel(hijack, { overwrite: true, ownerToken: grid.createOwnerToken() }),
    ).rejects.toMatchObject({ code: sy.ErrorCode.AUTH });
    await expect(eve.deleteModel("toy")).rejects.toMatchObject({ code: sy.ErrorCode.AUTH });
    const bare = await httpJson<Refusal>("DELETE", `${g.url}/models/toy`);
    expect(bare.status).toBe(401);
    const withoutOwner = await fetchStatus(`${g.url}/models/toy`, "DELETE", { "x-tsyft-owner": "tsyft-owner.nope" });
    expect(withoutOwner).toBe(401);
    expect((await ada.model("toy"))?.nodes.host).toBe("bob");
    // The owner token works for anyone holding it; the admin needs none.
    await ada.registerModel({ ...info, description: "v2" }, { overwrite: true, ownerToken });
    expect((await ada.model("toy"))?.description).toBe("v2");
    expect(await new grid.GatewayClient(g.url, { token: adminToken }).deleteModel("toy")).toBe(true);
  });

  it("link goes only to the address the gateway lists for that id (no SSRF)", async () => {
    const { g, bob, adminToken } = await gatewayWithBob();
    const charlie = await node("charlie", { adminToken, gateway: g.url });
    await eventually(() => g.nodes.get("charlie") !== undefined, 10_000, "charlie joined");
    const admin = client(sy.hook(tf), bob, { token: adminToken });
    for (const target of [
      { id: "charlie", url: "ws://127.0.0.1:1" },
      { id: "mallory", url: charlie.url },
    ]) {
      const error = await admin.connectGridNode(target).catch((e: unknown) => e);
      expect(error, target.id).toBeInstanceOf(sy.AuthError);
      expect((error as Error).message, target.id).toMatch(/links only to addresses its gateway lists/);
    }
    expect(bob.peers.ids()).toEqual([]);
    await admin.connectGridNode(charlie);
    expect(bob.peers.has("charlie")).toBe(true);
  });
});

describe("serving models with owner tokens", () => {
  it("serveModel returns an owner token; deleting needs it unless admin", async () => {
    const local = await grid.startLocalGrid({ ports: "random", inProcess: true, tf, nodes: ["bob"] });
    cleanups.push(() => local.stop());
    const hook = sy.hook(tf);
    const ada = new sy.PublicGridNetwork(hook, local.gateway.url, {
      token: issueUserToken(local.adminToken, { subject: "ada" }),
    });
    const eve = new sy.PublicGridNetwork(hook, local.gateway.url, {
      token: issueUserToken(local.adminToken, { subject: "eve" }),
    });
    cleanups.push(
      () => ada.close(),
      () => eve.close(),
    );
    class Toy extends sy.Plan {
      w = tf.tensor([2, 4]);
      override forward(x: sy.TensorLike) {
        return sy.F.matmul(this.w, x);
      }
    }
    const served = await ada.serveModel(await new Toy({ id: "toy" }).build(tf.tensor([1, 2])), {
      id: "toy",
      allowRemoteInference: true,
    });
    expect(served.ownerToken).toMatch(/^tsyft-owner\./);
    await expect(eve.deleteModel("toy")).rejects.toMatchObject({ code: sy.ErrorCode.AUTH });
    await expect(eve.deleteModel("toy", { ownerToken: "tsyft-owner.guess" })).rejects.toMatchObject({
      code: sy.ErrorCode.AUTH,
    });
    expect((await ada.models()).map((m) => m.id)).toEqual(["toy"]);
    expect(await eve.deleteModel("toy", { ownerToken: served.ownerToken })).toBe(true);
    expect(await ada.models()).toEqual([]);
  });
});

/** The status of a request with only these headers (no proof). */
function fetchStatus(url: string, method: string, headers: Record<string, string>): Promise<number> {
  return httpJson(method, url, undefined, { timeoutMs: 5_000, headers }).then((r) => r.status);
}
