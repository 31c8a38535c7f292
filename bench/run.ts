/**
 * Runs the benchmark suites: `node dist/bench/run.js [suite...] [--quick]` (all when none named).
 * Each suite returns rows; they are printed as a table and written to bench/results/.
 * `--quick` asks the suites that support it for tiny sizes and few runs, to check that they run.
 * Other `--name=value` flags are for the suites that read them (wan's `--comparison=`).
 * The benchmarks run under the V8 flags tsyft gives the processes it starts (src/core/v8-flags.ts: on fewer
 * than four CPUs, single-threaded GC; `TSYFT_GC=concurrent` for V8's default), so that the in-process rows and
 * the grid's servers are measured alike: this process starts itself again with them when they are missing.
 */
import { spawnSync } from "node:child_process";
import * as os from "node:os";
import { gcFlags } from "../src/core/v8-flags";
import { printTable, writeResults, type BenchRow } from "./harness";
import { runDomainSuite } from "./suites/domain";
import { runGridSuite } from "./suites/grid";
import { runDpSuite } from "./suites/dp";
import { runFssSuite } from "./suites/fss";
import { runKernelBench } from "./suites/kernel";
import { runKerasSuite } from "./suites/keras";
import { runLoadSuite } from "./suites/load";
import { runMpcBench } from "./suites/mpc";
import { runPlansSuite } from "./suites/plans";
import { runProfileSuite } from "./suites/profile";
import { runRingSuite } from "./suites/ring";
import { runServingSuite } from "./suites/serving";
import { runTutorialsSuite } from "./suites/tutorials";
import { runWanSuite } from "./suites/wan";

interface Suite {
  name: string;
  run: (options: { quick: boolean }) => Promise<BenchRow[]>;
}

/** Every suite, in the order they run. Add new suites here. */
const suites: Suite[] = [
  { name: "ring", run: runRingSuite },
  {
    name: "mpc",
    run: async () =>
      (await runMpcBench()).map((row) => ({ suite: "mpc", name: String(row.name ?? row.case ?? ""), ...row })),
  },
  { name: "plans", run: runPlansSuite },
  { name: "grid", run: runGridSuite },
  { name: "serving", run: runServingSuite },
  { name: "domain", run: runDomainSuite },
  { name: "load", run: runLoadSuite },
  { name: "tutorials", run: runTutorialsSuite },
  { name: "wan", run: runWanSuite },
  { name: "keras", run: runKerasSuite },
  { name: "kernel", run: async () => (await runKernelBench()) as BenchRow[] },
  { name: "dp", run: runDpSuite },
  { name: "fss", run: runFssSuite },
  { name: "profile", run: runProfileSuite },
];

async function main(argv: string[]): Promise<void> {
  const wanted = argv.filter((a) => !a.startsWith("-"));
  const quick = argv.includes("--quick");
  const unknown = wanted.filter((w) => !suites.some((s) => s.name === w));
  if (unknown.length > 0) {
    console.error(`bench: unknown suite(s) ${unknown.join(", ")}; available: ${suites.map((s) => s.name).join(", ")}.`);
    process.exitCode = 2;
    return;
  }
  for (const suite of suites) {
    if (wanted.length > 0 && !wanted.includes(suite.name)) continue;
    const started = performance.now();
    const rows = await suite.run({ quick });
    printTable(`${suite.name} (${((performance.now() - started) / 1000).toFixed(1)} s)`, rows);
    // A quick run only checks that the suite works; it does not overwrite the measured results.
    if (quick) continue;
    console.log(`results: ${writeResults(suite.name, rows)}`);
  }
}

/** Runs the benchmarks again in a process with the flags that this one lacks; false when it has them all. */
function relaunched(argv: string[]): boolean {
  const missing = gcFlags().filter((flag) => !process.execArgv.includes(flag));
  if (missing.length === 0) return false;
  const child = spawnSync(process.execPath, [...process.execArgv, ...missing, __filename, ...argv], {
    stdio: "inherit",
  });
  process.exitCode = child.status ?? 1;
  return true;
}

if (!relaunched(process.argv.slice(2))) {
  const flags = process.execArgv.filter((a) => a.startsWith("--")).join(" ");
  console.log(
    `V8 flags: ${flags || "(none)"}; ${os.availableParallelism()} CPUs, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  // Exits when the suites are done: a suite that failed half-way may leave a client retrying its stopped nodes,
  // which would keep this process alive (stdout and stderr are synchronous on pipes and files here).
  main(process.argv.slice(2)).then(
    () => process.exit(),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
