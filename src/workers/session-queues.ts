/**
 * One queue per session: a session's requests run one after another in the
 * order they came (a client pipelines commands that read the outputs of
 * earlier ones), while different sessions run concurrently. Two clients reach
 * the holders of a sharing in different orders; with one global queue bob
 * would run client A's protocol while charlie runs client B's, each waiting
 * for a frame the other will only send after its own queue moves on.
 *
 * Objects made by one session and used by another (a model owner's weight
 * shares, used by users' runs) are stored before any user learns of them, so
 * they need no order across sessions.
 *
 * @example
 * ```ts
 * const queues = new SessionQueues();
 * void queues.enqueue("s-1", () => runA());   // runs now
 * void queues.enqueue("s-2", () => runB());   // runs now too: another session
 * void queues.enqueue("s-1", () => fetchA()); // after runA
 * ```
 */
export class SessionQueues {
  /** The tail of each session's queue; removed when it settles with nothing behind it. */
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `fn` after everything `session` queued before it. */
  enqueue<T>(session: string, fn: () => T | Promise<T>): Promise<T> {
    const run = (this.tails.get(session) ?? Promise.resolve()).then(fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(session, tail);
    // Forget an idle session, so that sessions that come and go leave nothing behind.
    void tail.then(() => this.tails.get(session) === tail && this.tails.delete(session));
    return run;
  }

  /** Sessions with work queued or running. */
  get active(): number {
    return this.tails.size;
  }
}
