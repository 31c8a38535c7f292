/**
 * A tiny benchmark harness shared by every suite: timing with warm-up and
 * robust statistics, an aligned text table, and JSON results on disk.
 *
 * @example
 * ```ts
 * const t = time(() => ring.matmul(a, b), { warmup: 2, minRuns: 5, minMs: 200 });
 * const rows: BenchRow[] = [{ suite: "ring", name: "matmul 64", ms: t.median }];
 * printTable("ring", rows);
 * writeResults("ring", rows);
 * ```
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { packageRoot } from "../src/core/package-root";

/** One line of a suite's results: free-form columns beside the suite and the case name. */
export interface BenchRow {
  suite: string;
  name: string;
  [column: string]: string | number;
}

export interface TimeOptions {
  /** Calls before measuring (JIT, caches, lazy loading). Default 1. */
  warmup?: number;
  /** Measured calls at least. Default 5. */
  minRuns?: number;
  /** Keep measuring until this many milliseconds have passed in total. Default 200. */
  minMs?: number;
  /** Measured calls at most. Default 10,000. */
  maxRuns?: number;
}

/** Statistics of the measured calls, in milliseconds. */
export interface Timing {
  median: number;
  mean: number;
  p95: number;
  min: number;
  runs: number;
}

/** Times a synchronous `fn` (see {@link timeAsync} for async work). */
export function time(fn: () => unknown, options: TimeOptions = {}): Timing {
  const { warmup = 1, minRuns = 5, minMs = 200, maxRuns = 10_000 } = options;
  for (let i = 0; i < warmup; i++) fn();
  const samples: number[] = [];
  const started = performance.now();
  while (samples.length < maxRuns && (samples.length < minRuns || performance.now() - started < minMs)) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  return stats(samples);
}

/** Times an async `fn`, awaiting each call. */
export async function timeAsync(fn: () => Promise<unknown>, options: TimeOptions = {}): Promise<Timing> {
  const { warmup = 1, minRuns = 5, minMs = 200, maxRuns = 10_000 } = options;
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  const started = performance.now();
  while (samples.length < maxRuns && (samples.length < minRuns || performance.now() - started < minMs)) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return stats(samples);
}

function stats(samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  const mid = sorted.length >> 1;
  return {
    median: sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2,
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    p95: at(0.95),
    min: sorted[0],
    runs: sorted.length,
  };
}

/** Formats a number for a table: about four significant digits, integers as they are. */
export function fmtNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return value.toFixed(0);
  if (abs >= 100) return value.toFixed(1);
  if (abs >= 10) return value.toFixed(2);
  if (abs >= 0.01) return value.toFixed(3);
  return value.toPrecision(3);
}

/** Prints rows as an aligned text table (numbers right-aligned) under a title. */
export function printTable(title: string, rows: readonly BenchRow[]): void {
  const columns: string[] = [];
  for (const row of rows)
    for (const key of Object.keys(row)) if (key !== "suite" && !columns.includes(key)) columns.push(key);
  const cells = rows.map((row) =>
    columns.map((c) =>
      row[c] === undefined ? "" : typeof row[c] === "number" ? fmtNumber(row[c] as number) : String(row[c]),
    ),
  );
  const numeric = columns.map((c) => rows.every((r) => r[c] === undefined || typeof r[c] === "number"));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  const out = [`\n${title}`, line(columns), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)];
  process.stdout.write(out.join("\n") + "\n");
}

/** Writes bench/results/<suite>.json with the rows and the machine they ran on; returns the path. */
export function writeResults(suite: string, rows: readonly BenchRow[]): string {
  const dir = path.join(packageRoot(), "bench", "results");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${suite}.json`);
  const cpus = os.cpus();
  const record = {
    suite,
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    rows,
  };
  fs.writeFileSync(file, JSON.stringify(record, null, 2) + "\n");
  return file;
}
