/**
 * Latency of secure ops over grid nodes (WebSockets on loopback, nodes in
 * this process) against VirtualWorkers (in process, same encoding): one op
 * and its get(), timed end to end, median of 100 runs after warm-up.
 *
 * Run alone: `npx vite-node bench/suites/grid.ts` (or add `{ name: "grid",
 * run: runGridSuite }` to bench/run.ts).
 */
import * as tf from "@tensorflow/tfjs";
import * as sy from "../../src";
import * as grid from "../../src/grid";
import { printTable, timeAsync, writeResults, type BenchRow } from "../harness";

const SUITE = "grid";
const RUNS = { warmup: 10, minRuns: 100, maxRuns: 100, minMs: 0 };

type Workers = { bob: sy.WorkerHandle; charlie: sy.WorkerHandle; dan: sy.WorkerHandle; alice: sy.WorkerHandle };

async function timeCases(workers: Workers): Promise<Record<string, number>> {
  const x = tf.tensor([1.5, -2.25]);
  const share = () => x.fixPrecision().share(workers.bob, workers.charlie, { cryptoProvider: workers.dan });
  const xs = share();
  const out: Record<string, number> = {};
  // The shares stay put; each run is one secure op plus the get() of its result.
  out["secure mul [2] + get"] = (await timeAsync(() => xs.mul(xs).get(), RUNS)).median;
  out["secure relu [2] + get"] = (await timeAsync(() => xs.relu().get(), RUNS)).median;
  out["share [2] + get"] = (await timeAsync(() => share().get(), RUNS)).median;
  const p = x.send(workers.alice);
  out["pointer add [2] + get"] = (await timeAsync(() => p.add(p).get(), RUNS)).median;
  return out;
}

export async function runGridSuite(): Promise<BenchRow[]> {
  const hook = sy.hook(tf);
  const virtual = Object.fromEntries(
    ["alice", "bob", "charlie", "dan"].map((id) => [id, new sy.VirtualWorker(hook, { id })]),
  ) as Record<string, sy.VirtualWorker>;
  const virtualMs = await timeCases(virtual as unknown as Workers);

  const nodes = await Promise.all(["alice", "bob", "charlie", "dan"].map((id) => grid.startNode({ id, port: 0, tf })));
  const clients = nodes.map((n) => new grid.WebsocketGridClient(hook, n.url, { id: n.id }));
  await grid.connectAllNodes(clients);
  const byId = Object.fromEntries(clients.map((c) => [c.id, c])) as unknown as Workers;
  const gridMs = await timeCases(byId);
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(nodes.map((n) => n.close()));
  for (const w of Object.values(virtual)) w.close("bench done");

  return Object.keys(virtualMs).map((name) => ({
    suite: SUITE,
    name,
    "VirtualWorker ms": virtualMs[name]!,
    "grid nodes ms": gridMs[name]!,
    ratio: gridMs[name]! / virtualMs[name]!,
  }));
}

// Run directly (node dist/bench/suites/grid.js, or vite-node on this file), not when bench/run.ts imports it.
if (require.main === module || (module.parent === undefined && process.argv[1]?.includes("vite-node"))) {
  runGridSuite().then(
    (rows) => {
      printTable("grid: median of 100, nodes on loopback in this process", rows);
      console.log(`results: ${writeResults(SUITE, rows)}`);
    },
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
