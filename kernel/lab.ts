/**
 * `npm run lab`: opens the tutorials in Jupyter with the tsyft kernel.
 *
 * Installs the kernelspec when it is missing or points at another checkout,
 * then runs `jupyter lab` when JupyterLab is installed, else `jupyter
 * notebook`, on notebooks/. Extra arguments go to Jupyter
 * (`npm run lab -- --no-browser --port 8899`); `--dry-run` prints what would
 * run and changes nothing.
 */
import { spawn, spawnSync } from "child_process";
import * as path from "path";
import { findJupyterPython, installKernelSpec, installedKernelSpec, specIsCurrent } from "./kernelspec";
import { repoRoot } from "./paths";

const INSTALL_HINT = [
  "Jupyter is not installed (neither `jupyter lab` nor `jupyter notebook` runs).",
  "Install it, then run `npm run lab` again:",
  "  Debian/Ubuntu (as root):  apt-get install -y jupyter-notebook python3-nbconvert python3-nbclient",
  "  with pip:                 python3 -m pip install jupyterlab",
  "Without Jupyter, `npm start` runs every notebook headless and writes the executed copies to out/.",
].join("\n");

function runs(command: string, args: string[]): boolean {
  try {
    return spawnSync(command, args, { stdio: "ignore", timeout: 30_000 }).status === 0;
  } catch {
    return false;
  }
}

/** The command that starts a Jupyter frontend here, JupyterLab first. */
function findFrontend(): { command: string; args: string[] } | undefined {
  if (runs("jupyter", ["lab", "--version"])) return { command: "jupyter", args: ["lab"] };
  if (runs("jupyter", ["notebook", "--version"])) return { command: "jupyter", args: ["notebook"] };
  const python = findJupyterPython();
  if (python && runs(python, ["-m", "jupyterlab", "--version"])) return { command: python, args: ["-m", "jupyterlab"] };
  if (python && runs(python, ["-m", "notebook", "--version"])) return { command: python, args: ["-m", "notebook"] };
  return undefined;
}

function main(argv: string[]): void {
  const dryRun = argv.includes("--dry-run");
  const passThrough = argv.filter((a) => a !== "--dry-run");
  const frontend = findFrontend();
  if (!frontend) {
    process.stderr.write(INSTALL_HINT + "\n");
    process.exit(1);
  }
  const installed = installedKernelSpec();
  if (!installed || !specIsCurrent(installed)) {
    if (dryRun) process.stdout.write("Would install the tsyft kernelspec (missing or pointing elsewhere).\n");
    else {
      const result = installKernelSpec();
      process.stdout.write(`Installed the tsyft kernelspec in ${result.location} (via ${result.method}).\n`);
    }
  } else {
    process.stdout.write(`Using the tsyft kernelspec in ${path.dirname(installed)}.\n`);
  }
  const notebooks = path.join(repoRoot(), "notebooks");
  const args = [...frontend.args, `--notebook-dir=${notebooks}`, ...passThrough];
  if (dryRun) {
    process.stdout.write(`Would start: ${frontend.command} ${args.join(" ")}\n`);
    return;
  }
  process.stdout.write(`Starting ${frontend.command} ${args.join(" ")}\n`);
  const child = spawn(frontend.command, args, { cwd: notebooks, stdio: "inherit" });
  // Ctrl+C already reaches Jupyter (same process group); stay alive until it exits.
  process.on("SIGINT", () => undefined);
  process.on("SIGTERM", () => child.kill("SIGTERM"));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

main(process.argv.slice(2));
