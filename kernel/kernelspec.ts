/**
 * The `tsyft` kernelspec and its installation.
 *
 * The spec starts the compiled launcher with the absolute path of the Node
 * that installed it. Installation goes through `jupyter kernelspec install`
 * when that command exists, else through a Python that has jupyter_client
 * (`python -m jupyter_client.kernelspecapp install`, what `jupyter kernelspec`
 * runs; Debian's jupyter-notebook package lacks the `jupyter-kernelspec`
 * entry point), else the spec is written straight into the per-user kernels
 * folder.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { launcherPath } from "./paths";
import { DISPLAY_NAME, KERNEL_NAME } from "./protocol/kernel-info";

export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
  interrupt_mode: "signal" | "message";
  env: Record<string, string>;
  metadata: Record<string, unknown>;
}

export function kernelSpec(options: { interruptMode?: "signal" | "message" } = {}): KernelSpec {
  return {
    argv: [process.execPath, launcherPath(), "{connection_file}"],
    display_name: DISPLAY_NAME,
    language: "typescript",
    interrupt_mode: options.interruptMode ?? "signal",
    env: {},
    metadata: { debugger: false },
  };
}

/** Writes `<dir>/kernel.json`; returns the folder. */
export function writeKernelSpec(dir: string, spec: KernelSpec = kernelSpec()): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "kernel.json"), JSON.stringify(spec, null, 2) + "\n");
  return dir;
}

/** The per-user Jupyter data folder, as jupyter_core computes it. */
export function userDataDir(): string {
  if (process.env.JUPYTER_DATA_DIR) return process.env.JUPYTER_DATA_DIR;
  const home = os.homedir();
  if (process.platform === "darwin") return path.join(home, "Library", "Jupyter");
  if (process.platform === "win32")
    return path.join(process.env.APPDATA ?? path.join(home, "AppData", "Roaming"), "jupyter");
  return path.join(process.env.XDG_DATA_HOME ?? path.join(home, ".local", "share"), "jupyter");
}

/** How to run jupyter's kernelspec app here, if at all. */
export interface KernelspecTool {
  command: string;
  args: string[];
  describe: string;
}

function works(command: string, args: string[]): boolean {
  try {
    const result = spawnSync(command, args, {
      stdio: "ignore",
      timeout: 30_000,
      env: { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: "1" },
    });
    return result.status === 0;
  } catch {
    return false;
  }
}

/**
 * Pythons to try for jupyter_client: $TSYFT_PYTHON alone when set, else the
 * system one first (pyenv shims on PATH often lack Jupyter).
 */
export function pythonCandidates(): string[] {
  if (process.env.TSYFT_PYTHON) return [process.env.TSYFT_PYTHON];
  return ["/usr/bin/python3", "python3", "python"];
}

/** A Python with jupyter_client importable, or undefined. */
export function findJupyterPython(): string | undefined {
  return pythonCandidates().find((python) => works(python, ["-c", "import jupyter_client"]));
}

export function findKernelspecTool(): KernelspecTool | undefined {
  if (works("jupyter", ["kernelspec", "--version"])) {
    return { command: "jupyter", args: ["kernelspec"], describe: "jupyter kernelspec" };
  }
  const python = findJupyterPython();
  if (python) {
    return {
      command: python,
      args: ["-m", "jupyter_client.kernelspecapp"],
      describe: `${python} -m jupyter_client.kernelspecapp`,
    };
  }
  return undefined;
}

export interface InstallResult {
  /** Where the kernelspec ended up. */
  location: string;
  /** What installed it. */
  method: string;
}

/** Installs the kernelspec for the current user (the `npm run kernel:install` step). */
export function installKernelSpec(options: { interruptMode?: "signal" | "message" } = {}): InstallResult {
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-kernelspec-"));
  const source = writeKernelSpec(path.join(staging, KERNEL_NAME), kernelSpec(options));
  try {
    const tool = findKernelspecTool();
    if (tool) {
      const args = [...tool.args, "install", "--user", "--replace", "--name", KERNEL_NAME, source];
      const result = spawnSync(tool.command, args, {
        encoding: "utf8",
        timeout: 60_000,
        env: { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: "1" },
      });
      if (result.status === 0) {
        const location = /Installed kernelspec \S+ in (.+)/.exec(`${result.stdout}\n${result.stderr}`)?.[1]?.trim();
        return { location: location ?? path.join(userDataDir(), "kernels", KERNEL_NAME), method: tool.describe };
      }
      process.stderr.write(
        `${tool.describe} install failed (${result.status}): ${result.stderr}\nwriting the kernelspec directly instead.\n`,
      );
    }
    const target = path.join(userDataDir(), "kernels", KERNEL_NAME);
    writeKernelSpec(target, kernelSpec(options));
    return { location: target, method: "direct write (no jupyter kernelspec or jupyter_client found)" };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** Folders Jupyter searches for kernelspecs (enough of jupyter_core's rules to find ours). */
export function kernelSearchDirs(): string[] {
  const dirs = [
    ...(process.env.JUPYTER_PATH ?? "").split(path.delimiter).filter(Boolean),
    userDataDir(),
    ...(process.platform === "win32" ? [] : ["/usr/local/share/jupyter", "/usr/share/jupyter"]),
  ];
  return dirs.map((d) => path.join(d, "kernels"));
}

/** The installed tsyft kernelspec file, if Jupyter would find one. */
export function installedKernelSpec(): string | undefined {
  for (const dir of kernelSearchDirs()) {
    const file = path.join(dir, KERNEL_NAME, "kernel.json");
    if (fs.existsSync(file)) return file;
  }
  return undefined;
}

/** Whether an installed spec still points at this checkout's launcher and Node. */
export function specIsCurrent(file: string): boolean {
  try {
    const spec = JSON.parse(fs.readFileSync(file, "utf8")) as KernelSpec;
    return spec.argv?.[0] === process.execPath && spec.argv?.[1] === launcherPath();
  } catch {
    return false;
  }
}
