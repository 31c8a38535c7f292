/**
 * Jupyter conformance of the tsyft kernel: the compiled kernel, started by
 * jupyter_client's KernelManager from a temporary kernelspec (JUPYTER_PATH),
 * is driven by test/kernel/conformance.py. Each check of that script is one
 * test here; a failure shows the script's assertion message.
 */
import { spawnSync, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  PYTHON,
  REPO,
  cellCompilerVersion,
  distProblem,
  killTree,
  pythonEnv,
  pythonProblem,
  run,
  tempJupyterPath,
} from "./helpers";

const SCRIPT = path.join(__dirname, "conformance.py");
const skipReason = pythonProblem(["jupyter_client"]);
if (skipReason) console.warn(`kernel conformance tests skipped: ${skipReason}`);

/** The check names, from the script itself so the two never drift apart. */
function listChecks(): string[] {
  if (skipReason) return [];
  const listed = spawnSync(PYTHON, [SCRIPT, "--list", "--cwd", ".", "--typescript", "x"], {
    encoding: "utf8",
    env: pythonEnv(),
  });
  if (listed.status !== 0) throw new Error(`conformance.py --list failed: ${listed.stderr}`);
  return JSON.parse(listed.stdout.trim().split("\n").pop()!);
}

const CHECKS = listChecks();

if (!skipReason)
  describe("tsyft kernel conformance through jupyter_client", () => {
    const results = new Map<string, { ok: boolean; detail: string }>();
    const children = new Set<ChildProcess>();
    let cleanup = () => undefined as void;
    let stderr = "";

    beforeAll(async () => {
      const problem = distProblem();
      if (problem) throw new Error(problem);
      const jupyter = tempJupyterPath("signal");
      cleanup = jupyter.cleanup;
      const result = await run(
        PYTHON,
        [SCRIPT, "--cwd", path.join(REPO, "notebooks"), "--typescript", cellCompilerVersion()],
        {
          env: pythonEnv({ JUPYTER_PATH: jupyter.jupyterPath, JUPYTER_RUNTIME_DIR: jupyter.runtimeDir }),
          timeoutMs: 600_000,
          track: children,
        },
      );
      stderr = result.stderr;
      for (const line of result.stdout.split("\n")) {
        if (!line.startsWith("{")) continue;
        const entry = JSON.parse(line) as { check: string; ok: boolean; detail: string };
        results.set(entry.check, { ok: entry.ok, detail: entry.detail });
      }
    }, 660_000);

    afterAll(() => {
      for (const child of children) killTree(child);
      cleanup();
    });

    it("lists its checks", () => {
      expect(CHECKS.length).toBeGreaterThan(20);
    });

    for (const name of CHECKS) {
      it(name, () => {
        const result = results.get(name);
        expect(
          result,
          `conformance.py reported nothing for ${name}; its stderr:\n${stderr.slice(-3000)}`,
        ).toBeDefined();
        expect(result!.ok, result!.detail).toBe(true);
      });
    }
  });

if (skipReason) {
  describe("tsyft kernel conformance (skipped)", () => {
    it.skip(`needs ${PYTHON} with jupyter_client: ${skipReason}`, () => undefined);
  });
}
