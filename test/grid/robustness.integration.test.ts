// Nodes keep serving whatever comes in, and failures reach the client as
// typed errors naming the node, within the timeout.
import * as tf from "@tensorflow/tfjs";
import { afterEach, describe, expect, it } from "vitest";
import * as sy from "../../src";
import * as grid from "../../src/grid";
import { encodeMessage } from "../../src/core/codec";
import { encodeControl } from "../../src/grid/control";
import { RawSocket, eventually, maxDiff, startNodes, tempDir, type NodesFixture } from "./helpers";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function oneNode(options: Partial<grid.NodeOptions> = {}): Promise<grid.GridNode> {
  const node = await grid.startNode({ id: "bob", port: 0, tf, ...options });
  cleanups.push(() => node.close());
  return node;
}

/** A raw socket to bob that said hello with the node's admin token (its one-node grid's). */
async function raw(node: grid.GridNode): Promise<RawSocket> {
  const socket = await RawSocket.open(node.url);
  cleanups.push(() => socket.close());
  expect(await socket.hello(node.id, { token: node.adminToken })).toMatchObject({ t: "welcome", id: node.id });
  return socket;
}

function fixture(fx: NodesFixture): NodesFixture {
  cleanups.push(() => fx.teardown());
  return fx;
}

/** A ping on the raw socket is answered: the node still serves this socket. */
async function expectServing(socket: RawSocket, rid = 99): Promise<void> {
  socket.request({ t: "ping", rid });
  expect(await socket.nextReply()).toEqual({ rid, ok: true, value: "bob" });
}

describe("malformed input: an error reply, and the node keeps serving", () => {
  it("text frames, empty frames, unknown channels, garbage payloads and misplaced frames", async () => {
    const node = await oneNode();
    const socket = await raw(node);
    const cases: Array<[string, Uint8Array | string, RegExp]> = [
      ["a text frame", "hello?", /text message/],
      ["an empty frame", new Uint8Array(0), /empty message/],
      ["an unknown channel", Uint8Array.of(0x7f, 1, 2, 3), /unknown channel 0x7f/],
      [
        "a request that is not MessagePack",
        grid.encodeGridFrame(grid.Channel.Request, Uint8Array.of(0xc1, 0xff, 0x00)),
        /Malformed message/,
      ],
      [
        "a request that is not an object",
        grid.encodeGridFrame(grid.Channel.Request, encodeMessage([1, 2, 3])),
        /type field/,
      ],
      [
        "a reply sent to a node",
        grid.encodeGridFrame(grid.Channel.Reply, encodeMessage({ rid: 1, ok: true })),
        /take no replies/,
      ],
      [
        "a peer frame from a client",
        grid.encodeGridFrame(grid.Channel.Peer, encodeMessage({ k: "data", f: "x", t: "s/0", x: [] })),
        /client socket/,
      ],
      [
        "a control message that is not one",
        grid.encodeGridFrame(grid.Channel.Control, encodeMessage({ t: "nonsense" })),
        /control message/,
      ],
      [
        "a result sent to a node",
        grid.encodeGridFrame(grid.Channel.Control, encodeControl({ t: "result", rid: 1, ok: true })),
        /nodes take hello/,
      ],
    ];
    for (const [what, bytes, message] of cases) {
      socket.send(bytes);
      const reply = await socket.nextReply();
      expect(reply.ok, what).toBe(false);
      expect(reply.rid, what).toBe(-1);
      if (!reply.ok) {
        expect(reply.error.code, what).toBe(sy.ErrorCode.MALFORMED_MESSAGE);
        expect(reply.error.message, what).toMatch(message);
      }
      await expectServing(socket);
    }
    expect(node.traffic().malformed).toBe(cases.length);
  });

  it("an unknown request type is answered under its rid", async () => {
    const node = await oneNode();
    const socket = await raw(node);
    socket.send(grid.encodeGridFrame(grid.Channel.Request, encodeMessage({ t: "format-disk", rid: 7 })));
    const reply = await socket.nextReply();
    expect(reply).toMatchObject({ rid: 7, ok: false, error: { code: sy.ErrorCode.MALFORMED_MESSAGE } });
    if (!reply.ok) expect(reply.error.message).toMatch(/request type among/);
    await expectServing(socket);
  });

  it("an unknown command type or op fails under its output id, found by the next fetch", async () => {
    const fx = fixture(await startNodes(["bob"]));
    const bob = fx.client("bob");
    bob.submit({ type: "launch-missiles", output: "o1" } as never);
    bob.submit({ type: "plain-op", op: "frobnicate", inputs: [], attrs: {}, output: "o2" } as never);
    for (const id of ["o1", "o2"]) {
      const error = await bob.fetch(id, { remove: true }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(sy.WorkerError);
      expect((error as sy.TsyftError).code).toBe(sy.ErrorCode.REMOTE_OP_FAILED);
      expect((error as Error).message).toMatch(/bob/);
    }
    expect(await bob.ping()).toBe("bob");
  });

  it("an unknown object id: OBJECT_NOT_FOUND naming the node and the id, then business as usual", async () => {
    const fx = fixture(await startNodes(["bob"]));
    const bob = fx.client("bob");
    const error = await bob.fetch("no-such-id", { remove: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(sy.WorkerError);
    expect((error as sy.TsyftError).code).toBe(sy.ErrorCode.OBJECT_NOT_FOUND);
    expect((error as Error).message).toMatch(/bob.*no-such-id/);
    const p = tf.tensor([1, 2, 3]).send(bob);
    expect(Array.from((await p.mul(2).get()).dataSync())).toEqual([2, 4, 6]);
  });
});

describe("oversized messages", () => {
  it("the node closes that socket with 1009 and keeps serving others and new ones", async () => {
    const node = await oneNode({ maxMessageBytes: 4096 });
    const bystander = await raw(node);
    const offender = await raw(node);
    offender.request({ t: "store-plan", rid: 1, id: "big", plan: new Uint8Array(10_000) });
    expect((await offender.waitClosed()).code).toBe(1009);
    await expectServing(bystander, 1);
    await expectServing(await raw(node), 2);
  });

  it("a client request over the node's limit fails with TSYFT_ERR_MESSAGE_TOO_LARGE; the client reconnects and goes on", async () => {
    const node = await oneNode({ maxMessageBytes: 4096 });
    const hook = sy.hook(tf);
    const bob = new grid.WebsocketGridClient(hook, node.url, { id: "bob", reconnect: { initialMs: 20 } });
    cleanups.push(() => bob.close());
    await bob.connect();
    const error = await bob.rpc
      .call({ t: "store-plan", id: "big", plan: new Uint8Array(10_000) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(sy.CommunicationError);
    expect((error as sy.TsyftError).code).toBe(sy.ErrorCode.MESSAGE_TOO_LARGE);
    expect((error as Error).message).toMatch(/bob/);
    expect(await bob.ping()).toBe("bob");
    expect(bob.traffic.reconnects).toBe(1);
  });

  it("a message over the client's own limit throws at once, before anything is sent", async () => {
    const node = await oneNode();
    const hook = sy.hook(tf);
    const bob = await new grid.WebsocketGridClient(hook, node.url, { id: "bob", maxMessageBytes: 1000 }).connect();
    cleanups.push(() => bob.close());
    const sent = bob.traffic.bytesSent;
    expect(() => tf.zeros([1000]).send(bob)).toThrow(expect.objectContaining({ code: sy.ErrorCode.MESSAGE_TOO_LARGE }));
    expect(bob.traffic.bytesSent).toBe(sent);
    expect(await bob.ping()).toBe("bob");
  });
});

describe("connecting", () => {
  it("a client used before connect() connects by itself; if nothing listens, its requests fail at once", async () => {
    const node = await oneNode();
    const hook = sy.hook(tf);
    const lazy = new grid.WebsocketGridClient(hook, node.url, { id: "bob" });
    cleanups.push(() => lazy.close());
    const p = tf.tensor([1, 2]).send(lazy);
    expect(Array.from((await p.add(1).get()).dataSync())).toEqual([2, 3]);
    expect(lazy.connected).toBe(true);

    const port = node.port;
    await node.close();
    const nowhere = new grid.WebsocketGridClient(hook, `ws://127.0.0.1:${port}`, { id: "bob" });
    cleanups.push(() => nowhere.close());
    const started = Date.now();
    await expect(sy.withConfig({ timeoutMs: 20_000 }, () => nowhere.ping())).rejects.toMatchObject({
      code: sy.ErrorCode.CONNECTION,
      message: expect.stringMatching(/bob/),
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("close() right after sending delivers what was sent, even while the client was still connecting", async () => {
    const node = await oneNode();
    const hook = sy.hook(tf);
    const hasty = new grid.WebsocketGridClient(hook, node.url, { id: "bob", token: node.adminToken });
    // Sent before the link is open (the store waits in the outbox), then closed at once without waiting.
    const ids = [tf.tensor([1, 2]), tf.tensor([3])].map((t) => t.send(hasty).id);
    await hasty.close();
    const later = new grid.WebsocketGridClient(hook, node.url, { id: "bob", token: node.adminToken });
    cleanups.push(() => later.close());
    expect((await later.listObjects()).sort()).toEqual([...ids].sort());
  });

  it("a reply over the client's own limit: MESSAGE_TOO_LARGE saying whose limit, then the client goes on", async () => {
    const node = await oneNode();
    const hook = sy.hook(tf);
    const big = await new grid.WebsocketGridClient(hook, node.url, { id: "bob" }).connect();
    const small = await new grid.WebsocketGridClient(hook, node.url, {
      id: "bob",
      maxMessageBytes: 2_000,
      reconnect: { initialMs: 20 },
    }).connect();
    cleanups.push(
      () => big.close(),
      () => small.close(),
    );
    big.store("large", { kind: "tensor", value: { dtype: "float32", shape: [1000], values: new Float32Array(1000) } });
    await big.ping();
    const error = await small.fetch("large", { remove: false }).catch((e: unknown) => e);
    expect((error as sy.TsyftError).code).toBe(sy.ErrorCode.MESSAGE_TOO_LARGE);
    expect((error as Error).message).toMatch(/this client's size limit/);
    expect(await small.ping()).toBe("bob");
  });

  it("linking to a node that is not there fails with CONNECTION naming it, and is not retried", async () => {
    const fx = fixture(await startNodes(["bob"]));
    const error = await fx
      .client("bob")
      .connectGridNode({ id: "alice", url: "ws://127.0.0.1:1" })
      .catch((e: unknown) => e);
    expect((error as sy.TsyftError).code).toBe(sy.ErrorCode.CONNECTION);
    expect((error as Error).message).toMatch(/bob could not open a peer link to alice/);
    expect(() => fx.node("bob").peers.sendTo("alice", new Uint8Array(1))).toThrow(
      /bob has no link to alice\. Link the nodes first/,
    );
  });

  it("connect() checks the node's id, and fails with CONNECTION where nothing listens", async () => {
    const node = await oneNode();
    const hook = sy.hook(tf);
    const wrong = new grid.WebsocketGridClient(hook, node.url, { id: "alice" });
    await expect(wrong.connect()).rejects.toMatchObject({
      code: sy.ErrorCode.WORKER_ID,
      message: expect.stringMatching(/alice.*bob/),
    });
    await wrong.close();
    const port = node.port;
    await node.close();
    const nobody = new grid.WebsocketGridClient(hook, `ws://127.0.0.1:${port}`, { id: "bob" });
    await expect(nobody.connect()).rejects.toMatchObject({
      code: sy.ErrorCode.CONNECTION,
      message: expect.stringMatching(/bob/),
    });
    await nobody.close();
  });

  it("a secure op between nodes with no link fails at get(), naming the missing link", async () => {
    const hook = sy.hook(tf);
    const { adminToken } = grid.createGridCredentials();
    const nodes = await Promise.all(
      ["bob", "charlie", "dan"].map((id) => grid.startNode({ id, port: 0, tf, adminToken })),
    );
    const clients = await Promise.all(
      nodes.map((n) => new grid.WebsocketGridClient(hook, n.url, { id: n.id }).connect()),
    );
    cleanups.push(async () => {
      await Promise.all(clients.map((c) => c.close()));
      await Promise.all(nodes.map((n) => n.close()));
    });
    const [bob, charlie, dan] = clients;
    const xs = tf.tensor([1, -2]).fixPrecision().share(bob!, charlie!, { cryptoProvider: dan! });
    const error = await sy.withConfig({ timeoutMs: 5_000 }, () => xs.mul(xs).get()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(sy.TsyftError);
    expect((error as Error).message).toMatch(/no link to (bob|charlie|dan)/);
    // Linking them afterwards makes the same op work.
    await grid.connectAllNodes(clients);
    expect(maxDiff((await xs.mul(xs).get()).floatPrecision(), tf.tensor([1, 4]))).toBeLessThan(1e-3);
  });
});

describe("a node dies mid-protocol", () => {
  it("the waiting get() rejects within the timeout, naming the node; the others keep serving", async () => {
    const fx = fixture(await startNodes(["bob", "charlie", "dan"]));
    const [bob, charlie, dan] = ["bob", "charlie", "dan"].map((id) => fx.client(id));
    const x = tf.randomNormal([60_000]);
    await sy.withConfig({ timeoutMs: 8_000 }, async () => {
      const xs = x.fixPrecision().share(bob!, charlie!, { cryptoProvider: dan! });
      const started = Date.now();
      const pending = xs
        .relu()
        .get()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      // Wait until bob is inside the protocol (it has sent a round), then kill charlie.
      const bobWorker = fx.node("bob").worker;
      const rounds = bobWorker.stats.party.rounds;
      await eventually(() => bobWorker.stats.party.rounds > rounds, 10_000, "bob's first round");
      await fx.node("charlie").close();
      const error = await pending;
      const elapsed = Date.now() - started;
      expect(error).toBeInstanceOf(sy.TsyftError);
      expect([sy.ErrorCode.CONNECTION, sy.ErrorCode.REMOTE_OP_FAILED]).toContain((error as sy.TsyftError).code);
      expect((error as Error).message).toMatch(/charlie/);
      expect(elapsed).toBeLessThan(8_000);
    });
    // bob gave up on the op too (its wait on charlie failed), and serves on.
    expect(fx.node("bob").worker.mailbox.pending.waiting).toBe(0);
    expect(await bob!.ping()).toBe("bob");
    const p = tf.tensor([5]).send(bob!);
    expect(Array.from((await p.add(1).get()).dataSync())).toEqual([6]);
  });
});

describe("restarts", () => {
  it("a node restarted on the same data dir still holds its objects; its client reconnects by itself", async () => {
    const data = tempDir("restart");
    cleanups.push(() => data.remove());
    const fx = fixture(await startNodes(["alice", "charlie", "dan"]));
    // bob has a data dir; alice dials bob, bob dials charlie and dan (connectAllNodes links i -> j for i < j).
    const hook = fx.hook;
    let bobNode = await grid.startNode({ id: "bob", port: 0, tf, dataDir: data.dir, adminToken: fx.adminToken });
    const port = bobNode.port;
    const bob = new grid.WebsocketGridClient(hook, bobNode.url, {
      id: "bob",
      reconnect: { initialMs: 20, maxMs: 200 },
    });
    cleanups.push(async () => {
      await bob.close();
      await bobNode.close();
    });
    await grid.connectAllNodes([fx.client("alice"), bob, fx.client("charlie"), fx.client("dan")]);
    const charlie = fx.client("charlie");
    const dan = fx.client("dan");

    const plain = tf.tensor([
      [1.5, -2],
      [0.25, 4],
    ]);
    const p = plain.send(bob);
    const xs = plain.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    const ys = xs.mul(xs); // computed before the restart, kept on disk
    expect(await bob.objectCount()).toBe(3);
    await bobNode.flush();

    await bobNode.close();
    await eventually(() => !bob.connected, 5_000, "client sees the drop");
    const waiting = bob.ping(); // made while bob is down: waits for the reconnection
    bobNode = await grid.startNode({ id: "bob", port, tf, dataDir: data.dir, adminToken: fx.adminToken });
    expect(await waiting).toBe("bob");
    expect(bob.traffic.reconnects).toBe(1);
    expect(bobNode.health().objects).toBe(3);

    // The plaintext tensor and the shares came back.
    expect(maxDiff(await p.get(), plain)).toBe(0);
    // bob redials the peers it had dialed; alice redials bob: every link is back.
    await eventually(
      () => ["alice", "charlie", "dan"].every((peer) => bobNode.peers.has(peer)),
      15_000,
      "bob's links back",
    );
    expect(maxDiff((await ys.get()).floatPrecision(), tf.mul(plain, plain))).toBeLessThan(1e-3);
    // And new secure ops run on the restored shares.
    expect(maxDiff((await xs.relu().get()).floatPrecision(), tf.relu(plain))).toBeLessThan(1e-3);
  });

  it("a crypto provider restarted (new keys): holders re-key and products stay right", async () => {
    const fx = fixture(await startNodes(["bob", "charlie"]));
    const hook = fx.hook;
    let danNode = await grid.startNode({ id: "dan", port: 0, tf, adminToken: fx.adminToken });
    const port = danNode.port;
    const dan = new grid.WebsocketGridClient(hook, danNode.url, {
      id: "dan",
      reconnect: { initialMs: 20, maxMs: 200 },
    });
    cleanups.push(async () => {
      await dan.close();
      await danNode.close();
    });
    await grid.connectAllNodes([fx.client("bob"), fx.client("charlie"), dan]);
    const x = tf.tensor([1.5, -2.25, 3]);
    const share = () => x.fixPrecision().share(fx.client("bob"), fx.client("charlie"), { cryptoProvider: dan });
    expect(maxDiff((await share().mul(share()).get()).floatPrecision(), tf.mul(x, x))).toBeLessThan(1e-3);

    await danNode.close();
    danNode = await grid.startNode({ id: "dan", port, tf, adminToken: fx.adminToken });
    await eventually(() => danNode.peers.has("bob") && danNode.peers.has("charlie"), 15_000, "holders redial dan");
    expect(maxDiff((await share().mul(share()).get()).floatPrecision(), tf.mul(x, x))).toBeLessThan(1e-3);
  });
});
