// Network distance on real sockets (src/grid/link-delay.ts): a delayed link
// costs at least its latency each way, keeps its frames in order, adds no
// timer at 0 ms, refuses absurd settings with a typed error, and a grid of
// child processes started with a latency answers the linear toy through the
// gateway in at most 4 client round trips, counted from the client's traffic.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as tf from "@tensorflow/tfjs";
import WebSocket, { WebSocketServer } from "ws";
import { afterEach, describe, expect, it } from "vitest";
import * as sy from "../../src";
import * as grid from "../../src/grid";
import { closeOn, linkArgs, linkShape, sendOn, type LinkShape } from "../../src/grid/link-delay";
import { countRoundTrips, tapClientLinks, type LinkEvent } from "../../src/grid/traffic-tap";

/** The linear toy of the PyGrid tutorial: fc1 = [2, 4], bias = [1000]; [5, 3] gives [1022]. */
class Net extends sy.Plan {
  fc1 = tf.tensor([2.0, 4.0]);
  bias = tf.tensor([1000.0]);
  override forward(x: sy.TensorLike) {
    return sy.F.matmul(this.fc1, x).add(this.bias);
  }
}

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** A WebSocket server on port 0 and a client socket open to it; both closed after the test. */
async function socketPair(): Promise<{ client: WebSocket; server: WebSocket }> {
  const httpServer = http.createServer();
  const wss = new WebSocketServer({ server: httpServer });
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const accepted = new Promise<WebSocket>((resolve) => wss.once("connection", resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(httpServer.address() as AddressInfo).port}`);
  await new Promise((resolve, reject) => client.once("open", resolve).once("error", reject));
  const server = await accepted;
  cleanups.push(async () => {
    client.terminate();
    server.terminate();
    await new Promise((resolve) => wss.close(resolve));
    await new Promise((resolve) => httpServer.close(resolve));
  });
  return { client, server };
}

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

describe("linkShape: the setting", () => {
  it("is undefined at 0 ms with no cap, and reads the environment when the options are silent", () => {
    expect(linkShape({ linkLatencyMs: 0 }, {})).toBeUndefined();
    expect(linkShape({}, {})).toBeUndefined();
    expect(linkShape({}, { TSYFT_LINK_LATENCY_MS: "7" })).toEqual({ latencyMs: 7 });
    expect(linkShape({ linkLatencyMs: 3 }, { TSYFT_LINK_LATENCY_MS: "7" })).toEqual({ latencyMs: 3 });
    expect(linkShape({ linkBandwidthMbps: 100 }, {})).toEqual({ latencyMs: 0, bandwidthMbps: 100 });
    expect(linkArgs({ linkLatencyMs: 10, linkBandwidthMbps: 50 })).toEqual([
      "--link-latency-ms",
      "10",
      "--link-bandwidth-mbps",
      "50",
    ]);
  });

  it.each([
    [{ linkLatencyMs: -1 }, {}],
    [{ linkLatencyMs: Number.NaN }, {}],
    [{ linkLatencyMs: Infinity }, {}],
    [{ linkLatencyMs: 60_000 }, {}],
    [{ linkBandwidthMbps: 0 }, {}],
    [{ linkBandwidthMbps: -5 }, {}],
    [{}, { TSYFT_LINK_LATENCY_MS: "ten" }],
  ])("refuses %j (env %j) with TSYFT_ERR_INVALID_ARGUMENT naming the setting", (options, env) => {
    let caught: unknown;
    try {
      linkShape(options, env);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(sy.TsyftError);
    expect((caught as sy.TsyftError).code).toBe("TSYFT_ERR_INVALID_ARGUMENT");
    expect((caught as Error).message).toMatch(/link(LatencyMs|BandwidthMbps): expected a number of/);
  });

  it("a node, a gateway and the CLI refuse a bad setting before they start", async () => {
    await expect(grid.startNode({ id: "bob", port: 0, tf, linkLatencyMs: -3 })).rejects.toMatchObject({
      code: "TSYFT_ERR_INVALID_ARGUMENT",
    });
    await expect(grid.startGateway({ port: 0, linkBandwidthMbps: Number.NaN })).rejects.toMatchObject({
      code: "TSYFT_ERR_INVALID_ARGUMENT",
    });
    const errors: string[] = [];
    const error = console.error;
    console.error = (message: string) => errors.push(message);
    try {
      expect(await grid.cliMain(["node", "--id", "bob", "--link-latency-ms", "soon"])).toBe(2);
      expect(await grid.cliMain(["gateway", "--link-latency-ms=-1"])).toBe(2);
      expect(await grid.cliMain(["grid", "up", "--link-bandwidth-mbps", "fast"])).toBe(2);
    } finally {
      console.error = error;
    }
    expect(errors.join("\n")).toMatch(/--link-latency-ms: expected a number, got "soon"/);
    expect(errors.join("\n")).toMatch(/linkLatencyMs: expected a number of milliseconds from 0 to 10000, got -1/);
    expect(errors.join("\n")).toMatch(/--link-bandwidth-mbps: expected a number, got "fast"/);
  });
});

describe("delayed delivery on real sockets", () => {
  it("adds no timer at 0 ms: the frame goes to the socket at once", async () => {
    const { client, server } = await socketPair();
    const got = new Promise<Buffer>((resolve) => server.once("message", resolve));
    const before = timeouts();
    sendOn(client, new Uint8Array([1, 2, 3]), linkShape({ linkLatencyMs: 0 }, {}));
    expect(timeouts()).toBe(before);
    expect([...(await got)]).toEqual([1, 2, 3]);
  });

  it("holds each frame at least the latency, in order under a bandwidth cap, and closes after them", async () => {
    const { client, server } = await socketPair();
    const shape: LinkShape = { latencyMs: 15, bandwidthMbps: 200 };
    const sizes = [1, 200_000, 3, 50_000, 1, 120_000, 7, 9, 64_000, 2];
    const received: Array<{ index: number; at: number }> = [];
    const closed = new Promise<number>((resolve) => server.once("close", (code) => resolve(code)));
    server.on("message", (data: Buffer) => received.push({ index: data[0]!, at: performance.now() }));
    const sentAt: number[] = [];
    const before = timeouts();
    sizes.forEach((size, index) => {
      const frame = new Uint8Array(size).fill(0);
      frame[0] = index;
      sentAt.push(performance.now());
      sendOn(client, frame, shape);
    });
    expect(timeouts()).toBe(before + 1); // one timer for the link's queue, not one per frame
    closeOn(client, shape, 4000, "done");
    expect(await closed).toBe(4000);
    expect(received.map((r) => r.index)).toEqual(sizes.map((_, i) => i));
    let wire = 0;
    for (const { index, at } of received) {
      // Serialization time of everything up to this frame on a 200 Mbit/s wire, then the latency.
      wire += (sizes[index]! * 8) / (shape.bandwidthMbps! * 1000);
      expect(at - sentAt[0]!).toBeGreaterThanOrEqual(shape.latencyMs + wire - 1e-6);
    }
  });

  it("a client's round trip to a node at 20 ms is at least 40 ms, and the node reports its distance", async () => {
    const node = await grid.startNode({ id: "bob", port: 0, tf, linkLatencyMs: 20 });
    cleanups.push(() => node.close());
    const hook = sy.hook(tf);
    // A client made in this process for the node's url takes the node's distance by default.
    const bob = new grid.WebsocketGridClient(hook, node.url, { id: "bob" });
    cleanups.push(() => bob.close());
    let t0 = performance.now();
    await bob.connect(); // hello, welcome
    expect(performance.now() - t0).toBeGreaterThanOrEqual(40);
    t0 = performance.now();
    const status = await bob.status();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(40);
    expect(status.link).toEqual({ latencyMs: 20 });
    // Pipelined requests each take the trip once, not once per request.
    const x = tf.tensor([1, 2, 3]).send(bob);
    t0 = performance.now();
    const sums = await Promise.all([x.add(x).get(), x.mul(x).get()]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(40);
    expect([...sums[0]!.dataSync()]).toEqual([2, 4, 6]);
    expect([...sums[1]!.dataSync()]).toEqual([1, 4, 9]);
  });
});

describe("a grid of child processes at 10 ms one way", () => {
  it("answers the linear toy through the gateway in at most 4 client round trips", async () => {
    const local = await grid.startLocalGrid({ ports: "random", linkLatencyMs: 10 });
    cleanups.push(() => local.stop());
    expect(local.link).toEqual({ latencyMs: 10 });
    const hook = sy.hook(tf);
    const network = new sy.PublicGridNetwork(hook, local.gateway.url);
    cleanups.push(() => network.close());
    // Every process took the flag: each node says so.
    for (const member of local.nodes)
      expect((await (await network.node(member.id)).status()).link).toEqual({
        latencyMs: 10,
      });
    const model = new Net({ id: "toy" });
    await model.build(tf.tensor([1.0, 2]));
    await network.serveModel(model, { id: "toy", allowRemoteInference: true, mpc: true });
    const query = async () => (await network.runRemoteInference("toy", tf.tensor([5, 3]), { mpc: true })).dataSync();
    expect((await query())[0]).toBeCloseTo(1022, 2); // first query: fetches the plan, opens the weights' masks

    const events: LinkEvent[] = [];
    const stop = tapClientLinks((e) => events.push(e));
    const t0 = performance.now();
    const y = await query();
    const elapsed = performance.now() - t0;
    stop();
    expect(y[0]).toBeCloseTo(1022, 2);
    const trips = countRoundTrips(events);
    console.log(
      `linear toy through the gateway at 10 ms: ${trips} client round trips, ${elapsed.toFixed(1)} ms; ` +
        events.map((e) => `${e.direction === "sent" ? ">" : "<"}${e.link}:${e.kind}`).join(" "),
    );
    expect(trips).toBeGreaterThanOrEqual(1);
    expect(trips).toBeLessThanOrEqual(4);
    // Each round trip crosses the distance twice.
    expect(elapsed).toBeGreaterThanOrEqual(trips * 20);
  });
});
