/**
 * Listeners for uncaught errors that a cell's libraries add, made harmless to
 * the execution context.
 *
 * The worker reports an uncaught exception or unhandled rejection of a cell
 * and carries on. Code that a cell loads may add its own listeners for those
 * events that throw: TF.js's WebAssembly backend (its Emscripten runtime)
 * adds `process.on("unhandledRejection", (reason) => { throw reason; })` and
 * an "uncaughtException" listener that rethrows, which turned the first
 * unhandled rejection of any later cell into the end of the worker: every
 * variable gone, "exit code 1". So such listeners, added after the worker's
 * own, run guarded: one that throws the very error it was handed is the
 * default "crash the process" policy, which the kernel replaces by its report
 * (made already, by its own listener, which runs first); any other error a
 * listener throws is reported. `process.off(event, listener)` still finds
 * the listener it was given.
 *
 * @example
 * ```ts
 * process.on("unhandledRejection", reportIt);   // the worker's own, first
 * guardErrorListeners((event, error) => warn(`A listener for ${event} threw: ${error}`));
 * process.on("unhandledRejection", (r) => { throw r; });   // now reported once, and the worker lives
 * ```
 */

const EVENTS = new Set<string | symbol>(["uncaughtException", "unhandledRejection"]);

type Listener = (...args: unknown[]) => unknown;

/** From now on, listeners added for uncaught errors throw nothing out of themselves. */
export function guardErrorListeners(report: (event: string, error: unknown) => void): void {
  const guard = (event: string | symbol, listener: Listener): Listener => {
    const guarded = function (this: unknown, error: unknown, ...rest: unknown[]): unknown {
      try {
        return listener.call(this, error, ...rest);
      } catch (thrown) {
        if (thrown !== error) report(String(event), thrown);
        return undefined;
      }
    };
    // EventEmitter's removeListener also matches `.listener` (as for once()).
    return Object.assign(guarded, { listener });
  };
  for (const method of ["on", "addListener", "prependListener"] as const) {
    const original = process[method].bind(process) as (event: string | symbol, listener: Listener) => NodeJS.Process;
    (process as unknown as Record<string, unknown>)[method] = (event: string | symbol, listener: Listener) =>
      original(event, EVENTS.has(event) && typeof listener === "function" ? guard(event, listener) : listener);
  }
}
