/**
 * Syft-Keras secure serving (issue 12): PySyft 13b's model (13a's CNN with
 * logits; random weights, the time does not depend on them) shared on a
 * TFECluster of three node processes on loopback, queried at batch 1.
 *
 * Rows:
 * 1. plaintext TF.js (wasm) predict in this process: the baseline;
 * 2. the same model encrypted on VirtualWorkers in this process (one party
 *    per worker, no sockets): time, online rounds and bytes per holder;
 * 3. one private prediction client in this process: p50, p95, client bytes
 *    per query, and the ratio to plaintext; then the same with the material
 *    dealt ahead (`client.preprocess(n)`, the offline phase): online time;
 * 4. 8 client processes (test/keras/fixtures/keras-client.js) querying at
 *    once: queries per second, p50, p95, and that every answer has plaintext's
 *    argmax.
 *
 * `npm run bench keras -- --quick` (or TSYFT_BENCH_QUICK=1) runs tiny counts,
 * to check that the suite works, not to measure.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import * as sy from "../../src";
import { timeAsync, time, type BenchRow } from "../harness";
import { freePorts, startKerasClients } from "./keras-clients";
import { percentiles } from "./load";

const CLIENTS = 8;
const INPUT_SHAPE = [1, 28, 28, 1];

/**
 * PySyft 13b's model: Conv2D(10, 3x3) -> AvgPool(2) -> ReLU, Conv2D(32, 3x3) -> AvgPool -> ReLU,
 * Conv2D(64, 3x3) -> AvgPool -> ReLU, Flatten, Dense(10, name "logit"); batch input [1, 28, 28, 1];
 * random weights from `seed`.
 */
export function model13b(seed = 7): tf.Sequential {
  const init = (i: number) => tf.initializers.glorotUniform({ seed: seed + i });
  const conv = (filters: number, i: number, first = false) =>
    tf.layers.conv2d({
      filters,
      kernelSize: 3,
      kernelInitializer: init(i),
      biasInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: seed + 10 + i }),
      ...(first && { batchInputShape: [1, 28, 28, 1] }),
    });
  return tf.sequential({
    layers: [
      conv(10, 0, true),
      tf.layers.averagePooling2d({ poolSize: 2 }),
      tf.layers.reLU(),
      conv(32, 1),
      tf.layers.averagePooling2d({ poolSize: 2 }),
      tf.layers.reLU(),
      conv(64, 2),
      tf.layers.averagePooling2d({ poolSize: 2 }),
      tf.layers.reLU(),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, name: "logit", kernelInitializer: init(3) }),
    ],
  });
}

/** `n` images in [0, 1] of shape [28, 28, 1], flattened, from `seed`. */
export function images13b(n: number, seed = 1): number[][] {
  return Array.from({ length: n }, (_, i) =>
    Array.from(tf.randomUniform([28 * 28], 0, 1, "float32", seed + i).dataSync()),
  );
}

const argmax = (v: ArrayLike<number>) => Array.from(v).indexOf(Math.max(...Array.from(v)));

export async function runKerasSuite(options: { quick?: boolean } = {}): Promise<BenchRow[]> {
  const QUICK = options.quick === true || process.env.TSYFT_BENCH_QUICK === "1";
  const QUERIES = QUICK ? 5 : 100;
  const PER_CLIENT = QUICK ? 2 : 25;
  await sy.useWasmBackend(tf);
  sy.KerasHook(tf);
  const rows: BenchRow[] = [];
  const model = model13b();
  const inputs = images13b(Math.max(QUERIES, CLIENTS * PER_CLIENT));
  const x = tf.tensor(inputs[0]!, INPUT_SHAPE);
  const expected = inputs.map((v) => argmax((model.predict(tf.tensor(v, INPUT_SHAPE)) as tf.Tensor).dataSync()));

  // 1. Plaintext baseline.
  const plain = time(() => tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync()), { warmup: 5, minRuns: 50 });
  rows.push({ suite: "keras", name: "plaintext TF.js (wasm), batch 1", p50_ms: plain.median, p95_ms: plain.p95 });

  // 2. Encrypted on VirtualWorkers in this process: rounds and bytes per holder.
  const hook = sy.hook(tf);
  const [alice, bob, james] = ["k-alice", "k-bob", "k-james"].map((id) => new sy.VirtualWorker(hook, { id }));
  const local = model.share(alice!, bob!, { cryptoProvider: james! });
  const localQuery = async () => {
    const xs = x.fixPrecision().share(alice!, bob!, { cryptoProvider: james! });
    (await (local.predict(xs) as sy.FixedPrecisionTensor).get()).floatPrecision().dispose();
  };
  await localQuery();
  const before = { ...alice!.stats.party };
  const virtual = await timeAsync(localQuery, { warmup: 2, minRuns: QUICK ? 2 : 20, minMs: 0 });
  const runs = virtual.runs + 2;
  rows.push({
    suite: "keras",
    name: "encrypted, VirtualWorkers in process",
    p50_ms: virtual.median,
    p95_ms: virtual.p95,
    rounds: (alice!.stats.party.rounds - before.rounds) / runs,
    bytes_per_holder: Math.round((alice!.stats.party.bytesSent - before.bytesSent) / runs),
    x_plaintext: virtual.median / plain.median,
  });

  // 3. and 4. The cluster: three node processes on loopback.
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-bench-keras-"));
  const hosts = (await freePorts(3)).map((p) => `localhost:${p}`);
  const cluster = new sy.TFECluster(...hosts.map((host) => new sy.TFEWorker({ host })), { stateDir });
  const log = console.log;
  try {
    await cluster.start();
    await model.share(cluster);
    console.log = () => undefined; // serve's line per request
    const serving = model.serve({ numRequests: 1_000_000, timeoutMs: 3_600_000 });
    serving.catch(() => undefined); // awaited below; a failure before then must not surface as unhandled
    const client = new sy.TFEWorker();
    await client.connectToModel(INPUT_SHAPE, [1, 10], cluster);
    let wrong = 0;
    let i = 0;
    const query = async () => {
      const k = i++ % inputs.length;
      const y = await client.queryModel(tf.tensor(inputs[k]!, INPUT_SHAPE));
      if (argmax(y.dataSync()) !== expected[k]) wrong++;
      y.dispose();
    };
    for (let w = 0; w < 5; w++) await query();
    const bytes0 = client.traffic;
    const one = await timeAsync(query, { warmup: 0, minRuns: QUERIES, maxRuns: QUERIES, minMs: 0 });
    const bytes1 = client.traffic;
    rows.push({
      suite: "keras",
      name: "private prediction, 1 client, 3 server processes",
      p50_ms: one.median,
      p95_ms: one.p95,
      client_bytes: Math.round(
        (bytes1.bytesSent - bytes0.bytesSent + bytes1.bytesReceived - bytes0.bytesReceived) / one.runs,
      ),
      x_plaintext: one.median / plain.median,
      wrong_argmax: wrong,
    });
    // The offline phase: server2 deals the material of the next queries ahead, so they run holder to holder.
    const dealing = performance.now();
    await client.preprocess(QUERIES);
    const dealtMs = (performance.now() - dealing) / QUERIES;
    const online = await timeAsync(query, { warmup: 0, minRuns: QUERIES, maxRuns: QUERIES, minMs: 0 });
    rows.push({
      suite: "keras",
      name: "private prediction, material dealt ahead (online only)",
      p50_ms: online.median,
      p95_ms: online.p95,
      dealt_ahead_ms_per_query: dealtMs,
      x_plaintext: online.median / plain.median,
      wrong_argmax: wrong,
    });
    await client.disconnect();

    const started = await startKerasClients(
      Array.from({ length: CLIENTS }, (_, c) => ({
        hosts,
        inputShape: INPUT_SHAPE,
        outputShape: [1, 10],
        inputs: inputs.slice(c * PER_CLIENT, (c + 1) * PER_CLIENT),
        warmup: 2,
        waitForGo: true,
        timeoutMs: 120_000,
      })),
    );
    const results = await started.run();
    const ms = results.results.flat().map((r) => r.ms);
    const errors = results.results.flat().filter((r) => r.error).length;
    const wrongMany = results.results
      .flatMap((rs, c) => rs.map((r, j) => (r.logits ? argmax(r.logits) !== expected[c * PER_CLIENT + j] : false)))
      .filter(Boolean).length;
    const { p50, p95 } = percentiles(ms);
    rows.push({
      suite: "keras",
      name: `${CLIENTS} client processes at once`,
      p50_ms: p50,
      p95_ms: p95,
      queries_per_s: (ms.length / results.wallMs) * 1000,
      errors,
      wrong_argmax: wrongMany,
    });
    await model.stop();
    await serving;
  } finally {
    console.log = log;
    await cluster.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
  return rows;
}
