/**
 * 02-secure-classification and 05-performance through real Jupyter (nbconvert --execute with
 * the tsyft kernel) in quick mode: every cell runs, with an execution count, and nothing fails.
 * (00 and 01 are run through Jupyter by their own tests, 03 and 04 by skin-cancer.test.ts.)
 * Skipped, saying why, when Python lacks jupyter_client, nbconvert or nbclient.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { testDataDir } from "../data/helpers";
import { PYTHON, REPO, distProblem, pythonEnv, pythonProblem, run, tempJupyterPath, text } from "../kernel/helpers";
import { checkClassificationOnGrid } from "./grid-checks";

const NOTEBOOKS = path.join(REPO, "notebooks");
const jupyterProblem = pythonProblem(["jupyter_client", "nbconvert", "nbclient"]);
const jupyter = jupyterProblem ? undefined : tempJupyterPath();
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-nbconvert-"));
afterAll(() => {
  jupyter?.cleanup();
  fs.rmSync(outDir, { recursive: true, force: true });
});

interface Cell {
  cell_type: string;
  execution_count?: number | null;
  outputs?: Array<{ output_type: string; text?: unknown; data?: Record<string, unknown> }>;
}

async function nbconvert(name: string): Promise<{ cells: Cell[]; printed: string }> {
  const problem = distProblem();
  if (problem) throw new Error(problem);
  const result = await run(
    PYTHON,
    ["-m", "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.kernel_name=tsyft", "--ExecutePreprocessor.timeout=600", "--output-dir", outDir, path.join(NOTEBOOKS, name)],
    { cwd: NOTEBOOKS, env: pythonEnv({ JUPYTER_PATH: jupyter!.jupyterPath, JUPYTER_RUNTIME_DIR: jupyter!.runtimeDir, TSYFT_QUICK: "1", TSYFT_DATA_DIR: testDataDir }), timeoutMs: 900_000 },
  );
  expect(result.code, `nbconvert ${name} failed:\n${result.stderr.slice(-4000)}`).toBe(0);
  const cells = (JSON.parse(fs.readFileSync(path.join(outDir, name), "utf8")) as { cells: Cell[] }).cells;
  const code = cells.filter((c) => c.cell_type === "code");
  expect(code.map((c) => c.execution_count)).toEqual(code.map((_, i) => i + 1));
  const outputs = code.flatMap((c) => c.outputs ?? []);
  expect(outputs.filter((o) => o.output_type === "error")).toEqual([]);
  return { cells, printed: outputs.map((o) => (o.output_type === "stream" ? text(o.text) : text(o.data?.["text/plain"]))).join("\n") };
}

describe.skipIf(Boolean(jupyterProblem))(`tutorials through real Jupyter${jupyterProblem ? ` (skipped: ${jupyterProblem})` : ""}`, () => {
  it("02-secure-classification on three grid nodes: the toy gives 1/1, encrypted and plaintext accuracy agree", async () => {
    const { printed } = await nbconvert("02-secure-classification.ipynb");
    const plain = /plaintext accuracy on the (\d+) digits tested under encryption: ([\d.]+)%/.exec(printed);
    const encrypted = /encrypted accuracy: (\d+)\/(\d+) = ([\d.]+)%/.exec(printed);
    expect(plain && encrypted, printed.slice(-2000)).toBeTruthy();
    expect(encrypted![2]).toBe(plain![1]);
    expect(Math.abs(Number(plain![2]) - Number(encrypted![3]))).toBeLessThanOrEqual(0.5);
    checkClassificationOnGrid(printed);
  }, 900_000);

  it("05-performance: measures the tutorial models against the Python originals", async () => {
    const { printed } = await nbconvert("05-performance.ipynb");
    expect(printed).toMatch(/skin-cancer CNN: [\d.]+ ms against 324 s, \d+x faster/);
  }, 900_000);
});
