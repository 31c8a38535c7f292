// Issue 12: "Servers see only shares: a tap on their traffic finds no encoded
// input, weight or logit." A cluster whose three servers are started by hand
// (autoManaged: false, from the command start() prints) behind TCP relays
// that record every byte: the client's connections and the servers' peer
// links all go through the relays (the links dial the addresses the cluster
// was declared with). 13b's model is shared, served and queried; then the
// recorded traffic is searched for the input pixels, the weights and the
// logits in the clear (fixed-point int64 or float32, two elements side by
// side). A positive control stores a plaintext tensor through a relay and
// finds it, so the search is known to work.
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import * as sy from "../../src";
import { tensorData } from "../../src/tensors/hook";
import { spawnCli, stopChild, waitListening } from "../../src/grid/processes";
import { clearPatterns, freePorts, images, model13b, startRelay, type Relay } from "./helpers";

const INPUT_SHAPE = [1, 28, 28, 1];

let stateDir: string;
let relays: Relay[];
let servers: ChildProcess[];
let cluster: sy.TFECluster;
let model: tf.Sequential;

/** Where in the recorded bytes each pattern of `values` (pairs at `positions`) occurs, by what it is. */
function leaks(traffic: Buffer, what: string, values: ArrayLike<number>, positions: number[]): string[] {
  const found: string[] = [];
  for (const at of positions) {
    for (const pattern of clearPatterns(values, at)) {
      if (traffic.includes(pattern))
        found.push(`${what}[${at}..${at + 1}] as ${pattern.length === 16 ? "int64" : "float32"}`);
    }
  }
  return found;
}

/** Indices of pairs of neighbours that are both away from zero (zeros encode the same everywhere). */
function distinctivePairs(values: ArrayLike<number>, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < values.length && out.length < count; i += 7) {
    if (Math.abs(values[i]!) > 1e-3 && Math.abs(values[i + 1]!) > 1e-3) out.push(i);
  }
  return out;
}

beforeAll(async () => {
  sy.KerasHook(tf);
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-keras-tap-"));
  const nodePorts = await freePorts(3);
  relays = await Promise.all(nodePorts.map((p) => startRelay(p)));
  cluster = new sy.TFECluster(
    ...relays.map((r) => new sy.TFEWorker({ host: `localhost:${r.port}`, autoManaged: false })),
    { stateDir, startTimeoutMs: 120_000 },
  );
  const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
  const starting = cluster.start();
  // The servers are started "by hand" once start() has written their identities, as its printed command says.
  const identity = (i: number) => path.join(stateDir, "identities", `server${i}.json`);
  const printed = (i: number) => `npx tsyft node --id server${i} --host 127.0.0.1 --port ${relays[i]!.port} --identity`;
  const commands = () => log.mock.calls.map((c) => String(c[0])).join("\n");
  while (![0, 1, 2].every((i) => commands().includes(printed(i)))) await new Promise((r) => setTimeout(r, 50));
  servers = nodePorts.map((port, i) => {
    expect(fs.existsSync(identity(i))).toBe(true);
    return spawnCli([
      "node",
      "--id",
      `server${i}`,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--identity",
      identity(i),
    ]);
  });
  await Promise.all(servers.map((s, i) => waitListening(s, `server${i}`, 90_000)));
  await starting;
  log.mockRestore();
  model = model13b(11);
}, 240_000);

afterAll(async () => {
  await cluster?.stop();
  await Promise.all((servers ?? []).map((s) => stopChild(s)));
  await Promise.all((relays ?? []).map((r) => r.close()));
  fs.rmSync(stateDir, { recursive: true, force: true });
});

describe("a tap on the servers' traffic", () => {
  it("sees the traffic of sharing, serving and two queries, and finds no input pixel, weight or logit in the clear", async () => {
    await model.share(cluster);
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const inputs = images(2, 5);
    const logits: number[][] = [];
    try {
      const serving = model.serve({ numRequests: 2 });
      const client = new sy.TFEWorker();
      await client.connectToModel(INPUT_SHAPE, [1, 10], cluster);
      for (const x of inputs) logits.push(Array.from((await client.queryModel(tf.tensor(x, INPUT_SHAPE))).dataSync()));
      await serving;
      await client.disconnect();
    } finally {
      log.mockRestore();
    }
    const traffic = Buffer.concat(relays.map((r) => r.bytes()));
    // Both the client's sockets and the three peer links were recorded.
    expect(relays.every((r) => r.bytes().length > 10_000)).toBe(true);
    const found: string[] = [];
    inputs.forEach((x, k) => found.push(...leaks(traffic, `input ${k}`, x, distinctivePairs(x, 40))));
    model.getWeights().forEach((w, k) => {
      const values = w.dataSync();
      found.push(...leaks(traffic, `weight ${k}`, values, distinctivePairs(values, 40)));
    });
    // A logit in the clear would be the client's value give or take the last bit of the encoding.
    logits.forEach((y, k) => {
      for (const delta of [-1, 0, 1]) {
        const shifted = y.map((v) => v + delta / 2 ** 16);
        found.push(...leaks(traffic, `logits ${k} (${delta} ulp)`, shifted, [0, 2, 4, 6, 8]));
      }
    });
    expect(found).toEqual([]);
  }, 180_000);

  it("positive control: a plaintext tensor stored through a relay is found", async () => {
    const [server0] = await cluster.ownerClients();
    const secret = tf.tensor(images(1, 99)[0]!);
    server0.store("control", { kind: "tensor", value: tensorData(secret) });
    await server0.ping();
    const values = secret.dataSync();
    const traffic = Buffer.concat(relays.map((r) => r.bytes()));
    expect(leaks(traffic, "control", values, distinctivePairs(values, 10)).length).toBeGreaterThan(0);
    server0.release(["control"]);
  });
});
