/**
 * Exponential backoff with jitter, for reconnecting links: 100 ms, 200 ms,
 * 400 ms... up to a ceiling, reset after a success.
 *
 * @example
 * ```ts
 * const backoff = new Backoff({ initialMs: 100, maxMs: 5_000 });
 * setTimeout(tryAgain, backoff.next());   // 100 ms (+ up to 20% jitter), then 200 ms...
 * backoff.reset();                        // after a successful reconnection
 * ```
 */
export interface BackoffOptions {
  /** First delay. Default 100 ms. */
  initialMs?: number;
  /** Largest delay. Default 5 s. */
  maxMs?: number;
  /** Growth factor per attempt. Default 2. */
  factor?: number;
  /** Random extra delay, as a fraction of the delay. Default 0.2. */
  jitter?: number;
}

/**
 * Delays between reconnection attempts.
 *
 * @example
 * ```ts
 * const delay = new Backoff({ initialMs: 50 }).next();   // 50..60 ms
 * ```
 */
export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 100;
    this.maxMs = options.maxMs ?? 5_000;
    this.factor = options.factor ?? 2;
    this.jitter = options.jitter ?? 0.2;
  }

  /** The delay before the next attempt. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt++);
    return Math.round(base * (1 + this.jitter * Math.random()));
  }

  /** Attempts so far since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }
}
