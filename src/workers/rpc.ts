/**
 * Calls waiting for their answers: the one bookkeeping behind every
 * request/reply link of the library (a WorkerClient's requests to a worker,
 * the grid client's control calls to its node).
 * 1. `open` gives a call its request id and a timeout; the timeout's error
 *    names the other end and what was asked, so a hang always ends in a
 *    message that says who did not answer to what.
 * 2. `settle` hands a result to the call waiting for it; a result for a call
 *    that is not waiting (it timed out, or was never made) is left to the
 *    caller, which decides whether it is worth reporting.
 * 3. `failAll` rejects every waiting call when the link drops, naming the
 *    worker and what each call was waiting for.
 *
 * @example
 * ```ts
 * const calls = new PendingCalls("bob");
 * const { rid, promise } = calls.open("link to alice", 30_000);
 * send({ t: "link", rid, id: "alice", url });
 * // later, when the result comes back:
 * calls.settle(rid, { ok: true, value: "alice" });
 * ```
 */
import { CommunicationError, ErrorCode, deserializeError, type SerializedError } from "../core/errors";

/** A call's outcome as it travels back: a value, or an error serialized by the other end. */
export type CallResult = { ok: true; value?: unknown } | { ok: false; error: SerializedError };

/** Why every call of a link failed at once: the link closed, or a message broke the size limit. */
export type LinkDropCode = typeof ErrorCode.CONNECTION | typeof ErrorCode.MESSAGE_TOO_LARGE;

interface Waiter {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  what: string;
}

/**
 * Calls to one worker or node that wait for their results.
 *
 * @example
 * ```ts
 * const { rid, promise } = new PendingCalls("bob").open("status", 5_000);
 * ```
 */
export class PendingCalls {
  private nextRid = 1;
  private readonly waiters = new Map<number, Waiter>();

  /** `peer` names the other end in errors. */
  constructor(private readonly peer: string) {}

  /** A new call waiting for `what`: its request id and the promise its result settles. */
  open(what: string, timeoutMs: number): { rid: number; promise: Promise<unknown> } {
    const rid = this.nextRid++;
    const promise = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(rid);
        reject(
          new CommunicationError(
            ErrorCode.TIMEOUT,
            `No answer from ${this.peer} to ${what} within ${timeoutMs} ms. Is it alive? (timeoutMs is configurable)`,
            { worker: this.peer },
          ),
        );
      }, timeoutMs);
      timer.unref?.();
      this.waiters.set(rid, { resolve, reject, timer, what });
    });
    return { rid, promise };
  }

  /** Settles call `rid` with its result; false when no such call is waiting (a late or unknown result). */
  settle(rid: number, result: CallResult): boolean {
    const waiter = this.take(rid);
    if (!waiter) return false;
    if (result.ok) waiter.resolve(result.value);
    else waiter.reject(deserializeError(result.error));
    return true;
  }

  /** Fails call `rid` with `error` (it could not be sent). */
  fail(rid: number, error: Error): void {
    this.take(rid)?.reject(error);
  }

  /** The link is gone: every waiting call fails now, naming the peer and what the call waited for. */
  failAll(reason: string, code: LinkDropCode = ErrorCode.CONNECTION): void {
    // Deleting the entry being visited is safe in a Map iteration.
    for (const [rid, waiter] of this.waiters) {
      this.take(rid);
      waiter.reject(
        new CommunicationError(code, `Lost the link to ${this.peer} (${reason}) while waiting for ${waiter.what}.`, {
          worker: this.peer,
        }),
      );
    }
  }

  /** How many calls are waiting for their results. */
  get waiting(): number {
    return this.waiters.size;
  }

  private take(rid: number): Waiter | undefined {
    const waiter = this.waiters.get(rid);
    if (!waiter) return undefined;
    this.waiters.delete(rid);
    clearTimeout(waiter.timer);
    return waiter;
  }
}
