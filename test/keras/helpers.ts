// Helpers of the Keras serving tests: free ports, the 13b model with random
// weights, a client process (fixtures/keras-client.js, against dist/), and a
// TCP relay that records every byte it forwards.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import * as readline from "node:readline";
import * as tf from "@tensorflow/tfjs";
import { packageRoot } from "../../src/core/package-root";

export const KERAS_CLIENT = path.join(packageRoot(), "test", "keras", "fixtures", "keras-client.js");

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

/**
 * PySyft 13b's model (13a's CNN with logits), batch input [1, 28, 28, 1], random weights from `seed`:
 * Conv2D(10, 3x3) -> AvgPool(2) -> ReLU, Conv2D(32, 3x3) -> AvgPool -> ReLU, Conv2D(64, 3x3) -> AvgPool -> ReLU,
 * Flatten, Dense(10, name "logit").
 */
export function model13b(seed = 7): tf.Sequential {
  const init = (i: number) => tf.initializers.glorotUniform({ seed: seed + i });
  const conv = (filters: number, i: number, first = false) =>
    tf.layers.conv2d({
      filters,
      kernelSize: 3,
      kernelInitializer: init(i),
      biasInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: seed + 10 + i }),
      ...(first && { batchInputShape: [1, 28, 28, 1] }),
    });
  return tf.sequential({
    layers: [
      conv(10, 0, true),
      tf.layers.averagePooling2d({ poolSize: 2 }),
      tf.layers.reLU(),
      conv(32, 1),
      tf.layers.averagePooling2d({ poolSize: 2 }),
      tf.layers.reLU(),
      conv(64, 2),
      tf.layers.averagePooling2d({ poolSize: 2 }),
      tf.layers.reLU(),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, name: "logit", kernelInitializer: init(3) }),
    ],
  });
}

/** `n` images in [0, 1] of shape [28, 28, 1], flattened, from `seed`. */
export function images(n: number, seed = 1): number[][] {
  return Array.from({ length: n }, (_, i) =>
    Array.from(tf.randomUniform([28 * 28], 0, 1, "float32", seed + i).dataSync()),
  );
}

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
  const child = spawn(process.execPath, [KERAS_CLIENT, JSON.stringify(spec)], { stdio: ["pipe", "pipe", "pipe"] });
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

/** A TCP relay from a port of its own to `target`, keeping every byte it forwards (both ways). */
export interface Relay {
  port: number;
  bytes(): Buffer;
  close(): Promise<void>;
}

export async function startRelay(target: number, port = 0): Promise<Relay> {
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(target, "127.0.0.1");
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
    inbound.on("data", (d: Buffer) => {
      chunks.push(d);
      outbound.write(d);
    });
    outbound.on("data", (d: Buffer) => {
      chunks.push(d);
      inbound.write(d);
    });
    inbound.on("close", () => outbound.destroy());
    outbound.on("close", () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    bytes: () => Buffer.concat(chunks),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * The byte patterns two consecutive elements of a tensor leave on the wire in the clear: their fixed-point
 * encodings (int64 little-endian, 16 fractional bits, the default precision) and their float32 forms, side by
 * side as a tensor's bytes are. Two elements make a pattern that random traffic does not hit by chance.
 */
export function clearPatterns(values: ArrayLike<number>, at: number, fractionalBits = 16): Buffer[] {
  const encoded = Buffer.alloc(16);
  const float = Buffer.alloc(8);
  for (let k = 0; k < 2; k++) {
    encoded.writeBigInt64LE(BigInt(Math.round(values[at + k]! * 2 ** fractionalBits)), 8 * k);
    float.writeFloatLE(values[at + k]!, 4 * k);
  }
  return [encoded, float];
}
