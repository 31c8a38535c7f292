/**
 * Which cell a piece of code belongs to, also after an `await`, and stopping
 * what an interrupted cell left pending.
 *
 * Each cell runs inside an AsyncLocalStorage scope, so code resumed after an
 * `await` (or a timer callback the cell scheduled) still knows its cell: its
 * output carries that cell's id and lands in that cell's output area, never
 * in the cell running at the time.
 *
 * An interrupt cannot unwind an `async` function that is suspended at an
 * `await`: its continuation would run whenever the awaited promise settles and
 * go on printing ("step 4 ... step 15" under a later cell). So the timers a
 * cell schedules (setTimeout, setInterval, setImmediate: what its awaits on
 * sleeps are built on) are recorded in its scope; interrupting the cell
 * clears them, which leaves such a continuation suspended for good, and any
 * callback of a cancelled scope that still fires (a timer racing the
 * interrupt, one scheduled by a continuation that resumed on I/O) is skipped.
 */
import { AsyncLocalStorage } from "async_hooks";

/** The part of a cell the scope needs. */
export interface CellScope {
  /** Id of the cell (engine message ids). */
  readonly id: number;
  /** Set by {@link cancelScope}: the cell was interrupted. */
  cancelled: boolean;
  /** Set by {@link endScope}: the cell ended normally; its timers are no longer recorded. */
  ended: boolean;
  /** Pending timers the cell's code scheduled while it ran. */
  readonly timers: Set<TimerHandle>;
}

type TimerHandle = NodeJS.Timeout | NodeJS.Immediate;
type Callback = (...args: unknown[]) => void;
type Scheduler = (callback: unknown, ...rest: unknown[]) => TimerHandle;

const storage = new AsyncLocalStorage<CellScope>();

/** A new scope for the cell `id`. */
export function newScope(id: number): CellScope {
  return { id, cancelled: false, ended: false, timers: new Set() };
}

/** Runs `fn` (a cell) in `scope`; everything it schedules inherits the scope. */
export function runInScope<T>(scope: CellScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** The scope of the code running now, if it comes from a cell. */
export function currentScope(): CellScope | undefined {
  return storage.getStore();
}

/** Clears the cell's pending timers and makes its remaining callbacks no-ops. Returns how many were cleared. */
export function cancelScope(scope: CellScope): number {
  scope.cancelled = true;
  const count = scope.timers.size;
  for (const timer of scope.timers) {
    if ("refresh" in timer) clearTimeout(timer);
    else clearImmediate(timer);
  }
  scope.timers.clear();
  return count;
}

/** The cell ended on its own: timers it left (background work) keep running and are no longer recorded. */
export function endScope(scope: CellScope): void {
  scope.ended = true;
  scope.timers.clear();
}

let installed = false;

/** The scope each recorded timer is in, so that clearing it forgets it there. */
const scopeOfTimer = new WeakMap<TimerHandle, CellScope>();

/**
 * Replaces the global setTimeout, setInterval and setImmediate with versions
 * that record their timer in the current cell's scope, and the clear
 * functions with versions that forget it there. Idempotent. Forgetting
 * matters: a cell that runs encrypted queries sets and clears a timeout per
 * message it waits for (the library's receive deadline), thousands per
 * minute, and each one kept would hold its callback's closure until the cell
 * ends.
 */
export function trackTimers(): void {
  if (installed) return;
  installed = true;
  const g = globalThis as unknown as Record<string, unknown>;

  const schedule = (real: Scheduler, repeating: boolean): Scheduler =>
    function scheduled(callback: unknown, ...rest: unknown[]): TimerHandle {
      const scope = storage.getStore();
      if (!scope || typeof callback !== "function") return real(callback, ...rest);
      // The handle is only known after scheduling; the callback reads it through this box.
      const box: { timer?: TimerHandle } = {};
      const wrapped = function (this: unknown, ...args: unknown[]) {
        if (!repeating && box.timer) scope.timers.delete(box.timer);
        if (scope.cancelled) return;
        (callback as Callback).apply(this, args);
      };
      box.timer = real(wrapped, ...rest);
      if (!scope.cancelled && !scope.ended) {
        scope.timers.add(box.timer);
        scopeOfTimer.set(box.timer, scope);
      }
      return box.timer;
    };

  const forget = (real: (timer: unknown) => void) =>
    function cleared(timer: unknown): void {
      if (timer !== null && typeof timer === "object")
        scopeOfTimer.get(timer as TimerHandle)?.timers.delete(timer as TimerHandle);
      real(timer);
    };

  for (const name of ["setTimeout", "setInterval", "setImmediate"] as const) {
    const real = g[name] as Scheduler & Record<symbol, unknown>;
    const replacement = schedule(real, name === "setInterval") as Scheduler & Record<symbol, unknown>;
    // Keep util.promisify(setTimeout) and friends working.
    for (const key of Object.getOwnPropertySymbols(real)) replacement[key] = real[key];
    g[name] = replacement;
  }
  for (const name of ["clearTimeout", "clearInterval", "clearImmediate"] as const) {
    g[name] = forget(g[name] as (timer: unknown) => void);
  }
}
