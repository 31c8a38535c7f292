/**
 * How tsyft starts its own Node processes' garbage collector: the servers
 * of a local grid or a Keras cluster (grid/processes.ts) and the benchmarks
 * (bench/run.ts).
 *
 * On a machine of fewer than CONCURRENT_GC_MIN_CPUS logical CPUs they collect
 * on the main thread only (`--single-threaded-gc`). V8's concurrent marking
 * and sweeping threads otherwise take the CPU that the parties' protocol steps
 * are waiting for: a local grid is three nodes, a gateway and the client on
 * one machine, and in process the three parties already keep the main thread
 * busy. (The Jupyter kernel keeps V8's default: it does not depend on the
 * library, DESIGN.md section 5.) Measured on 2 vCPUs (skin-cancer CNN, batch
 * 1): on grid nodes 194-295 ms per query with concurrent GC against 127-145
 * ms without (each holder's CPU time per query 131-197 -> 93-113 ms); in
 * process (VirtualWorkers) 142-154 -> 135-141 ms, CPU time 219-240 -> 149-160
 * ms.
 *
 * V8 reads the flag only at start (setting it later aborts the process), so
 * it goes on the command line of the processes tsyft starts. TSYFT_GC chooses
 * otherwise: "single", "concurrent" (V8's default) or "auto" (the rule above).
 *
 * @example
 * ```ts
 * spawn(process.execPath, [...gcFlags(), "server.js"]);   // ["--single-threaded-gc"] on 2 CPUs
 * ```
 */
import * as os from "node:os";
import { ErrorCode, TsyftError } from "./errors";

/** Logical CPUs from which tsyft's processes keep V8's concurrent garbage collection. */
export const CONCURRENT_GC_MIN_CPUS = 4;

/** The environment variable that chooses the collector of tsyft's processes. */
export const GC_ENV = "TSYFT_GC";

const CHOICES = ["auto", "single", "concurrent"] as const;

/** The V8 flags of a process tsyft starts, for this machine and TSYFT_GC. */
export function gcFlags(env: NodeJS.ProcessEnv = process.env, cpus: number = os.availableParallelism()): string[] {
  const choice = env[GC_ENV] ?? "auto";
  if (!(CHOICES as readonly string[]).includes(choice)) {
    throw new TsyftError(
      ErrorCode.INVALID_ARGUMENT,
      `${GC_ENV} must be one of ${CHOICES.join(", ")}, got ${JSON.stringify(choice)}. ` +
        `Unset it to let tsyft choose from the number of CPUs.`,
      { [GC_ENV]: choice },
    );
  }
  const single = choice === "single" || (choice === "auto" && cpus < CONCURRENT_GC_MIN_CPUS);
  return single ? ["--single-threaded-gc"] : [];
}
