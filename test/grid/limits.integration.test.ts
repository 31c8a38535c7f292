// Limits on real nodes: each limit hit is a typed error naming its setting,
// what it bounds is freed, and the node keeps serving. Limits are set with
// sy.configure for the test (servers read the config in force) and restored.
import * as net from "node:net";
import * as tf from "@tensorflow/tfjs";
import { afterEach, describe, expect, it } from "vitest";
import * as sy from "../../src";
import * as grid from "../../src/grid";
import { encodeMessage } from "../../src/core/codec";
import { encodeControl } from "../../src/grid/control";
import { CLOSE_LIMIT, FrameBoundaries } from "../../src/grid/frame-deadline";
import * as ring from "../../src/ring";
import { RawSocket, eventually, maxDiff, startNodes, type NodesFixture } from "./helpers";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** Applies config overrides until the end of the test. */
function limits(overrides: Partial<sy.Config>): void {
  const previous = sy.configure(overrides);
  cleanups.push(() => sy.configure(previous));
}

async function fixture(ids?: string[]): Promise<NodesFixture> {
  const fx = await startNodes(ids);
  cleanups.push(() => fx.teardown());
  return fx;
}

/** A secure product among bob and charlie with dan as provider is right: the nodes serve. */
async function expectSecureOpsWork(fx: NodesFixture): Promise<void> {
  const [bob, charlie, dan] = ["bob", "charlie", "dan"].map((id) => fx.client(id));
  const x = tf.tensor([1.5, -2, 4]);
  const shared = x.fixPrecision().share(bob!, charlie!, { cryptoProvider: dan! });
  const y = ((await shared.mul(shared).get()) as sy.FixedPrecisionTensor).floatPrecision();
  expect(maxDiff(y, x.mul(x))).toBeLessThan(1e-3);
}

/** Opens a raw TCP connection and completes a WebSocket upgrade by hand. */
async function rawUpgrade(port: number): Promise<{ socket: net.Socket; received: Buffer[] }> {
  const socket = net.connect(port, "127.0.0.1");
  const received: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => received.push(chunk));
  socket.on("error", () => undefined);
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  socket.write(
    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  await eventually(() => Buffer.concat(received).includes("\r\n\r\n"), 10_000, "101 Switching Protocols");
  expect(Buffer.concat(received).toString("latin1")).toMatch(/^HTTP\/1\.1 101/);
  received.length = 0;
  return { socket, received };
}

describe("partialFrameMs: a message announced and not completed in time", () => {
  it("a 200 MB frame header then a stall: the socket is closed (1008) and freed; the node keeps serving", async () => {
    limits({ partialFrameMs: 300 });
    const fx = await fixture(["bob", "charlie", "dan"]);
    const bob = fx.node("bob");
    const { socket, received } = await rawUpgrade(bob.port);
    const header = Buffer.alloc(14);
    header[0] = 0x82; // FIN, binary
    header[1] = 0x80 | 127; // masked, 64-bit length
    header.writeBigUInt64BE(200_000_000n, 2);
    header.writeUInt32BE(0x01020304, 10); // mask
    socket.write(Buffer.concat([header, Buffer.alloc(64 * 1024)]));
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    await closed;
    // The server's close frame came first: opcode 0x8, code 1008 and the limit's name.
    const bytes = Buffer.concat(received);
    expect(bytes[0]).toBe(0x88);
    expect(bytes.readUInt16BE(2)).toBe(CLOSE_LIMIT);
    expect(bytes.subarray(4).toString()).toBe("TSYFT_ERR_LIMIT partialFrameMs");
    await expectSecureOpsWork(fx);
  });

  it("whole messages in a row, then an idle socket: nothing is cut off", async () => {
    limits({ partialFrameMs: 300 });
    const fx = await fixture(["bob"]);
    const socket = await RawSocket.open(fx.node("bob").url);
    cleanups.push(() => socket.close());
    await socket.hello("bob", { token: fx.adminToken });
    // Whole messages in a row, then idle for several deadlines: the deadline only runs while a message is under way.
    for (let rid = 1; rid <= 20; rid++) socket.request({ t: "ping", rid });
    for (let rid = 1; rid <= 20; rid++) expect((await socket.nextReply()).rid).toBe(rid);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    socket.request({ t: "ping", rid: 21 });
    expect(await socket.nextReply()).toEqual({ rid: 21, ok: true, value: "bob" });
    expect(socket.closed).toBeUndefined();
  });

  it("the frame boundaries follow fragments, control frames and lengths split across chunks", () => {
    const frames = new FrameBoundaries();
    const frame = (fin: boolean, opcode: number, length: number) => {
      const ext = length > 65535 ? 8 : length > 125 ? 2 : 0;
      const out = Buffer.alloc(2 + ext + 4 + length);
      out[0] = (fin ? 0x80 : 0) | opcode;
      out[1] = 0x80 | (ext === 8 ? 127 : ext === 2 ? 126 : length);
      if (ext === 2) out.writeUInt16BE(length, 2);
      if (ext === 8) out.writeBigUInt64BE(BigInt(length), 2);
      return out;
    };
    const stream = Buffer.concat([
      frame(false, 2, 300), // first fragment
      frame(true, 9, 4), // a ping between fragments
      frame(true, 0, 70_000), // the last fragment: one message
      frame(true, 2, 10), // a second message
    ]);
    let completed = 0;
    for (let at = 0; at < stream.length; at += 7) {
      completed += frames.feed(stream.subarray(at, at + 7));
      if (at + 7 < stream.length - 16) expect(frames.underWay).toBe(true);
    }
    expect(completed).toBe(2);
    expect(frames.underWay).toBe(false);
  });
});

describe("mailbox limits: frames for tags nobody waits for", () => {
  it("bounded per peer by count and bytes: the oldest go first, and a wait on a dropped tag fails at once", async () => {
    limits({ mailboxMaxFrames: 50, mailboxMaxBytes: 1024 * 1024 });
    const fx = await fixture(["bob", "charlie", "dan"]);
    const bob = fx.node("bob");
    // dan sends 200 frames of 64 KB under tags bob will never wait for.
    const chunk = ring.zeros([8 * 1024]);
    for (let i = 0; i < 200; i++)
      fx.node("dan").worker.comm.send("bob", { kind: "data", tag: `junk-${i}/x`, tensors: [chunk] });
    const arrived = () => bob.worker.mailbox.pending.buffered + bob.worker.mailbox.pending.dropped;
    await eventually(() => arrived() === 200, 60_000, "all 200 frames at bob");
    const pending = bob.worker.mailbox.pending;
    expect(pending.buffered).toBeLessThanOrEqual(50);
    expect(pending.bufferedBytes).toBeLessThanOrEqual(1024 * 1024);
    expect(pending.dropped).toBeGreaterThanOrEqual(150);
    await expect(bob.worker.comm.recv("dan", "junk-0/x")).rejects.toMatchObject({
      code: sy.ErrorCode.LIMIT,
      details: { limit: "mailboxMaxBytes", worker: "dan" },
    });
    // The newest are still there for a receiver that comes late.
    expect((await bob.worker.comm.recv("dan", "junk-199/x")).tensors[0]!.size).toBe(8 * 1024);
    await expectSecureOpsWork(fx);
  });

  it("dropped after mailboxMaxAgeMs, so a departed sender's frames do not stay", async () => {
    limits({ mailboxMaxAgeMs: 300 });
    const fx = await fixture(["bob", "charlie", "dan"]);
    const bob = fx.node("bob");
    const dan = fx.node("dan");
    const chunk = ring.zeros([8 * 1024]);
    for (let i = 0; i < 20; i++) dan.worker.comm.send("bob", { kind: "data", tag: `gone-${i}/x`, tensors: [chunk] });
    await eventually(
      () => bob.worker.mailbox.pending.buffered + bob.worker.mailbox.pending.dropped === 20,
      60_000,
      "all 20 frames at bob",
    );
    await dan.close();
    await eventually(() => bob.worker.mailbox.pending.buffered === 0, 10_000, "the frames dropped by age");
    expect(bob.worker.mailbox.pending.bufferedBytes).toBe(0);
    await expect(bob.worker.comm.recv("dan", "gone-19/x")).rejects.toMatchObject({
      code: sy.ErrorCode.LIMIT,
      details: { limit: "mailboxMaxAgeMs" },
    });
  });

  it("frames that are waited for are not limited; the grid keeps computing", async () => {
    limits({ mailboxMaxFrames: 4, mailboxMaxAgeMs: 400 });
    const fx = await fixture(["bob", "charlie", "dan"]);
    await expectSecureOpsWork(fx);
    const [bob, charlie, dan] = ["bob", "charlie", "dan"].map((id) => fx.client(id));
    // A plan-like burst: a ReLU exchanges many frames in a row between the holders.
    const x = tf.randomNormal([64]);
    const y = x.fixPrecision().share(bob!, charlie!, { cryptoProvider: dan! }).relu();
    expect(maxDiff(((await y.get()) as sy.FixedPrecisionTensor).floatPrecision(), x.relu())).toBeLessThan(1e-3);
  });
});

describe("maxOpElements: an op's output is checked from the shapes before computing", () => {
  it("a plain-op add of [10000, 1] + [1, 10000] (80 KB in, 10^8 out) is refused; the node keeps serving", async () => {
    const fx = await fixture(["bob", "charlie", "dan"]);
    const bob = fx.client("bob");
    const a = tf.ones([10000, 1]).send(bob);
    const b = tf.ones([1, 10000]).send(bob);
    await bob.objectCount(); // both stored
    const before = tf.memory().numBytes; // the node runs in this process, on this tf
    const error = await a
      .add(b)
      .get()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      message: expect.stringMatching(/100000000 is over the limit of 33554432 \(maxOpElements\)/),
    });
    // Nothing was computed: no 400 MB output (10^8 float32) was ever allocated.
    expect(tf.memory().numBytes - before).toBeLessThan(1024 * 1024);
    // The failure is kept under the output id; get() reports it with the limit's code as its cause.
    expect(error).toMatchObject({
      code: sy.ErrorCode.REMOTE_OP_FAILED,
      details: { worker: "bob", op: "add", cause: sy.ErrorCode.LIMIT },
    });
    const small = tf.tensor([1, 2, 3]).send(bob);
    expect(Array.from((await small.add(small).get()).dataSync())).toEqual([2, 4, 6]);
    await expectSecureOpsWork(fx);
  });

  it("a secure op on shares is checked the same way, on every holder", async () => {
    limits({ maxOpElements: 10_000 });
    const fx = await fixture(["bob", "charlie", "dan"]);
    const [bob, charlie, dan] = ["bob", "charlie", "dan"].map((id) => fx.client(id));
    const share = (t: tf.Tensor) => t.fixPrecision().share(bob!, charlie!, { cryptoProvider: dan! });
    const error = await share(tf.ones([200, 1]))
      .mul(share(tf.ones([1, 200])))
      .get()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: sy.ErrorCode.REMOTE_OP_FAILED,
      details: { cause: sy.ErrorCode.LIMIT },
      message: expect.stringMatching(/40000 is over the limit of 10000 \(maxOpElements\)/),
    });
    await expectSecureOpsWork(fx);
  });
});

describe("maxDealerElements: what a crypto provider deals per request", () => {
  it("a 128-byte request for randomBits of 2e7 elements is refused; the provider keeps dealing", async () => {
    const fx = await fixture(["bob", "charlie", "dan"]);
    const bob = fx.node("bob");
    const tag = "greedy-1/bits#dealt";
    const request = { type: "material", holders: ["bob"], spec: { kind: "randomBits", shape: [20_000_000] } };
    expect(encodeMessage(request).byteLength).toBeLessThan(128);
    bob.worker.comm.send("dan", { kind: "request", tag, tensors: [], meta: request });
    const refused = await bob.worker.comm.recv("dan", tag).catch((e: unknown) => e);
    expect(refused).toMatchObject({
      code: sy.ErrorCode.PROTOCOL_ABORTED,
      message: expect.stringMatching(/40000000 is over the limit of 16777216 \(maxDealerElements\)/),
    });
    await expectSecureOpsWork(fx);
  });
});

describe("nesting depth and ids of requests", () => {
  it("a deeply nested request is MALFORMED_MESSAGE (not a stack overflow); bad ids are INVALID_ID; the node serves on", async () => {
    const fx = await fixture(["bob"]);
    const socket = await RawSocket.open(fx.node("bob").url);
    cleanups.push(() => socket.close());
    await socket.hello("bob", { token: fx.adminToken });
    // { t: [[[[...]]]] } nested 100,000 deep, built as MessagePack bytes (no recursion to build it either).
    const depth = 100_000;
    const deep = new Uint8Array(1 + 2 + depth + 1);
    deep.set([0x81, 0xa1, 0x74], 0); // a map of one entry, key "t"
    deep.fill(0x91, 3, 3 + depth); // arrays of one element
    deep[3 + depth] = 0xc0; // nil
    socket.send(grid.encodeGridFrame(grid.Channel.Request, deep));
    const reply = await socket.nextReply();
    expect(reply).toMatchObject({ ok: false, error: { code: sy.ErrorCode.MALFORMED_MESSAGE } });
    expect(JSON.stringify(reply)).toMatch(/maxNestingDepth/);
    expect(JSON.stringify(reply)).not.toMatch(/call stack/);

    const bad: Array<[Parameters<RawSocket["request"]>[0], string]> = [
      [{ t: "fetch", rid: 1, id: "__proto__", remove: false }, "object id"],
      [{ t: "fetch", rid: 2, id: "a/../../b", remove: false }, "object id"],
      [{ t: "fetch", rid: 3, id: "x".repeat(129), remove: false }, "object id"],
      [{ t: "fetch-plan", rid: 4, id: "..", copy: true }, "plan id"],
      [{ t: "store-plan", rid: 5, id: "a\u0000b", plan: new Uint8Array(1) }, "plan id"],
    ];
    for (const [request, what] of bad) {
      socket.request(request);
      const answer = await socket.nextReply();
      expect(answer, JSON.stringify(request)).toMatchObject({
        rid: (request as { rid: number }).rid,
        ok: false,
        error: { code: sy.ErrorCode.INVALID_ID, details: { what } },
      });
    }
    // A peer hello naming itself with a bad id: refused the same way, and the socket stays a client's.
    socket.send(
      grid.encodeGridFrame(
        grid.Channel.Control,
        encodeControl({ t: "hello", role: "peer", from: "__proto__", url: "ws://127.0.0.1:1", expect: "bob" }),
      ),
    );
    expect(await socket.nextReply()).toMatchObject({ rid: -1, ok: false, error: { code: sy.ErrorCode.WORKER_ID } });
    expect(fx.node("bob").peers.ids()).toEqual([]);
    socket.request({ t: "ping", rid: 9 });
    expect(await socket.nextReply()).toEqual({ rid: 9, ok: true, value: "bob" });
  });

  it("node ids follow the same rule at startNode", async () => {
    for (const id of ["..", "__proto__", "a\u0000b", "x".repeat(100_000), "a b", "bob|1"]) {
      await expect(grid.startNode({ id, port: 0, tf }), JSON.stringify(id.slice(0, 20))).rejects.toMatchObject({
        code: sy.ErrorCode.WORKER_ID,
      });
    }
  });
});
