// The in-process network and the worker's handling of bad input: taps and
// stats see every message, malformed or oversized requests get an error reply
// and the worker keeps serving, and a party that fails makes its peers stop
// waiting at once instead of timing out.
import * as tf from "@tensorflow/tfjs";
import { beforeEach, describe, expect, it } from "vitest";
import * as sy from "../../src";
import { decodeReply, encodeRequest } from "../../src/workers/messages";

let hook: sy.Hook;
let bob: sy.VirtualWorker;
let charlie: sy.VirtualWorker;
let dan: sy.VirtualWorker;

beforeEach(() => {
  hook = sy.hook(tf);
  [bob, charlie, dan] = ["bob", "charlie", "dan"].map((id) => new sy.VirtualWorker(hook, { id })) as [
    sy.VirtualWorker,
    sy.VirtualWorker,
    sy.VirtualWorker,
  ];
});

describe("InProcessNetwork", () => {
  it("one network per hook; a tap sees requests, replies and peer frames until removed", async () => {
    expect(sy.networkOf(hook)).toBe(bob.network);
    expect(bob.network.ids()).toEqual(["me", "bob", "charlie", "dan"]);
    const events: sy.TapEvent[] = [];
    const untap = bob.network.tap((e) => events.push(e));
    const x = tf.tensor([1, -1]).fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    await x.relu().get();
    untap();
    const channels = new Set(events.map((e) => `${e.channel} ${e.from}->${e.to}`));
    expect(channels).toContain("request client->bob");
    expect(channels).toContain("reply bob->client");
    expect(channels).toContain("peer bob->charlie");
    expect(channels).toContain("peer charlie->bob");
    expect(channels).toContain("peer charlie->dan");
    expect(events.every((e) => e.bytes instanceof Uint8Array && e.bytes.byteLength > 0)).toBe(true);
    const seen = events.length;
    await x.add(1).get();
    expect(events).toHaveLength(seen);
  });

  it("stats count every message and byte; peer traffic separately", async () => {
    bob.network.resetStats();
    expect(bob.network.stats).toEqual({ messages: 0, bytes: 0, peerMessages: 0, peerBytes: 0 });
    let bytes = 0;
    let peerBytes = 0;
    const untap = bob.network.tap((e) => {
      bytes += e.bytes.byteLength;
      if (e.channel === "peer") peerBytes += e.bytes.byteLength;
    });
    const x = tf.randomNormal([100]).fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    await x.mul(x).get();
    untap();
    expect(bob.network.stats.bytes).toBe(bytes);
    expect(bob.network.stats.peerBytes).toBe(peerBytes);
    expect(bob.network.stats.peerMessages).toBeGreaterThanOrEqual(2);
    // One Beaver round: each holder opens 2 x 100 ring elements.
    expect(bob.stats.party.bytesSent).toBe(1600);
  });

  it("a request to an unknown worker fails at once with CONNECTION, naming the known ones", () => {
    let err: sy.TsyftError | undefined;
    try {
      void bob.network.request("client", "nobody", new Uint8Array([0x80]));
    } catch (e) {
      err = e as sy.TsyftError;
    }
    expect(err).toBeInstanceOf(sy.CommunicationError);
    expect(err!.code).toBe("TSYFT_ERR_CONNECTION");
    expect(err!.message).toMatch(/No in-process worker "nobody"\. Known: me, bob, charlie, dan\./);
  });
});

describe("a worker facing bad input keeps serving", () => {
  it("a malformed request gets a MALFORMED_MESSAGE reply", async () => {
    for (const bytes of [
      new Uint8Array([0xc1]),
      encodeRequest({ t: "nonsense", rid: 7 } as never),
      new Uint8Array([0x92, 0x01, 0x02]),
    ]) {
      const reply = decodeReply((await bob.network.request("client", "bob", bytes))!);
      expect(reply.ok).toBe(false);
      expect(reply.ok === false && reply.error.code).toBe("TSYFT_ERR_MALFORMED_MESSAGE");
    }
    expect(bob.stats.malformed).toBe(3);
    expect(await bob.client.ping()).toBe("bob");
  });

  it("an oversized request gets a MESSAGE_TOO_LARGE reply naming the limit", async () => {
    const bytes = encodeRequest({ t: "ping", rid: 1 });
    const reply = await sy.withConfig({ maxMessageBytes: 4 }, () => bob.network.request("client", "bob", bytes));
    const decoded = decodeReply(reply!);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) {
      expect(decoded.error.code).toBe("TSYFT_ERR_MESSAGE_TOO_LARGE");
      expect(decoded.error.message).toMatch(/bob refused a message of \d+ bytes: the limit is 4 \(maxMessageBytes\)/);
    }
    expect(await bob.client.ping()).toBe("bob");
  });

  it("a holder that fails mid-protocol aborts its peers: they fail at once, not at the timeout", async () => {
    const x = tf.tensor([1, -2, 3]).fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    await bob.clearObjects(); // bob has lost its share; charlie still has one
    const started = performance.now();
    const y = sy.withConfig({ timeoutMs: 20_000 }, () => x.relu());
    const [fromBob, fromCharlie] = await Promise.all(
      [bob, charlie].map((w) =>
        w.fetch((y.child as sy.AdditiveSharingTensor).id, { remove: true }).then(
          () => undefined,
          (e: sy.TsyftError) => e,
        ),
      ),
    );
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(fromBob!.details).toMatchObject({ worker: "bob", op: "relu", cause: "TSYFT_ERR_OBJECT_NOT_FOUND" });
    expect(fromCharlie!.details).toMatchObject({ worker: "charlie", op: "relu", cause: "TSYFT_ERR_PROTOCOL_ABORTED" });
    expect(fromCharlie!.message).toMatch(/bob aborted .*bob failed: Worker bob holds no object/);
    // Both still serve.
    const z = tf.tensor([-1, 4]).fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    expect(Array.from((await z.relu().get()).floatPrecision().dataSync())).toEqual([0, 4]);
  });

  it("a holder whose peer never answers fails with TIMEOUT naming the peer and the tag", async () => {
    const x = tf.tensor([1, 2]).fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    await bob.objectCount();
    const id = (x.child as sy.AdditiveSharingTensor).id;
    // Only bob is told to run the op: charlie never joins. The short timeout is in force where
    // the command is submitted (the worker runs it in that scope); the client's fetch keeps the
    // default, so that it sees the worker's own report rather than timing out itself.
    sy.withConfig({ timeoutMs: 200 }, () =>
      bob.submit({
        type: "shared-op",
        op: "mul",
        inputs: [
          { kind: "object", id },
          { kind: "object", id },
        ],
        attrs: {},
        output: "lonely",
        holders: ["bob", "charlie"],
        provider: "dan",
        encoding: x.encoding,
      } as sy.Command),
    );
    const err = await bob.fetch("lonely", { remove: true }).then(
      () => undefined,
      (e: sy.TsyftError) => e,
    );
    expect(err!.code).toBe("TSYFT_ERR_REMOTE_OP_FAILED");
    expect(err!.details.cause).toBe("TSYFT_ERR_TIMEOUT");
    expect(err!.message).toMatch(/bob waited 200 ms for "lonely\/\d+:beaver\.mul" from charlie and got nothing/);
  });
});
