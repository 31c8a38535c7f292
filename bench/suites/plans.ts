/**
 * Plans against op-by-op: encrypted inference of a small CNN run as one Plan
 * command per holder, next to the same model driven op by op from the client
 * (each op its own command), and plaintext TF.js, in the same run.
 * Counts client messages, party-to-party messages, bytes and protocol rounds.
 */
import * as tf from "@tensorflow/tfjs";
import * as sy from "../../src";
import { timeAsync, type BenchRow } from "../harness";

export async function runPlansSuite(): Promise<BenchRow[]> {
  await sy.useWasmBackend(tf);
  const hook = sy.hook(tf);
  const [bob, charlie, dan] = ["bob", "charlie", "dan"].map((id) => new sy.VirtualWorker(hook, { id }));
  const network = bob.network;

  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [16, 16, 3], filters: 8, kernelSize: 3, activation: "relu", padding: "same" }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 8, kernelSize: 3, activation: "relu", padding: "same" }),
      tf.layers.averagePooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 32, activation: "relu" }),
      tf.layers.dense({ units: 2 }),
    ],
  });
  const plan = sy.Plan.fromModel(model, { id: "bench-cnn" });
  await plan.build(tf.zeros([1, 16, 16, 3]));
  plan.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
  const x = tf.randomNormal([1, 16, 16, 3], 0, 1, "float32", 1);
  const share = () => x.fixPrecision().share(bob, charlie, { cryptoProvider: dan });

  const rows: BenchRow[] = [];
  const plain = await timeAsync(async () => (model.predict(x) as tf.Tensor).data(), { minRuns: 10 });
  rows.push({
    suite: "plans",
    name: "plaintext TF.js (wasm)",
    median_ms: plain.median,
    client_msgs: 0,
    peer_msgs: 0,
    kbytes: 0,
    rounds: 0,
    vs_plan: "",
  });

  const variants: Array<[string, () => sy.TensorLike]> = [
    ["encrypted, as one Plan", () => plan.run(share()) as sy.TensorLike],
    ["encrypted, op by op from the client", () => plan.runEagerly(share()) as sy.TensorLike],
  ];
  let planMedian = 0;
  for (const [name, run] of variants) {
    const once = async () => (await (run() as sy.FixedPrecisionTensor).get()).floatPrecision();
    await once(); // warm-up: dealer keys, JIT
    network.resetStats();
    const roundsBefore = bob.stats.party.rounds;
    await once();
    const traffic = { ...network.stats };
    const rounds = bob.stats.party.rounds - roundsBefore;
    const timing = await timeAsync(once, { minRuns: 5, minMs: 1000 });
    if (planMedian === 0) planMedian = timing.median;
    rows.push({
      suite: "plans",
      name,
      median_ms: timing.median,
      p95_ms: timing.p95,
      client_msgs: traffic.messages - traffic.peerMessages,
      peer_msgs: traffic.peerMessages,
      kbytes: Math.round(traffic.bytes / 1024),
      rounds,
      vs_plan: `${(timing.median / planMedian).toFixed(2)}x`,
      vs_plaintext: `${(timing.median / plain.median).toFixed(0)}x`,
    });
  }
  // Offline/online: the dealer deals the material of the next runs ahead of time.
  const runs = 5;
  const t0 = performance.now();
  await plan.preprocess(runs, [1, 16, 16, 3]);
  const offline = (performance.now() - t0) / runs;
  const online: number[] = [];
  network.resetStats();
  for (let i = 0; i < runs; i++) {
    const t1 = performance.now();
    await (plan.run(share()) as sy.FixedPrecisionTensor).get();
    online.push(performance.now() - t1);
  }
  online.sort((a, b) => a - b);
  rows.push({
    suite: "plans",
    name: "encrypted Plan, dealt ahead: online",
    median_ms: online[Math.floor(runs / 2)]!,
    client_msgs: (network.stats.messages - network.stats.peerMessages) / runs,
    peer_msgs: network.stats.peerMessages / runs,
    kbytes: Math.round(network.stats.bytes / runs / 1024),
    vs_plan: `${(online[Math.floor(runs / 2)]! / planMedian).toFixed(2)}x`,
    offline_ms_per_run: offline,
  });
  for (const w of [bob, charlie, dan]) w.close();
  rows.push(...(await overGrid(model, x)));
  return rows;
}

/** The same comparison over grid nodes (child processes, WebSockets on loopback). */
async function overGrid(model: tf.LayersModel, x: tf.Tensor): Promise<BenchRow[]> {
  const hook = sy.hook(tf);
  const grid = await sy.grid.startLocalGrid({ ports: "random", nodes: ["bob", "charlie", "dan"] });
  const rows: BenchRow[] = [];
  try {
    const clients = await Promise.all(grid.clients(hook).map((c) => c.connect()));
    await sy.grid.connectAllNodes(clients);
    const [bob, charlie, dan] = clients as [
      sy.grid.WebsocketGridClient,
      sy.grid.WebsocketGridClient,
      sy.grid.WebsocketGridClient,
    ];
    const plan = sy.Plan.fromModel(model, { id: "bench-cnn-grid" });
    await plan.build(tf.zeros([1, 16, 16, 3]));
    plan.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    const share = () => x.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    const variants: Array<[string, () => sy.AnyTensor]> = [
      ["grid: encrypted, as one Plan", () => plan.run(share()) as sy.AnyTensor],
      ["grid: encrypted, op by op from the client", () => plan.runEagerly(share()) as sy.AnyTensor],
    ];
    let planMedian = 0;
    for (const [name, run] of variants) {
      const once = async () => (await (run() as sy.FixedPrecisionTensor).get()).floatPrecision();
      await once();
      const before = clients.map((c) => ({ ...c.traffic }));
      await once();
      const msgs = clients.reduce(
        (n, c, i) =>
          n + c.traffic.framesSent - before[i]!.framesSent + c.traffic.framesReceived - before[i]!.framesReceived,
        0,
      );
      const bytes = clients.reduce(
        (n, c, i) =>
          n + c.traffic.bytesSent - before[i]!.bytesSent + c.traffic.bytesReceived - before[i]!.bytesReceived,
        0,
      );
      const timing = await timeAsync(once, { minRuns: 10, minMs: 1000 });
      if (planMedian === 0) planMedian = timing.median;
      rows.push({
        suite: "plans",
        name,
        median_ms: timing.median,
        p95_ms: timing.p95,
        client_msgs: msgs,
        kbytes: Math.round(bytes / 1024),
        vs_plan: `${(timing.median / planMedian).toFixed(2)}x`,
      });
    }
    for (const c of clients) c.close();
  } finally {
    await grid.stop();
  }
  return rows;
}
