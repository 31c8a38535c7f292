/**
 * Load on a grid: many users at once, as issue 10 asks of a grid that keeps
 * its promise. A gateway and four nodes (child processes) serve two models
 * with mpc: PyGrid's linear toy ([5, 3] -> [1022]) and an MNIST MLP
 * (784-500-10, ReLU; random weights: the time does not depend on them).
 *
 * For each model:
 * 1. 1, 10 and 50 concurrent clients in this process (each its own
 *    PublicGridNetwork, querying in a loop), then 10 client processes
 *    (test/grid/fixtures/query-client.js against dist/): p50, p95, queries
 *    per second, errors (timeouts included) and wrong answers. Each client's
 *    first query (connecting, fetching the plan) is not timed.
 * 2. 2,000 sequential queries: RSS and object count of each node before and
 *    after (a grid that frees each query's shares stays flat).
 *
 * `TSYFT_BENCH_QUICK=1 npm run bench load` runs tiny counts, to check that
 * the suite works, not to measure.
 *
 * The helpers (a node's RSS, client processes) are also used by the tests of
 * test/grid/concurrency.integration.test.ts.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import * as tf from "@tensorflow/tfjs";
import * as sy from "../../src";
import { packageRoot } from "../../src/core/package-root";
import type { BenchRow } from "../harness";

/** What one client process is asked to do (see the fixture's header). */
export interface QueryClientSpec {
  gateway: string;
  model: string;
  input: number[];
  shape: number[];
  queries: number;
  concurrency: number;
  mpc: boolean;
  token?: string;
  timeoutMs?: number;
  /** Untimed queries before the timed ones. */
  warmup?: number;
}

/** One query's outcome, from this process or a client process. */
export interface QueryResult {
  ms: number;
  answer?: number[];
  error?: { code: string; name: string; message: string };
}

/** The client fixture every load test and bench spawns. */
export const QUERY_CLIENT = path.join(packageRoot(), "test", "grid", "fixtures", "query-client.js");

/** Resident set size of process `pid` in MB (Linux: /proc/<pid>/status). */
export function processRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!kb) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb[1]) / 1024;
}

/**
 * Starts `count` client processes, waits until each has loaded the library
 * (and warmed up), starts their queries at the same moment, and resolves
 * with every process's results and the time from that start to the last.
 */
export async function runQueryClients(
  spec: QueryClientSpec,
  count: number,
  timeoutMs = 300_000,
): Promise<{ results: QueryResult[][]; wallMs: number }> {
  const children: ChildProcess[] = [];
  try {
    const outputs = Array.from({ length: count }, () => {
      const child = spawn(process.execPath, [QUERY_CLIENT, JSON.stringify(spec)], {
        stdio: ["pipe", "pipe", "pipe"],
        cwd: packageRoot(),
      });
      children.push(child);
      return clientOutput(child, timeoutMs);
    });
    await Promise.all(outputs.map((o) => o.ready));
    const started = performance.now();
    for (const child of children) child.stdin!.write("go\n");
    const results = await Promise.all(outputs.map((o) => o.done));
    return { results, wallMs: performance.now() - started };
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  }
}

function clientOutput(child: ChildProcess, timeoutMs: number): { ready: Promise<void>; done: Promise<QueryResult[]> } {
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const lines = readline.createInterface({ input: child.stdout! });
  const events = new Map<string, (message: { results?: QueryResult[] }) => void>();
  lines.on("line", (line) => {
    try {
      const message = JSON.parse(line) as { event?: string; results?: QueryResult[] };
      events.get(message.event ?? "")?.(message);
    } catch {
      // not one of the fixture's lines
    }
  });
  const expectEvent = (event: string) =>
    new Promise<{ results?: QueryResult[] }>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`client ${child.pid}: no "${event}" in ${timeoutMs} ms`)),
        timeoutMs,
      );
      events.set(event, (message) => {
        clearTimeout(timer);
        resolve(message);
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`client ${child.pid} exited (${code}) before "${event}": ${stderr}`));
      });
    });
  const ready = expectEvent("ready").then(() => undefined);
  const done = expectEvent("done").then((m) => m.results ?? []);
  ready.catch(() => undefined);
  done.catch(() => undefined);
  return { ready, done };
}

/** p50 and p95 of latencies in ms. */
export function percentiles(ms: readonly number[]): { p50: number; p95: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
  return { p50: at(0.5), p95: at(0.95) };
}

/** A 784-500-10 MLP, the size of tutorial 02's MNIST classifier; random weights. */
class MnistMlp extends sy.Plan {
  w1 = tf.randomNormal([784, 500], 0, 0.05, "float32", 1);
  b1 = tf.randomNormal([500], 0, 0.05, "float32", 2);
  w2 = tf.randomNormal([500, 10], 0, 0.05, "float32", 3);
  b2 = tf.randomNormal([10], 0, 0.05, "float32", 4);
  override forward(x: sy.TensorLike) {
    return sy.F.matmul(sy.F.relu(sy.F.matmul(x, this.w1).add(this.b1)), this.w2).add(this.b2);
  }
}

class LinearToy extends sy.Plan {
  fc1 = tf.tensor([2.0, 4.0]);
  bias = tf.tensor([1000.0]);
  override forward(x: sy.TensorLike) {
    return sy.F.matmul(this.fc1, x).add(this.bias);
  }
}

interface LoadModel {
  id: string;
  input: number[];
  shape: number[];
  expected: number[];
  tolerance: number;
}

async function serveModels(network: sy.PublicGridNetwork): Promise<LoadModel[]> {
  const toy = new LinearToy({ id: "toy" });
  await toy.build(tf.tensor([1, 2]));
  const mlp = new MnistMlp({ id: "mnist-mlp" });
  await mlp.build(tf.zeros([1, 784]));
  const digit = Array.from(tf.randomUniform([784], 0, 1, "float32", 5).dataSync());
  // The plaintext answer, before serving shares the plan's weights.
  const expected = Array.from((mlp.run(tf.tensor(digit, [1, 784])) as tf.Tensor).dataSync());
  for (const model of [toy, mlp]) {
    await network.serveModel(model, { id: model.id, mpc: true, allowRemoteInference: true });
  }
  return [
    { id: "toy", input: [5, 3], shape: [2], expected: [1022], tolerance: 1e-2 },
    { id: "mnist-mlp", input: digit, shape: [1, 784], expected, tolerance: 5e-2 },
  ];
}

function isRight(model: LoadModel, answer: number[] | undefined): boolean {
  return (
    answer !== undefined &&
    answer.length === model.expected.length &&
    answer.every((v, i) => Math.abs(v - model.expected[i]!) <= model.tolerance)
  );
}

/**
 * Queries from `clients` users in this process, each in a loop, `perClient`
 * queries each. Each user has its own hook and network, as separate users
 * would (a hook resolves fetched plans to the clients it knows).
 */
async function inProcessLoad(
  gateway: string,
  model: LoadModel,
  clients: number,
  perClient: number,
): Promise<QueryResult[]> {
  const networks = Array.from({ length: clients }, () => new sy.PublicGridNetwork(sy.hook(tf), gateway));
  const results: QueryResult[] = [];
  try {
    // Untimed: each user's first query also connects and fetches the plan.
    await Promise.all(
      networks.map((n) =>
        n.runRemoteInference(model.id, tf.tensor(model.input, model.shape), { mpc: true }).then(
          (y) => y.dispose(),
          () => undefined, // counted by the timed queries, if it persists
        ),
      ),
    );
    await Promise.all(
      networks.map(async (network) => {
        for (let i = 0; i < perClient; i++) {
          const started = performance.now();
          try {
            const y = await network.runRemoteInference(model.id, tf.tensor(model.input, model.shape), { mpc: true });
            results.push({ ms: performance.now() - started, answer: Array.from(y.dataSync()) });
            y.dispose();
          } catch (error) {
            const e = error as sy.TsyftError;
            results.push({
              ms: performance.now() - started,
              error: { code: e.code ?? "", name: e.name, message: e.message },
            });
          }
        }
      }),
    );
  } finally {
    await Promise.all(networks.map((n) => n.close()));
  }
  return results;
}

function loadRow(name: string, model: LoadModel, results: QueryResult[], wallMs: number, extra: object): BenchRow {
  const ok = results.filter((r) => r.answer !== undefined);
  const { p50, p95 } = percentiles(ok.map((r) => r.ms));
  return {
    suite: "load",
    name,
    model: model.id,
    ...extra,
    queries: results.length,
    p50_ms: p50,
    p95_ms: p95,
    qps: (1000 * ok.length) / wallMs,
    errors: results.length - ok.length,
    wrong: ok.filter((r) => !isRight(model, r.answer)).length,
    first_error: results.find((r) => r.error)?.error?.code ?? "",
  };
}

interface NodeSnapshot {
  rssMb: number;
  objects: number;
}

async function snapshot(grid: sy.grid.LocalGrid): Promise<Record<string, NodeSnapshot>> {
  const out: Record<string, NodeSnapshot> = {};
  for (const node of grid.nodes) {
    const health = (await (await fetch(`http://127.0.0.1:${node.port}/health`)).json()) as { objects: number };
    out[node.id] = { rssMb: processRssMb(node.pid!), objects: health.objects };
  }
  return out;
}

/** The suite: `npm run bench load` (TSYFT_BENCH_QUICK=1: tiny counts). */
export async function runLoadSuite(): Promise<BenchRow[]> {
  const quick = process.env.TSYFT_BENCH_QUICK === "1";
  const perClient = quick ? 1 : 20;
  const processes = quick ? 2 : 10;
  const soak = quick ? 20 : 2_000;
  await tf.setBackend("cpu");
  const hook = sy.hook(tf);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-load-"));
  const grid = await sy.grid.startLocalGrid({ ports: "random", dataDir });
  const rows: BenchRow[] = [];
  // The design's admin token on the handle (issue 10) makes the bench the models' owner; none today.
  const token = (grid as sy.grid.LocalGrid & { adminToken?: string }).adminToken;
  const Network: new (h: sy.Hook, url: string, options?: { token?: string }) => sy.PublicGridNetwork =
    sy.PublicGridNetwork;
  const owner = new Network(hook, grid.gateway.url, token === undefined ? undefined : { token });
  try {
    for (const model of await serveModels(owner)) {
      for (const clients of [1, 10, 50]) {
        const started = performance.now();
        const results = await inProcessLoad(grid.gateway.url, model, clients, perClient);
        rows.push(
          loadRow(`${model.id}, ${clients} clients, 1 process`, model, results, performance.now() - started, {
            clients,
            processes: 1,
          }),
        );
      }
      const spec: QueryClientSpec = {
        gateway: grid.gateway.url,
        model: model.id,
        input: model.input,
        shape: model.shape,
        queries: perClient,
        concurrency: 1,
        mpc: true,
        warmup: 1,
      };
      const { results, wallMs } = await runQueryClients(spec, processes);
      rows.push(
        loadRow(`${model.id}, ${processes} client processes`, model, results.flat(), wallMs, {
          clients: processes,
          processes,
        }),
      );
      const before = await snapshot(grid);
      const soaked = performance.now();
      const soakResults = await inProcessLoad(grid.gateway.url, model, 1, soak);
      const after = await snapshot(grid);
      const memory: Record<string, number> = {};
      for (const id of Object.keys(before)) {
        memory[`${id}_rss_mb`] = before[id]!.rssMb;
        memory[`${id}_rss_after_mb`] = after[id]!.rssMb;
        memory[`${id}_objects`] = before[id]!.objects;
        memory[`${id}_objects_after`] = after[id]!.objects;
      }
      rows.push(
        loadRow(`${model.id}, ${soak} sequential`, model, soakResults, performance.now() - soaked, {
          clients: 1,
          processes: 1,
          ...memory,
        }),
      );
    }
  } finally {
    await owner.close();
    await grid.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  return rows;
}
