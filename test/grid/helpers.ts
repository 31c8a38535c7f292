// Helpers of the grid integration tests: in-process nodes on port 0 with
// clients linked pairwise, temporary data dirs, and raw sockets that speak the
// framing by hand.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import WebSocket from "ws";
import * as sy from "../../src";
import * as grid from "../../src/grid";
import { clientKey, createGridCredentials, signHello, type DialerKey } from "../../src/grid/auth";
import { decodeControl, encodeControl, type ControlMessage } from "../../src/grid/control";
import { decodeReply, encodeRequest, type Reply } from "../../src/workers/messages";

export interface NodesFixture {
  hook: sy.Hook;
  /** The admin token the nodes share (their grid's). */
  adminToken: string;
  nodes: grid.GridNode[];
  clients: grid.WebsocketGridClient[];
  node(id: string): grid.GridNode;
  client(id: string): grid.WebsocketGridClient;
  teardown(): Promise<void>;
}

/** Starts in-process nodes of one grid on free ports, connects a client to each and links every pair. */
export async function startNodes(
  ids: readonly string[] = ["alice", "bob", "charlie", "dan"],
  options: Partial<grid.NodeOptions> = {},
): Promise<NodesFixture> {
  const hook = sy.hook(tf);
  const adminToken = options.adminToken ?? createGridCredentials().adminToken;
  const nodes = await Promise.all(ids.map((id) => grid.startNode({ id, port: 0, tf, ...options, adminToken })));
  const clients = nodes.map((n) => new grid.WebsocketGridClient(hook, n.url, { id: n.id }));
  await grid.connectAllNodes(clients);
  return {
    hook,
    adminToken,
    nodes,
    clients,
    node: (id) => nodes.find((n) => n.id === id)!,
    client: (id) => clients.find((c) => c.id === id)!,
    async teardown() {
      await Promise.all(clients.map((c) => c.close()));
      await Promise.all(nodes.map((n) => n.close()));
    },
  };
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tsyft-${prefix}-`));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A raw WebSocket to a node: send frames by hand, read the replies and the close. */
export class RawSocket {
  readonly replies: Reply[] = [];
  /** Control messages received (welcome, refused, result). */
  readonly control: ControlMessage[] = [];
  readonly frames: Uint8Array[] = [];
  closed?: { code: number; reason: string };
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data: Buffer) => {
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      this.frames.push(bytes);
      if (bytes[0] === grid.Channel.Reply) this.replies.push(decodeReply(bytes.subarray(1)));
      if (bytes[0] === grid.Channel.Control) this.control.push(decodeControl(bytes.subarray(1)));
      this.wake();
    });
    socket.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
    socket.on("error", () => undefined);
  }

  static open(url: string): Promise<RawSocket> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.once("open", () => resolve(new RawSocket(socket)));
      socket.once("error", reject);
    });
  }

  send(bytes: Uint8Array | string): void {
    this.socket.send(bytes);
  }

  /** Sends a request on the request channel. */
  request(request: Parameters<typeof encodeRequest>[0]): void {
    this.send(grid.encodeGridFrame(grid.Channel.Request, encodeRequest(request)));
  }

  /**
   * Says a signed hello as a client (the token's key; none: anonymous) or, with
   * `from`, as a peer; resolves with the node's answer (welcome or refused).
   */
  async hello(
    expect: string,
    options: { token?: string; key?: DialerKey; from?: string; url?: string } = {},
  ): Promise<ControlMessage> {
    const own = clientKey(options.token);
    const key = options.key ?? { pair: own.pair, ...(own.kind === "user" && { cert: own.cert }) };
    const role: "client" | "peer" = options.from === undefined ? "client" : "peer";
    const auth = signHello(key, { role, expect, from: options.from });
    const hello = { t: "hello" as const, role, expect, from: options.from, url: options.url ?? "ws://x:1", auth };
    this.send(grid.encodeGridFrame(grid.Channel.Control, encodeControl(hello)));
    return this.nextControl();
  }

  /** Resolves with the next control message (after those already taken). */
  async nextControl(timeoutMs = 10_000): Promise<ControlMessage> {
    await this.until(() => this.control.length > 0, timeoutMs);
    return this.control.shift()!;
  }

  /** Resolves with the next reply (after those already taken). */
  async nextReply(timeoutMs = 10_000): Promise<Reply> {
    await this.until(() => this.replies.length > 0, timeoutMs);
    return this.replies.shift()!;
  }

  async waitClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    await this.until(() => this.closed !== undefined, timeoutMs);
    return this.closed!;
  }

  close(): void {
    this.socket.terminate();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((w) => w());
  }

  private until(ready: () => boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`raw socket: nothing within ${timeoutMs} ms`)), timeoutMs);
      const check = () => {
        if (ready()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      check();
    });
  }
}

/** Polls `ready` until true, or fails after `timeoutMs`. */
export async function eventually(
  ready: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Largest absolute difference of two tensors. */
export function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.max(tf.abs(tf.sub(a.toFloat(), b.toFloat()))).dataSync()[0]!;
}

/** A local grid (gateway and four nodes) and a PublicGridNetwork client on it, TF.js on the cpu backend. */
export interface PublicGridFixture {
  hook: sy.SyHook;
  grid: sy.grid.LocalGrid;
  network: sy.PublicGridNetwork;
  close(): Promise<void>;
}

/** Starts a local grid on random ports, in this process or as child processes, with a network client. */
export async function startPublicGrid(options: { inProcess: boolean }): Promise<PublicGridFixture> {
  await tf.setBackend("cpu");
  const hook = sy.hook(tf);
  const local = await sy.grid.startLocalGrid({ ports: "random", ...(options.inProcess && { inProcess: true, tf }) });
  const network = new sy.PublicGridNetwork(hook, local.gateway.url);
  return {
    hook,
    grid: local,
    network,
    async close() {
      await network.close();
      await local.stop();
    },
  };
}
