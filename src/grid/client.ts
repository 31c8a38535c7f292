/**
 * WebsocketGridClient: the client's handle on a grid node (PySyft's
 * WebsocketClientWorker). It is a worker like any other: tensors `send` to
 * it, shares live on it, secure ops run among nodes through it, because it
 * has the same worker API as a VirtualWorker (workers/client.ts's
 * ClientHandle, forwarding to a WorkerClient).
 *
 * Requests travel on the request channel, control calls (status, peer links)
 * on the control channel, both over one ClientLink (client-link.ts), which
 * keeps the socket alive. When the link drops, every request and control call
 * in flight fails at once naming the node; requests made meanwhile wait for
 * the new link, each within its own timeout.
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
import { getConfig } from "../core/config";
import { CommunicationError, ErrorCode } from "../core/errors";
import type { PlanHost } from "../plans/host";
import type { WorkerHandle } from "../tensors/handle";
import type { Hook } from "../tensors/hook";
import { ClientHandle, WorkerClient, type ObjectsApi } from "../workers/client";
import { PendingCalls } from "../workers/rpc";
import type { BackoffOptions } from "./backoff";
import { gridKeyOf } from "./auth/credentials";
import { ClientLink, type ClientTraffic } from "./client-link";
import type { LinkOptions } from "./link-delay";
import { clientKeyFor, clientLinkFor, localGridCredentials } from "./local-credentials";
import { decodeControl, encodeControl, type ControlMessage } from "./control";
import { Channel, channelName } from "./framing";
import type { NodeHealth } from "./node";

export interface GridClientOptions extends LinkOptions {
  /** The node's id; `connect()` checks the node answers with it. */
  id: string;
  /** Reconnect when the link drops (default true), with these delays. */
  reconnect?: boolean | BackoffOptions;
  /** Largest message sent or received (default: the config's maxMessageBytes). */
  maxMessageBytes?: number;
  /** The CA a wss node is verified with: PEM text or a file (default TSYFT_CA_FILE, else the system's). */
  ca?: string | Buffer;
  /**
   * An admin or user token to sign hellos with. Left out: the admin token of
   * a grid this process started at this url, else anonymous; `null`:
   * anonymous (a key of this client's own, kept across reconnections).
   */
  token?: string | null;
  /** The grid key the node must prove itself under (default: from the token, or a grid this process started). */
  gridKey?: string;
}

/** A node another node can link to: a client of it, or its id and url. */
export interface NodeAddress {
  readonly id: string;
  readonly url: string;
}

/**
 * A grid node as a worker: WorkerHandle and ObjectsApi over one WebSocket, reconnecting when it drops.
 *
 * @example
 * ```ts
 * const bob = await new sy.grid.WebsocketGridClient(hook, "ws://localhost:3000", { id: "bob" }).connect();
 * const p = tf.tensor([1, 2]).send(bob);
 * ```
 */
export class WebsocketGridClient extends ClientHandle(Object) implements WorkerHandle, ObjectsApi, PlanHost {
  readonly id: string;
  readonly url: string;
  /** The request layer shared with VirtualWorker (rids, timeouts, failAll). */
  readonly rpc: WorkerClient;
  readonly traffic: ClientTraffic;
  private readonly control: PendingCalls;
  private readonly link: ClientLink;

  constructor(
    readonly hook: Hook,
    url: string,
    options: GridClientOptions,
  ) {
    super();
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
    this.rpc = new WorkerClient(this.id, (bytes) => this.link.send(Channel.Request, bytes));
    this.control = new PendingCalls(this.id);
    const key = clientKeyFor(this.url, options.token);
    this.link = new ClientLink({
      id: this.id,
      url: this.url,
      key: { pair: key.pair, ...(key.kind === "user" && { cert: key.cert }) },
      gridKey: options.gridKey ?? gridKeyOf(key) ?? localGridCredentials(this.url)?.gridKey,
      maxMessageBytes: options.maxMessageBytes ?? getConfig().maxMessageBytes,
      reconnect: options.reconnect,
      ca: options.ca,
      // Left out: the distance of a grid this process started at this url, else TSYFT_LINK_LATENCY_MS.
      link: clientLinkFor(this.url, options),
      onFrame: (channel, payload) => this.receive(channel, payload),
      onMalformed: (error) => this.rpc.unsolicited.push(error),
      onDrop: (reason, code) => {
        this.rpc.failAll(reason, code);
        this.control.failAll(reason, code);
      },
    });
    this.traffic = this.link.traffic;
    // Fetched plans name their holders by id: the hook finds this client by its node's id.
    hook.registerWorker(this);
  }

  /** True while the socket is open and the node has welcomed this client. */
  get connected(): boolean {
    return this.link.state === "open";
  }

  /** Whether the node proved it is node `id` of the grid (false when this client knew no grid key). */
  get verified(): boolean {
    return this.link.verified;
  }

  /** The boot id of the node process last connected to (changes when it restarts). */
  get nodeBoot(): string | undefined {
    return this.link.nodeBoot;
  }

  /**
   * Opens the link; resolves with this client once the node welcomed it.
   * Fails with CONNECTION when nothing answers at the url and WORKER_ID when
   * another node does.
   */
  async connect(): Promise<this> {
    await this.link.connect();
    return this;
  }

  /** Closes the link for good; requests in flight fail with CONNECTION. */
  close(): Promise<void> {
    return this.link.close();
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
    if (this.link.state === "new") await this.connect();
    await this.controlCall(`link to ${other.id}`, (rid) => ({ t: "link", rid, id: other.id, url: other.url }));
  }

  /** Errors the node sent that matched no request (malformed frames, oversized messages). */
  get unsolicited(): readonly Error[] {
    return this.rpc.unsolicited;
  }

  override toString(): string {
    return `WebsocketGridClient(${this.id} at ${this.url}, ${this.link.state})`;
  }

  private controlCall(what: string, make: (rid: number) => ControlMessage): Promise<unknown> {
    const { rid, promise } = this.control.open(what, getConfig().timeoutMs);
    try {
      this.link.send(Channel.Control, encodeControl(make(rid)));
    } catch (error) {
      this.control.fail(rid, error as Error);
    }
    return promise;
  }

  private receive(channel: Channel, payload: Uint8Array): void {
    if (channel === Channel.Reply) return this.rpc.receiveReply(payload);
    if (channel === Channel.Control) {
      try {
        const message = decodeControl(payload);
        if (message.t === "result") this.control.settle(message.rid, message);
      } catch (error) {
        this.rpc.unsolicited.push(error as Error);
      }
      return;
    }
    this.rpc.unsolicited.push(
      new CommunicationError(
        ErrorCode.MALFORMED_MESSAGE,
        `Node ${this.id} sent a ${channelName(channel)} frame to a client; clients only take replies and control messages.`,
      ),
    );
  }
}
