/**
 * The tour notebook executed by real Jupyter: `python3 -m nbconvert --execute`
 * with the tsyft kernel (from a temporary kernelspec on JUPYTER_PATH).
 */
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PYTHON, TOUR, distProblem, killTree, pythonEnv, pythonProblem, run, tempJupyterPath } from "./helpers";
import { checkExecutedTour } from "./tour-checks";

const skipReason = pythonProblem(["jupyter_client", "nbconvert", "nbclient"]);
if (skipReason) console.warn(`nbconvert test skipped: ${skipReason}`);

if (!skipReason)
  describe("notebooks/00-kernel-tour.ipynb through nbconvert --execute", () => {
    const children = new Set<ChildProcess>();
    const cleanups: Array<() => void> = [];

    afterAll(() => {
      for (const child of children) killTree(child);
      for (const cleanup of cleanups) cleanup();
    });

    it("executes with the tsyft kernel and saves rich outputs", async () => {
      const problem = distProblem();
      if (problem) throw new Error(problem);
      const jupyter = tempJupyterPath();
      cleanups.push(jupyter.cleanup);
      const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-nbconvert-"));
      cleanups.push(() => fs.rmSync(outDir, { recursive: true, force: true }));
      const result = await run(
        PYTHON,
        [
          "-m",
          "nbconvert",
          "--to",
          "notebook",
          "--execute",
          "--ExecutePreprocessor.kernel_name=tsyft",
          "--ExecutePreprocessor.timeout=600",
          "--output-dir",
          outDir,
          TOUR,
        ],
        {
          env: pythonEnv({
            JUPYTER_PATH: jupyter.jupyterPath,
            JUPYTER_RUNTIME_DIR: jupyter.runtimeDir,
            TSYFT_QUICK: "1",
          }),
          timeoutMs: 600_000,
          track: children,
        },
      );
      expect(result.code, `nbconvert failed:\n${result.stderr.slice(-4000)}`).toBe(0);
      const executed = JSON.parse(fs.readFileSync(path.join(outDir, path.basename(TOUR)), "utf8"));
      checkExecutedTour(executed);
    }, 660_000);
  });

if (skipReason) {
  describe("nbconvert (skipped)", () => {
    it.skip(`needs ${PYTHON} with nbconvert and nbclient: ${skipReason}`, () => undefined);
  });
}
