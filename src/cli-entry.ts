/**
 * Runs the whole CLI with this process's arguments (what bin/tsyft.js and
 * tests that start a domain as a child process run).
 *
 * @example
 * ```ts
 * // node dist/src/cli-entry.js domain --name test --port 0 --data-dir /tmp/d
 * ```
 */
import { main } from "./cli";

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // Servers have closed by now; do not wait on stray handles (tf, timers, PGlite).
  setTimeout(() => process.exit(code), 100).unref();
});
