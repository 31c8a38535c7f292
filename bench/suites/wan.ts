/**
 * Encrypted inference at a network distance: the three tutorial models (as
 * tutorials.ts builds them) on a real local grid (bob and charlie holding the
 * shares, dan dealing; child processes) whose every link carries a one-way
 * latency of 0, 1, 5, 10 and 25 ms (src/grid/link-delay.ts; the client's links
 * too), at batch 1 and 16. Per cell:
 * - e2e_ms: a query with the dealer answering during the run (median);
 * - online_ms: a query with the material dealt ahead (median);
 * - online_rounds: the holders' protocol rounds in one online query, as bob's
 *   node counts them (in each, both holders send at once and wait for the
 *   other's message: one one-way latency per round);
 * - client_trips: the client's round trips in one query, from its traffic;
 * - kB each party sends in one on-demand query (bob, charlie, dan to their
 *   peers; the client to the nodes).
 * The skin-cancer CNN at batch 16 runs once per cell, and only up to 10 ms.
 *
 * `npm run bench wan` (about 10 minutes here); `-- --quick` for latencies 0
 * and 5 at batch 1, one run; `-- --latencies=0,10` for other latencies;
 * `-- --bandwidth-mbps=100` caps every link's bandwidth too (a column says so).
 * `-- --comparison=auto` (or kogge-stone, fss) picks the comparison protocol.
 */
import * as tf from "@tensorflow/tfjs";
import * as sy from "../../src";
import type { BenchRow } from "../harness";
import { median, models, type Model } from "./tutorials";

const LATENCIES = [0, 1, 5, 10, 25];
const QUICK_LATENCIES = [0, 5];
const BATCHES = [1, 16];
const RUNS = 3;
const NODES = ["bob", "charlie", "dan"] as const;

type Clients = Record<(typeof NODES)[number], sy.grid.WebsocketGridClient>;

/**
 * The comparison protocol to measure with: `--comparison=<kogge-stone|fss|auto>` or TSYFT_BENCH_COMPARISON; none:
 * the library's default. It is set here with sy.configure and travels with every command, so every party runs
 * the same; "auto" chooses per comparison from the batch and the grid's link latency (comparison-choice.ts).
 */
function comparisonChoice(argv: readonly string[]): string {
  const flag = argv.find((a) => a.startsWith("--comparison="))?.slice("--comparison=".length);
  const choice = flag ?? process.env.TSYFT_BENCH_COMPARISON;
  if (choice === undefined || choice === "default") return sy.getConfig().comparison;
  if (!(sy.COMPARISONS as readonly string[]).includes(choice)) {
    throw new Error(`bench wan: --comparison=${choice}: expected one of ${sy.COMPARISONS.join(", ")}.`);
  }
  sy.configure({ comparison: choice as sy.ComparisonSetting });
  return choice;
}

/** The latencies to sweep: `--latencies=0,10`, else the quick or full list. */
function latenciesOf(argv: readonly string[], quick: boolean): number[] {
  const flag = argv.find((a) => a.startsWith("--latencies="))?.slice("--latencies=".length);
  if (flag === undefined) return quick ? QUICK_LATENCIES : LATENCIES;
  const values = flag.split(",").map(Number);
  if (values.some((v) => !Number.isFinite(v) || v < 0))
    throw new Error(`bench wan: --latencies=${flag}: expected one-way milliseconds, e.g. --latencies=0,5,10.`);
  return values;
}

/** The bandwidth cap of every link: `--bandwidth-mbps=100`, else none. */
function bandwidthOf(argv: readonly string[]): number | undefined {
  const flag = argv.find((a) => a.startsWith("--bandwidth-mbps="))?.slice("--bandwidth-mbps=".length);
  return flag === undefined ? undefined : Number(flag); // startLocalGrid checks it
}

/** Bytes each party has sent so far: the nodes to their peers (from their status), the client to the nodes. */
async function bytesSent(clients: Clients): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const id of NODES) out[id] = (await clients[id].status()).traffic.peerBytesSent;
  out.client = NODES.reduce((n, id) => n + clients[id].traffic.bytesSent, 0);
  return out;
}

/** Times `runs` queries; resolves with their median in ms. */
async function timed(runs: number, query: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await query();
    times.push(performance.now() - t0);
  }
  return median(times);
}

async function measureModel(
  m: Model,
  latencyMs: number,
  clients: Clients,
  batches: readonly number[],
  runs: number,
  comparison: string,
  progress: (line: string) => void,
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const { bob, charlie, dan } = clients;
  const plan = sy.Plan.fromModel(m.make(), { id: `${m.name}-wan-${latencyMs}` });
  await plan.build(tf.zeros([1, ...m.input]));
  plan.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
  for (const batch of batches) {
    const cnnBatch = m.input.length === 3 && batch > 1;
    if (cnnBatch && latencyMs > 10) continue;
    const reps = cnnBatch ? 1 : runs;
    const x = tf.randomNormal([batch, ...m.input], 0, 1, "float32", 7);
    const query = async () =>
      (plan.run(x.fixPrecision().share(bob, charlie, { cryptoProvider: dan })) as sy.FixedPrecisionTensor).get();
    await query(); // warm-up: keys, the weights' opened masks, JIT
    // One query on demand, counted: what each party sends and the client's round trips.
    const before = await bytesSent(clients);
    const events: sy.grid.LinkEvent[] = [];
    const stop = sy.grid.tapClientLinks((e) => events.push(e));
    await query();
    stop();
    const after = await bytesSent(clients);
    const e2e = await timed(reps, query);
    // Online: the material of the next queries dealt ahead; bob's rounds in one of them.
    await plan.preprocess(reps + 1, [batch, ...m.input]);
    const rounds0 = (await bob.status()).traffic.rounds;
    await query();
    const rounds = (await bob.status()).traffic.rounds - rounds0;
    const online = await timed(reps, query);
    const kB = (id: string) => Math.round((after[id]! - before[id]!) / 1024);
    rows.push({
      suite: "wan",
      name: `${m.name}, batch ${batch}, ${latencyMs} ms`,
      model: m.name,
      batch,
      latency_ms: latencyMs,
      e2e_ms: e2e,
      online_ms: online,
      online_rounds: rounds,
      client_trips: sy.grid.countRoundTrips(events),
      bob_kB: kB("bob"),
      charlie_kB: kB("charlie"),
      dan_kB: kB("dan"),
      client_kB: kB("client"),
      comparison,
    });
    progress(`${m.name}, batch ${batch}: e2e ${e2e.toFixed(1)} ms, online ${online.toFixed(1)} ms, ${rounds} rounds`);
  }
  return rows;
}

export async function runWanSuite({ quick }: { quick: boolean }): Promise<BenchRow[]> {
  const comparison = comparisonChoice(process.argv);
  await sy.useWasmBackend(tf);
  const hook = sy.hook(tf);
  const latencies = latenciesOf(process.argv, quick);
  const bandwidth = bandwidthOf(process.argv);
  const rows: BenchRow[] = [];
  for (const [i, latencyMs] of latencies.entries()) {
    const started = performance.now();
    const progress = (line: string) =>
      console.log(`wan [${i + 1}/${latencies.length}] ${latencyMs} ms one way: ${line}`);
    progress("starting bob, charlie and dan");
    const grid = await sy.grid.startLocalGrid({
      ports: "random",
      nodes: [...NODES],
      linkLatencyMs: latencyMs,
      ...(bandwidth !== undefined && { linkBandwidthMbps: bandwidth }),
    });
    try {
      // Clients made here for the grid's urls take its distance: the client's links are as far as the nodes'.
      const list = await Promise.all(grid.clients(hook).map((c) => c.connect()));
      await sy.grid.connectAllNodes(list);
      const clients = Object.fromEntries(list.map((c) => [c.id, c])) as Clients;
      for (const m of models) {
        const batches = quick ? [1] : BATCHES;
        const measured = await measureModel(m, latencyMs, clients, batches, quick ? 1 : RUNS, comparison, progress);
        rows.push(...measured.map((row) => (bandwidth === undefined ? row : { ...row, bandwidth_mbps: bandwidth })));
      }
      await Promise.all(list.map((c) => c.close()));
    } finally {
      await grid.stop();
    }
    progress(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  return rows;
}
