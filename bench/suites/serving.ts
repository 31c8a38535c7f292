/**
 * Encrypted model serving end to end, the PyGrid tutorial's linear toy: a
 * Plan `Net` (fc1 = [2, 4], bias = [1000]) served with mpc through a gateway
 * and four nodes (child processes, WebSockets on loopback), queried with
 * [5, 3] (answer [1022]) by `runRemoteInference`. p50/p95 latency over 100
 * queries and the client's messages and bytes per query, next to the same
 * query on VirtualWorkers in this process. The Python original took 1.66 s.
 */
import * as tf from "@tensorflow/tfjs";
import * as sy from "../../src";
import { timeAsync, type BenchRow } from "../harness";

const QUERIES = { warmup: 10, minRuns: 100, maxRuns: 100, minMs: 0 };

class Net extends sy.Plan {
  fc1 = tf.tensor([2.0, 4.0]);
  bias = tf.tensor([1000.0]);
  override forward(x: sy.TensorLike) {
    return sy.F.matmul(this.fc1, x).add(this.bias);
  }
}

export async function runServingSuite(): Promise<BenchRow[]> {
  const hook = sy.hook(tf);
  const query = tf.tensor([5, 3]);
  const rows: BenchRow[] = [];
  const check = (y: tf.Tensor) => {
    if (Math.abs(y.dataSync()[0]! - 1022) > 0.01)
      throw new Error(`linear toy answered ${y.dataSync()[0]}, expected 1022`);
  };

  // VirtualWorkers: the same flow in one process.
  const [alice, bob, charlie, dan] = ["alice", "bob", "charlie", "dan"].map((id) => new sy.VirtualWorker(hook, { id }));
  const local = new Net({ id: "toy-virtual" });
  await local.build(tf.tensor([1.0, 2]));
  local.fixPrecision().share(bob!, charlie!, { cryptoProvider: dan! }).send(alice!);
  const fetched = await hook.localWorker.fetchPlan("toy-virtual", alice!, { copy: true });
  const virtualQuery = async () => {
    const y = (
      await (
        fetched(query.fixPrecision().share(bob!, charlie!, { cryptoProvider: dan! })) as sy.FixedPrecisionTensor
      ).get()
    ).floatPrecision();
    check(y);
  };
  const network = bob!.network;
  await virtualQuery();
  network.resetStats();
  await virtualQuery();
  const virtualTraffic = { ...network.stats };
  const virtual = await timeAsync(virtualQuery, QUERIES);
  rows.push({
    suite: "serving",
    name: "linear toy, mpc, VirtualWorkers",
    p50_ms: virtual.median,
    p95_ms: virtual.p95,
    client_msgs: virtualTraffic.messages - virtualTraffic.peerMessages,
    client_bytes: virtualTraffic.bytes - virtualTraffic.peerBytes,
    vs_python: `${(1660 / virtual.median).toFixed(0)}x faster`,
  });

  // The grid: a gateway and four nodes as child processes.
  const grid = await sy.grid.startLocalGrid({ ports: "random" });
  try {
    const net = new sy.PublicGridNetwork(hook, grid.gateway.url);
    const model = new Net({ id: "convnet" });
    await model.build(tf.tensor([1.0, 2]));
    const info = await net.serveModel(model, { id: "convnet", allowRemoteInference: true, mpc: true });
    const gridQuery = async () => check(await net.runRemoteInference("convnet", query, { mpc: true }));
    await gridQuery();
    const clients = await Promise.all(
      [info.nodes.host, ...info.nodes.holders, info.nodes.provider!].map((id) => net.node(id)),
    );
    const before = clients.map((c) => ({ ...c.traffic }));
    await gridQuery();
    const sent = clients.reduce((n, c, i) => n + c.traffic.framesSent - before[i]!.framesSent, 0);
    const received = clients.reduce((n, c, i) => n + c.traffic.framesReceived - before[i]!.framesReceived, 0);
    const bytes = clients.reduce(
      (n, c, i) => n + c.traffic.bytesSent - before[i]!.bytesSent + c.traffic.bytesReceived - before[i]!.bytesReceived,
      0,
    );
    const timing = await timeAsync(gridQuery, QUERIES);
    rows.push({
      suite: "serving",
      name: "linear toy, mpc, gateway + 4 nodes",
      p50_ms: timing.median,
      p95_ms: timing.p95,
      client_msgs: sent + received,
      client_bytes: bytes,
      vs_python: `${(1660 / timing.median).toFixed(0)}x faster`,
      vs_virtual: `${(timing.median / virtual.median).toFixed(1)}x`,
    });
    await net.close();
  } finally {
    await grid.stop();
  }
  return rows;
}
