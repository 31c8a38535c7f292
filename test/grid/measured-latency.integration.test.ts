// "auto" on a real network distance: a peer link measures its latency when it opens (WebSocket pings before the
// dialer's hello, which carries the figure, so both ends hold the same one), and the holders choose the comparison
// protocol from it. The distance here is real: a TCP proxy in front of charlie holds every byte 25 ms each way, and
// nothing is simulated in the nodes. bob's round count shows which protocol ran (Kogge-Stone's carry tree takes 7
// rounds more than FSS's one); both answer exactly.
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import * as tf from "@tensorflow/tfjs";
import { afterEach, describe, expect, it } from "vitest";
import * as sy from "../../src";
import * as grid from "../../src/grid";
import { chooseComparison } from "../../src/mpc/comparison-choice";

const ONE_WAY_MS = 25;
// Large enough that Kogge-Stone wins on loopback and FSS past a few ms (the crossover is about 7 ms at 5,000).
const ELEMENTS = 5_000;

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** A TCP proxy to 127.0.0.1:`port` that delivers every chunk `ms` later, in order, both ways. */
async function delayProxy(port: number, ms: number): Promise<string> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(port, "127.0.0.1");
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on("error", () => undefined);
    }
    const pipe = (from: net.Socket, to: net.Socket) => {
      from.on("data", (chunk) => setTimeout(() => to.destroyed || to.write(chunk), ms));
      from.on("close", () => setTimeout(() => to.destroy(), ms));
    };
    pipe(inbound, outbound);
    pipe(outbound, inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** bob and charlie hold, dan deals; bob dials charlie at `charlieUrl` (through the proxy, or not). */
async function trio(charlieUrl: (port: number) => Promise<string>) {
  const hook = sy.hook(tf);
  const { adminToken } = grid.createGridCredentials();
  const nodes = await Promise.all(
    ["bob", "charlie", "dan"].map((id) => grid.startNode({ id, port: 0, tf, adminToken })),
  );
  const clients = nodes.map((n) => new grid.WebsocketGridClient(hook, n.url, { id: n.id }));
  cleanups.push(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(nodes.map((n) => n.close()));
  });
  const [bob, charlie, dan] = clients as [grid.WebsocketGridClient, grid.WebsocketGridClient, grid.WebsocketGridClient];
  const [bobNode, charlieNode, danNode] = nodes as [grid.GridNode, grid.GridNode, grid.GridNode];
  await bob.connectGridNode({
    id: "charlie",
    url: await charlieUrl(Number(new URL(charlieNode.url).port)),
  });
  await bob.connectGridNode({ id: "dan", url: danNode.url });
  await charlie.connectGridNode({ id: "dan", url: danNode.url });
  return { bob, charlie, dan, bobNode, charlieNode };
}

/** relu of ELEMENTS values, half of them negative, under "auto": the answer, and the rounds bob ran for it. */
async function autoRelu(t: Awaited<ReturnType<typeof trio>>): Promise<{ values: number[]; rounds: number }> {
  const values = Array.from({ length: ELEMENTS }, (_, i) => (i % 2 === 0 ? -1 - (i % 7) : 1 + (i % 5)));
  const x = tf.tensor(values).fixPrecision().share(t.bob, t.charlie, { cryptoProvider: t.dan });
  const before = t.bobNode.worker.stats.party.rounds;
  const y = await sy.withConfig({ comparison: "auto" }, () => x.relu().get());
  const rounds = t.bobNode.worker.stats.party.rounds - before;
  expect(Array.from(y.floatPrecision().dataSync()).map((v) => Math.round(v))).toEqual(
    values.map((v) => Math.max(0, v)),
  );
  return { values, rounds };
}

describe("a peer link's measured latency", () => {
  it("is measured by the dialer, told in its hello, and held alike at both ends", async () => {
    const t = await trio((port) => delayProxy(port, ONE_WAY_MS));
    const bobSees = t.bobNode.peers.linkLatencyMs("charlie");
    expect(bobSees).toBeGreaterThanOrEqual(ONE_WAY_MS);
    expect(bobSees).toBeLessThan(ONE_WAY_MS + 50);
    expect(t.charlieNode.peers.linkLatencyMs("bob")).toBe(bobSees);
    // Loopback measures a fraction of a millisecond, and under 1 ms counts as none.
    const loopback = t.bobNode.health().peerLatencyMs.dan!;
    expect(loopback).toBeLessThan(5);
    expect(t.bobNode.peers.linkLatencyMs("dan")).toBe(loopback < 1 ? 0 : loopback);
    expect(t.bobNode.health().peerLatencyMs).toMatchObject({ charlie: bobSees });
    expect(chooseComparison("auto", ELEMENTS, bobSees)).toBe("fss");
    expect(chooseComparison("auto", ELEMENTS, t.bobNode.peers.linkLatencyMs("dan"))).toBe("kogge-stone");
  }, 60_000);

  it('"auto" runs FSS between holders 25 ms apart, and Kogge-Stone on loopback, both holders alike', async () => {
    const far = await autoRelu(await trio((port) => delayProxy(port, ONE_WAY_MS)));
    await Promise.all(
      cleanups
        .splice(0)
        .reverse()
        .map((c) => c()),
    );
    const near = await autoRelu(await trio(async (port) => `ws://127.0.0.1:${port}`));
    // Both exact (checked in autoRelu); Kogge-Stone took its carry tree's rounds more.
    expect(near.rounds - far.rounds).toBeGreaterThanOrEqual(7);
  }, 120_000);

  it("a hello stating a latency out of range is refused as malformed", async () => {
    const { decodeControl, encodeControl } = await import("../../src/grid/control");
    const hello = { t: "hello", role: "peer", from: "bob", url: "ws://x", expect: "charlie" } as const;
    expect(decodeControl(encodeControl({ ...hello, latencyMs: 12.5 }))).toMatchObject({ latencyMs: 12.5 });
    for (const latencyMs of [-1, Number.NaN, 1e9, "10"]) {
      expect(() => decodeControl(encodeControl({ ...hello, latencyMs } as never))).toThrow(/Malformed control message/);
    }
  });
});
