import { printTable, type BenchRow } from "./bench/harness";
import { runMpcBench } from "./bench/suites/mpc";
(async () => {
  const t0 = performance.now();
  const rows = await runMpcBench();
  printTable(`mpc (${((performance.now() - t0) / 1000).toFixed(1)} s)`, rows as BenchRow[]);
})().catch((e) => { console.error(e); process.exit(1); });
