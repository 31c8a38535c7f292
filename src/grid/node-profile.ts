/**
 * Profiling a node process from outside (bench/suites/profile.ts): when the
 * environment names a directory in TSYFT_PROFILE_DIR, the node attaches the
 * timing profiler (core/profiler.ts) at start, and each SIGUSR2 writes what it
 * saw since the last one to `<dir>/<id>.json` (then a rename, so a reader
 * never sees half a file) and starts afresh. The first signal after a warm-up
 * thus drops the warm-up; the next one holds the measured runs. Without the
 * variable nothing is attached and no handler is installed.
 *
 * @example
 * ```ts
 * const stop = profileFromEnvironment("bob");   // in the node's CLI
 * // ... kill -USR2 <pid> writes $TSYFT_PROFILE_DIR/bob.json
 * stop();
 * ```
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { attachProfiler, detachProfiler } from "../core/profiler";

/** The environment variable naming where profiles go. */
export const PROFILE_DIR_ENV = "TSYFT_PROFILE_DIR";

/** Attaches the profiler when PROFILE_DIR_ENV is set; returns what undoes it. */
export function profileFromEnvironment(id: string): () => void {
  const dir = process.env[PROFILE_DIR_ENV];
  if (!dir) return () => undefined;
  const profiler = attachProfiler();
  const file = path.join(dir, `${id}.json`);
  let written = 0;
  const dump = () => {
    const report = { id, pid: process.pid, dump: ++written, ...profiler.report() };
    profiler.reset();
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(report));
    fs.renameSync(`${file}.tmp`, file);
  };
  process.on("SIGUSR2", dump);
  return () => {
    process.off("SIGUSR2", dump);
    detachProfiler();
  };
}
