/**
 * Guessing passwords is slowed down on the server, where it cannot be skipped.
 *
 * Every login attempt counts as a failure for its account (the email) and for
 * the address it came from until it succeeds, so a burst of parallel guesses
 * is counted before any scrypt work finishes. A few failures are free (people
 * mistype); after them each attempt must wait longer than the one before
 * (1 s, 2 s, 4 s, ... up to 15 minutes after the latest failure). A success
 * clears its account's count; an address's count only fades with time, so an
 * attacker with an account of their own cannot reset it between guesses.
 * Failures older than the window are forgotten, and the table of keys is
 * bounded, so random emails cannot grow it without end.
 *
 * The refusal is a LimitError (`TSYFT_ERR_LIMIT`, HTTP 429) naming how long to
 * wait; a wrong password itself still gets the one answer for an unknown email
 * and a wrong password.
 *
 * @example
 * ```ts
 * const throttle = new LoginThrottle();
 * const attempt = throttle.begin(email, address);   // throws a LimitError while the key must wait
 * if (ok) attempt.succeeded();
 * ```
 */
import { ErrorCode, LimitError } from "../core/errors";

export interface LoginThrottleOptions {
  /** Failures of one account allowed before attempts are spaced out (default 5). */
  freeFailuresPerAccount?: number;
  /** Failures from one address allowed before attempts are spaced out (default 20). */
  freeFailuresPerAddress?: number;
  /** The first wait after the free failures (default 1,000 ms); it doubles with each further failure. */
  baseDelayMs?: number;
  /** The longest wait, and how long failures are remembered (default 15 minutes). */
  windowMs?: number;
  /** Keys remembered at most (default 10,000; the oldest are dropped). */
  maxKeys?: number;
  /** The clock (tests). */
  now?: () => number;
}

interface Failures {
  count: number;
  last: number;
}

/** One attempt in flight: counted as failed unless it says it succeeded. */
export interface LoginAttempt {
  succeeded(): void;
}

/**
 * Counts failed logins per account and per address, and refuses attempts that come too soon.
 *
 * @example
 * ```ts
 * const throttle = new LoginThrottle({ freeFailuresPerAccount: 3 });
 * ```
 */
export class LoginThrottle {
  private readonly failures = new Map<string, Failures>();
  private readonly freeAccount: number;
  private readonly freeAddress: number;
  private readonly baseDelayMs: number;
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(options: LoginThrottleOptions = {}) {
    this.freeAccount = options.freeFailuresPerAccount ?? 5;
    this.freeAddress = options.freeFailuresPerAddress ?? 20;
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.windowMs = options.windowMs ?? 15 * 60_000;
    this.maxKeys = options.maxKeys ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Admits an attempt for `email` from `address` (counted as failed until `succeeded()`), or throws a LimitError. */
  begin(email: string, address: string | undefined): LoginAttempt {
    const account = `account:${email.trim().toLowerCase()}`;
    const from = `address:${address ?? "unknown"}`;
    const now = this.now();
    const wait = Math.max(this.waitMs(account, this.freeAccount, now), this.waitMs(from, this.freeAddress, now));
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      throw new LimitError(
        ErrorCode.LIMIT,
        `Too many failed logins for this account or from this address: wait ${seconds} s before trying again ` +
          "(each failure doubles the wait). If the password is lost, ask the domain's owner to reset it.",
        { limit: "loginAttempts", retryAfterMs: wait, status: 429 },
      );
    }
    this.fail(account, now);
    this.fail(from, now);
    let settled = false;
    return {
      succeeded: () => {
        if (settled) return;
        settled = true;
        this.failures.delete(account);
        const seen = this.failures.get(from);
        if (seen) seen.count = Math.max(0, seen.count - 1);
      },
    };
  }

  /** How long `key` must still wait at `now` (0: it may try). */
  private waitMs(key: string, free: number, now: number): number {
    const seen = this.failures.get(key);
    if (!seen) return 0;
    if (now - seen.last >= this.windowMs) {
      this.failures.delete(key);
      return 0;
    }
    if (seen.count < free) return 0;
    const delay = Math.min(this.windowMs, this.baseDelayMs * 2 ** Math.min(30, seen.count - free));
    return Math.max(0, seen.last + delay - now);
  }

  private fail(key: string, now: number): void {
    const seen = this.failures.get(key);
    // Re-inserted, so the map's order is oldest use first and the bound drops the stalest key.
    this.failures.delete(key);
    this.failures.set(key, { count: (seen?.count ?? 0) + 1, last: now });
    if (this.failures.size > this.maxKeys) this.failures.delete(this.failures.keys().next().value!);
  }
}
