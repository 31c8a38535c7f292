/**
 * A grid node: a Worker behind a WebSocket server (PyGrid's node).
 *
 * One socket kind per role, one framing (framing.ts) for all:
 * - clients send requests (0x01) that go to `worker.handleRequest`; replies
 *   (0x02) come back on the same socket, matched by rid;
 * - other nodes say hello as peers, and from then on their socket is this
 *   node's link to them (peer frames 0x03 both ways, see peer-links.ts);
 * - control messages (0x04) say who is who and ask for peer links.
 *
 * Whatever arrives, the node keeps serving: a text or empty message, an
 * unknown channel, a malformed request or an unknown object id is answered
 * with an error reply (rid -1 when the request had none); a message over
 * `maxMessageBytes` is refused by the socket layer (close code 1009, which
 * the client reports as TSYFT_ERR_MESSAGE_TOO_LARGE) and the node goes on
 * with its other sockets and new ones.
 *
 * Over HTTP on the same port: `GET /health` answers
 * `{ id, objects, peers, uptime }`.
 *
 * With a data dir, its objects and the peers it dialed persist in an
 * embedded database (kv-store.ts) and come back at the next start.
 *
 * @example
 * ```ts
 * const bob = await sy.grid.startNode({ id: "bob", port: 3000 });
 * console.log(bob.url);          // ws://127.0.0.1:3000
 * await bob.close();
 * ```
 */
import { randomBytes } from "node:crypto";
import type * as http from "node:http";
import WebSocket, { WebSocketServer } from "ws";
import { decodeMessage, encodeMessage } from "../core/codec";
import { getConfig } from "../core/config";
import { CommunicationError, ErrorCode, TsyftError, serializeError } from "../core/errors";
import { checkId } from "../core/ids";
import type { TF } from "../tensors/plain-ops";
import { encodeReply } from "../workers/messages";
import { Worker } from "../workers/worker";
import { decodeControl, encodeControl, type ControlMessage, type Hello } from "./control";
import { Channel, FRAME_HEADER_BYTES, decodeGridFrame, encodeGridFrame, messageBytes } from "./framing";
import { watchPartialFrames } from "./frame-deadline";
import { closeServer, createServer, listen, publicHost, sendError, sendJson } from "./http-util";
import { openKeyValueStore, type KeyValueStore, type Namespace } from "./kv-store";
import { GatewayMembership } from "./membership";
import { ObjectPersistence } from "./object-persistence";
import "./persisted-plans";
import { PeerLinks, type LinkStats } from "./peer-links";
import type { TlsOptions } from "./tls";

export interface NodeOptions {
  /** The node's worker id ("bob"). */
  id: string;
  /** Port to listen on; 0 (the default) picks a free one, see `node.port`. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** Serve wss (and https /health) with this certificate and key (PEM text or file paths). */
  tls?: TlsOptions;
  /** The CA peers and the gateway are verified with when they are wss/https (default TSYFT_CA_FILE). */
  ca?: string | Buffer;
  /** Where objects persist; none: in memory only. The CLI also reads TSYFT_NODE_DATA. */
  dataDir?: string;
  /** A gateway to join (its http or ws url). */
  gateway?: string;
  /** The url announced to the gateway and to peers (default ws://host:port). */
  advertiseUrl?: string;
  /** The TensorFlow.js module to run plaintext ops with (default: require("@tensorflow/tfjs")). */
  tf?: TF;
  /** Largest message accepted, in bytes (default: the config's maxMessageBytes). */
  maxMessageBytes?: number;
}

/** What `GET /health` answers. */
export interface NodeHealth {
  id: string;
  objects: number;
  peers: string[];
  /** Seconds since the node started. */
  uptime: number;
  url: string;
  boot: string;
}

/** Traffic a node saw, by kind of socket. */
export interface NodeTraffic {
  clients: LinkStats;
  peers: Record<string, LinkStats>;
  malformed: number;
}

const CLOSE_WRONG_ID = 4001;
const CLOSE_SHUTDOWN = 1001;

function defaultTf(): TF {
  // Loaded on demand: a node given its own tf (tests, notebooks) never loads a second copy.
  return require("@tensorflow/tfjs") as TF;
}

/**
 * A running node: its Worker, its peer links, its servers and its persistence.
 *
 * @example
 * ```ts
 * const node = await GridNode.start({ id: "bob", port: 0 });
 * node.health();   // { id: "bob", objects: 0, peers: [], uptime: 0.01, ... }
 * ```
 */
export class GridNode {
  readonly id: string;
  /** New at every start: peers that see it change know this node restarted. */
  readonly boot = randomBytes(6).toString("hex");
  readonly worker: Worker;
  readonly peers: PeerLinks;
  readonly startedAt = Date.now();
  readonly maxMessageBytes: number;
  private readonly http: http.Server;
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<WebSocket>();
  private readonly clientStats: LinkStats = { bytesIn: 0, bytesOut: 0, framesIn: 0, framesOut: 0 };
  private malformed = 0;
  private boundPort = 0;
  private closing?: Promise<void>;
  private db?: KeyValueStore;
  private peerTable?: Namespace;
  private persistence?: ObjectPersistence;
  private membership?: GatewayMembership;

  private constructor(
    private readonly options: NodeOptions,
    tf: TF,
  ) {
    this.id = options.id;
    this.maxMessageBytes = options.maxMessageBytes ?? getConfig().maxMessageBytes;
    this.peers = new PeerLinks({
      self: this.id,
      url: () => this.url,
      boot: this.boot,
      maxPayload: this.maxMessageBytes + FRAME_HEADER_BYTES,
      ca: options.ca,
      worker: () => this.worker,
      onDialed: (peer, url) => void this.peerTable?.put(peer, encodeMessage({ url })).catch(() => undefined),
    });
    this.worker = new Worker(this.id, tf, this.peers);
    this.http = createServer((req, res) => this.onHttp(req, res), { tls: options.tls });
    this.wss = new WebSocketServer({ server: this.http, maxPayload: this.maxMessageBytes + FRAME_HEADER_BYTES });
    this.wss.on("connection", (socket, req) => {
      watchPartialFrames(socket, req);
      this.onConnection(socket);
    });
    this.wss.on("error", () => undefined); // the http server reports listen errors
  }

  /** Starts a node (see {@link startNode}). */
  static async start(options: NodeOptions): Promise<GridNode> {
    checkId(options?.id, "node id for startNode", ErrorCode.WORKER_ID);
    const node = new GridNode(options, options.tf ?? defaultTf());
    try {
      await node.open();
    } catch (error) {
      await node.close().catch(() => undefined);
      throw error;
    }
    return node;
  }

  private async open(): Promise<void> {
    if (this.options.dataDir !== undefined) {
      this.db = await openKeyValueStore(this.options.dataDir);
      this.persistence = new ObjectPersistence(this.db.namespace("objects"), this.worker.objects, this.worker.tf);
      await this.persistence.restore();
      this.persistence.attach();
      this.peerTable = this.db.namespace("peers");
    }
    this.boundPort = await listen(this.http, this.options.port ?? 0, this.options.host ?? "127.0.0.1");
    if (this.peerTable) {
      for await (const [peer, bytes] of this.peerTable.entries()) {
        const { url } = decodeMessage(bytes) as { url?: unknown };
        if (typeof url === "string") this.peers.redial(peer, url);
      }
    }
    if (this.options.gateway) {
      this.membership = new GatewayMembership(
        this.options.gateway,
        { id: this.id, address: this.url },
        this.options.ca,
      );
      void this.membership.start();
    }
  }

  get port(): number {
    return this.boundPort;
  }

  /** The url clients and peers reach this node at. */
  get url(): string {
    const scheme = this.options.tls ? "wss" : "ws";
    return this.options.advertiseUrl ?? `${scheme}://${publicHost(this.options.host ?? "127.0.0.1")}:${this.boundPort}`;
  }

  /** The node's membership in its gateway, if it has one. */
  get gateway(): GatewayMembership | undefined {
    return this.membership;
  }

  health(): NodeHealth {
    return {
      id: this.id,
      objects: this.worker.objects.count,
      peers: this.peers.ids(),
      uptime: (Date.now() - this.startedAt) / 1000,
      url: this.url,
      boot: this.boot,
    };
  }

  /** Bytes and frames seen on client sockets and on each peer link. */
  traffic(): NodeTraffic {
    return {
      clients: { ...this.clientStats },
      peers: this.peers.stats(),
      malformed: this.malformed + this.worker.stats.malformed,
    };
  }

  /** Resolves once every object change so far is on disk (no-op without a data dir). */
  async flush(): Promise<void> {
    await this.persistence?.flush();
  }

  /**
   * Stops the node: leaves the gateway, drops every socket (clients and
   * peers see the links close), writes pending objects and closes the
   * database. Objects persist; only the process memory is freed.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await this.membership?.stop();
    this.peers.close();
    for (const socket of this.clients) socket.close(CLOSE_SHUTDOWN, "node shutting down");
    const sockets = [...this.clients];
    setTimeout(() => sockets.forEach((s) => s.terminate()), 200).unref();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await closeServer(this.http);
    if (this.persistence) {
      await this.persistence.flush().catch(() => undefined);
      this.persistence.stop();
    }
    await this.db?.close();
    this.worker.close(`node ${this.id} closed`);
  }

  private onHttp(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && (path === "/health" || path === "/")) return sendJson(res, 200, this.health());
    sendError(
      res,
      404,
      new TsyftError(
        ErrorCode.NOT_FOUND,
        `Node ${this.id}: no route ${req.method} ${path}. Try GET /health, or a WebSocket on ${this.url}.`,
      ),
    );
  }

  private onConnection(socket: WebSocket): void {
    /** Until a peer hello, a socket is a client's. */
    let peer: string | undefined;
    this.clients.add(socket);
    socket.on("error", () => undefined); // e.g. an oversized message: ws closes the socket with 1009 itself
    socket.on("close", () => this.clients.delete(socket));
    socket.on("message", (data, isBinary) => {
      const bytes = messageBytes(data as Buffer);
      if (peer === undefined) {
        this.clientStats.bytesIn += bytes.byteLength;
        this.clientStats.framesIn++;
      }
      if (!isBinary) {
        return this.refuseFrame(
          socket,
          peer,
          new CommunicationError(
            ErrorCode.MALFORMED_MESSAGE,
            "Malformed grid frame: a text message; tsyft frames are binary.",
          ),
        );
      }
      let frame;
      try {
        frame = decodeGridFrame(bytes);
      } catch (error) {
        return this.refuseFrame(socket, peer, error);
      }
      switch (frame.channel) {
        case Channel.Request:
          return this.onRequest(socket, frame.payload);
        case Channel.Peer:
          if (peer === undefined) {
            return this.refuseFrame(
              socket,
              peer,
              new CommunicationError(
                ErrorCode.MALFORMED_MESSAGE,
                "A peer frame on a client socket: only nodes linked as peers (hello role peer) send peer frames.",
              ),
            );
          }
          return this.peers.receive(peer, frame.payload, bytes.byteLength);
        case Channel.Control: {
          let message: ControlMessage;
          try {
            message = decodeControl(frame.payload);
          } catch (error) {
            return this.refuseFrame(socket, peer, error);
          }
          if (message.t === "hello") {
            const linked = this.onHello(socket, message);
            if (linked) {
              peer = linked;
              this.clients.delete(socket);
              this.clientStats.bytesIn -= bytes.byteLength; // a peer's hello is not client traffic
              this.clientStats.framesIn--;
            }
            return;
          }
          return this.onControl(socket, message);
        }
        case Channel.Reply:
          return this.refuseFrame(
            socket,
            peer,
            new CommunicationError(
              ErrorCode.MALFORMED_MESSAGE,
              "A reply frame sent to a node: nodes answer requests, they take no replies.",
            ),
          );
      }
    });
  }

  private send(socket: WebSocket, channel: Channel, payload: Uint8Array): void {
    if (socket.readyState !== WebSocket.OPEN) return;
    const frame = encodeGridFrame(channel, payload);
    if (this.clients.has(socket)) {
      this.clientStats.bytesOut += frame.byteLength;
      this.clientStats.framesOut++;
    }
    socket.send(frame);
  }

  private onRequest(socket: WebSocket, payload: Uint8Array): void {
    // handleRequest queues the request synchronously, so requests run in the order they arrived.
    this.worker.handleRequest(payload).then(
      (reply) => reply && this.send(socket, Channel.Reply, reply),
      (error) => this.send(socket, Channel.Reply, encodeReply({ rid: -1, ok: false, error: serializeError(error) })),
    );
  }

  /** A frame the node cannot use: an error reply to clients; peers' bad frames are only counted. */
  private refuseFrame(socket: WebSocket, peer: string | undefined, error: unknown): void {
    this.malformed++;
    if (peer !== undefined) return;
    this.send(socket, Channel.Reply, encodeReply({ rid: -1, ok: false, error: serializeError(error) }));
  }

  /** Answers a hello; returns the peer id when the socket became a peer link. */
  private onHello(socket: WebSocket, hello: Hello): string | undefined {
    if (hello.expect !== undefined && hello.expect !== this.id) {
      const error = new CommunicationError(
        ErrorCode.WORKER_ID,
        `Expected node "${hello.expect}", but this is node "${this.id}" (${this.url}).`,
        {
          worker: this.id,
        },
      );
      this.send(socket, Channel.Control, encodeControl({ t: "refused", error: serializeError(error) }));
      socket.close(CLOSE_WRONG_ID, "wrong node id");
      return undefined;
    }
    if (hello.role === "peer") {
      const from = hello.from!;
      if (from === this.id) {
        const error = new CommunicationError(
          ErrorCode.WORKER_ID,
          `Node ${this.id} cannot link to itself (is another node using the id "${from}"?).`,
        );
        this.send(socket, Channel.Control, encodeControl({ t: "refused", error: serializeError(error) }));
        socket.close(CLOSE_WRONG_ID, "same node id");
        return undefined;
      }
      this.peers.accept(from, socket, hello.boot);
      socket.send(encodeGridFrame(Channel.Control, encodeControl({ t: "welcome", id: this.id, boot: this.boot })));
      return from;
    }
    this.send(socket, Channel.Control, encodeControl({ t: "welcome", id: this.id, boot: this.boot }));
    return undefined;
  }

  private onControl(socket: WebSocket, message: Exclude<ControlMessage, Hello>): void {
    const answer = (rid: number, work: Promise<unknown>) =>
      work.then(
        (value) => this.send(socket, Channel.Control, encodeControl({ t: "result", rid, ok: true, value })),
        (error) =>
          this.send(
            socket,
            Channel.Control,
            encodeControl({ t: "result", rid, ok: false, error: serializeError(error) }),
          ),
      );
    switch (message.t) {
      case "link":
        return void answer(
          message.rid,
          this.peers.dial(message.id, message.url).then(() => ({ id: message.id })),
        );
      case "status":
        return void answer(message.rid, Promise.resolve(this.health()));
      default:
        return this.refuseFrame(
          socket,
          undefined,
          new CommunicationError(
            ErrorCode.MALFORMED_MESSAGE,
            `A "${message.t}" control message sent to node ${this.id}: nodes take hello, link and status.`,
          ),
        );
    }
  }
}

/**
 * Starts a grid node and resolves once it listens: the returned node has
 * `url`, `port` (the real one when `port` is 0) and `close()`.
 *
 * @example
 * ```ts
 * const bob = await sy.grid.startNode({ id: "bob", port: 0, dataDir: "out/bob" });
 * const client = await new sy.grid.WebsocketGridClient(hook, bob.url, { id: "bob" }).connect();
 * ```
 */
export function startNode(options: NodeOptions): Promise<GridNode> {
  return GridNode.start(options);
}
