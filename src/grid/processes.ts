/**
 * Running tsyft CLI commands as child processes: how to launch the CLI from
 * the compiled package or from source, reading the JSON line a server prints
 * when it listens, waiting for health, and stopping processes by pid.
 *
 * A node or gateway started by the CLI prints one line on stdout,
 * `{"event":"listening","role":"node","id":"bob","port":3000,"url":"ws://...","pid":1234}`,
 * so a parent that asked for port 0 learns the real one.
 *
 * @example
 * ```ts
 * const child = spawnCli(["node", "--id", "bob", "--port", "0"]);
 * const info = await waitListening(child, "bob", 60_000);   // { port, url, pid, ... }
 * await waitHealthy(`http://127.0.0.1:${info.port}/health`, 60_000);
 * await stopChild(child);
 * ```
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline";
import { CommunicationError, ErrorCode } from "../core/errors";
import { httpJson, toHttp } from "./http-util";
import { packageRoot } from "../core/package-root";
import { gcFlags } from "../core/v8-flags";

export { packageRoot };

/** What a server prints when it listens. */
export interface ListeningInfo {
  event: "listening";
  role: "node" | "gateway" | "domain";
  id: string;
  port: number;
  url: string;
  pid: number;
}

/**
 * The command line that runs the CLI with `args`: the compiled entry when
 * this module is compiled, else the TypeScript entry through vite-node.
 */
export function cliCommand(args: readonly string[]): { command: string; args: string[] } {
  const flags = serverFlags();
  if (__filename.endsWith(".ts")) {
    const viteNode = path.join(packageRoot(), "node_modules", "vite-node", "vite-node.mjs");
    return {
      command: process.execPath,
      args: [...flags, viteNode, path.join(__dirname, "cli-entry.ts"), "--", ...args],
    };
  }
  return { command: process.execPath, args: [...flags, path.join(__dirname, "cli-entry.js"), ...args] };
}

/**
 * V8 flags of the servers this module starts:
 * - a young generation of 32 MB a semi-space (V8's default here is 16). A
 *   party's run allocates a stream of short-lived frames, promises and share
 *   buffers; with the default, many outlive a scavenge, are promoted, and
 *   bring on old-space collections a few times per encrypted query (15-20% of
 *   a holder's time for the skin-cancer CNN: `npm run bench profile`). Left
 *   out when NODE_OPTIONS sets the size.
 * - the collector for this machine (core/v8-flags.ts: on fewer than four CPUs,
 *   the servers of a local grid collect on their main threads only).
 */
function serverFlags(): string[] {
  return [...(/semi-space/.test(process.env.NODE_OPTIONS ?? "") ? [] : ["--max-semi-space-size=32"]), ...gcFlags()];
}

export interface SpawnCliOptions {
  /** Outlive this process: no pipes, output to `logFile`, own process group. */
  detach?: boolean;
  logFile?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Starts a CLI command as a child process. Attached children exit when this process does. */
export function spawnCli(args: readonly string[], options: SpawnCliOptions = {}): ChildProcess {
  if (options.detach) {
    if (!options.logFile) throw new RangeError("spawnCli: a detached child needs a logFile.");
    fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
    const fd = fs.openSync(options.logFile, "a");
    const { command, args: argv } = cliCommand(args);
    const child = spawn(command, argv, {
      detached: true,
      stdio: ["ignore", fd, fd],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    fs.closeSync(fd);
    child.unref();
    return child;
  }
  const { command, args: argv } = cliCommand([...args, "--exit-with-parent"]);
  return spawn(command, argv, { stdio: ["pipe", "pipe", "pipe"], env: options.env ?? process.env, cwd: options.cwd });
}

function parseListening(line: string, id: string): ListeningInfo | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const info = JSON.parse(line) as ListeningInfo;
    return info.event === "listening" && info.id === id && typeof info.port === "number" ? info : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves with the listening line of an attached child; rejects if it exits first or after `timeoutMs`. */
export function waitListening(child: ChildProcess, id: string, timeoutMs: number): Promise<ListeningInfo> {
  return new Promise((resolve, reject) => {
    const stderr: string[] = [];
    const lines = readline.createInterface({ input: child.stdout! });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr.push(chunk.toString());
      if (stderr.length > 50) stderr.shift();
    });
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new CommunicationError(
          ErrorCode.TIMEOUT,
          `${id} did not start listening within ${timeoutMs} ms. Its output:\n${stderr.join("").slice(-2000)}`,
          { worker: id },
        ),
      );
    }, timeoutMs);
    const onLine = (line: string) => {
      const info = parseListening(line.trim(), id);
      if (info) {
        cleanup();
        resolve(info);
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(
        new CommunicationError(
          ErrorCode.CONNECTION,
          `${id} exited (${signal ?? code}) before listening. Its output:\n${stderr.join("").slice(-2000)}`,
          { worker: id },
        ),
      );
    };
    const cleanup = () => {
      clearTimeout(timer);
      lines.off("line", onLine);
      child.off("exit", onExit);
    };
    lines.on("line", onLine);
    child.on("exit", onExit);
  });
}

/** Resolves with the listening line a detached child wrote to its log file. */
export async function waitListeningInLog(
  logFile: string,
  id: string,
  pid: number,
  timeoutMs: number,
): Promise<ListeningInfo> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "";
    for (const line of text.split("\n")) {
      const info = parseListening(line.trim(), id);
      if (info && info.pid === pid) return info;
    }
    if (!isAlive(pid)) {
      throw new CommunicationError(
        ErrorCode.CONNECTION,
        `${id} (pid ${pid}) exited before listening. See ${logFile}:\n${text.slice(-2000)}`,
        { worker: id },
      );
    }
    if (Date.now() > deadline)
      throw new CommunicationError(
        ErrorCode.TIMEOUT,
        `${id} did not start listening within ${timeoutMs} ms. See ${logFile}.`,
        { worker: id },
      );
    await sleep(100);
  }
}

/**
 * Polls `GET url` until it answers 200 with a body `ready` accepts (default: any); resolves with that body (`ca`:
 * the CA of an https url).
 */
export async function waitHealthy(
  url: string,
  timeoutMs: number,
  ca?: string | Buffer,
  ready: (body: unknown) => boolean = () => true,
): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const { status, body } = await httpJson("GET", url, undefined, { timeoutMs: 2_000, ca });
      if (status === 200 && ready(body)) return body;
      last = status === 200 ? `not ready yet: ${JSON.stringify(body).slice(0, 200)}` : `status ${status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline)
      throw new CommunicationError(
        ErrorCode.TIMEOUT,
        `${url} was not healthy within ${timeoutMs} ms (${String(last)}).`,
      );
    await sleep(100);
  }
}

/**
 * Polls each member's `GET /health` (at its ws or http `url`) until it answers and, for a node with a gateway,
 * says it is in the gateway's registry: clients find nodes there, so a grid is ready once all are listed.
 */
export async function waitReady(
  members: ReadonlyArray<{ url: string }>,
  timeoutMs: number,
  ca?: string | Buffer,
): Promise<void> {
  const listed = (body: unknown) => (body as { joined?: boolean }).joined !== false;
  await Promise.all(members.map((m) => waitHealthy(`${toHttp(m.url)}/health`, timeoutMs, ca, listed)));
}

/** True while a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Sends SIGTERM, waits up to `graceMs` for the process to go, then SIGKILL. */
export async function stopPid(pid: number, graceMs = 10_000): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
}

/** Stops an attached child and waits for its exit. */
export function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
