/**
 * End-to-end encrypted inference of the three tutorial models (the linear
 * toy, the MNIST 784-500-10 MLP, the skin-cancer CNN), on VirtualWorkers and
 * on grid nodes (child processes, WebSockets on loopback), at batch 1 and 16:
 * offline (dealing ahead) and online time apart, the client's bytes, and
 * TF.js plaintext time on the same model in the same run. Weights are random
 * (time does not depend on them); the tutorials' notebooks check accuracy.
 */
import * as tf from "@tensorflow/tfjs";
import * as sy from "../../src";
import type { BenchRow } from "../harness";
import { virtualTrio } from "./trio";

/** A tutorial model: how to make it in TF.js, and the shape of one input. */
export interface Model {
  name: string;
  make: () => tf.LayersModel;
  input: number[];
}

/** The three tutorial models, in order (linear toy, MNIST MLP, skin-cancer CNN), as the tutorials build them. */
export const models: Model[] = [
  {
    name: "linear toy",
    make: () => tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] }),
    input: [2],
  },
  {
    name: "MNIST MLP 784-500-10",
    make: () =>
      tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [784], units: 500, activation: "relu" }),
          tf.layers.dense({ units: 10 }),
        ],
      }),
    input: [784],
  },
  {
    name: "skin-cancer CNN",
    make: () =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [32, 32, 3], filters: 32, kernelSize: 5, activation: "relu" }),
          tf.layers.conv2d({ filters: 32, kernelSize: 5, activation: "relu" }),
          tf.layers.conv2d({ filters: 32, kernelSize: 5, activation: "relu" }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 400, activation: "relu" }),
          tf.layers.dense({ units: 200, activation: "relu" }),
          tf.layers.dense({ units: 2 }),
        ],
      }),
    input: [32, 32, 3],
  },
];

const BATCHES = [1, 16];
/**
 * Every series (plaintext, encrypted on demand, encrypted online) is warmed up and then timed for a number of runs
 * and a length of time, whichever is more, so that a model that takes a few ms is measured in its steady state as
 * its plaintext is (five runs after three warm-ups put the MLP at 11 ms; its steady state is 5).
 */
const WARMUP = { runs: 3, ms: 500, maxRuns: 100 };
const TIMED = { runs: 5, ms: 1_500, maxRuns: 200 };
const PLAIN_TIMED = { runs: 21, ms: 500, maxRuns: 500 };
/** Batch 16 of the CNN takes seconds: fewer runs there. */
const TIMED_SLOW = { runs: 3, ms: 0, maxRuns: 3 };

type Workers = { bob: sy.WorkerHandle; charlie: sy.WorkerHandle; dan: sy.WorkerHandle };

/** Runs `fn` at least `runs` times and for at least `ms`, at most `maxRuns` times; the time of each run. */
async function timedRuns(
  fn: () => Promise<unknown>,
  plan: { runs: number; ms: number; maxRuns: number },
): Promise<number[]> {
  const times: number[] = [];
  const start = performance.now();
  while (times.length < plan.maxRuns && (times.length < plan.runs || performance.now() - start < plan.ms)) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function measure(where: string, workers: Workers, bytesNow: () => number): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const m of models) {
    const model = m.make();
    const plan = sy.Plan.fromModel(model, { id: `${m.name}-${where}` });
    await plan.build(tf.zeros([1, ...m.input]));
    plan.fixPrecision().share(workers.bob, workers.charlie, { cryptoProvider: workers.dan });
    for (const batch of BATCHES) {
      const x = tf.randomNormal([batch, ...m.input], 0, 1, "float32", 7);
      // Plaintext is the ratios' denominator: warmed up (wasm kernels compile on first use), then a median.
      const predict = async () => {
        const y = model.predict(x) as tf.Tensor;
        await y.data();
        y.dispose();
      };
      await timedRuns(predict, WARMUP);
      const plainMs = await timedRuns(predict, PLAIN_TIMED);
      const runOnce = async () =>
        (
          await (
            plan.run(
              x.fixPrecision().share(workers.bob, workers.charlie, { cryptoProvider: workers.dan }),
            ) as sy.FixedPrecisionTensor
          ).get()
        ).floatPrecision();
      // Warm-up: keys, opened weight masks, the material's list (learned by the first run), JIT and wasm memory;
      // the first few runs at a new batch size are several times slower than the rest.
      await timedRuns(runOnce, WARMUP);
      // On demand: the dealer answers during the run.
      const timed = median(plainMs) > 20 ? TIMED_SLOW : TIMED;
      const bytesBefore = bytesNow();
      const onDemand = await timedRuns(runOnce, timed);
      const bytes = (bytesNow() - bytesBefore) / onDemand.length;
      // Offline/online: the material of as many runs dealt ahead, then those runs.
      const runs = onDemand.length;
      const t0 = performance.now();
      await plan.preprocess(runs, [batch, ...m.input]);
      const offline = (performance.now() - t0) / runs;
      const online = await timedRuns(runOnce, { runs, ms: 0, maxRuns: runs });
      const plain = median(plainMs);
      rows.push({
        suite: "tutorials",
        name: `${m.name}, ${where}, batch ${batch}`,
        plaintext_ms: plain,
        encrypted_ms: median(onDemand),
        offline_ms: offline,
        online_ms: median(online),
        ms_per_item: median(online) / batch,
        client_kbytes: Math.round(bytes / 1024),
        vs_plaintext: `${(median(onDemand) / plain).toFixed(0)}x`,
      });
    }
  }
  return rows;
}

export async function runTutorialsSuite(): Promise<BenchRow[]> {
  await sy.useWasmBackend(tf);
  const hook = sy.hook(tf);
  const [bob, charlie, dan] = virtualTrio(hook);
  const network = bob.network;
  const rows = await measure(
    "VirtualWorkers",
    { bob, charlie, dan },
    () => network.stats.bytes - network.stats.peerBytes,
  );
  for (const w of [bob, charlie, dan]) w.close();

  const grid = await sy.grid.startLocalGrid({ ports: "random", nodes: ["bob", "charlie", "dan"] });
  try {
    const clients = await Promise.all(grid.clients(hook).map((c) => c.connect()));
    await sy.grid.connectAllNodes(clients);
    const [gb, gc, gd] = clients as [
      sy.grid.WebsocketGridClient,
      sy.grid.WebsocketGridClient,
      sy.grid.WebsocketGridClient,
    ];
    const clientBytes = () => clients.reduce((n, c) => n + c.traffic.bytesSent + c.traffic.bytesReceived, 0);
    rows.push(...(await measure("grid nodes", { bob: gb, charlie: gc, dan: gd }, clientBytes)));
    for (const c of clients) c.close();
  } finally {
    await grid.stop();
  }
  return rows;
}
