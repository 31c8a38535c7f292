/**
 * Where the time of the skin-cancer CNN goes (batch 1), in process
 * (VirtualWorkers) and on grid nodes (child processes): the timing profiler
 * (src/core/profiler.ts) broken down by protocol step (ring kernels wasm or
 * JS, copies into and out of wasm, PRG expansion, the provider's dealing,
 * encoding, framing), by layer, by wait (opens' rounds, the provider's
 * replies) and GC, per run after a warm-up. In process all three parties share
 * one thread, so their steps add up there; on nodes each party is reported
 * apart. Then peak RSS of each party at batch 16, each in a process of its
 * own (party-memory.ts), against the 1 GB bound. `node --cpu-prof dist/bench/run.js
 * profile` shows what the steps do not cover.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import * as sy from "../../src";
import { attachProfiler, detachProfiler, type ProfileReport } from "../../src/core/profiler";
import { PROFILE_DIR_ENV } from "../../src/grid/node-profile";
import type { BenchRow } from "../harness";
import { cnnRunner } from "./cnn-runs";
import { dumpNodes } from "./node-dumps";
import { partyMemoryRows } from "./party-memory";
import { virtualTrio } from "./trio";

const RUNS = 5;

async function timeRuns(run: () => Promise<unknown>, runs: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await run();
  return (performance.now() - t0) / runs;
}

/** Rows of one report, per run: steps by self time, then waits, GC, layers and what the steps do not cover. */
function rowsOf(where: string, report: ProfileReport, runs: number, runMs: number): BenchRow[] {
  const row = (kind: string, name: string, ms: number, calls?: number): BenchRow => ({
    suite: "profile",
    name: `${where}: ${kind} ${name}`,
    ms_per_run: ms / runs,
    pct_of_run: `${((100 * ms) / runs / runMs).toFixed(1)}%`,
    ...(calls !== undefined && { calls_per_run: Math.round(calls / runs) }),
  });
  const steps = Object.entries(report.steps).sort((a, b) => b[1].selfMs - a[1].selfMs);
  const stepMs = steps.reduce((n, [, s]) => n + s.selfMs, 0);
  const layers = Object.entries(report.layers).sort((a, b) => layerIndex(a[0]) - layerIndex(b[0]));
  return [
    { suite: "profile", name: `${where}: run`, ms_per_run: runMs, pct_of_run: "100%" },
    ...steps.map(([name, s]) => row("step", name, s.selfMs, s.calls)),
    row("step", "(all steps)", stepMs),
    row("gc", "(during steps or glue)", report.gcMs, report.gcCount),
    ...Object.entries(report.waits).map(([name, w]) => row("wait", name, w.ms, w.count)),
    ...layers.map(([name, l]) => ({
      ...row("layer", name, l.wallMs, l.calls),
      top_steps: Object.entries(l.steps)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([s, ms]) => `${s} ${(ms / runs).toFixed(1)}`)
        .join(", "),
    })),
  ];
}

function layerIndex(label: string): number {
  const n = Number.parseInt(label, 10);
  return Number.isNaN(n) ? Infinity : n;
}

async function inProcess(hook: sy.Hook): Promise<BenchRow[]> {
  const [bob, charlie, dan] = virtualTrio(hook);
  try {
    const run = (await cnnRunner({ bob, charlie, dan }, "profile-cnn-vw"))(1);
    await run();
    // A/B/A without and with the profiler: its own cost, so that the breakdown can be read against the plain run.
    const plainBefore = await timeRuns(run, RUNS);
    const profiler = attachProfiler();
    const profiled = await timeRuns(run, RUNS);
    // In process the runs never yield to the event loop, where the runtime hands over its GC entries.
    await new Promise((resolve) => setTimeout(resolve, 10));
    const report = profiler.report();
    detachProfiler();
    const plainAfter = await timeRuns(run, RUNS);
    return [
      {
        suite: "profile",
        name: "VirtualWorkers: unprofiled run (before, after)",
        ms_per_run: (plainBefore + plainAfter) / 2,
        pct_of_run: `${plainBefore.toFixed(0)}, ${plainAfter.toFixed(0)} ms`,
      },
      ...rowsOf("VirtualWorkers", report, RUNS, profiled),
    ];
  } finally {
    for (const w of [bob, charlie, dan]) w.close();
  }
}

async function onNodes(hook: sy.Hook): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-profile-"));
  const saved = process.env[PROFILE_DIR_ENV];
  process.env[PROFILE_DIR_ENV] = dir;
  const grid = await sy.grid.startLocalGrid({ ports: "random", nodes: ["bob", "charlie", "dan"] });
  if (saved === undefined) delete process.env[PROFILE_DIR_ENV];
  else process.env[PROFILE_DIR_ENV] = saved;
  const rows: BenchRow[] = [];
  try {
    const clients = await Promise.all(grid.clients(hook).map((c) => c.connect()));
    await sy.grid.connectAllNodes(clients);
    const runAt = await cnnRunner({ bob: clients[0]!, charlie: clients[1]!, dan: clients[2]! }, "profile-cnn-nodes");
    const run = runAt(1);
    await run();
    await dumpNodes(dir, grid.nodes, 1); // drops the warm-up
    const runMs = await timeRuns(run, RUNS);
    const reports = await dumpNodes(dir, grid.nodes, 2);
    grid.nodes.forEach((n, i) => rows.push(...rowsOf(`nodes, ${n.id}`, reports[i]!, RUNS, runMs)));

    for (const c of clients) c.close();
  } finally {
    await grid.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

export async function runProfileSuite(): Promise<BenchRow[]> {
  await sy.useWasmBackend(tf);
  const hook = sy.hook(tf);
  return [...(await inProcess(hook)), ...(await onNodes(hook)), ...partyMemoryRows()];
}
