/**
 * The gateway (PyGrid's gateway): a registry of the grid's nodes and of the
 * models hosted on them, over HTTP and WebSocket on one port.
 *
 * HTTP (JSON):
 *   GET    /health                 { role: "gateway", nodes, models, uptime }
 *   GET    /nodes                  { nodes: [{ id, address, status, joinedAt, lastSeen }] }
 *   POST   /join       signed { id, address, key, cert, time, nonce, sig } -> { ok, heartbeatMs }
 *   POST   /heartbeat  signed { id, ... }    -> { ok } | 404 (unknown: join again)
 *   POST   /leave      signed { id, ... }    -> { ok } | 404
 *   GET    /models                 { models: [...] }
 *   GET    /models/search?query=&mpc=&node=...   { models: [...] }
 *   GET    /models/:id             the model's metadata | 404
 *   POST   /models[?overwrite=1]   register metadata -> 201 | 409 when the id is taken
 *   DELETE /models/:id             204 | 404
 *
 * Membership must be signed by the node holding a certificate of the grid
 * for that id; registry writes need an `Authorization: Tsyft` proof from
 * the admin or a user, and overwrite/delete the model's owner credential
 * (`X-Tsyft-Owner`) unless admin (gateway-auth.ts): 401 without a valid
 * proof, 403 when the caller may not.
 *
 * WebSocket (JSON text messages, each answered with the same `type` and the
 * request's `rid`): join, heartbeat, leave, nodes, models, and `subscribe`,
 * after which the socket also gets `{ type: "event", event, node }` when a
 * node joins, leaves or goes stale.
 *
 * Models, their owners' credential hashes and the key each node id is
 * pinned to persist in the gateway's data dir (the same embedded database
 * as nodes); the node registry is rebuilt by the nodes' heartbeats.
 *
 * @example
 * ```ts
 * const gateway = await sy.grid.startGateway({ port: 5000 });
 * const bob = await sy.grid.startNode({ id: "bob", port: 3000, gateway: gateway.url });
 * // GET http://localhost:5000/nodes -> { nodes: [{ id: "bob", address: "ws://127.0.0.1:3000", status: "online", ... }] }
 * ```
 */
import type * as http from "node:http";
import WebSocket, { WebSocketServer } from "ws";
import { getConfig } from "../core/config";
import { ErrorCode, TsyftError, serializeError } from "../core/errors";
import { checkId } from "../core/ids";
import { adminKeyPair, createGridCredentials } from "./auth/credentials";
import { watchPartialFrames } from "./frame-deadline";
import { GatewayAuth, type ModelWrite } from "./gateway-auth";
import { serveRoutes, type Route, type RouteAnswer } from "./http-router";
import { withPage } from "./page-assets";
import { closeServer, createServer, listen, parseJsonObject, publicHost } from "./http-util";
import { linkShape, sendOn, type LinkOptions, type LinkShape } from "./link-delay";
import { forgetLocalGrid, rememberLocalGrid } from "./local-credentials";
import { openKeyValueStore, type KeyValueStore } from "./kv-store";
import { ModelRegistry, checkModelSearch, searchFromQuery } from "./model-registry";
import { NodeRegistry, type NodeStatus, type RegisteredNode } from "./node-registry";
import type { TlsOptions } from "./tls";

export interface GatewayOptions extends LinkOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Serve https/wss with this certificate and key (PEM text or file paths); `url` is then https://. */
  tls?: TlsOptions;
  /** Where the model registry persists; none: in memory. */
  dataDir?: string;
  /** Interval nodes are asked to beat at. Default 5 s. */
  heartbeatMs?: number;
  /** Heartbeats a node may miss before it is listed as stale. Default 3. */
  missedHeartbeats?: number;
  /** The grid key: nodes must prove they hold a certificate under it. None (and no adminToken): a grid of its own. */
  gridKey?: string;
  /** The grid's admin token (only its public key, the grid key, is kept). */
  adminToken?: string;
}

export interface GatewayHealth {
  role: "gateway";
  nodes: number;
  models: number;
  uptime: number;
  url: string;
  /** The grid key: clients check that nodes prove themselves under it. */
  gridKey: string;
  /** The distance the gateway puts on its WebSocket messages (its HTTP answers: the caller's, see link-delay.ts). */
  link?: LinkShape;
}

type GatewayEvent = {
  type: "event";
  event: "joined" | "left" | "stale" | "online";
  node: RegisteredNode | { id: string };
};

/**
 * A running gateway: its node registry, its model registry and its server.
 *
 * @example
 * ```ts
 * const gateway = await Gateway.start({ port: 0, heartbeatMs: 1_000 });
 * gateway.nodes.list();   // the registered nodes
 * ```
 */
export class Gateway {
  readonly nodes: NodeRegistry;
  models!: ModelRegistry;
  private auth!: GatewayAuth;
  readonly startedAt = Date.now();
  /** The grid key nodes and model owners are authenticated under. */
  readonly gridKey: string;
  /** The admin token of the grid this gateway made, when it was given no grid key. */
  readonly adminToken?: string;
  /** The distance the gateway puts on what it sends on WebSockets (options, else TSYFT_LINK_LATENCY_MS). */
  readonly link?: LinkShape;
  private readonly http: http.Server;
  private readonly wss: WebSocketServer;
  private readonly subscribers = new Set<WebSocket>();
  private readonly lastStatus = new Map<string, NodeStatus>();
  private db?: KeyValueStore;
  private sweep?: NodeJS.Timeout;
  private boundPort = 0;
  private closing?: Promise<void>;

  private constructor(private readonly options: GatewayOptions) {
    const own = options.gridKey === undefined && options.adminToken === undefined ? createGridCredentials() : undefined;
    this.adminToken = own?.adminToken;
    this.link = linkShape(options);
    this.gridKey = options.gridKey ?? adminKeyPair((options.adminToken ?? own?.adminToken)!).publicKey;
    this.nodes = new NodeRegistry({ heartbeatMs: options.heartbeatMs, missedHeartbeats: options.missedHeartbeats });
    const routes = serveRoutes({ name: "gateway", routes: this.routes(), hint: "See GET /nodes, /models, /health." });
    this.http = createServer(withPage(routes), { tls: options.tls });
    this.wss = new WebSocketServer({ server: this.http, maxPayload: getConfig().maxHttpBodyBytes });
    this.wss.on("connection", (socket, req) => {
      watchPartialFrames(socket, req);
      this.onConnection(socket);
    });
    this.wss.on("error", () => undefined);
  }

  /** Starts a gateway (see {@link startGateway}). */
  static async start(options: GatewayOptions = {}): Promise<Gateway> {
    const gateway = new Gateway(options);
    try {
      gateway.db = await openKeyValueStore(options.dataDir);
      gateway.models = new ModelRegistry(gateway.db.namespace("models"));
      gateway.auth = await GatewayAuth.open(gateway.gridKey, gateway.db);
      gateway.boundPort = await listen(gateway.http, options.port ?? 0, options.host ?? "127.0.0.1");
    } catch (error) {
      await gateway.close().catch(() => undefined);
      throw error;
    }
    rememberLocalGrid(gateway.url, {
      adminToken: gateway.adminToken ?? options.adminToken,
      gridKey: gateway.gridKey,
      link: gateway.link,
    });
    gateway.sweep = setInterval(() => gateway.emitStatusChanges(), gateway.nodes.heartbeatMs);
    gateway.sweep.unref();
    return gateway;
  }

  get port(): number {
    return this.boundPort;
  }

  /** The gateway's http(s) url (its WebSocket is the same with ws:// or wss://). */
  get url(): string {
    return `${this.options.tls ? "https" : "http"}://${publicHost(this.options.host ?? "127.0.0.1")}:${this.boundPort}`;
  }

  async health(): Promise<GatewayHealth> {
    return {
      role: "gateway",
      nodes: this.nodes.size,
      models: (await this.models.list()).length,
      uptime: (Date.now() - this.startedAt) / 1000,
      url: this.url,
      gridKey: this.gridKey,
      ...(this.link && { link: this.link }),
    };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.boundPort) forgetLocalGrid(this.url);
      clearInterval(this.sweep);
      for (const socket of this.wss.clients) socket.terminate();
      await new Promise<void>((resolve) => this.wss.close(() => resolve()));
      await closeServer(this.http);
      await this.db?.close();
    })();
    return this.closing;
  }

  private async join(body: unknown): Promise<{ ok: true; heartbeatMs: number; node: RegisteredNode }> {
    nodeIdOf(body); // a malformed id is bad input (400) before it is a question of who sent it
    const member = await this.auth.admitJoin(body);
    const known = this.nodes.get(member.id) !== undefined;
    const node = this.nodes.join(member.id, member.address);
    this.lastStatus.set(node.id, node.status);
    if (!known) this.emit({ type: "event", event: "joined", node });
    return { ok: true, heartbeatMs: this.nodes.heartbeatMs, node };
  }

  /** Removes the node a signed leave names; a 404 error when it is not registered. */
  private leave(body: unknown): void {
    nodeIdOf(body);
    const id = this.auth.admitMember(body, "leave");
    if (!this.nodes.leave(id)) throw unknownNode(id);
    this.lastStatus.delete(id);
    this.emit({ type: "event", event: "left", node: { id } });
  }

  /** Records a signed beat; a 404 error (join again) when the node is not registered. */
  private heartbeat(body: unknown): void {
    nodeIdOf(body);
    const id = this.auth.admitMember(body, "heartbeat");
    if (!this.nodes.heartbeat(id)) throw unknownNode(id);
    this.emitStatusChanges();
  }

  private emitStatusChanges(): void {
    for (const node of this.nodes.list()) {
      if (this.lastStatus.get(node.id) !== node.status) {
        this.lastStatus.set(node.id, node.status);
        this.emit({ type: "event", event: node.status, node });
      }
    }
  }

  private emit(event: GatewayEvent): void {
    const text = JSON.stringify(event);
    for (const socket of this.subscribers) if (socket.readyState === WebSocket.OPEN) sendOn(socket, text, this.link);
  }

  /**
   * The HTTP API as a route table (http-router.ts). Membership writes are
   * signed by the node (GatewayAuth.admitJoin/admitMember); model writes need
   * the admin's or a user's signed request, and overwrite/delete the owner's
   * credential (GatewayAuth.authorizeModelWrite).
   */
  private routes(): Route[] {
    const ok = (body: unknown, status = 200): RouteAnswer => ({ status, body });
    return [
      { method: "GET", path: "/", handle: async () => ok(await this.health()) },
      { method: "GET", path: "/health", handle: async () => ok(await this.health()) },
      { method: "GET", path: "/nodes", handle: () => ok({ nodes: this.nodes.list() }) },
      { method: "POST", path: "/join", write: true, handle: async (r) => ok(await this.join(await r.body())) },
      {
        method: "POST",
        path: "/heartbeat",
        write: true,
        handle: async (r) => {
          this.heartbeat(await r.body());
          return ok({ ok: true });
        },
      },
      {
        method: "POST",
        path: "/leave",
        write: true,
        handle: async (r) => {
          this.leave(await r.body());
          return ok({ ok: true });
        },
      },
      { method: "GET", path: "/models", handle: async () => ok({ models: await this.models.list() }) },
      {
        method: "POST",
        path: "/models",
        write: true,
        handle: async (r) => {
          const overwrite = ["1", "true"].includes(r.query.get("overwrite") ?? "");
          const text = await r.text();
          const info = parseJsonObject(text);
          checkId(info.id, "model id");
          const exists = typeof info.id === "string" && (await this.models.get(info.id)) !== undefined;
          const write: ModelWrite = overwrite && exists ? "overwrite" : "create";
          await this.auth.authorizeModelWrite(signed(r.req, text), write, String(info.id));
          const registered = await this.models.register(info, { overwrite });
          await this.auth.recordOwner(registered.id, r.req.headers);
          return ok(registered, 201);
        },
      },
      {
        method: "GET",
        path: "/models/search",
        handle: async (r) => ok({ models: await this.models.search(searchFromQuery(r.query)) }),
      },
      {
        method: "GET",
        path: "/models/:id",
        handle: async (r) => {
          const id = checkId(r.params[0], "model id");
          const info = await this.models.get(id);
          if (!info) throw noModel(id);
          return ok(info);
        },
      },
      {
        method: "DELETE",
        path: "/models/:id",
        write: true,
        handle: async (r) => {
          const id = checkId(r.params[0], "model id");
          if (!(await this.models.get(id))) throw noModel(id);
          await this.auth.authorizeModelWrite(signed(r.req, await r.text()), "delete", id);
          await this.auth.forgetOwner(id);
          if (!(await this.models.delete(id))) throw noModel(id);
          return { status: 204 };
        },
      },
    ];
  }

  private onConnection(socket: WebSocket): void {
    socket.on("error", () => undefined);
    socket.on("close", () => this.subscribers.delete(socket));
    socket.on("message", (data, isBinary) => {
      let message: { type?: unknown; rid?: unknown; [key: string]: unknown };
      const reply = (body: object) =>
        socket.readyState === WebSocket.OPEN &&
        sendOn(socket, JSON.stringify({ type: message?.type, rid: message?.rid, ...body }), this.link);
      try {
        message = parseJsonObject(isBinary ? Buffer.from(data as Buffer).toString("utf8") : data.toString());
      } catch (error) {
        message = {};
        return reply({ ok: false, error: serializeError(error) });
      }
      void this.onWsMessage(message).then(
        (body) => reply({ ok: true, ...body }),
        (error) => reply({ ok: false, error: serializeError(error) }),
      );
      if (message.type === "subscribe") this.subscribers.add(socket);
    });
  }

  private async onWsMessage(message: { type?: unknown; [key: string]: unknown }): Promise<object> {
    switch (message.type) {
      case "join":
        return this.join(message);
      case "heartbeat":
        this.heartbeat(message);
        return {};
      case "leave":
        this.leave(message);
        return {};
      case "nodes":
        return { nodes: this.nodes.list() };
      case "models":
        return { models: await this.models.search(checkModelSearch(message.search)) };
      case "subscribe":
        return { nodes: this.nodes.list() };
      default:
        throw new TsyftError(
          ErrorCode.MALFORMED_MESSAGE,
          `Unknown gateway message type ${JSON.stringify(message.type)}; expected join, heartbeat, leave, nodes, models or subscribe.`,
        );
    }
  }
}

/** What a registry write's proof covers: method, path and query, the body as sent, and the headers. */
function signed(req: http.IncomingMessage, body: string) {
  return { method: req.method ?? "GET", path: req.url ?? "/", body, headers: req.headers };
}

function noModel(id: string): TsyftError {
  return new TsyftError(ErrorCode.NOT_FOUND, `No model "${id}" on this gateway. GET /models lists them.`, { id });
}

function unknownNode(id: string): TsyftError {
  return new TsyftError(ErrorCode.WORKER_ID, `No node "${id}" in the registry; POST /join first.`, {
    id,
    status: 404,
  });
}

/** The node id a membership message names (400 when it is not an id). */
function nodeIdOf(body: unknown): string {
  return checkId((body as { id?: unknown } | null)?.id, "node id", ErrorCode.WORKER_ID);
}

/**
 * Starts a gateway and resolves once it listens.
 *
 * @example
 * ```ts
 * const gateway = await sy.grid.startGateway({ port: 5000, dataDir: "out/gateway" });
 * console.log(gateway.url);     // http://127.0.0.1:5000
 * await gateway.close();
 * ```
 */
export function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  return Gateway.start(options);
}
