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
 * `await`, where `vm`'s `breakOnSigint` cannot help. Before terminating, the
 * worker's async-hook checks are disarmed (kernel/engine/async-guard.ts), or
 * Node would abort the process when the termination lands in a timer callback
 * or, with AsyncLocalStorage in use, in any promise continuation.
 */
import * as inspector from "inspector";
import type { Worker } from "worker_threads";
import { DISARM_EXPRESSION } from "./async-guard";

interface InspectorReply {
  id?: number;
  result?: { result?: { value?: unknown } };
  error?: { message: string };
}

export class WorkerTerminator {
  private session: inspector.Session | undefined;
  /** Inspector session id by worker thread id. */
  private readonly sessions = new Map<string, string>();
  private readonly attachWaiters = new Map<string, Array<() => void>>();
  private readonly waiting = new Map<number, (reply: InspectorReply) => void>();
  private messageId = 0;

  constructor() {
    try {
      const session = new inspector.Session();
      session.connect();
      session.on(
        "NodeWorker.attachedToWorker",
        (event: { params: { sessionId: string; workerInfo: { workerId: string } } }) => {
          const workerId = event.params.workerInfo.workerId;
          this.sessions.set(workerId, event.params.sessionId);
          for (const wake of this.attachWaiters.get(workerId) ?? []) wake();
          this.attachWaiters.delete(workerId);
        },
      );
      session.on("NodeWorker.detachedFromWorker", (event: { params: { sessionId: string } }) => {
        for (const [workerId, sessionId] of this.sessions) {
          if (sessionId === event.params.sessionId) this.sessions.delete(workerId);
        }
      });
      session.on("NodeWorker.receivedMessageFromWorker", (event: { params: { message: string } }) => {
        let reply: InspectorReply;
        try {
          reply = JSON.parse(event.params.message);
        } catch {
          return;
        }
        if (reply.id === undefined) return;
        this.waiting.get(reply.id)?.(reply);
        this.waiting.delete(reply.id);
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

  /** Sends a CDP command to the worker; resolves with its reply, or undefined after `timeoutMs`. */
  private command(
    worker: Worker,
    method: string,
    params: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<InspectorReply | undefined> {
    const session = this.session;
    const sessionId = this.sessions.get(String(worker.threadId));
    if (!session || !sessionId) return Promise.resolve(undefined);
    const id = ++this.messageId;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.waiting.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      const message = JSON.stringify({ id, method, params });
      session.post("NodeWorker.sendMessageToWorker", { sessionId, message }, (error) => {
        if (!error) return;
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(undefined);
      });
    });
  }

  /**
   * Unwinds whatever JavaScript `worker` is running now (or runs next), after
   * disarming Node's async-hook checks in it. False when that is not possible
   * (no inspector, or no way to disarm): the caller must replace the worker.
   */
  async terminateExecution(worker: Worker): Promise<boolean> {
    if (!(await this.attached(worker))) return false;
    const disarm = await this.command(
      worker,
      "Runtime.evaluate",
      { expression: DISARM_EXPRESSION, returnByValue: true },
      2000,
    );
    if (disarm?.result?.result?.value !== "disarmed") return false;
    const terminated = await this.command(worker, "Runtime.terminateExecution", {}, 2000);
    return terminated !== undefined && !terminated.error;
  }

  close(): void {
    this.session?.disconnect();
    this.session = undefined;
  }
}
