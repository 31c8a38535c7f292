/**
 * Private prediction clients of a Keras serving cluster in processes of their
 * own (test/keras/fixtures/keras-client.js, against dist/), as PySyft's 13c
 * notebook is to 13b, and free ports for the servers. Used by `npm run bench
 * keras` and the tests (test/keras, and the browser test's Jupyter server).
 * Node's modules only: importing it loads neither TensorFlow.js nor tsyft.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import { packageRoot } from "../../src/core/package-root";

export const KERAS_CLIENT = path.join(packageRoot(), "test", "keras", "fixtures", "keras-client.js");

export interface ClientSpec {
  hosts: string[];
  name?: string;
  inputShape: number[];
  outputShape: number[];
  inputs: number[][];
  concurrency?: number;
  timeoutMs?: number;
  warmup?: number;
  waitForGo?: boolean;
  stateDir?: string;
}

export interface ClientResult {
  ms: number;
  logits?: number[];
  error?: { code: string; name: string; message: string };
}

/** A started client process: `ready` once connected (and warmed up); `go()` starts its queries if it waits. */
export interface ClientProcess {
  ready: Promise<void>;
  done: Promise<ClientResult[]>;
  go(): void;
  kill(): void;
}

/** Starts fixtures/keras-client.js with `spec` (needs dist/: npm run build). */
export function startClient(spec: ClientSpec): ClientProcess {
  const library = path.join(packageRoot(), "dist", "src", "index.js");
  if (!fs.existsSync(library)) throw new Error(`${KERAS_CLIENT} runs against ${library}: run npm run build first.`);
  // The spec goes in a file: a few dozen images are over the size of one command-line argument.
  const specFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-keras-client-")), "spec.json");
  fs.writeFileSync(specFile, JSON.stringify(spec));
  const child = spawn(process.execPath, [KERAS_CLIENT, `@${specFile}`], { stdio: ["pipe", "pipe", "pipe"] });
  child.on("exit", () => fs.rmSync(path.dirname(specFile), { recursive: true, force: true }));
  const stderr: string[] = [];
  child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
  let readyResolve!: () => void;
  let readyReject!: (error: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    readyResolve = resolve;
    readyReject = reject;
  });
  const done = new Promise<ClientResult[]>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      if (!line.startsWith("{")) return;
      const event = JSON.parse(line) as { event: string; results?: ClientResult[]; error?: { message: string } };
      if (event.event === "ready") readyResolve();
      if (event.event === "done") resolve(event.results!);
      if (event.event === "failed") {
        const error = new Error(`client process failed: ${event.error?.message}\n${stderr.join("").slice(-2000)}`);
        readyReject(error);
        reject(error);
      }
    });
    child.on("exit", (code) => {
      const error = new Error(`client process exited (${code}) early:\n${stderr.join("").slice(-2000)}`);
      readyReject(error);
      reject(error);
    });
  });
  ready.catch(() => undefined);
  return {
    ready,
    done,
    go: () => child.stdin.write("go\n"),
    kill: () => child.kill("SIGKILL"),
  };
}

/**
 * Starts one client process per spec (each waiting for "go"), waits until all
 * are connected and warmed up, then `run()` starts their queries at the same
 * moment and resolves with each one's results and the time to the last.
 */
export async function startKerasClients(
  specs: readonly ClientSpec[],
): Promise<{ run(): Promise<{ results: ClientResult[][]; wallMs: number }> }> {
  const clients = specs.map((spec) => startClient({ ...spec, waitForGo: true }));
  try {
    await Promise.all(clients.map((c) => c.ready));
  } catch (error) {
    for (const c of clients) c.kill();
    throw error;
  }
  return {
    run: async () => {
      const started = performance.now();
      for (const c of clients) c.go();
      try {
        const results = await Promise.all(clients.map((c) => c.done));
        return { results, wallMs: performance.now() - started };
      } finally {
        for (const c of clients) c.kill();
      }
    },
  };
}

/** Ports free now (each bound on 127.0.0.1 and released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}
