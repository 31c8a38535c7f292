/**
 * Peak memory of each party of the skin-cancer CNN at batch 16, every party
 * in a process of its own that did nothing else, so that no figure mixes in
 * another party's or another suite's memory:
 * - on grid nodes: bob, charlie (holders) and dan (dealer) as node processes,
 *   and the client (it shares the input and decrypts the output) as this
 *   child of the bench;
 * - in process: all three parties as VirtualWorkers in one fresh process.
 * `npm run bench profile` runs both (each in a fresh child of the bench) and
 * reports them against the 1 GB bound of issue 15.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import * as sy from "../../src";
import type { ProfileReport } from "../../src/core/profiler";
import { PROFILE_DIR_ENV } from "../../src/grid/node-profile";
import type { BenchRow } from "../harness";
import { cnnRunner } from "./cnn-runs";
import { dumpNodes } from "./node-dumps";
import { virtualTrio } from "./trio";

const LIMIT_MB = 1024;
const MARK = "PARTY-MEMORY ";
const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
const ownPeak = () => process.resourceUsage().maxRSS * 1024;

type Peaks = Record<string, number>;

/** Two batch-16 runs among VirtualWorkers in this process: the process's peak. */
async function virtualPeaks(): Promise<Peaks> {
  await sy.useWasmBackend(tf);
  const hook = sy.hook(tf);
  const [bob, charlie, dan] = virtualTrio(hook);
  const run16 = (await cnnRunner({ bob, charlie, dan }, "memory-cnn-vw"))(16);
  await run16();
  await run16();
  return { "VirtualWorkers (bob, charlie and dan in one process)": ownPeak() };
}

/** Two batch-16 runs on node processes, from this process as the client: each node's peak and the client's. */
async function gridPeaks(): Promise<Peaks> {
  await sy.useWasmBackend(tf);
  const hook = sy.hook(tf);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-memory-"));
  process.env[PROFILE_DIR_ENV] = dir;
  const grid = await sy.grid.startLocalGrid({ ports: "random", nodes: ["bob", "charlie", "dan"] });
  try {
    const clients = await Promise.all(grid.clients(hook).map((c) => c.connect()));
    await sy.grid.connectAllNodes(clients);
    const run16 = (await cnnRunner({ bob: clients[0]!, charlie: clients[1]!, dan: clients[2]! }, "memory-cnn"))(16);
    await run16();
    await run16();
    const reports: ProfileReport[] = await dumpNodes(dir, grid.nodes, 1);
    const peaks: Peaks = {};
    grid.nodes.forEach((n, i) => (peaks[`node ${n.id}`] = reports[i]!.peakRssBytes));
    peaks["client (this process only)"] = ownPeak();
    for (const c of clients) c.close();
    return peaks;
  } finally {
    await grid.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `mode` in a fresh Node process and reads the peaks it prints. */
function inFreshProcess(mode: "virtual" | "grid"): Peaks {
  const out = execFileSync(process.execPath, [__filename, mode], { encoding: "utf8", maxBuffer: 1 << 24 });
  const line = out.split("\n").find((l) => l.startsWith(MARK));
  if (!line) throw new Error(`party memory (${mode}): the child printed no result:\n${out.slice(-2000)}`);
  return JSON.parse(line.slice(MARK.length)) as Peaks;
}

/** The rows: every party's peak RSS at batch 16, each measured apart. */
export function partyMemoryRows(): BenchRow[] {
  const peaks = { ...inFreshProcess("grid"), ...inFreshProcess("virtual") };
  return Object.entries(peaks).map(([who, bytes]) => ({
    suite: "profile",
    name: `memory, batch 16: ${who} peak RSS`,
    peak_rss_mb: mb(bytes),
    limit_mb: LIMIT_MB,
  }));
}

if (require.main === module) {
  const mode = process.argv[2];
  const measure = mode === "virtual" ? virtualPeaks : mode === "grid" ? gridPeaks : undefined;
  if (!measure) throw new Error(`party-memory: expected "virtual" or "grid", got ${JSON.stringify(mode)}.`);
  void measure().then(
    (peaks) => {
      console.log(`${MARK}${JSON.stringify(peaks)}`);
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
