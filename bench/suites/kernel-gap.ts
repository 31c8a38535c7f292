/**
 * The kernel gap: the encrypted skin-cancer CNN (two holders and a dealer in
 * process, batch 1) in a cell of tsyft's kernel engine against the same code
 * in this plain Node process. Rounds alternate kernel and plain; each round is
 * a warm-up then `runs` timed runs, and reports their median wall time and the
 * process's CPU time per run (the other side idles meanwhile, so CPU time is
 * the one that stays put when the machine is shared). The engine is driven
 * directly (the cell goes through tslab's compiler and runs in the engine's
 * worker thread, as in Jupyter), without the Jupyter protocol, which is only
 * message traffic around the cell.
 */
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { Engine, type OutputSink } from "../../kernel/engine/engine";
import * as sy from "../../src";
import type { BenchRow } from "../harness";
import { cnnRunner, measureRuns, type Measured } from "./cnn-runs";

const MARK = "KERNEL-GAP ";

/** The cells: set up the CNN among VirtualWorkers, then (per round) print the measurement. */
function cells(repo: string, runs: number): { setup: string; measure: string } {
  const setup = `import * as tf from "@tensorflow/tfjs";
import * as sy from "tsyft";
import { cnnRunner, measureRuns } from ${JSON.stringify(path.join(repo, "dist", "bench", "suites", "cnn-runs"))};
await sy.useWasmBackend(tf);
const gapHook = sy.hook(tf);
const [gapBob, gapCharlie, gapDan] = ["bob", "charlie", "dan"].map((id) => new sy.VirtualWorker(gapHook, { id }));
const gapRun = (await cnnRunner({ bob: gapBob, charlie: gapCharlie, dan: gapDan }, "kernel-gap-cnn"))(1);
"ready"`;
  return {
    setup,
    measure: `console.log(${JSON.stringify(MARK)} + JSON.stringify(await measureRuns(gapRun, ${runs})));`,
  };
}

/** The same run in this process. */
async function plainRunner(): Promise<() => Promise<unknown>> {
  await sy.useWasmBackend(tf);
  const hook = sy.hook(tf);
  const [bob, charlie, dan] = ["bob", "charlie", "dan"].map((id) => new sy.VirtualWorker(hook, { id }));
  return (await cnnRunner({ bob: bob!, charlie: charlie!, dan: dan! }, "kernel-gap-cnn"))(1);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

/** Kernel and plain rows and their ratio; `rounds` alternations of `runs` runs (env TSYFT_KERNEL_GAP_ROUNDS, _RUNS). */
export async function runKernelGap(repo: string): Promise<BenchRow[]> {
  const rounds = Number(process.env.TSYFT_KERNEL_GAP_ROUNDS ?? 3);
  const runs = Number(process.env.TSYFT_KERNEL_GAP_RUNS ?? 5);
  let printed = "";
  const sink: OutputSink = {
    stream: (_name, text) => void (printed += text),
    display: () => undefined,
  };
  const engine = await Engine.start({ cwd: path.join(repo, "notebooks") });
  try {
    const { setup, measure } = cells(repo, runs);
    const ran = await engine.execute(setup, "kernel-gap-setup", sink);
    if (ran.status !== "ok")
      throw new Error(`kernel gap: the setup cell failed: ${JSON.stringify(ran).slice(0, 1000)}`);
    const plain = await plainRunner();
    const kernel: Measured[] = [];
    const node: Measured[] = [];
    for (let r = 0; r < rounds; r++) {
      printed = "";
      const outcome = await engine.execute(measure, "kernel-gap-measure", sink);
      const line = printed.split("\n").find((l) => l.startsWith(MARK));
      if (outcome.status !== "ok" || !line) {
        throw new Error(`kernel gap: the measuring cell failed: ${JSON.stringify(outcome).slice(0, 1000)} ${printed}`);
      }
      kernel.push(JSON.parse(line.slice(MARK.length)) as Measured);
      node.push(await measureRuns(plain, runs));
    }
    const row = (name: string, m: Measured[]): BenchRow => ({
      suite: "kernel",
      name,
      cnn_wall_ms: median(m.map((x) => x.wallMs)),
      cnn_cpu_ms: median(m.map((x) => x.cpuMs)),
    });
    const k = row("encrypted CNN, kernel cell", kernel);
    const p = row("encrypted CNN, plain Node", node);
    return [
      k,
      p,
      {
        suite: "kernel",
        name: "encrypted CNN, kernel / plain (target <= 1.1)",
        cnn_wall_ms: Number(k.cnn_wall_ms) / Number(p.cnn_wall_ms),
        cnn_cpu_ms: Number(k.cnn_cpu_ms) / Number(p.cnn_cpu_ms),
      },
    ];
  } finally {
    await engine.close();
  }
}
