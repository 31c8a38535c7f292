/**
 * Stopping JavaScript that is busy in a worker thread, without killing it.
 *
 * A cell stuck in `while (true) {}` never yields to the worker's event loop,
 * so a message cannot reach it. The V8 inspector can: the main thread holds an
 * in-process inspector session, attaches to each worker through the
 * `NodeWorker` domain, and sends `Runtime.terminateExecution`, which unwinds
 * the running JavaScript (the loop and the cell's pending async function) and
 * lets the worker's event loop run again with its state intact. This works for
 * a loop in the cell's synchronous part and for one that runs after an
 * `await`, where `vm`'s `breakOnSigint` cannot help.
 */
import * as inspector from "inspector";
import type { Worker } from "worker_threads";

export class WorkerTerminator {
  private session: inspector.Session | undefined;
  /** Inspector session id by worker thread id. */
  private readonly sessions = new Map<string, string>();
  private readonly attachWaiters = new Map<string, Array<() => void>>();
  private messageId = 0;

  constructor() {
    try {
      const session = new inspector.Session();
      session.connect();
      session.on("NodeWorker.attachedToWorker", (event: { params: { sessionId: string; workerInfo: { workerId: string } } }) => {
        const workerId = event.params.workerInfo.workerId;
        this.sessions.set(workerId, event.params.sessionId);
        for (const wake of this.attachWaiters.get(workerId) ?? []) wake();
        this.attachWaiters.delete(workerId);
      });
      session.on("NodeWorker.detachedFromWorker", (event: { params: { sessionId: string } }) => {
        for (const [workerId, sessionId] of this.sessions) {
          if (sessionId === event.params.sessionId) this.sessions.delete(workerId);
        }
      });
      session.post("NodeWorker.enable", { waitForDebuggerOnStart: false });
      this.session = session;
    } catch {
      // No inspector in this Node build: busy cells can only be stopped by replacing the worker.
      this.session = undefined;
    }
  }

  /** Whether busy code in workers can be stopped in place. */
  get available(): boolean {
    return this.session !== undefined;
  }

  /** Resolves once the inspector is attached to `worker` (or after `timeoutMs`). */
  async attached(worker: Worker, timeoutMs = 2000): Promise<boolean> {
    const workerId = String(worker.threadId);
    if (!this.session) return false;
    if (this.sessions.has(workerId)) return true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      const waiters = this.attachWaiters.get(workerId) ?? [];
      waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.attachWaiters.set(workerId, waiters);
    });
    return this.sessions.has(workerId);
  }

  /** Unwinds whatever JavaScript `worker` is running now (or runs next). */
  async terminateExecution(worker: Worker): Promise<boolean> {
    const session = this.session;
    if (!session || !(await this.attached(worker))) return false;
    const sessionId = this.sessions.get(String(worker.threadId))!;
    const message = JSON.stringify({ id: ++this.messageId, method: "Runtime.terminateExecution" });
    return new Promise<boolean>((resolve) => {
      session.post("NodeWorker.sendMessageToWorker", { sessionId, message }, (error) => resolve(!error));
    });
  }

  close(): void {
    this.session?.disconnect();
    this.session = undefined;
  }
}
