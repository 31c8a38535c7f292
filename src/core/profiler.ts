/**
 * Where the time of an encrypted run goes: an always-compiled, off-by-default
 * timing hook. Code marks its steps with `timed` (synchronous work: ring
 * kernels, copies into and out of wasm, PRG expansion, dealing, encoding,
 * framing) and `waited` (a promise a party waits on: an open's round, the
 * dealer's correction). With no profiler attached each mark is one check of a
 * module variable; attached, it records:
 * - per step, self time (nested steps subtracted, so steps add up) and total;
 * - per layer (a plan op, named by `inLayer`), the steps' self time inside it
 *   and the layer's wall time per party;
 * - waits (wall time, overlapping other parties' work in one process);
 * - garbage collection (from the runtime's own gc entries).
 * What marks cannot see (glue code, the runtime) is wall time minus the steps;
 * `node --cpu-prof` shows that part.
 *
 * @example
 * ```ts
 * const profiler = attachProfiler();
 * await plan.run(x);
 * const report = profiler.report();   // { steps: { "wasm.matmul": { selfMs, totalMs, calls } }, layers, waits, gcMs, ... }
 * detachProfiler();
 * ```
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { PerformanceObserver } from "node:perf_hooks";

/** Time of one step: `selfMs` excludes steps nested inside it, `totalMs` includes them. */
export interface StepTotals {
  selfMs: number;
  totalMs: number;
  calls: number;
}

/** One layer (plan op): its wall time summed over the parties that ran it, and the steps' self time inside it. */
export interface LayerTotals {
  wallMs: number;
  calls: number;
  steps: Record<string, number>;
}

/** What a profiler saw since it was attached or last reset. */
export interface ProfileReport {
  wallMs: number;
  gcMs: number;
  gcCount: number;
  steps: Record<string, StepTotals>;
  layers: Record<string, LayerTotals>;
  waits: Record<string, { ms: number; count: number }>;
  /** Peak resident set size of this process so far, in bytes. */
  peakRssBytes: number;
}

interface Frame {
  start: number;
  nestedMs: number;
}

/** Steps outside any layer are reported under this name. */
export const NO_LAYER = "(outside layers)";

export class Profiler {
  private readonly layer = new AsyncLocalStorage<string>();
  private readonly stack: Frame[] = [];
  private steps = new Map<string, StepTotals>();
  private layers = new Map<string, LayerTotals>();
  private waits = new Map<string, { ms: number; count: number }>();
  private gcMs = 0;
  private gcCount = 0;
  private started = performance.now();
  private readonly gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      this.gcMs += entry.duration;
      this.gcCount++;
    }
  });

  constructor() {
    this.gc.observe({ entryTypes: ["gc"] });
  }

  /** Runs synchronous `fn` as step `name`. */
  time<T>(name: string, fn: () => T): T {
    const frame: Frame = { start: performance.now(), nestedMs: 0 };
    this.stack.push(frame);
    try {
      return fn();
    } finally {
      this.stack.pop();
      const total = performance.now() - frame.start;
      const parent = this.stack[this.stack.length - 1];
      if (parent) parent.nestedMs += total;
      this.record(name, total - frame.nestedMs, total);
    }
  }

  /** Awaits `promise` as wait `name`. */
  async wait<T>(name: string, promise: Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await promise;
    } finally {
      const w = this.waits.get(name) ?? { ms: 0, count: 0 };
      w.ms += performance.now() - start;
      w.count++;
      this.waits.set(name, w);
    }
  }

  /** Runs `fn` as layer `label`: the steps it runs (in its async continuations too) count towards the layer. */
  async inLayer<T>(label: string, fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await this.layer.run(label, fn);
    } finally {
      const layer = this.layerTotals(label);
      layer.wallMs += performance.now() - start;
      layer.calls++;
    }
  }

  /** Forgets what was recorded (after a warm-up). */
  reset(): void {
    this.steps = new Map();
    this.layers = new Map();
    this.waits = new Map();
    this.gcMs = 0;
    this.gcCount = 0;
    this.started = performance.now();
  }

  report(): ProfileReport {
    // Entries still queued for the observer's callback count now.
    for (const entry of this.gc.takeRecords()) {
      this.gcMs += entry.duration;
      this.gcCount++;
    }
    return {
      wallMs: performance.now() - this.started,
      gcMs: this.gcMs,
      gcCount: this.gcCount,
      steps: Object.fromEntries([...this.steps].map(([k, v]) => [k, { ...v }])),
      layers: Object.fromEntries([...this.layers].map(([k, v]) => [k, { ...v, steps: { ...v.steps } }])),
      waits: Object.fromEntries([...this.waits].map(([k, v]) => [k, { ...v }])),
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
  }

  /** Stops observing garbage collection. */
  close(): void {
    this.gc.disconnect();
  }

  private record(name: string, selfMs: number, totalMs: number): void {
    const step = this.steps.get(name) ?? { selfMs: 0, totalMs: 0, calls: 0 };
    step.selfMs += selfMs;
    step.totalMs += totalMs;
    step.calls++;
    this.steps.set(name, step);
    const layer = this.layerTotals(this.layer.getStore() ?? NO_LAYER);
    layer.steps[name] = (layer.steps[name] ?? 0) + selfMs;
  }

  private layerTotals(label: string): LayerTotals {
    let layer = this.layers.get(label);
    if (!layer) {
      layer = { wallMs: 0, calls: 0, steps: {} };
      this.layers.set(label, layer);
    }
    return layer;
  }
}

let active: Profiler | undefined;

/**
 * Starts recording (replacing a profiler already attached).
 *
 * @example
 * ```ts
 * const profiler = attachProfiler();
 * ```
 */
export function attachProfiler(): Profiler {
  active?.close();
  active = new Profiler();
  return active;
}

/**
 * Stops recording; returns what the profiler saw, or undefined when none was attached.
 *
 * @example
 * ```ts
 * const report = detachProfiler();
 * ```
 */
export function detachProfiler(): ProfileReport | undefined {
  const report = active?.report();
  active?.close();
  active = undefined;
  return report;
}

/**
 * The profiler attached now, if any.
 *
 * @example
 * ```ts
 * activeProfiler()?.reset();
 * ```
 */
export function activeProfiler(): Profiler | undefined {
  return active;
}

/**
 * Runs `fn` as step `name` when a profiler is attached; otherwise just runs it.
 *
 * @example
 * ```ts
 * const out = timed("prg.expand", () => keystream(seed, 0, bytes));
 * ```
 */
export function timed<T>(name: string, fn: () => T): T {
  return active ? active.time(name, fn) : fn();
}

/**
 * Awaits `promise`, as wait `name` when a profiler is attached.
 *
 * @example
 * ```ts
 * const frames = await waited("open", Promise.all(receives));
 * ```
 */
export function waited<T>(name: string, promise: Promise<T>): Promise<T> {
  return active ? active.wait(name, promise) : promise;
}

/**
 * Runs `fn` as a layer when a profiler is attached; otherwise just runs it.
 *
 * @example
 * ```ts
 * await inLayer("3:relu", () => runPartyOp(ctx, op, args, attrs, enc));
 * ```
 */
export function inLayer<T>(label: string, fn: () => Promise<T>): Promise<T> {
  return active ? active.inLayer(label, fn) : fn();
}
