/**
 * Debian's Jupyter Notebook (classic, 6.4) on a free port with a token, its
 * kernelspec, config, data and runtime folders all temporary, so a test never
 * sees or changes the user's Jupyter setup (nor its trust database).
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import { freePorts } from "../../bench/suites/keras-clients";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { PYTHON, killTree, pythonEnv, tempJupyterPath } from "../kernel/helpers";

export interface NotebookServer {
  url: string;
  token: string;
  /** `url` + path + `?token=...` */
  link(urlPath: string): string;
  /** Calls the server's REST API. */
  api<T>(method: string, urlPath: string): Promise<T>;
  /** The server's log so far (stderr). */
  log(): string;
  stop(): Promise<void>;
}

/** Starts `python3 -m notebook` serving `notebookDir`; resolves once its API answers. */
export async function startNotebookServer(notebookDir: string, env: Record<string, string>): Promise<NotebookServer> {
  const jupyter = tempJupyterPath("signal");
  const dataDir = path.join(jupyter.jupyterPath, "data");
  const configDir = path.join(jupyter.jupyterPath, "config");
  fs.mkdirSync(dataDir);
  fs.mkdirSync(configDir);
  const token = randomBytes(16).toString("hex");
  const port = (await freePorts(1))[0]!;
  const child: ChildProcess = spawn(
    PYTHON,
    [
      "-m",
      "notebook",
      "--no-browser",
      "--ip=127.0.0.1",
      `--port=${port}`,
      "--port-retries=0",
      // CI runs as root.
      ...(process.getuid?.() === 0 ? ["--allow-root"] : []),
      `--NotebookApp.token=${token}`,
      `--notebook-dir=${notebookDir}`,
      "--MappingKernelManager.cull_idle_timeout=0",
    ],
    {
      cwd: notebookDir,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: pythonEnv({
        JUPYTER_PATH: jupyter.jupyterPath,
        JUPYTER_DATA_DIR: dataDir,
        JUPYTER_CONFIG_DIR: configDir,
        JUPYTER_RUNTIME_DIR: jupyter.runtimeDir,
        ...env,
      }),
    },
  );
  let log = "";
  child.stdout!.on("data", (chunk) => (log += chunk));
  child.stderr!.on("data", (chunk) => (log += chunk));
  const url = `http://127.0.0.1:${port}`;
  const server: NotebookServer = {
    url,
    token,
    link: (urlPath) => `${url}${urlPath}${urlPath.includes("?") ? "&" : "?"}token=${token}`,
    async api<T>(method: string, urlPath: string): Promise<T> {
      const response = await fetch(`${url}${urlPath}`, { method, headers: { Authorization: `token ${token}` } });
      if (!response.ok) throw new Error(`${method} ${urlPath}: HTTP ${response.status}`);
      const body = await response.text();
      return (body ? JSON.parse(body) : undefined) as T;
    },
    log: () => log,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM"); // the server shuts its kernels down on SIGTERM
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
        killTree(child);
      }
      jupyter.cleanup();
    },
  };
  const end = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the notebook server exited (${child.exitCode}):\n${log}`);
    try {
      await server.api("GET", "/api/status");
      return server;
    } catch {
      if (Date.now() > end) {
        await server.stop();
        throw new Error(`the notebook server did not answer in 60 s:\n${log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
