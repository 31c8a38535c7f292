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

  it("the principal follows the token: admin, user, anonymous; link is the admin's only", async () => {
    const { adminToken } = createGridCredentials();
    const [bob, charlie] = [await node("bob", { adminToken }), await node("charlie", { adminToken })];
    const hook = sy.hook(tf);
    const anonymous = client(hook, bob, { token: null });
    const user = client(hook, bob, { token: issueUserToken(adminToken, { subject: "ada" }) });
    for (const who of [anonymous, user]) {
      const error = await who.connectGridNode(charlie).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(sy.AuthError);
      expect((error as sy.TsyftError).code).toBe(sy.ErrorCode.AUTH);
      expect((error as Error).message).toMatch(/Only the grid's admin may link node bob/);
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
