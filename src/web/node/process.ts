/**
 * The little of Node's `process` that library code reads on the client path, for the browser bundle
 * (injected by scripts/build-web.mjs): no environment (settings come from `configure`), "/" as the cwd.
 *
 * @example
 * ```ts
 * process.env.TSYFT_CA_FILE;   // undefined in the browser
 * ```
 */
export const process = {
  env: {} as Record<string, string | undefined>,
  platform: "browser",
  versions: {} as Record<string, string>,
  cwd: (): string => "/",
  nextTick: (fn: (...args: unknown[]) => void, ...args: unknown[]): void => queueMicrotask(() => fn(...args)),
  hrtime: { bigint: (): bigint => BigInt(Math.round(performance.now() * 1e6)) },
  emitWarning: (message: string): void => console.warn(message),
};
