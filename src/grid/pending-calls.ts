/**
 * Control requests in flight: request ids, their timeouts, and failing them
 * all when a link drops. (Worker requests use WorkerClient for the same job.)
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

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  what: string;
}

/**
 * Control calls waiting for their results.
 *
 * @example
 * ```ts
 * const { rid, promise } = new PendingCalls("bob").open("status", 5_000);
 * ```
 */
export class PendingCalls {
  private nextRid = 1;
  private readonly pending = new Map<number, Pending>();

  /** `node` names the other end in errors. */
  constructor(private readonly node: string) {}

  /** A new call: its rid and the promise its result settles. */
  open(what: string, timeoutMs: number): { rid: number; promise: Promise<unknown> } {
    const rid = this.nextRid++;
    const promise = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(rid);
        reject(
          new CommunicationError(
            ErrorCode.TIMEOUT,
            `No answer from ${this.node} to ${what} within ${timeoutMs} ms. Is it alive? (timeoutMs is configurable)`,
            {
              worker: this.node,
            },
          ),
        );
      }, timeoutMs);
      timer.unref?.();
      this.pending.set(rid, { resolve, reject, timer, what });
    });
    return { rid, promise };
  }

  /** Settles call `rid` with a result; false when no such call is waiting. */
  settle(rid: number, result: { ok: true; value?: unknown } | { ok: false; error: SerializedError }): boolean {
    const pending = this.pending.get(rid);
    if (!pending) return false;
    this.pending.delete(rid);
    clearTimeout(pending.timer);
    if (result.ok) pending.resolve(result.value);
    else pending.reject(deserializeError(result.error));
    return true;
  }

  /** Fails call `rid` with `error` (it could not be sent). */
  fail(rid: number, error: Error): void {
    const pending = this.pending.get(rid);
    if (!pending) return;
    this.pending.delete(rid);
    clearTimeout(pending.timer);
    pending.reject(error);
  }

  /** The link is gone: every call fails now, naming the node. */
  failAll(
    reason: string,
    code: typeof ErrorCode.CONNECTION | typeof ErrorCode.MESSAGE_TOO_LARGE = ErrorCode.CONNECTION,
  ): void {
    for (const [rid, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(
        new CommunicationError(code, `Lost the link to ${this.node} (${reason}) while waiting for ${pending.what}.`, {
          worker: this.node,
        }),
      );
      this.pending.delete(rid);
    }
  }

  get size(): number {
    return this.pending.size;
  }
}
