/**
 * A grid node: a Worker behind a WebSocket server (PyGrid's node).
 *
 * Its sockets (node-sockets.ts) carry client requests and replies, peer
 * frames between nodes and control messages, one framing for all; whatever
 * arrives, the node keeps serving. A message over `maxMessageBytes` is
 * refused by the socket layer (close code 1009, which the client reports as
 * TSYFT_ERR_MESSAGE_TOO_LARGE) and the node goes on with its other sockets
 * and new ones.
 *
 * Over HTTP on the same port: `GET /health` answers
 * `{ id, objects, peers, uptime }`.
 *
 * With a data dir, its objects and the peers it dialed persist in an
 * embedded database (kv-store.ts) and come back at the next start.
 *
 * Every node has an identity (auth/identity.ts): its own key and a
 * certificate from the grid's admin, kept in its data dir (or
 * `identityFile`). Started with `adminToken` it issues its own certificate
 * and forgets the token; started with nothing it makes a one-node grid and
 * exposes `adminToken` and `gridKey`.
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
import * as path from "node:path";
import { WebSocketServer } from "ws";
import { decodeMessage, encodeMessage } from "../core/codec";
import { getConfig } from "../core/config";
import { AuthError, ErrorCode, TsyftError } from "../core/errors";
import { checkId } from "../core/ids";
import type { TF } from "../tensors/plain-ops";
import { Worker } from "../workers/worker";
import { IDENTITY_FILE, loadOrCreateIdentity, type NodeIdentity } from "./auth/identity";
import { ReplayGuard } from "./auth/proofs";
import { FRAME_HEADER_BYTES } from "./framing";
import { watchPartialFrames } from "./frame-deadline";
import { closeServer, createServer, listen, publicHost, sendError, sendJson, toHttp } from "./http-util";
import type { TlsOptions } from "./tls";
import { openKeyValueStore, type KeyValueStore, type Namespace } from "./kv-store";
import { linkShape, type LinkOptions, type LinkShape } from "./link-delay";
import { originsFromEnvironment } from "./origins";
import { forgetLocalGrid, rememberLocalGrid } from "./local-credentials";
import { GatewayMembership } from "./membership";
import { NodeSockets } from "./node-sockets";
import { ObjectPersistence } from "./object-persistence";
import "./persisted-plans";
import { PeerLinks, sameUrl, type LinkStats } from "./peer-links";

export interface NodeOptions extends LinkOptions {
  /** The node's worker id ("bob"). */
  id: string;
  /** Port to listen on; 0 (the default) picks a free one, see `node.port`. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
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
  /** Serve wss (and https /health) with this certificate and key (PEM text or file paths). */
  tls?: TlsOptions;
  /** The CA peers and the gateway are verified with when they are wss/https (default TSYFT_CA_FILE). */
  ca?: string | Buffer;
  /** The grid's admin token: the node issues its own certificate with it, then forgets it. */
  adminToken?: string;
  /** The grid key, when the node's identity file already holds a certificate of that grid. */
  gridKey?: string;
  /** Where the node's identity is kept (default: identity.json in the data dir; none: in memory). */
  identityFile?: string;
  /**
   * Origins of browser pages that may open sockets to the node ("http://host:port", or "*" for any).
   * Default: TSYFT_ALLOWED_ORIGINS (comma-separated; `--allow-origin` of `tsyft node` and `grid up`), else its
   * gateway's (the page the gateway serves). Clients outside a browser send no Origin.
   */
  allowedOrigins?: string[];
}

/** What `GET /health` answers. */
export interface NodeHealth {
  id: string;
  objects: number;
  peers: string[];
  /** Each linked peer's one-way latency in ms, as measured when its link opened (PeerLinks.latencies). */
  peerLatencyMs: Record<string, number>;
  /** Seconds since the node started. */
  uptime: number;
  url: string;
  boot: string;
  /** The distance the node puts on its links (none: loopback as it is), see link-delay.ts. */
  link?: LinkShape;
  /** With a gateway: whether the node is in its registry now (it joins just after it starts listening). */
  joined?: boolean;
  /** Protocol rounds this node ran as a share holder, and the bytes it sent to its peers, since it started. */
  traffic: { rounds: number; peerBytesSent: number };
}

/** Traffic a node saw, by kind of socket. */
export interface NodeTraffic {
  clients: LinkStats;
  peers: Record<string, LinkStats>;
  malformed: number;
}

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
  /** The grid key: the admin's public key, under which peers and clients are authenticated. */
  readonly gridKey: string;
  /** The admin token of the one-node grid this node made, when it was given no credentials. */
  readonly adminToken?: string;
  /** Hello nonces seen lately: each hello is accepted once. */
  readonly replayGuard = new ReplayGuard();
  /** The distance this node puts on what it sends (options, else TSYFT_LINK_LATENCY_MS); none: at once. */
  readonly link?: LinkShape;
  private readonly identity: NodeIdentity;
  private readonly http: http.Server;
  private readonly wss: WebSocketServer;
  private readonly sockets: NodeSockets;
  private boundPort = 0;
  private closing?: Promise<void>;
  private db?: KeyValueStore;
  private peerTable?: Namespace;
  private persistence?: ObjectPersistence;
  private membership?: GatewayMembership;

  /** Origins of browser pages that may open sockets here (see NodeOptions.allowedOrigins). */
  private readonly allowedOrigins: readonly string[];

  private constructor(
    private readonly options: NodeOptions,
    tf: TF,
  ) {
    this.id = options.id;
    this.link = linkShape(options);
    this.allowedOrigins =
      options.allowedOrigins ?? originsFromEnvironment() ?? (options.gateway ? [originOf(options.gateway)] : []);
    this.maxMessageBytes = options.maxMessageBytes ?? getConfig().maxMessageBytes;
    this.identity = loadOrCreateIdentity({
      id: this.id,
      file:
        options.identityFile ?? (options.dataDir === undefined ? undefined : path.join(options.dataDir, IDENTITY_FILE)),
      adminToken: options.adminToken,
      gridKey: options.gridKey,
    });
    this.gridKey = this.identity.gridKey;
    this.adminToken = this.identity.adminToken;
    this.peers = new PeerLinks({
      self: this.id,
      url: () => this.url,
      boot: this.boot,
      maxPayload: this.maxMessageBytes + FRAME_HEADER_BYTES,
      key: this.identity,
      gridKey: this.gridKey,
      worker: () => this.worker,
      ca: options.ca,
      onDialed: (peer, url) => void this.peerTable?.put(peer, encodeMessage({ url })).catch(() => undefined),
      // A peer that moved is found where its signed join put it at the gateway.
      locate: async (peer) => this.membership?.addressOf(peer),
      link: this.link,
    });
    this.worker = new Worker(this.id, tf, this.peers);
    this.http = createServer((req, res) => this.onHttp(req, res), { tls: options.tls });
    this.wss = new WebSocketServer({ server: this.http, maxPayload: this.maxMessageBytes + FRAME_HEADER_BYTES });
    this.sockets = new NodeSockets(this);
    this.wss.on("connection", (socket, req) => {
      watchPartialFrames(socket, req);
      this.sockets.accept(socket, req.headers.origin);
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
    // Clients made in this process for this url use the grid's admin token when it is known here.
    rememberLocalGrid(this.url, {
      adminToken: this.adminToken ?? this.options.adminToken,
      gridKey: this.gridKey,
      link: this.link,
    });
    if (this.options.gateway) {
      this.membership = new GatewayMembership(
        this.options.gateway,
        { id: this.id, address: this.url },
        this.identity,
        this.options.ca,
        this.link,
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

  /** This node's key and certificate (what it proves itself with to peers, clients and the gateway). */
  get key(): NodeIdentity {
    return this.identity;
  }

  /**
   * Throws TSYFT_ERR_AUTH unless a peer link to node `id` at `url` may be
   * opened: with a gateway, only to the address it lists for `id` (a node
   * is no proxy to arbitrary urls); the peer must then prove it is `id`.
   */
  async checkLinkTarget(id: string, url: string): Promise<void> {
    if (!this.membership) return;
    const listed = await this.membership.addressOf(id);
    if (listed === undefined || !sameUrl(listed, url)) {
      throw new AuthError(
        ErrorCode.AUTH,
        `Node ${this.id} links only to addresses its gateway lists: ${this.membership.gateway} lists ` +
          `${listed === undefined ? `no node ${JSON.stringify(id)}` : `${id} at ${listed}`}, not ${url}.`,
        { worker: id, url },
      );
    }
  }

  /** The node's membership in its gateway, if it has one. */
  get gateway(): GatewayMembership | undefined {
    return this.membership;
  }

  /**
   * Whether a browser page of `origin` may open a socket: one the options list, else the gateway's
   * own (its loopback names, localhost and 127.0.0.1, are one machine's).
   */
  allowsOrigin(origin: string): boolean {
    const allowed = this.allowedOrigins;
    const key = loopbackAsOne(origin);
    return allowed.some((a) => a === "*" || loopbackAsOne(a) === key);
  }

  /** Whether a gateway vouches for the addresses of this node's peers (see checkLinkTarget). */
  get vouched(): boolean {
    return this.membership !== undefined;
  }

  health(): NodeHealth {
    return {
      id: this.id,
      objects: this.worker.objects.count,
      peers: this.peers.ids(),
      peerLatencyMs: this.peers.latencies(),
      uptime: (Date.now() - this.startedAt) / 1000,
      url: this.url,
      boot: this.boot,
      ...(this.link && { link: this.link }),
      ...(this.membership && { joined: this.membership.isJoined }),
      traffic: {
        rounds: this.worker.stats.party.rounds,
        peerBytesSent: Object.values(this.peers.stats()).reduce((n, s) => n + s.bytesOut, 0),
      },
    };
  }

  /** Bytes and frames seen on client sockets and on each peer link. */
  traffic(): NodeTraffic {
    return {
      clients: { ...this.sockets.clientStats },
      peers: this.peers.stats(),
      malformed: this.sockets.malformed + this.worker.stats.malformed + this.peers.refused,
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
    if (this.boundPort) forgetLocalGrid(this.url);
    await this.membership?.stop();
    this.peers.close();
    this.sockets.closeClients();
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

/** The origin ("http://host:port") of an http(s) or ws(s) url. */
function originOf(url: string): string {
  return new URL(toHttp(url)).origin;
}

/** An origin with the loopback names written one way (a page at localhost and at 127.0.0.1 is the same machine). */
function loopbackAsOne(origin: string): string {
  return origin.replace(/^(https?:\/\/)(localhost|\[::1\])(?=[:/]|$)/, "$1127.0.0.1");
}
