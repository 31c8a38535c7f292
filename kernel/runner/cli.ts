/**
 * Headless notebook runner: `npm start`, or
 *
 *   node dist/kernel/runner/cli.js [notebooks...] [--out out] [--timeout s] [--only name]
 *
 * Executes every .ipynb of the given folders (sorted by name; default
 * notebooks/) or the given files, each in a fresh execution context of the
 * kernel's engine (notebooks paired in their metadata side by side, see
 * pairs.ts), writes the executed copies to --out (default out/), prints
 * a summary table and exits 1 when a cell failed that is not tagged
 * `raises-exception`. Needs only Node (no Jupyter). Environment variables such
 * as TSYFT_QUICK=1 reach the notebooks unchanged.
 */
import * as fs from "fs";
import * as path from "path";
import { closeEngines } from "../engine/engine";
import { executeNotebook, type NotebookReport } from "./execute-notebook";
import { readNotebook, writeNotebook } from "./notebook";
import { planRuns } from "./pairs";
import { formatTable } from "./summary";

export interface RunnerArgs {
  inputs: string[];
  out: string;
  timeoutSeconds: number;
  only: string[];
}

const USAGE =
  "usage: node dist/kernel/runner/cli.js [notebooks-folder-or-files...] [--out out] [--timeout seconds] [--only name[,name]]";

export function parseArgs(argv: string[]): RunnerArgs {
  const args: RunnerArgs = { inputs: [], out: "out", timeoutSeconds: 1800, only: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === "--out" || arg === "-o") args.out = value();
    else if (arg === "--timeout") {
      args.timeoutSeconds = Number(value());
      if (!(args.timeoutSeconds > 0)) throw new Error(`--timeout needs a positive number of seconds\n${USAGE}`);
    } else if (arg === "--only") args.only.push(...value().split(",").filter(Boolean));
    else if (arg === "--help" || arg === "-h") throw new Error(USAGE);
    else if (arg.startsWith("-")) throw new Error(`unknown option ${arg}\n${USAGE}`);
    else args.inputs.push(arg);
  }
  if (args.inputs.length === 0) args.inputs.push("notebooks");
  return args;
}

/** The notebooks to run, sorted by file name within each folder. */
export function listNotebooks(inputs: string[], only: string[]): string[] {
  const files: string[] = [];
  for (const input of inputs) {
    if (!fs.existsSync(input)) throw new Error(`${input} does not exist`);
    if (fs.statSync(input).isDirectory()) {
      files.push(
        ...fs
          .readdirSync(input)
          .filter((f) => f.endsWith(".ipynb"))
          .sort()
          .map((f) => path.join(input, f)),
      );
    } else files.push(input);
  }
  if (only.length === 0) return files;
  const stem = (f: string) => path.basename(f, ".ipynb");
  return files.filter((f) => only.some((o) => stem(f) === o || path.basename(f) === o || stem(f).includes(o)));
}

type Row = { notebook: string; report?: NotebookReport; crash?: string };

/**
 * Runs one notebook and writes its executed copy. `label` prefixes its cell
 * lines when it runs beside others; `stop` is called when it fails, and
 * `signal` stops it when a notebook beside it failed.
 */
async function runNotebook(
  file: string,
  args: RunnerArgs,
  side: { label: string; signal?: AbortSignal; stop?: (reason: string) => void },
): Promise<Row> {
  const name = path.basename(file);
  try {
    const notebook = readNotebook(file);
    const report = await executeNotebook(notebook, {
      cwd: path.dirname(file),
      cellTimeoutMs: args.timeoutSeconds * 1000,
      signal: side.signal,
      onCell: (cell) => {
        const mark = cell.status === "ok" ? "✓" : cell.status === "expected-error" ? "✓ (expected error)" : "✗";
        const detail = cell.ename ? ` ${cell.ename}: ${(cell.evalue ?? "").split("\n")[0].slice(0, 120)}` : "";
        process.stdout.write(
          `  ${side.label}[${cell.executionCount}] ${mark} ${cell.seconds.toFixed(2)} s${cell.status === "ok" ? "" : detail}\n`,
        );
      },
    });
    writeNotebook(path.join(args.out, name), notebook);
    if (report.failure) side.stop?.(`${name} failed at cell [${report.failure.executionCount}]`);
    return { notebook: name, report };
  } catch (error) {
    side.stop?.(`${name} crashed`);
    process.stderr.write(`${name}: ${(error as Error)?.stack ?? String(error)}\n`);
    return { notebook: name, crash: (error as Error)?.stack ?? String(error) };
  }
}

async function main(argv: string[]): Promise<number> {
  let args: RunnerArgs;
  let runs: string[][];
  try {
    args = parseArgs(argv);
    runs = planRuns(listNotebooks(args.inputs, args.only));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  if (runs.length === 0) {
    process.stderr.write(
      `no notebooks to run in ${args.inputs.join(", ")}${args.only.length ? ` matching ${args.only.join(", ")}` : ""}\n`,
    );
    return 2;
  }
  args.out = path.resolve(args.out); // cells run in their notebook's folder
  fs.mkdirSync(args.out, { recursive: true });
  const home = process.cwd();
  const rows: Row[] = [];
  for (const group of runs) {
    const names = group.map((f) => path.basename(f));
    process.stdout.write(`▶ ${names.join(" + ")}${group.length > 1 ? " (side by side)" : ""}\n`);
    process.chdir(path.dirname(group[0]!)); // cells see their own folder, as under Jupyter (a group shares one)
    try {
      if (group.length === 1) {
        rows.push(await runNotebook(group[0]!, args, { label: "" }));
        continue;
      }
      // Each in its own engine (worker thread); when one fails, the others are stopped rather than left waiting.
      const controller = new AbortController();
      const stop = (reason: string) => controller.abort(new Error(reason));
      rows.push(
        ...(await Promise.all(
          group.map((file) =>
            runNotebook(file, args, {
              label: `${path.basename(file, ".ipynb")} `,
              signal: controller.signal,
              stop,
            }),
          ),
        )),
      );
    } finally {
      process.chdir(home);
    }
  }
  closeEngines();
  process.stdout.write("\n" + formatTable(rows) + "\n");
  process.stdout.write(`executed notebooks written to ${path.resolve(args.out)}\n`);
  return rows.some((r) => r.crash || r.report?.failure) ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`${error?.stack ?? error}\n`);
      process.exit(1);
    },
  );
}
