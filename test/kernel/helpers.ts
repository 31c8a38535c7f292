/**
 * Shared setup of the kernel tests: where the compiled kernel is, which
 * Python has Jupyter, and a throwaway kernelspec folder for JUPYTER_PATH so
 * tests never touch the user's installed kernels.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const REPO = path.resolve(__dirname, "..", "..");
export const LAUNCHER = path.join(REPO, "dist", "kernel", "launcher.js");
export const RUNNER = path.join(REPO, "dist", "kernel", "runner", "cli.js");
export const TOUR = path.join(REPO, "notebooks", "00-kernel-tour.ipynb");
/** Debian's Python, which has jupyter_client (the pyenv python3 on PATH may not). */
export const PYTHON = process.env.TSYFT_PYTHON ?? "/usr/bin/python3";

/** Why the compiled kernel cannot be used, or undefined when it can. */
export function distProblem(): string | undefined {
  for (const file of [LAUNCHER, RUNNER, path.join(REPO, "dist", "kernel", "engine", "worker.js")]) {
    if (!fs.existsSync(file))
      return `${path.relative(REPO, file)} is missing: run \`npm run build\` (npm test does) before these tests`;
  }
  return undefined;
}

/** Why Python cannot drive Jupyter here (missing modules), or undefined. */
export function pythonProblem(modules: string[]): string | undefined {
  const result = spawnSync(PYTHON, ["-c", modules.map((m) => `import ${m}`).join("; ")], {
    encoding: "utf8",
    env: pythonEnv(),
  });
  if (result.error) return `${PYTHON} not found (${result.error.message}); install Debian's python3-jupyter-client`;
  if (result.status !== 0) {
    return `${PYTHON} cannot import ${modules.join(", ")} (apt-get install -y jupyter-notebook python3-nbconvert python3-nbclient): ${result.stderr.trim().split("\n").pop()}`;
  }
  return undefined;
}

export function pythonEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: "1", PYTHONWARNINGS: "ignore", ...extra };
}

/** The TypeScript version that compiles cells (tslab's fork). */
export function cellCompilerVersion(): string {
  const pkg = require.resolve("@tslab/typescript-for-tslab/package.json", {
    paths: [path.dirname(require.resolve("tslab/package.json"))],
  });
  return JSON.parse(fs.readFileSync(pkg, "utf8")).version;
}

/** A temp folder holding kernels/tsyft/kernel.json, plus a runtime dir for connection files. */
export function tempJupyterPath(interruptMode: "signal" | "message" = "signal"): {
  jupyterPath: string;
  runtimeDir: string;
  cleanup: () => void;
} {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-jupyter-"));
  const spec = path.join(root, "kernels", "tsyft");
  fs.mkdirSync(spec, { recursive: true });
  const kernelJson = {
    argv: [process.execPath, LAUNCHER, "{connection_file}"],
    display_name: "Syft (TypeScript)",
    language: "typescript",
    interrupt_mode: interruptMode,
    env: {},
    metadata: { debugger: false },
  };
  fs.writeFileSync(path.join(spec, "kernel.json"), JSON.stringify(kernelJson, null, 2));
  const runtimeDir = path.join(root, "runtime");
  fs.mkdirSync(runtimeDir);
  return { jupyterPath: root, runtimeDir, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (killing its process group after `timeoutMs`). */
export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number; track?: Set<ChildProcess> },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? REPO, env: options.env ?? process.env, detached: true });
    options.track?.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => killTree(child), options.timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      options.track?.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Kills a child started with detached: true and everything it started (kernels). */
export function killTree(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    child.kill("SIGKILL");
  }
}

/** Text of a multiline nbformat field. */
export function text(value: unknown): string {
  return Array.isArray(value) ? value.join("") : String(value ?? "");
}
