/**
 * Makes `Runtime.terminateExecution` safe for Node's async bookkeeping (worker side).
 *
 * Node keeps a stack of async contexts. JavaScript pushes onto it before a
 * timer, immediate or nextTick callback, and before every promise
 * continuation once an async hook is enabled (AsyncLocalStorage does that);
 * the matching pop runs after the callback. A termination skips that pop,
 * and when the unwinding reaches the native callback scope Node finds the
 * stack corrupted and aborts the whole process ("async hook stack has become
 * corrupted", or a failed CHECK on execution_async_id).
 *
 * So, just before terminating, the engine evaluates {@link DISARM_EXPRESSION}
 * in the busy worker (the inspector runs it at the interrupted point): it
 * switches off the two checks (kCheck, kTotals). The worker's next message
 * handler calls {@link rearm}, which empties the now meaningless async-context
 * stack and restores the checks, so hooks and AsyncLocalStorage keep working.
 * This uses Node's async_wrap binding; where it is missing, disarm answers
 * "unavailable" and the engine replaces the worker instead of terminating.
 */

interface AsyncWrapBinding {
  async_hook_fields: Uint32Array;
  constants: { kTotals: number; kCheck: number; kStackLength: number };
  clearAsyncIdStack(): void;
}

const DISARM = Symbol.for("tsyft.kernel.disarm");

/** What the engine evaluates in the worker, through the inspector, before terminating. */
export const DISARM_EXPRESSION = `globalThis[Symbol.for("tsyft.kernel.disarm")]?.() ?? "unavailable"`;

function loadBinding(): AsyncWrapBinding | undefined {
  const quiet = process.noDeprecation;
  process.noDeprecation = true; // process.binding is deprecated (DEP0111); the warning would reach the cell's output
  try {
    const binding = (process as unknown as { binding(name: string): AsyncWrapBinding }).binding("async_wrap");
    const ok =
      binding?.async_hook_fields instanceof Uint32Array &&
      typeof binding.clearAsyncIdStack === "function" &&
      typeof binding.constants?.kTotals === "number" &&
      typeof binding.constants?.kCheck === "number";
    return ok ? binding : undefined;
  } catch {
    return undefined;
  } finally {
    process.noDeprecation = quiet;
  }
}

const binding = loadBinding();
let saved: { totals: number; check: number } | undefined;

/** Installs the disarm function the engine calls before a termination. */
export function installAsyncGuard(): void {
  (globalThis as Record<symbol, unknown>)[DISARM] = (): string => {
    if (!binding) return "unavailable";
    const fields = binding.async_hook_fields;
    const { kTotals, kCheck } = binding.constants;
    saved ??= { totals: fields[kTotals], check: fields[kCheck] };
    fields[kTotals] = 0;
    fields[kCheck] = 0;
    return "disarmed";
  };
}

/** Restores Node's async bookkeeping after a termination; call first in every message handler. */
export function rearm(): void {
  if (!binding || !saved) return;
  const fields = binding.async_hook_fields;
  const { kTotals, kCheck } = binding.constants;
  binding.clearAsyncIdStack();
  fields[kTotals] = saved.totals;
  fields[kCheck] = saved.check;
  saved = undefined;
}
