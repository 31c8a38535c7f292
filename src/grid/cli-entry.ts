/**
 * Runs the CLI with this process's arguments (what child processes and
 * bin/tsyft.js start). Servers keep the process alive until stopped.
 *
 * @example
 * ```ts
 * // node dist/src/grid/cli-entry.js node --id bob --port 3000
 * ```
 */
import { main } from "./cli";

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // Servers have closed by now; do not wait on stray handles (tf, timers).
  setTimeout(() => process.exit(code), 100).unref();
});
