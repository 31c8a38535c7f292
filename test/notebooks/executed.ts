/**
 * Shared by the tests that execute tutorial notebooks: the executed notebook's shape, its
 * outputs as text, the "every cell ran, none failed" check, and the scratch folders and child
 * processes a test file cleans up after its tests.
 */
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, expect } from "vitest";
import { killTree, text } from "../kernel/helpers";

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
