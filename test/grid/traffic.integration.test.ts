// A tap on every socket: the client sends commands and shares and reads
// results; the protocol's rounds run over the nodes' peer links, never
// through the client. So the client's traffic for a secure relu on N elements
// is O(N) (its shares in and out) and the same as for an op with no rounds.
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as grid from "../../src/grid";
import { maxDiff, startNodes, type NodesFixture } from "./helpers";

interface Snapshot {
  client: number;
  clientPeerChannel: number;
  nodeClientSockets: number;
  peerLinks: number;
  rounds: number;
}

describe("the client never relays protocol traffic", () => {
  let fx: NodesFixture;
  let holders: grid.WebsocketGridClient[];
  let dan: grid.WebsocketGridClient;

  beforeAll(async () => {
    fx = await startNodes(["bob", "charlie", "dan"]);
    holders = [fx.client("bob"), fx.client("charlie")];
    dan = fx.client("dan");
  });
  afterAll(() => fx?.teardown());

  const snapshot = (): Snapshot => {
    let client = 0;
    let clientPeerChannel = 0;
    for (const c of fx.clients) {
      client += c.traffic.bytesSent + c.traffic.bytesReceived;
      clientPeerChannel += c.traffic.receivedByChannel.peer ?? 0;
    }
    let nodeClientSockets = 0;
    let peerLinks = 0;
    let rounds = 0;
    for (const n of fx.nodes) {
      const t = n.traffic();
      nodeClientSockets += t.clients.bytesIn + t.clients.bytesOut;
      for (const link of Object.values(t.peers)) peerLinks += link.bytesOut;
      rounds += n.worker.stats.party.rounds;
    }
    return { client, clientPeerChannel, nodeClientSockets, peerLinks, rounds };
  };

  const measure = async (n: number, op: "relu" | "add") => {
    const x = tf.randomNormal([n]);
    const before = snapshot();
    const xs = x.fixPrecision().share(holders[0]!, holders[1]!, { cryptoProvider: dan });
    const y = op === "relu" ? xs.relu() : xs.add(xs);
    const out = (await y.get()).floatPrecision();
    const after = snapshot();
    expect(maxDiff(out, op === "relu" ? tf.relu(x) : tf.add(x, x))).toBeLessThan(1e-3);
    return {
      client: after.client - before.client,
      clientPeerChannel: after.clientPeerChannel - before.clientPeerChannel,
      nodeClientSockets: after.nodeClientSockets - before.nodeClientSockets,
      peerLinks: after.peerLinks - before.peerLinks,
      rounds: after.rounds - before.rounds,
    };
  };

  it("relu on N elements: client bytes ~ 2 holders x 8 bytes x N in and out, whatever the rounds", async () => {
    // Warm up: the dealer's keys are fetched once per sharing group.
    await measure(16, "relu");
    const rows: Array<{
      n: number;
      relu: Awaited<ReturnType<typeof measure>>;
      add: Awaited<ReturnType<typeof measure>>;
    }> = [];
    for (const n of [512, 2048, 8192]) rows.push({ n, relu: await measure(n, "relu"), add: await measure(n, "add") });

    for (const { n, relu, add } of rows) {
      const sharesInAndOut = 2 * 2 * 8 * n; // two holders, 8-byte ring elements, stored then fetched
      // What the client saw is what the nodes saw on client sockets: nothing else reached it.
      expect(relu.nodeClientSockets).toBe(relu.client);
      expect(relu.clientPeerChannel).toBe(0);
      // O(N): the shares, plus a constant for commands and framing.
      expect(relu.client).toBeGreaterThanOrEqual(sharesInAndOut);
      expect(relu.client).toBeLessThan(sharesInAndOut + 4096);
      // Independent of rounds: relu (many rounds) costs the client what add (none) does.
      expect(relu.rounds).toBeGreaterThan(5);
      expect(add.rounds).toBe(0);
      expect(Math.abs(relu.client - add.client)).toBeLessThan(512);
      // The rounds ran over the peer links, several times the client's traffic.
      expect(relu.peerLinks).toBeGreaterThan(2 * relu.client);
      expect(add.peerLinks).toBe(0);
    }
    // Linear in N: 16x the elements, about 16x the client bytes.
    const ratio = rows[2]!.relu.client / rows[0]!.relu.client;
    expect(ratio).toBeGreaterThan(12);
    expect(ratio).toBeLessThan(17);
  });
});
