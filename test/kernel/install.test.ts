/**
 * `npm run kernel:install` (dist/kernel/install.js) and `npm run lab`
 * (dist/kernel/lab.js), run against temporary Jupyter folders.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LAUNCHER, REPO, distProblem, pythonProblem, run } from "./helpers";

const INSTALL = path.join(REPO, "dist", "kernel", "install.js");
const LAB = path.join(REPO, "dist", "kernel", "lab.js");
const temps: string[] = [];

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-install-"));
  temps.push(dir);
  return dir;
}

beforeAll(() => {
  const problem = distProblem();
  if (problem) throw new Error(problem);
});

afterAll(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

describe("kernel:install", () => {
  it("prints the kernelspec: absolute node and launcher, display name, language, interrupt mode", async () => {
    const result = await run(process.execPath, [INSTALL, "--print"], { timeoutMs: 30_000 });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      argv: [process.execPath, LAUNCHER, "{connection_file}"],
      display_name: "Syft (TypeScript)",
      language: "typescript",
      interrupt_mode: "signal",
      env: {},
      metadata: { debugger: false },
    });
  });

  it("installs the kernelspec for the user (JUPYTER_DATA_DIR)", async () => {
    const data = tempDir();
    const result = await run(process.execPath, [INSTALL], {
      env: { ...process.env, JUPYTER_DATA_DIR: data },
      timeoutMs: 60_000,
    });
    expect(result.code, result.stderr).toBe(0);
    const file = path.join(data, "kernels", "tsyft", "kernel.json");
    expect(result.stdout).toContain(path.dirname(file));
    const spec = JSON.parse(fs.readFileSync(file, "utf8"));
    expect(spec.argv).toEqual([process.execPath, LAUNCHER, "{connection_file}"]);
    expect(spec.display_name).toBe("Syft (TypeScript)");
    if (!pythonProblem(["jupyter_client"]))
      expect(result.stdout).toMatch(/via .*(jupyter kernelspec|jupyter_client\.kernelspecapp)/);
  }, 90_000);

  it("writes the kernelspec directly when no Jupyter is found", async () => {
    const data = tempDir();
    const result = await run(process.execPath, [INSTALL, "--interrupt-mode", "message"], {
      env: { ...process.env, JUPYTER_DATA_DIR: data, PATH: "/nonexistent", TSYFT_PYTHON: "/nonexistent/python3" },
      timeoutMs: 30_000,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("direct write");
    const spec = JSON.parse(fs.readFileSync(path.join(data, "kernels", "tsyft", "kernel.json"), "utf8"));
    expect(spec.interrupt_mode).toBe("message");
  });
});

describe("lab", () => {
  it("says how to install Jupyter and exits 1 when there is none", async () => {
    const result = await run(process.execPath, [LAB], {
      env: { ...process.env, PATH: "/nonexistent", TSYFT_PYTHON: "/nonexistent/python3" },
      timeoutMs: 30_000,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("apt-get install -y jupyter-notebook python3-nbconvert python3-nbclient");
  });

  it.skipIf(!!pythonProblem(["notebook"]))(
    "would start Jupyter on notebooks/ (dry run)",
    async () => {
      const data = tempDir();
      const result = await run(process.execPath, [LAB, "--dry-run", "--no-browser"], {
        env: { ...process.env, JUPYTER_DATA_DIR: data, JUPYTER_PATH: "" },
        timeoutMs: 60_000,
      });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/Would install the tsyft kernelspec|Using the tsyft kernelspec/);
      expect(result.stdout).toMatch(
        new RegExp(`Would start: .*(lab|notebook) --notebook-dir=${path.join(REPO, "notebooks")} --no-browser`),
      );
    },
    90_000,
  );
});
