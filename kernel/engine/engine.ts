/**
 * The execution engine shared by the Jupyter kernel and the notebook runner.
 *
 * It owns one worker thread (kernel/engine/worker.ts) that compiles and runs
 * cells with tslab, and keeps the main thread free. Cells run one at a time.
 *
 * Interrupts, in order of preference:
 * 1. the worker's event loop is free (the cell awaits a timer, a socket...):
 *    an `interrupt` message ends the cell at once;
 * 2. the worker is busy in a cell's code (a loop, before or after an await):
 *    `Runtime.terminateExecution` through the inspector unwinds it, state kept
 *    (kernel/engine/interrupt.ts);
 * 3. the cell still does not stop: the worker is replaced and the cell ends
 *    with a KernelStateReset error that says all state is gone.
 * A loop in a background callback (a timer of an earlier cell) that holds the
 * worker while the next cell waits is stopped the same way.
 * The compiler is never stopped half-way: an interrupt during compilation
 * waits until the cell's code starts.
 */
import * as path from "path";
import { Worker } from "worker_threads";
import { cellCompilerVersion, repoRoot } from "../paths";
import { WorkerTerminator } from "./interrupt";
import type { Completion, ExecuteOutcome, FromWorker, Inspection, MimeBundle, ToWorker, WorkerInit } from "./messages";
import { Phase, Shared } from "./messages";
import { ensureSelfLink } from "./self-link";
import { resetError } from "./traceback";

export type { ExecuteOutcome, MimeBundle } from "./messages";

/** Where a cell's output goes. */
export interface OutputSink {
  stream(name: "stdout" | "stderr", text: string): void;
  display(data: MimeBundle, metadata: Record<string, unknown>, displayId: string | undefined, update: boolean): void;
}

export interface EngineOptions {
  /** Directory cells run in (module resolution, relative paths). */
  cwd: string;
  /** Output that arrives while no cell has run yet. */
  fallbackSink?: OutputSink;
  /** Called when the worker had to be replaced (the kernel state is gone). */
  onReset?: (reason: string) => void;
}

interface Run {
  id: number;
  sink: OutputSink;
  outcome: Promise<ExecuteOutcome>;
  resolve: (outcome: ExecuteOutcome) => void;
  settled: boolean;
}

/** How long a free worker takes to answer an interrupt message. */
const ACK_MS = 250;
/** How long a stopped cell may take to report back before the worker is replaced. */
const STOP_GRACE_MS = 5000;
/** How long an interrupt waits for the compiler to finish a cell before replacing the worker. */
const COMPILE_WAIT_MS = 15_000;

/** How many cells' sinks are kept for late output (older cells' late output goes to the latest cell). */
const MAX_REMEMBERED_SINKS = 200;

let terminator: WorkerTerminator | undefined;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class Engine {
  readonly cwd: string;
  /** Version of the TypeScript that compiles cells. */
  readonly compilerVersion = cellCompilerVersion();
  /** Milliseconds the last worker took to load the compiler. */
  workerStartupMs = 0;

  private worker!: Worker;
  private shared!: Int32Array;
  private ready!: Promise<void>;
  private running: Run | undefined;
  private lastSink: OutputSink | undefined;
  /** Sinks of recent cells by id: output of a cell's continuation goes to that cell, never to a later one. */
  private readonly sinks = new Map<number, OutputSink>();
  private nextId = 1;
  // Requests to the worker thread keep their own bookkeeping rather than src/workers/rpc.ts's, because the
  // kernel depends on tslab and not on the library its cells use (DESIGN.md §5), so a broken src/ never breaks
  // the kernel. They need no timeouts either: a thread that stops answering is interrupted or replaced, and
  // failPendingReplies ends every wait then.
  private nextRid = 1;
  private readonly replies = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private interrupting: Promise<void> | undefined;
  private closed = false;

  private constructor(private readonly options: EngineOptions) {
    this.cwd = options.cwd;
    ensureSelfLink(repoRoot());
    terminator ??= new WorkerTerminator();
    this.spawn();
  }

  /** Starts a worker and waits until its compiler is loaded. */
  static async start(options: EngineOptions): Promise<Engine> {
    const engine = new Engine(options);
    await engine.whenReady();
    return engine;
  }

  /** Creates the engine at once; the worker warms up in the background. */
  static create(options: EngineOptions): Engine {
    const engine = new Engine(options);
    engine.ready.catch(() => undefined);
    return engine;
  }

  whenReady(): Promise<void> {
    return this.ready;
  }

  /** Whether a cell is executing now. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  private spawn(): void {
    this.shared = new Int32Array(new SharedArrayBuffer(Shared.LENGTH * Int32Array.BYTES_PER_ELEMENT));
    const init: WorkerInit = { cwd: this.cwd, shared: this.shared.buffer as SharedArrayBuffer };
    const worker = new Worker(path.join(__dirname, "worker.js"), { workerData: init });
    this.worker = worker;
    this.ready = new Promise<void>((resolve, reject) => {
      const fail = (error: Error) => reject(error);
      worker.once("error", fail);
      worker.on("message", (message: FromWorker) => {
        if (message.type === "ready") {
          this.workerStartupMs = message.startupMs;
          worker.off("error", fail);
          resolve();
        } else if (message.type === "fatal") {
          reject(new Error(message.message));
        }
      });
    });
    worker.on("message", (message: FromWorker) => this.onMessage(worker, message));
    worker.on("error", (error) => {
      if (worker !== this.worker) return;
      this.sinkFor().stream("stderr", `The execution worker failed: ${error.stack ?? error.message}\n`);
    });
    worker.on("exit", (code) => {
      if (worker !== this.worker || this.closed) return;
      const reason = `The execution context exited (exit code ${code}: process.exit() in a cell, or out of memory).`;
      const run = this.running;
      this.failPendingReplies();
      this.spawn();
      this.options.onReset?.(reason);
      if (run) this.settle(run, resetError(reason));
    });
  }

  private sinkFor(id?: number): OutputSink {
    return (
      (id === undefined ? undefined : this.sinks.get(id)) ??
      this.running?.sink ??
      this.lastSink ??
      this.options.fallbackSink ?? { stream: () => undefined, display: () => undefined }
    );
  }

  private onMessage(worker: Worker, message: FromWorker): void {
    if (worker !== this.worker) return;
    switch (message.type) {
      case "stream":
        this.sinkFor(message.id).stream(message.name, message.text);
        break;
      case "display":
        this.sinkFor(message.id).display(message.data, message.metadata, message.displayId, message.update);
        break;
      case "done": {
        const run = this.running;
        if (run && run.id === message.id) this.settle(run, message.outcome);
        break;
      }
      case "reply": {
        const waiter = this.replies.get(message.rid);
        this.replies.delete(message.rid);
        if (!waiter) break;
        if (message.error !== undefined) waiter.reject(new Error(message.error));
        else waiter.resolve(message.value);
        break;
      }
      default:
        break;
    }
  }

  private post(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  private settle(run: Run, outcome: ExecuteOutcome): void {
    if (run.settled) return;
    run.settled = true;
    if (this.running === run) this.running = undefined;
    run.resolve(outcome);
  }

  /**
   * Compiles and runs one cell. Output goes to `sink` while it runs (and
   * afterwards, until the next cell starts, for late async output).
   * `cellName` names the cell in tracebacks (`cell-3`).
   */
  async execute(code: string, cellName: string, sink: OutputSink): Promise<ExecuteOutcome> {
    if (this.closed) throw new Error("the engine is closed");
    while (this.interrupting) await this.interrupting;
    await this.ready;
    let resolve!: (outcome: ExecuteOutcome) => void;
    const outcome = new Promise<ExecuteOutcome>((r) => (resolve = r));
    const run: Run = { id: this.nextId++, sink, outcome, resolve, settled: false };
    this.running = run;
    this.lastSink = sink;
    this.sinks.set(run.id, sink);
    if (this.sinks.size > MAX_REMEMBERED_SINKS) this.sinks.delete(this.sinks.keys().next().value!);
    this.post({ type: "execute", id: run.id, code, cellName: safeCellName(cellName) });
    return outcome;
  }

  /**
   * Stops the running cell; resolves once it has ended. `how` appears in the
   * error. With no cell running, stops code that keeps the worker busy in the
   * background (a loop in a timer of an earlier cell), so the next cell can run.
   */
  interrupt(how: string): Promise<void> {
    this.interrupting ??= (this.running ? this.stop(this.running, how) : this.unstick()).finally(() => {
      this.interrupting = undefined;
    });
    return this.interrupting;
  }

  private async settledWithin(run: Run, ms: number): Promise<boolean> {
    if (run.settled) return true;
    return Promise.race([run.outcome.then(() => true), sleep(ms).then(() => false)]);
  }

  /** Whether the worker's event loop answers a ping within `ms`. */
  private responsive(ms: number): Promise<boolean> {
    return Promise.race([
      this.request({ type: "ping", rid: 0 }).then(
        () => true,
        () => false,
      ),
      sleep(ms).then(() => false),
    ]);
  }

  private async unstick(): Promise<void> {
    await this.ready.catch(() => undefined);
    if (await this.responsive(ACK_MS)) return;
    if (Atomics.load(this.shared, Shared.PHASE) === Phase.COMPILING) return;
    if (await terminator!.terminateExecution(this.worker)) await this.drainTermination();
    else
      await this.replaceWorker(
        undefined,
        resetError("Background code kept the kernel busy and could not be stopped in place."),
      );
  }

  private async stop(run: Run, how: string): Promise<void> {
    const worker = this.worker;
    this.post({ type: "interrupt", id: run.id, how });
    if (await this.settledWithin(run, ACK_MS)) return;

    // Busy. Let the compiler finish: stopping it half-way would corrupt it.
    const waitedFrom = Date.now();
    while (!run.settled && Atomics.load(this.shared, Shared.PHASE) === Phase.COMPILING) {
      if (Date.now() - waitedFrom > COMPILE_WAIT_MS) {
        await this.replaceWorker(
          run,
          resetError(`The TypeScript compiler was still busy with the cell after ${COMPILE_WAIT_MS / 1000} s.`),
        );
        return;
      }
      await sleep(20);
    }
    if (run.settled) return;

    // Busy in JavaScript: the cell's code, or a background callback the cell is queued behind.
    const terminated = await terminator!.terminateExecution(worker);
    if (!terminated && !run.settled) {
      await this.replaceWorker(
        run,
        resetError("The busy cell could not be stopped in place, so its worker thread was replaced."),
      );
      return;
    }
    // The queued interrupt message now ends the cell. Repeat it in case the
    // termination landed on that very message handler.
    const deadline = Date.now() + STOP_GRACE_MS;
    while (!run.settled && Date.now() < deadline && worker === this.worker) {
      this.post({ type: "interrupt", id: run.id, how });
      await this.settledWithin(run, ACK_MS);
    }
    if (run.settled || worker !== this.worker) {
      if (terminated) await this.drainTermination();
      return;
    }
    await this.replaceWorker(
      run,
      resetError(
        terminator!.available
          ? "The cell did not stop when interrupted, so its worker thread was replaced."
          : "This Node.js has no inspector, so a busy cell can only be stopped by replacing its worker thread.",
      ),
    );
  }

  /** A termination that found nothing to stop would hit the next JavaScript run: absorb it with pings. */
  private async drainTermination(): Promise<void> {
    for (let i = 0; i < 20; i++) if (await this.responsive(ACK_MS)) return;
  }

  /** Requests to a worker that is gone will never be answered. */
  private failPendingReplies(): void {
    for (const waiter of this.replies.values()) waiter.reject(new Error("the execution worker was replaced"));
    this.replies.clear();
  }

  private async replaceWorker(run: Run | undefined, outcome: ExecuteOutcome): Promise<void> {
    const old = this.worker;
    this.failPendingReplies();
    this.spawn();
    await old.terminate().catch(() => undefined);
    const reason = outcome.status === "error" ? outcome.evalue : "the worker was replaced";
    this.options.onReset?.(reason);
    if (run) this.settle(run, outcome);
    await this.ready.catch(() => undefined);
  }

  /** Drops all state and starts a fresh execution context. */
  async reset(): Promise<void> {
    await this.replaceWorker(this.running, resetError("The kernel was reset."));
  }

  private request(message: Extract<ToWorker, { rid: number }>): Promise<unknown> {
    const rid = this.nextRid++;
    return new Promise((resolve, reject) => {
      this.replies.set(rid, { resolve, reject });
      this.post({ ...message, rid });
    });
  }

  /** Completion candidates at `pos` (UTF-16 offset). Waits for a running cell to end. */
  async complete(code: string, pos: number): Promise<Completion> {
    await this.ready;
    return (await this.request({ type: "complete", rid: 0, code, pos })) as Completion;
  }

  /** Type and documentation of the symbol at `pos` (UTF-16 offset). */
  async inspect(code: string, pos: number): Promise<Inspection> {
    await this.ready;
    return (await this.request({ type: "inspect", rid: 0, code, pos })) as Inspection;
  }

  /** Stops the worker; the engine cannot be used afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const run = this.running;
    if (run) this.settle(run, resetError("The engine was closed."));
    await this.worker.terminate().catch(() => undefined);
  }
}

/** Cell names end up in stack frames: keep them to characters frames can carry. */
function safeCellName(name: string): string {
  return name.replace(/[^\w.\-[\]<>]/g, "_") || "cell";
}

/** Closes the process-wide inspector session (lets a process exit on its own). */
export function closeEngines(): void {
  terminator?.close();
  terminator = undefined;
}
