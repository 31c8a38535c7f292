/**
 * WebsocketGridClient: the client's handle on a grid node (PySyft's
 * WebsocketClientWorker). It is a worker like any other: tensors `send` to
 * it, shares live on it, secure ops run among nodes through it, because it
 * implements the same WorkerHandle as a VirtualWorker.
 *
 * Requests, rids and timeouts are WorkerClient's; this class carries them
 * over one WebSocket (framing.ts) and keeps that socket alive:
 * 1. `connect()` opens it, says hello expecting the node's id, and fails if
 *    another node answers.
 * 2. When the link drops, every request in flight fails at once with
 *    TSYFT_ERR_CONNECTION naming the node (TSYFT_ERR_MESSAGE_TOO_LARGE when
 *    the node refused an oversized message), and the client reconnects with
 *    backoff. Requests made meanwhile wait for the new link, each within its
 *    own timeout.
 * 3. `close()` ends it for good.
 *
 * @example
 * ```ts
 * const bob = await new sy.grid.WebsocketGridClient(hook, "ws://localhost:3000", { id: "bob" }).connect();
 * const alice = await new sy.grid.WebsocketGridClient(hook, "ws://localhost:3001", { id: "alice" }).connect();
 * await bob.connectGridNode(alice);
 * const x = tf.tensor([1, 2]).send(bob);
 * await x.add(x).get();        // [2, 4]
 * ```
 */
import WebSocket from "ws";
import { getConfig } from "../core/config";
import { CommunicationError, ErrorCode } from "../core/errors";
import type { PlanHost } from "../plans/host";
import type { Command, StoredValue, WorkerHandle } from "../tensors/handle";
import type { Hook } from "../tensors/hook";
import { WorkerClient, type ObjectsApi } from "../workers/client";
import { Backoff, type BackoffOptions } from "./backoff";
import { decodeControl, encodeControl, type ControlMessage } from "./control";
import { dial } from "./dial";
import { Channel, FRAME_HEADER_BYTES, channelName, decodeGridFrame, encodeGridFrame, messageBytes } from "./framing";
import type { NodeHealth } from "./node";
import { PendingCalls } from "./pending-calls";

export interface GridClientOptions {
  /** The node's id; `connect()` checks the node answers with it. */
  id: string;
  /** Reconnect when the link drops (default true), with these delays. */
  reconnect?: boolean | BackoffOptions;
  /** Largest message sent or received (default: the config's maxMessageBytes). */
  maxMessageBytes?: number;
  /** The CA a wss node is verified with: PEM text or a file (default TSYFT_CA_FILE, else the system's). */
  ca?: string | Buffer;
}

/** A node another node can link to: a client of it, or its id and url. */
export interface NodeAddress {
  readonly id: string;
  readonly url: string;
}

/** Traffic through this client's socket, per direction and channel. */
export interface ClientTraffic {
  bytesSent: number;
  bytesReceived: number;
  framesSent: number;
  framesReceived: number;
  /** Bytes received per channel name ("reply", "control", and "peer" which should stay 0). */
  receivedByChannel: Record<string, number>;
  /** Bytes sent per channel name. */
  sentByChannel: Record<string, number>;
  reconnects: number;
}

type State = "new" | "connecting" | "open" | "reconnecting" | "closed";

const CLOSE_TOO_LARGE = 1009;

/**
 * A grid node as a worker: WorkerHandle and ObjectsApi over one WebSocket, reconnecting when it drops.
 *
 * @example
 * ```ts
 * const bob = await new sy.grid.WebsocketGridClient(hook, "ws://localhost:3000", { id: "bob" }).connect();
 * const p = tf.tensor([1, 2]).send(bob);
 * ```
 */
export class WebsocketGridClient implements WorkerHandle, ObjectsApi, PlanHost {
  readonly id: string;
  readonly url: string;
  /** The request layer shared with VirtualWorker (rids, timeouts, failAll). */
  readonly rpc: WorkerClient;
  readonly traffic: ClientTraffic = {
    bytesSent: 0,
    bytesReceived: 0,
    framesSent: 0,
    framesReceived: 0,
    receivedByChannel: {},
    sentByChannel: {},
    reconnects: 0,
  };
  /** The boot id of the node process last connected to (changes when it restarts). */
  nodeBoot?: string;
  private readonly control: PendingCalls;
  private readonly backoff?: Backoff;
  private readonly maxMessageBytes: number;
  private readonly ca?: string | Buffer;
  private state: State = "new";
  private socket?: WebSocket;
  private opening?: Promise<void>;
  private outbox: Uint8Array[] = [];
  private outboxBytes = 0;
  private reconnectTimer?: NodeJS.Timeout;
  private lastDrop?: string;

  constructor(
    readonly hook: Hook,
    url: string,
    options: GridClientOptions,
  ) {
    if (typeof options?.id !== "string" || options.id.length === 0) {
      throw new CommunicationError(
        ErrorCode.WORKER_ID,
        `WebsocketGridClient: expected { id: "the node's id" }, got ${JSON.stringify(options?.id)}.`,
      );
    }
    if (typeof url !== "string" || !/^wss?:\/\//.test(url)) {
      throw new CommunicationError(
        ErrorCode.INVALID_ARGUMENT,
        `WebsocketGridClient: expected a ws:// or wss:// url, got ${JSON.stringify(url)}.`,
      );
    }
    this.id = options.id;
    this.url = url.replace(/\/+$/, "");
    this.maxMessageBytes = options.maxMessageBytes ?? getConfig().maxMessageBytes;
    this.ca = options.ca;
    if (options.reconnect !== false)
      this.backoff = new Backoff(typeof options.reconnect === "object" ? options.reconnect : {});
    this.rpc = new WorkerClient(this.id, (bytes) => this.sendFrame(Channel.Request, bytes));
    this.control = new PendingCalls(this.id);
    // Fetched plans name their holders by id: the hook finds this client by its node's id.
    hook.registerWorker(this);
  }

  /** True while the socket is open and the node has welcomed this client. */
  get connected(): boolean {
    return this.state === "open";
  }

  /**
   * Opens the link; resolves with this client once the node welcomed it.
   * Fails with CONNECTION when nothing answers at the url and WORKER_ID when
   * another node does.
   */
  async connect(): Promise<this> {
    if (this.state === "closed")
      throw new CommunicationError(ErrorCode.CONNECTION, `The client of ${this.id} was closed; make a new one.`, {
        worker: this.id,
      });
    if (this.state === "open") return this;
    if (this.state === "reconnecting") {
      clearTimeout(this.reconnectTimer);
      await this.attempt();
      return this;
    }
    this.opening ??= this.openSocket().then(
      () => this.onOpen(),
      (error) => {
        this.state = "new";
        throw error;
      },
    );
    this.state = "connecting";
    try {
      await this.opening;
    } finally {
      this.opening = undefined;
    }
    return this;
  }

  /** Closes the link for good; requests in flight fail with CONNECTION. */
  async close(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    clearTimeout(this.reconnectTimer);
    this.outbox = [];
    this.outboxBytes = 0;
    this.rpc.failAll("client closed");
    this.control.failAll("client closed");
    const socket = this.socket;
    this.socket = undefined;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        socket.terminate();
        resolve();
      }, 1_000);
      socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      socket.close(1000, "client closed");
    });
  }

  submit(command: Command): void {
    this.rpc.submit(command);
  }

  store(id: string, value: StoredValue): void {
    this.rpc.store(id, value);
  }

  fetch(id: string, options: { remove: boolean }): Promise<StoredValue> {
    return this.rpc.fetch(id, options);
  }

  release(ids: readonly string[]): void {
    this.rpc.release(ids);
  }

  listObjects(): Promise<string[]> {
    return this.rpc.listObjects();
  }

  objectCount(): Promise<number> {
    return this.rpc.objectCount();
  }

  clearObjects(): Promise<void> {
    return this.rpc.clearObjects();
  }

  /** Stores a plan on the node (PlanHost: `plan.send(client)`); resolves once stored. */
  storePlan(id: string, bytes: Uint8Array, options: { token?: string } = {}): Promise<void> {
    return this.rpc.storePlan(id, bytes, options);
  }

  /** A hosted plan's bytes (PlanHost: `me.fetchPlan(id, client)`); without `copy` once only. */
  fetchPlanBytes(id: string, options: { copy: boolean; token?: string }): Promise<Uint8Array> {
    return this.rpc.fetchPlanBytes(id, options);
  }

  /** Resolves with the node's id once it answered. */
  ping(): Promise<string> {
    return this.rpc.ping();
  }

  /** The node's health (the same as its GET /health), over the socket. */
  async status(): Promise<NodeHealth> {
    return (await this.controlCall("status", (rid) => ({ t: "status", rid }))) as NodeHealth;
  }

  /**
   * Asks this node to open a peer link to `other` (PyGrid's connect_nodes);
   * resolves when both nodes have registered the link.
   *
   * @example
   * ```ts
   * await bob.connectGridNode(alice);       // bob <-> alice, for protocol traffic
   * ```
   */
  async connectGridNode(other: NodeAddress): Promise<void> {
    if (this.state === "new") await this.connect();
    await this.controlCall(`link to ${other.id}`, (rid) => ({ t: "link", rid, id: other.id, url: other.url }));
  }

  /** Errors the node sent that matched no request (malformed frames, oversized messages). */
  get unsolicited(): readonly Error[] {
    return this.rpc.unsolicited;
  }

  toString(): string {
    return `WebsocketGridClient(${this.id} at ${this.url}, ${this.state})`;
  }

  private controlCall(what: string, make: (rid: number) => ControlMessage): Promise<unknown> {
    const { rid, promise } = this.control.open(what, getConfig().timeoutMs);
    try {
      this.sendFrame(Channel.Control, encodeControl(make(rid)));
    } catch (error) {
      this.control.fail(rid, error as Error);
    }
    return promise;
  }

  /** Sends a frame now, or keeps it for the next link when there is none. */
  private sendFrame(channel: Channel, payload: Uint8Array): void {
    if (payload.byteLength > this.maxMessageBytes) {
      throw new CommunicationError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `A ${channelName(channel)} of ${payload.byteLength} bytes for ${this.id} is over the limit of ${this.maxMessageBytes} (maxMessageBytes). Send it in parts, or raise the limit on both ends.`,
        { worker: this.id },
      );
    }
    if (this.state === "closed") {
      throw new CommunicationError(ErrorCode.CONNECTION, `The client of ${this.id} is closed.`, { worker: this.id });
    }
    const frame = encodeGridFrame(channel, payload);
    if (this.state === "open" && this.socket?.readyState === WebSocket.OPEN) {
      this.write(this.socket, frame, channel);
      return;
    }
    if (this.state === "new") this.connectInBackground();
    if (this.outboxBytes + frame.byteLength > this.maxMessageBytes) {
      throw new CommunicationError(
        ErrorCode.CONNECTION,
        `No link to ${this.id} at ${this.url}${this.lastDrop ? ` (${this.lastDrop})` : ""}, and the messages waiting for it are over ${this.maxMessageBytes} bytes.`,
        { worker: this.id },
      );
    }
    this.outbox.push(frame);
    this.outboxBytes += frame.byteLength;
  }

  /**
   * First use before `connect()`: connect now; if that fails, what waits for
   * the link fails at once with the reason instead of timing out.
   */
  private connectInBackground(): void {
    this.connect().catch((error: Error) => {
      if (this.state !== "new") return;
      this.outbox = [];
      this.outboxBytes = 0;
      this.rpc.failAll(error.message);
      this.control.failAll(error.message);
    });
  }

  private write(socket: WebSocket, frame: Uint8Array, channel: number): void {
    this.traffic.bytesSent += frame.byteLength;
    this.traffic.framesSent++;
    const name = channelName(channel);
    this.traffic.sentByChannel[name] = (this.traffic.sentByChannel[name] ?? 0) + frame.byteLength;
    socket.send(frame);
  }

  /** Opens a socket and waits for the node's welcome. */
  private async openSocket(): Promise<void> {
    const timeoutMs = getConfig().timeoutMs;
    const { socket, welcome } = await dial({
      url: this.url,
      maxPayload: this.maxMessageBytes + FRAME_HEADER_BYTES,
      ca: this.ca,
      hello: { t: "hello", role: "client", expect: this.id },
      expect: this.id,
      timeoutMs,
      say: {
        timeout: `No welcome from node ${this.id} at ${this.url} within ${timeoutMs} ms.`,
        unreachable: (error) =>
          `Cannot connect to node ${this.id} at ${this.url}: ${error.message}. Is it running? (tsyft node --id ${this.id} --port ...)`,
        closed: (code, reason) =>
          `Node ${this.id} at ${this.url} closed the link before welcoming (${code} ${reason}).`,
        wrongId: (answered) => `Expected node "${this.id}" at ${this.url}, but "${answered}" answered.`,
      },
      gone: () => (this.state === "closed" ? `The client of ${this.id} was closed.` : undefined),
    });
    this.nodeBoot = welcome.boot;
    this.socket = socket;
    let refusedHere = false;
    socket.on("error", (error: Error & { code?: string }) => {
      // A close event follows; this one only says whose limit it was.
      if (error.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") refusedHere = true;
    });
    socket.on("message", (frame) => this.onMessage(messageBytes(frame as Buffer)));
    socket.on("close", (code, reason) => this.onDrop(socket, code, reason.toString(), refusedHere));
  }

  private onOpen(): void {
    this.state = "open";
    this.lastDrop = undefined;
    this.backoff?.reset();
    const queued = this.outbox;
    this.outbox = [];
    this.outboxBytes = 0;
    for (const frame of queued) this.write(this.socket!, frame, frame[0]!);
  }

  private onMessage(bytes: Uint8Array): void {
    this.traffic.bytesReceived += bytes.byteLength;
    this.traffic.framesReceived++;
    let frame;
    try {
      frame = decodeGridFrame(bytes);
    } catch (error) {
      this.rpc.unsolicited.push(error as Error);
      return;
    }
    const name = channelName(frame.channel);
    this.traffic.receivedByChannel[name] = (this.traffic.receivedByChannel[name] ?? 0) + bytes.byteLength;
    if (frame.channel === Channel.Reply) return this.rpc.receiveReply(frame.payload);
    if (frame.channel === Channel.Control) {
      try {
        const message = decodeControl(frame.payload);
        if (message.t === "result") this.control.settle(message.rid, message);
      } catch (error) {
        this.rpc.unsolicited.push(error as Error);
      }
      return;
    }
    this.rpc.unsolicited.push(
      new CommunicationError(
        ErrorCode.MALFORMED_MESSAGE,
        `Node ${this.id} sent a ${name} frame to a client; clients only take replies and control messages.`,
      ),
    );
  }

  private onDrop(socket: WebSocket, code: number, reason: string, refusedHere: boolean): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    if (this.state === "closed") return;
    const tooLarge = code === CLOSE_TOO_LARGE || refusedHere;
    this.lastDrop = refusedHere
      ? `node ${this.id} sent a message over this client's size limit (${this.maxMessageBytes} bytes, maxMessageBytes) and the link was closed`
      : tooLarge
        ? `node ${this.id} refused a message over its size limit (maxMessageBytes) and closed the link`
        : `the link to node ${this.id} at ${this.url} closed (${code}${reason ? ` ${reason}` : ""})`;
    const errorCode = tooLarge ? ErrorCode.MESSAGE_TOO_LARGE : ErrorCode.CONNECTION;
    this.rpc.failAll(this.lastDrop, errorCode);
    this.control.failAll(this.lastDrop, errorCode);
    if (!this.backoff) {
      this.state = "new";
      return;
    }
    this.state = "reconnecting";
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(
      () => void this.attempt().catch(() => this.scheduleReconnect()),
      this.backoff!.next(),
    );
  }

  private async attempt(): Promise<void> {
    if (this.state !== "reconnecting") return;
    await this.openSocket();
    if ((this.state as State) === "closed") return;
    this.traffic.reconnects++;
    this.onOpen();
  }
}
