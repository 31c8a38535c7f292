/**
 * Error reports for cells, in Jupyter's shape (ename, evalue, traceback).
 *
 * Compile errors name the cell, line and column, quote the offending source
 * line and underline the span. Runtime errors keep the frames of the cells and
 * of the libraries they called, and drop everything below the outermost cell
 * frame (the kernel, tslab's executor, Node's internals).
 *
 * tslab compiles a cell to JavaScript without source maps, so a frame's
 * JavaScript position is mapped back to the TypeScript line by matching the
 * tokens of the emitted line against the source lines (TypeScript's emitter
 * keeps statements and literals as written, only types go away).
 */
import * as fs from "fs";
import * as path from "path";
import * as util from "util";
import { repoRoot } from "../paths";
import type { ErrorOutcome } from "./messages";

/** tslab's diagnostic shape (tslab/dist/converter Diagnostic). */
export interface CellDiagnostic {
  start: { offset: number; line: number; character: number };
  end: { offset: number; line: number; character: number };
  messageText: string;
  category: number;
  code: number;
  fileName?: string;
}

/** What the kernel remembers about a compiled cell, to map its frames. */
export interface CompiledCell {
  /** Name shown in frames, also the vm filename: `cell-3`. */
  name: string;
  source: string;
  /** The JavaScript that ran, including the wrapper line tslab adds. */
  script: string;
}

const CATEGORY = ["warning", "error", "suggestion", "message"];

/** The report of TypeScript diagnostics for a cell. */
export function compileError(
  cell: { name: string; source: string },
  diagnostics: CellDiagnostic[],
  cwd: string,
): ErrorOutcome {
  const errors = diagnostics.filter((d) => d.category === 1);
  const first = errors[0] ?? diagnostics[0];
  const where = (d: CellDiagnostic) => `${d.fileName ?? cell.name}:${d.start.line + 1}:${d.start.character + 1}`;
  const traceback: string[] = [];
  let previous: CellDiagnostic | undefined;
  for (const d of diagnostics) {
    const continuation =
      previous && !d.fileName && d.start.offset === previous.start.offset && d.end.offset === previous.end.offset;
    if (continuation) {
      traceback.push(`    ${d.messageText}`);
      continue;
    }
    const head = `${where(d)} - ${CATEGORY[d.category] ?? "error"} TS${d.code}: ${d.messageText}`;
    const source = d.fileName ? readSource(path.resolve(cwd, d.fileName)) : cell.source;
    const snippet = source === undefined ? [] : sourceSnippet(source, d.start.line, d.start.character, d.end);
    traceback.push([head, ...snippet].join("\n"));
    previous = d;
  }
  const count = errors.length || diagnostics.length;
  return {
    status: "error",
    kind: "compile",
    ename: "CompileError",
    evalue: `${first.messageText} (${first.fileName ?? cell.name}, line ${first.start.line + 1}, column ${first.start.character + 1})`,
    traceback: [
      `CompileError: ${count} TypeScript error${count === 1 ? "" : "s"}; the cell did not run.`,
      ...traceback,
    ],
  };
}

function readSource(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** `  4 | code` with a caret line under the span, like tsc --pretty without colors. */
export function sourceSnippet(
  source: string,
  line: number,
  character: number,
  end?: { line: number; character: number },
): string[] {
  const lines = source.split(/\r?\n/);
  const text = lines[line];
  if (text === undefined) return [];
  const gutter = String(line + 1);
  const width =
    end && end.line === line ? Math.max(1, end.character - character) : Math.max(1, text.length - character);
  return [
    `${gutter} | ${text}`,
    `${" ".repeat(gutter.length)} | ${text.slice(0, character).replace(/[^\t]/g, " ")}${"^".repeat(Math.min(width, Math.max(1, text.length - character)))}`,
  ];
}

/** Frames of code that is not the user's: the kernel, tslab, Node's internals. */
function isInternalFrame(frame: string, internalDirs: string[]): boolean {
  if (/\((node:|internal\/)|\bat node:|at (async )?(process\.processTicksAndRejections|runMicrotasks)/.test(frame))
    return true;
  return internalDirs.some((dir) => frame.includes(dir));
}

const FRAME = /^\s*at /;

/** The report of a value thrown by a cell. */
export function runtimeError(
  thrown: unknown,
  cells: ReadonlyMap<string, CompiledCell>,
  internalDirs: string[],
): ErrorOutcome {
  if (
    !(thrown instanceof Error) &&
    !(thrown && typeof thrown === "object" && "stack" in thrown && "message" in thrown)
  ) {
    const shown = util.inspect(thrown, { depth: 2, colors: false });
    return {
      status: "error",
      kind: "runtime",
      ename: "Error",
      evalue: `Uncaught ${shown}`,
      traceback: [`Uncaught ${shown}`],
    };
  }
  const error = thrown as Error & { code?: unknown };
  const ename = error.name || error.constructor?.name || "Error";
  const evalue = String(error.message ?? "");
  const stack = typeof error.stack === "string" ? error.stack : `${ename}: ${evalue}`;
  const lines = stack.split("\n");
  const firstFrame = lines.findIndex((l) => FRAME.test(l));
  const header = (firstFrame < 0 ? lines : lines.slice(0, firstFrame)).join("\n") || `${ename}: ${evalue}`;
  const frames = firstFrame < 0 ? [] : lines.slice(firstFrame).filter((l) => FRAME.test(l));

  const cellNames = [...cells.keys()];
  const isCellFrame = (frame: string) => cellNames.some((name) => frame.includes(`${name}:`));
  let lastCell = -1;
  frames.forEach((frame, i) => {
    if (isCellFrame(frame)) lastCell = i;
  });
  const inner = (lastCell >= 0 ? frames.slice(0, lastCell + 1) : frames).filter(
    (f) => !isInternalFrame(f, internalDirs),
  );
  // With the cell's own frames in view, the libraries' (TF.js, tsyft's compiled dist/) are one summary line each run.
  const kept = lastCell >= 0 ? collapseLibraryFrames(inner) : inner;

  let snippet: string[] = [];
  const mapped: string[] = [];
  for (const frame of kept) {
    const m = /^(\s*at (?:.*? \()?)([^()\s]+):(\d+):(\d+)(\)?)$/.exec(frame);
    const cell = m && cells.get(m[2]);
    if (!m || !cell) {
      mapped.push(frame);
      continue;
    }
    // The last line of the script is tslab's wrapper call, not the user's code.
    if (Number(m[3]) >= cell.script.split("\n").length) continue;
    const position = mapToSource(cell, Number(m[3]), Number(m[4]));
    if (!position) {
      mapped.push(`${m[1]}${m[2]}${m[5]}`);
      continue;
    }
    if (snippet.length === 0) {
      snippet = sourceSnippet(cell.source, position.line, position.character, {
        line: position.line,
        character: position.character + position.length,
      });
    }
    // Functions of earlier cells are called through tslab's exports Proxy: "at Proxy.f" -> "at f".
    mapped.push(`${m[1].replace(/\bat Proxy\./, "at ")}${m[2]}:${position.line + 1}:${position.character + 1}${m[5]}`);
  }
  const code = typeof error.code === "string" && !header.includes(error.code) ? [`  code: ${error.code}`] : [];
  const cause = error.cause !== undefined ? [`Caused by: ${describeCause(error.cause)}`] : [];
  return {
    status: "error",
    kind: "runtime",
    ename,
    evalue,
    traceback: [header, ...code, ...mapped, ...snippet.map((l) => `  ${l}`), ...cause],
  };
}

/** The package a frame's file belongs to (`@tensorflow/tfjs-core`, `tsyft`), or undefined for the user's files. */
function libraryOf(frame: string): string | undefined {
  const file = frame.replace(/\\/g, "/");
  const inModules = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*\/node_modules\/)/.exec(file);
  if (inModules) return inModules[1];
  return file.includes(LIBRARY_DIST) ? "tsyft" : undefined;
}

const LIBRARY_DIST = path.join(repoRoot(), "dist", "src").replace(/\\/g, "/") + "/";

/** Runs of library frames become `    ... 9 frames in @tensorflow/tfjs-core`. */
function collapseLibraryFrames(frames: string[]): string[] {
  const out: string[] = [];
  let run: string[] = [];
  let packages = new Set<string>();
  const flush = () => {
    if (run.length > 0)
      out.push(`    ... ${run.length} frame${run.length === 1 ? "" : "s"} in ${[...packages].join(", ")}`);
    run = [];
    packages = new Set();
  };
  for (const frame of frames) {
    const library = libraryOf(frame);
    if (library === undefined) {
      flush();
      out.push(frame);
    } else {
      run.push(frame);
      packages.add(library);
    }
  }
  flush();
  return out;
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return util.inspect(cause, { depth: 1, colors: false });
}

const STOP_WORDS = new Set([
  "exports",
  "const",
  "let",
  "var",
  "function",
  "return",
  "this",
  "void",
  "await",
  "async",
  "require",
  "__importStar",
  "__importDefault",
  "default",
  "tsLastExpr",
]);
const TOKEN = /[A-Za-z_$][\w$]*|\d+(?:\.\d+)?|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`\n]*`/g;

function tokens(text: string): string[] {
  return (text.match(TOKEN) ?? []).filter((t) => !STOP_WORDS.has(t));
}

/**
 * Maps a 1-based JavaScript position of a cell's script to a 0-based
 * position in its TypeScript source, or undefined when no line matches.
 */
export function mapToSource(
  cell: CompiledCell,
  jsLine: number,
  jsColumn: number,
): { line: number; character: number; length: number } | undefined {
  const scriptLines = cell.script.split("\n");
  const text = scriptLines[jsLine - 1];
  if (text === undefined) return undefined;
  const wanted = tokens(text);
  if (wanted.length === 0) return undefined;
  const sourceLines = cell.source.split(/\r?\n/);
  const expected = (jsLine - 1) * (sourceLines.length / Math.max(1, scriptLines.length));
  let best = -1;
  let bestScore = 0;
  sourceLines.forEach((line, i) => {
    const have = tokens(line);
    if (have.length === 0) return;
    const pool = [...have];
    let common = 0;
    for (const t of wanted) {
      const k = pool.indexOf(t);
      if (k >= 0) {
        common++;
        pool.splice(k, 1);
      }
    }
    const score = common / Math.max(wanted.length, have.length) + common * 1e-3 - Math.abs(i - expected) * 1e-6;
    if (common > 0 && score > bestScore) {
      bestScore = score;
      best = i;
    }
  });
  if (best < 0) return undefined;
  return { line: best, ...mapColumn(text, jsColumn - 1, sourceLines[best]) };
}

/** The token under the JavaScript column, found again in the TypeScript line. */
function mapColumn(jsText: string, jsColumn: number, tsText: string): { character: number; length: number } {
  TOKEN.lastIndex = 0;
  let match: RegExpExecArray | null;
  let token: string | undefined;
  while ((match = TOKEN.exec(jsText))) {
    if (match.index + match[0].length > jsColumn && !STOP_WORDS.has(match[0])) {
      token = match[0];
      break;
    }
  }
  TOKEN.lastIndex = 0;
  const indent = tsText.length - tsText.trimStart().length;
  if (!token) return { character: indent, length: 1 };
  const at = new RegExp(`(^|[^\\w$])${token.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\w$])`).exec(tsText);
  return at ? { character: at.index + at[1].length, length: token.length } : { character: indent, length: 1 };
}

/** The report of a cell stopped by SIGINT or interrupt_request. */
export function interruptedError(how: string): ErrorOutcome {
  return {
    status: "error",
    kind: "interrupt",
    ename: "Interrupted",
    evalue: `Execution interrupted (${how}); the kernel state is kept.`,
    traceback: [`Interrupted: execution interrupted (${how}). Variables defined by earlier cells are still there.`],
  };
}

/** The report of a cell whose execution context had to be replaced. */
export function resetError(reason: string): ErrorOutcome {
  const evalue =
    `${reason} The kernel state was reset: all variables, imports and functions defined so far are gone. ` +
    "Re-run the cells you need (or restart the kernel).";
  return {
    status: "error",
    kind: "reset",
    ename: "KernelStateReset",
    evalue,
    traceback: [`KernelStateReset: ${evalue}`],
  };
}
