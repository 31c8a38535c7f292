/**
 * Executes one notebook top to bottom with the kernel's engine (same worker,
 * same compiler, same display bridge), in a fresh execution context, and
 * records outputs as nbclient would: streams merged, display_data updated in
 * place by update_display_data, execute_result, error, execution_count.
 *
 * A cell tagged `raises-exception` may fail (its error is recorded and the
 * run goes on); any other failure stops the notebook there, like
 * `jupyter nbconvert --execute`.
 */
import * as path from "path";
import { Engine, type ExecuteOutcome, type OutputSink } from "../engine/engine";
import { kernelInfo } from "../protocol/kernel-info";
import {
  joinSource,
  splitLines,
  storedData,
  tagsOf,
  type Notebook,
  type NotebookCell,
  type NotebookOutput,
} from "./notebook";

export const RAISES_EXCEPTION = "raises-exception";

export interface CellReport {
  index: number;
  executionCount: number;
  status: "ok" | "error" | "expected-error" | "timeout";
  ename?: string;
  evalue?: string;
  seconds: number;
}

export interface NotebookReport {
  /** Code cells executed. */
  cells: number;
  /** Error outputs recorded (expected or not). */
  errors: number;
  /** The first cell that failed unexpectedly, if any (the run stopped there). */
  failure?: CellReport;
  seconds: number;
  cellReports: CellReport[];
}

export interface ExecuteOptions {
  /** Folder the cells run in (module resolution, relative paths). */
  cwd: string;
  /** Per-cell limit; a cell running longer is interrupted and counts as a failure. */
  cellTimeoutMs?: number;
  /** Called after each code cell. */
  onCell?: (report: CellReport, cell: NotebookCell) => void;
  /**
   * Stops the notebook: the running cell is interrupted and fails with the
   * signal's reason, later cells are not run (a notebook run side by side
   * with one that failed, see pairs.ts, would otherwise wait for it in vain).
   */
  signal?: AbortSignal;
}

/** Collects a cell's outputs; display ids are tracked across the whole notebook. */
class OutputCollector implements OutputSink {
  outputs: NotebookOutput[] = [];

  constructor(
    private readonly displays: Map<string, Array<Extract<NotebookOutput, { output_type: "display_data" }>>>,
  ) {}

  stream(name: "stdout" | "stderr", text: string): void {
    const last = this.outputs[this.outputs.length - 1];
    if (last && last.output_type === "stream" && last.name === name) {
      last.text = (Array.isArray(last.text) ? last.text.join("") : last.text) + text;
    } else {
      this.outputs.push({ output_type: "stream", name, text });
    }
  }

  display(
    data: Record<string, unknown>,
    metadata: Record<string, unknown>,
    displayId: string | undefined,
    update: boolean,
  ): void {
    if (update) {
      for (const output of displayId === undefined ? [] : (this.displays.get(displayId) ?? [])) {
        output.data = storedData(data);
        output.metadata = metadata;
      }
      return;
    }
    const output = { output_type: "display_data" as const, data: storedData(data), metadata };
    this.outputs.push(output);
    if (displayId !== undefined) {
      const list = this.displays.get(displayId) ?? [];
      list.push(output);
      this.displays.set(displayId, list);
    }
  }
}

function errorOutput(outcome: Extract<ExecuteOutcome, { status: "error" }>): NotebookOutput {
  return { output_type: "error", ename: outcome.ename, evalue: outcome.evalue, traceback: outcome.traceback };
}

/** Why a notebook was stopped from outside (ExecuteOptions.signal). */
function abortReason(signal: AbortSignal): string {
  return signal.reason instanceof Error ? signal.reason.message : String(signal.reason);
}

async function withLimits(
  engine: Engine,
  run: Promise<ExecuteOutcome>,
  timeoutMs: number | undefined,
  signal: AbortSignal | undefined,
): Promise<{ outcome: ExecuteOutcome; timedOut: boolean }> {
  let timedOut = false;
  const timer =
    timeoutMs && Number.isFinite(timeoutMs)
      ? setTimeout(() => {
          timedOut = true;
          void engine.interrupt(`timeout after ${timeoutMs / 1000} s`);
        }, timeoutMs)
      : undefined;
  const onAbort = () => void engine.interrupt(`stopped: ${abortReason(signal!)}`);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    return { outcome: await run, timedOut };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

/** The outcome of a cell not run because the notebook was stopped before it. */
function notRun(signal: AbortSignal): ExecuteOutcome {
  const evalue = `Not run: ${abortReason(signal)}`;
  return {
    status: "error",
    kind: "interrupt",
    ename: "NotebookStopped",
    evalue,
    traceback: [`NotebookStopped: ${evalue}`],
  };
}

/** Executes `notebook` in place (outputs and counts replaced) and reports how it went. */
export async function executeNotebook(notebook: Notebook, options: ExecuteOptions): Promise<NotebookReport> {
  const started = Date.now();
  const engine = await Engine.start({ cwd: path.resolve(options.cwd) });
  const displays = new Map<string, Array<Extract<NotebookOutput, { output_type: "display_data" }>>>();
  const report: NotebookReport = { cells: 0, errors: 0, seconds: 0, cellReports: [] };
  const info = kernelInfo();
  notebook.metadata.language_info = info.language_info;
  notebook.metadata.kernelspec ??= { name: "tsyft", display_name: "Syft (TypeScript)", language: "typescript" };

  try {
    let executionCount = 0;
    for (const [index, cell] of notebook.cells.entries()) {
      if (cell.cell_type !== "code") continue;
      cell.outputs = [];
      cell.execution_count = null;
      if (report.failure) continue; // not reached, as in nbconvert
      const code = joinSource(cell.source);
      if (code.trim() === "") continue;

      executionCount++;
      cell.execution_count = executionCount;
      const collector = new OutputCollector(displays);
      const cellStarted = Date.now();
      const { outcome, timedOut } = options.signal?.aborted
        ? { outcome: notRun(options.signal), timedOut: false }
        : await withLimits(
            engine,
            engine.execute(code, `cell-${executionCount}`, collector),
            options.cellTimeoutMs,
            options.signal,
          );
      report.cells++;
      const cellReport: CellReport = {
        index,
        executionCount,
        status: "ok",
        seconds: (Date.now() - cellStarted) / 1000,
      };
      if (outcome.status === "ok") {
        if (outcome.data) {
          collector.outputs.push({
            output_type: "execute_result",
            execution_count: executionCount,
            data: storedData(outcome.data),
            metadata: outcome.metadata ?? {},
          });
        }
      } else {
        report.errors++;
        const error =
          timedOut && outcome.kind === "interrupt"
            ? {
                ...outcome,
                ename: "CellTimeoutError",
                evalue: `The cell ran longer than ${options.cellTimeoutMs! / 1000} s and was interrupted.`,
              }
            : outcome;
        collector.outputs.push(
          errorOutput({
            ...error,
            traceback: timedOut ? [`CellTimeoutError: ${error.evalue}`, ...outcome.traceback] : error.traceback,
          }),
        );
        cellReport.ename = error.ename;
        cellReport.evalue = error.evalue;
        const expected = tagsOf(cell).includes(RAISES_EXCEPTION) && !timedOut && !options.signal?.aborted;
        cellReport.status = timedOut ? "timeout" : expected ? "expected-error" : "error";
        if (!expected) report.failure = cellReport;
      }
      // Late output of this cell lands in its collector until the next cell starts.
      cell.outputs = collector.outputs;
      report.cellReports.push(cellReport);
      options.onCell?.(cellReport, cell);
    }
  } finally {
    await engine.close();
  }
  for (const cell of notebook.cells) {
    if (cell.cell_type === "code" && cell.outputs) {
      cell.outputs = cell.outputs.map((o) =>
        o.output_type === "stream" ? { ...o, text: splitLines(Array.isArray(o.text) ? o.text.join("") : o.text) } : o,
      );
    }
  }
  report.seconds = (Date.now() - started) / 1000;
  return report;
}
