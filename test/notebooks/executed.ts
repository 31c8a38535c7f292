/**
 * Shared by the tests that execute tutorial notebooks: the executed notebook's shape, its
 * outputs as text, the "every cell ran, none failed" check, the scratch folders and child
 * processes a test file cleans up after its tests, and running a notebook under nbconvert.
 */
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, expect } from "vitest";
import { killTree, PYTHON, pythonEnv, run, text, type RunResult } from "../kernel/helpers";

export interface Output {
  output_type: string;
  name?: string;
  text?: unknown;
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}
export interface Cell {
  cell_type: string;
  outputs?: Output[];
  execution_count?: number | null;
}
export interface Notebook {
  cells: Cell[];
}

/**
 * Child processes to kill and temporary folders to remove after the calling test file's tests
 * (registers its afterAll; call it at the top of the file).
 */
export function scratch(): { children: Set<ChildProcess>; temps: string[]; tempDir: (prefix: string) => string } {
  const children = new Set<ChildProcess>();
  const temps: string[] = [];
  afterAll(() => {
    for (const child of children) killTree(child);
    for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
  });
  const tempDir = (prefix: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    temps.push(dir);
    return dir;
  };
  return { children, temps, tempDir };
}

/** Every code cell's outputs as text: streams, text/plain of results and displays, errors. */
export function outputText(notebook: Notebook): string {
  return notebook.cells
    .flatMap((c) => c.outputs ?? [])
    .map((o) =>
      o.output_type === "stream" ? text(o.text) : o.output_type === "error" ? `${o.ename}: ${o.evalue}` : text(o.data?.["text/plain"]),
    )
    .join("\n");
}

/**
 * Checks that every code cell ran, in order, without error; returns the notebook's outputs as
 * text. A failure's message holds the end of that text (kernel warnings included).
 */
export function checkRanEveryCell(notebook: Notebook, name = "notebook"): string {
  const all = outputText(notebook);
  const code = notebook.cells.filter((c) => c.cell_type === "code");
  expect(code.map((c) => c.execution_count), `${name}:\n${all.slice(-4000)}`).toEqual(code.map((_, i) => i + 1));
  expect(code.flatMap((c) => c.outputs ?? []).filter((o) => o.output_type === "error"), `${name}:\n${all.slice(-4000)}`).toEqual([]);
  return all;
}

/** The executed copy of the notebook `name` a runner or nbconvert wrote to `dir`. */
export function readExecuted(dir: string, name: string): Notebook {
  return JSON.parse(fs.readFileSync(path.join(dir, name), "utf8")) as Notebook;
}

/**
 * Executes `notebook` in its folder with `jupyter nbconvert --execute` on the tsyft kernel (found through
 * `jupyter`, a temporary Jupyter path), writing the executed copy to `outDir`. With --allow-errors the copy is
 * written even when a cell fails, so a failure shows what the cells printed.
 */
export function nbconvertExecute(
  notebook: string,
  options: {
    outDir: string;
    jupyter: { jupyterPath: string; runtimeDir: string };
    env: Record<string, string>;
    cellTimeoutSeconds: number;
    timeoutMs: number;
    track: Set<ChildProcess>;
  },
): Promise<RunResult> {
  const args = ["-m", "nbconvert", "--to", "notebook", "--execute", "--allow-errors", "--ExecutePreprocessor.kernel_name=tsyft"];
  return run(PYTHON, [...args, `--ExecutePreprocessor.timeout=${options.cellTimeoutSeconds}`, "--output-dir", options.outDir, notebook], {
    cwd: path.dirname(notebook),
    env: pythonEnv({ JUPYTER_PATH: options.jupyter.jupyterPath, JUPYTER_RUNTIME_DIR: options.jupyter.runtimeDir, ...options.env }),
    timeoutMs: options.timeoutMs,
    track: options.track,
  });
}
