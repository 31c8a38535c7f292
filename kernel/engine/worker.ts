/**
 * The execution worker: compiles and runs cells with tslab's converter and
 * executor, in a worker thread of the kernel (or of the notebook runner).
 *
 * What it adds to tslab's executor:
 * - structured results: the last expression's MIME bundle (awaited when it
 *   is a promise), compile errors with line/column/snippet, runtime errors
 *   with the stack cut to the cell's frames;
 * - console output and `display` calls forwarded to the main thread tagged
 *   with the id of the cell that produced them, and the display bridge at
 *   `globalThis[Symbol.for("tsyft.kernel")]` (both in output.ts);
 * - its phase (idle / compiling / running) in shared memory, so the main
 *   thread knows when it may stop a busy cell without corrupting the compiler.
 */
import { parentPort, workerData } from "worker_threads";
import * as path from "path";
import type { Completion, ExecuteOutcome, FromWorker, Inspection, ToWorker, WorkerInit } from "./messages";
import { Phase, Shared } from "./messages";
import { cellCompilerVersion } from "../paths";
import { installAsyncGuard, rearm } from "./async-guard";
import { expandShorthands, lineAndCharacter, type ExpandedSource } from "./shorthand";
import { guardErrorListeners } from "./error-listeners";
import { captureOutput } from "./output";
import { postingWithPng } from "./png";
import { cancelScope, currentScope, endScope, newScope, runInScope, trackTimers, type CellScope } from "./cell-scope";
import { bundleOf, plainText } from "./repr";
import { compileError, interruptedError, runtimeError, type CellDiagnostic, type CompiledCell } from "./traceback";

// The vm module object itself (not an import wrapper): tslab's executor calls vm.runInThisContext through it.
const vmModule: typeof import("vm") = require("vm");
const { createConverter } = require("tslab/dist/converter") as typeof import("tslab/dist/converter");
const { createExecutor } = require("tslab/dist/executor") as typeof import("tslab/dist/executor");
const { printQuickInfo } = require("tslab/dist/inspect") as typeof import("tslab/dist/inspect");

type Converter = import("tslab/dist/converter").Converter;
type ConvertResult = import("tslab/dist/converter").ConvertResult;

const startedAt = Date.now();
const init = workerData as WorkerInit;
const port = parentPort!;
const shared = new Int32Array(init.shared);

/** Sends to the main thread; bundles with an SVG get a PNG on the way (png.ts). */
const post: (message: FromWorker) => void = postingWithPng((message) => port.postMessage(message));

/** One cell being executed. */
interface Run {
  id: number;
  name: string;
  source: string;
  done: boolean;
  converted?: ConvertResult;
  /** The source as compiled (shorthand properties spelled out, see shorthand.ts). */
  expanded?: ExpandedSource;
  hasValue: boolean;
  value: unknown;
  /** Calls the executor made to console.error: diagnostics or the thrown value. */
  errors: unknown[][];
  /** Rejects when the cell is interrupted, to stop awaiting its promise. */
  interrupted: Promise<never>;
  interrupt: (reason: Error) => void;
  /** What the cell's code scheduled, and whose output continuations carry (cell-scope.ts). */
  scope: CellScope;
}

let current: Run | undefined;
let lastId = 0;
/** The cell about to be handed to vm.runInThisContext by tslab's executor. */
let pendingScript: Run | undefined;
/** Compiled cells by vm filename, to map stack frames back to sources. */
const compiledCells = new Map<string, CompiledCell>();
const MAX_REMEMBERED_CELLS = 500;

/**
 * Id of the cell that output belongs to: the cell whose code is writing (also
 * after an await or in a timer it scheduled), else the running one, else the last one.
 */
function activeId(): number {
  return currentScope()?.id ?? (current && !current.done ? current.id : lastId);
}

// Errors thrown deep inside libraries (TF.js nests ten calls and more) must still show the cell's frame.
Error.stackTraceLimit = Math.max(Error.stackTraceLimit, 100);
trackTimers();

// Console output and display calls go to the main thread (output.ts).
const warn = captureOutput(post, activeId);

/** Reports an error that no cell caught, with its traceback cut to the cells' frames. */
function reportUncaught(title: string, error: unknown): void {
  const report = runtimeError(error, compiledCells, internalDirs());
  warn(`${title}:\n${report.traceback.join("\n")}\n`);
}
process.on("uncaughtException", (error) => reportUncaught("Uncaught exception in a callback", error));
process.on("unhandledRejection", (reason) => reportUncaught("Unhandled promise rejection", reason));
// Libraries' own listeners for these (TF.js's wasm backend rethrows) must not end the worker.
guardErrorListeners((event, error) => reportUncaught(`A listener for ${event} threw`, error));

// ---------------------------------------------------------------------------
// tslab's converter and executor, instrumented.

if (process.cwd() !== init.cwd) {
  // The converter resolves modules from process.cwd(); a worker cannot chdir.
  const cwd = init.cwd;
  process.cwd = () => cwd;
}

let nodeConverter: Converter | undefined;
let browserConverter: Converter | undefined;

function instrument(conv: Converter): Converter {
  return {
    convert(prevDecl: string, src: string) {
      Atomics.store(shared, Shared.PHASE, Phase.COMPILING);
      try {
        let expanded: ExpandedSource | undefined;
        try {
          expanded = expandShorthands(src);
        } catch {
          expanded = undefined; // compile the source as written
        }
        const result = conv.convert(prevDecl, expanded?.source ?? src);
        if (current && !current.done) {
          current.converted = result;
          current.expanded = expanded;
          if (result.output !== undefined && result.diagnostics.length === 0) pendingScript = current;
        }
        return result;
      } finally {
        Atomics.store(shared, Shared.PHASE, Phase.RUNNING);
      }
    },
    inspect: (prevDecl, src, position) => conv.inspect(prevDecl, src, position),
    complete: (prevDecl, src, position) => conv.complete(prevDecl, src, position),
    addModule: (name, content, meta) => conv.addModule(name, content, meta),
    close: () => conv.close(),
  };
}

const converters = {
  get node(): Converter {
    nodeConverter ??= instrument(createConverter({ isJS: false, isBrowser: false }));
    return nodeConverter;
  },
  get browser(): Converter {
    browserConverter ??= instrument(createConverter({ isJS: false, isBrowser: true }));
    return browserConverter;
  },
  close(): void {
    nodeConverter?.close();
    browserConverter?.close();
  },
};

// Give each cell's script its own file name, so stack frames say which cell
// they come from. Only the executor's own call (flagged by `pendingScript`) is
// touched; user code calling vm.runInThisContext is passed through as is.
const TSLAB_WRAPPERS = ["(function(exports, require) { ", "(async function(exports, require) { "];
const realRunInThisContext = vmModule.runInThisContext;
vmModule.runInThisContext = function runInThisContext(
  code: string,
  options?: import("vm").RunningScriptOptions | string,
) {
  const run = pendingScript;
  if (run && typeof code === "string" && TSLAB_WRAPPERS.some((w) => code.startsWith(w))) {
    pendingScript = undefined;
    compiledCells.set(run.name, { name: run.name, source: run.source, script: code });
    if (compiledCells.size > MAX_REMEMBERED_CELLS) compiledCells.delete(compiledCells.keys().next().value!);
    const base = typeof options === "object" && options ? options : {};
    // No breakOnSigint: Node's SIGINT watchdog is process-wide and, once a watched
    // script ends, resets SIGINT to "exit the process", which would silence the
    // main thread's handler. The main thread stops busy cells itself (engine.ts).
    return realRunInThisContext.call(vmModule, code, {
      ...base,
      filename: run.name,
      displayErrors: false,
      breakOnSigint: false,
    });
  }
  return realRunInThisContext.call(vmModule, code, options as import("vm").RunningScriptOptions);
} as typeof vmModule.runInThisContext;

const executor = createExecutor(init.cwd, converters, {
  log(value: unknown) {
    if (current && !current.done) {
      current.hasValue = true;
      current.value = value;
    }
  },
  error(...args: unknown[]) {
    if (current && !current.done) current.errors.push(args);
  },
});

function internalDirs(): string[] {
  const tslabDir = path.dirname(require.resolve("tslab/package.json"));
  return [tslabDir + path.sep, __dirname + path.sep, path.join(path.dirname(__dirname), "protocol") + path.sep];
}

// ---------------------------------------------------------------------------
// Executing cells.

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

const SIGINT_MESSAGE = /Script execution was interrupted by `?SIGINT`?/;

/** Diagnostics positions in the source as the user wrote it. */
function originalPositions(run: Run, diagnostics: CellDiagnostic[]): CellDiagnostic[] {
  const expanded = run.expanded;
  if (!expanded?.changed) return diagnostics;
  const at = (offset: number) => {
    const original = expanded.toOriginal(offset);
    return { offset: original, ...lineAndCharacter(run.source, original) };
  };
  return diagnostics.map((d) => (d.fileName ? d : { ...d, start: at(d.start.offset), end: at(d.end.offset) }));
}

function failure(run: Run): ExecuteOutcome {
  const diagnostics = run.converted?.diagnostics ?? [];
  if (diagnostics.length > 0)
    return compileError(run, originalPositions(run, diagnostics as CellDiagnostic[]), init.cwd);
  const thrown = run.errors.find((args) => !(typeof args[0] === "string" && args[0].startsWith("%s%d:%d")));
  if (thrown) {
    const error = thrown[0];
    if (error instanceof Error && SIGINT_MESSAGE.test(error.message)) return interruptedError("SIGINT");
    return runtimeError(error, compiledCells, internalDirs());
  }
  // Diagnostics printed by the executor itself (e.g. a `//%module:` cell).
  const printed = run.errors.map((args) => formatPrinted(args)).join("\n");
  return {
    status: "error",
    kind: "compile",
    ename: "CompileError",
    evalue: printed.split("\n")[0] || "the cell failed to compile",
    traceback: [`CompileError: ${printed || "the cell failed to compile"}`],
  };
}

function formatPrinted(args: unknown[]): string {
  const [format, ...rest] = args;
  if (typeof format !== "string") return args.map((a) => plainText(a)).join(" ");
  let i = 0;
  return format.replace(/%[sd]/g, () => String(rest[i++] ?? ""));
}

async function success(run: Run): Promise<ExecuteOutcome> {
  let value: unknown = undefined;
  if (run.hasValue) value = run.value;
  else {
    // The executor only prints non-null values; `null` is still in its locals.
    const name = run.converted?.lastExpressionVar;
    const locals = executor.locals as Record<string, unknown>;
    if (name && Object.prototype.hasOwnProperty.call(locals, name)) {
      value = locals[name];
      delete locals[name];
    }
  }
  if (isThenable(value)) {
    try {
      value = await Promise.race([Promise.resolve(value), run.interrupted]);
    } catch (error) {
      if (run.done) return interruptedError("interrupt");
      return runtimeError(error, compiledCells, internalDirs());
    }
  }
  if (value === undefined) return { status: "ok" };
  return { status: "ok", data: bundleOf(value, warn), metadata: {} };
}

function finish(run: Run, outcome: ExecuteOutcome): void {
  if (run.done) return;
  run.done = true;
  // An interrupted cell's pending timers go, so its suspended continuation never resumes (cell-scope.ts).
  if (outcome.status === "error" && outcome.kind === "interrupt") cancelScope(run.scope);
  else endScope(run.scope);
  Atomics.store(shared, Shared.PHASE, Phase.IDLE);
  post({ type: "done", id: run.id, outcome });
}

async function execute(id: number, code: string, name: string): Promise<void> {
  let interrupt!: (reason: Error) => void;
  const interrupted = new Promise<never>((_, reject) => (interrupt = reject));
  interrupted.catch(() => undefined);
  const run: Run = {
    id,
    name,
    source: code,
    done: false,
    hasValue: false,
    value: undefined,
    errors: [],
    interrupted,
    interrupt,
    scope: newScope(id),
  };
  current = run;
  lastId = id;
  Atomics.store(shared, Shared.PHASE, Phase.RUNNING);
  let outcome: ExecuteOutcome;
  try {
    const ok = await runInScope(run.scope, () => executor.execute(code));
    outcome = ok ? await success(run) : failure(run);
  } catch (error) {
    outcome = runtimeError(error, compiledCells, internalDirs());
  }
  pendingScript = undefined;
  finish(run, outcome);
}

function interrupt(id: number, how: string): void {
  const run = current;
  const running = !!run && run.id === id && !run.done;
  if (running) {
    executor.interrupt();
    run!.interrupt(new Error("interrupted"));
    finish(run!, interruptedError(how));
  }
  post({ type: "interrupt-ack", id, wasRunning: running });
}

// ---------------------------------------------------------------------------
// Completion and inspection (offsets in UTF-16 code units).

function complete(code: string, pos: number): Completion {
  const info = executor.complete(code, pos);
  return { start: info.start, end: info.end, matches: info.candidates };
}

function inspect(code: string, pos: number): Inspection {
  const info = executor.inspect(code, pos);
  if (!info) return { found: false, text: "" };
  return { found: true, text: printQuickInfo(info) };
}

function reply(rid: number, compute: () => unknown): void {
  try {
    post({ type: "reply", rid, value: compute() });
  } catch (error) {
    post({ type: "reply", rid, value: undefined, error: (error as Error)?.message ?? String(error) });
  }
}

installAsyncGuard();

port.on("message", (message: ToWorker) => {
  rearm(); // after an interrupt: repair Node's async bookkeeping first (see async-guard.ts)
  switch (message.type) {
    case "execute":
      void execute(message.id, message.code, message.cellName);
      break;
    case "interrupt":
      interrupt(message.id, message.how);
      break;
    case "complete":
      reply(message.rid, () => complete(message.code, message.pos));
      break;
    case "inspect":
      reply(message.rid, () => inspect(message.code, message.pos));
      break;
    case "ping":
      reply(message.rid, () => "pong");
      break;
  }
});

// Build the compiler now so the first cell does not pay for it.
try {
  void converters.node;
  post({ type: "ready", compilerVersion: cellCompilerVersion(), startupMs: Date.now() - startedAt });
} catch (error) {
  post({
    type: "fatal",
    message: `could not start the TypeScript compiler: ${(error as Error)?.stack ?? String(error)}`,
  });
}
