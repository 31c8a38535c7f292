/**
 * `PerformanceObserver` for the browser bundle, as the profiler (src/core/profiler.ts) uses it: to count
 * garbage-collection time, which Node reports as "gc" entries and browsers do not report at all. So it observes
 * nothing and the profiler's GC figure stays 0 in a page (its step and layer times still work).
 *
 * @example
 * ```ts
 * new PerformanceObserver(() => undefined).observe({ entryTypes: ["gc"] });   // no entries, ever
 * ```
 */
export class PerformanceObserver {
  constructor(_callback: (list: { getEntries(): Array<{ duration: number }> }) => void) {}

  observe(_options: { entryTypes: string[] }): void {}

  disconnect(): void {}

  takeRecords(): Array<{ duration: number }> {
    return [];
  }
}
