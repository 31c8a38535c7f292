/**
 * Just enough of nbformat 4 to execute notebooks and save them as Jupyter does.
 */
import * as fs from "fs";

export type MultilineString = string | string[];

export interface NotebookCell {
  cell_type: "code" | "markdown" | "raw";
  id?: string;
  source: MultilineString;
  metadata: { tags?: string[]; [key: string]: unknown };
  outputs?: NotebookOutput[];
  execution_count?: number | null;
  [key: string]: unknown;
}

export type NotebookOutput =
  | { output_type: "stream"; name: "stdout" | "stderr"; text: MultilineString }
  | { output_type: "display_data"; data: Record<string, unknown>; metadata: Record<string, unknown> }
  | {
      output_type: "execute_result";
      execution_count: number;
      data: Record<string, unknown>;
      metadata: Record<string, unknown>;
    }
  | { output_type: "error"; ename: string; evalue: string; traceback: string[] };

export interface Notebook {
  cells: NotebookCell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

export function readNotebook(file: string): Notebook {
  const notebook = JSON.parse(fs.readFileSync(file, "utf8")) as Notebook;
  if (notebook.nbformat !== 4 || !Array.isArray(notebook.cells)) {
    throw new Error(`${file} is not an nbformat 4 notebook (nbformat: ${String(notebook.nbformat)})`);
  }
  return notebook;
}

/** Writes a notebook the way Jupyter does (one-space indent, trailing newline). */
export function writeNotebook(file: string, notebook: Notebook): void {
  fs.writeFileSync(file, JSON.stringify(notebook, null, 1) + "\n");
}

export function joinSource(source: MultilineString): string {
  return Array.isArray(source) ? source.join("") : source;
}

/** Splits text into lines that keep their "\n", as nbformat stores multiline strings. */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

export function tagsOf(cell: NotebookCell): string[] {
  return Array.isArray(cell.metadata?.tags) ? cell.metadata.tags : [];
}

/** MIME data as stored: text types as line lists, JSON types as objects. */
export function storedData(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [mime, value] of Object.entries(data)) {
    out[mime] = typeof value === "string" && !/json$/.test(mime) ? splitLines(value) : value;
  }
  return out;
}
