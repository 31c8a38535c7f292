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
 * Models persist in the gateway's data dir (the same embedded database as
 * nodes); the node registry is rebuilt by the nodes' heartbeats.
 *
 * @example
 * ```ts
 * const gateway = await sy.grid.startGateway({ port: 5000 });
 * const bob = await sy.grid.startNode({ id: "bob", port: 3000, gateway: gateway.url });
 * // GET http://localhost:5000/nodes -> { nodes: [{ id: "bob", address: "ws://127.0.0.1:3000", status: "online", ... }] }
 * ```
 */
import * as http from "node:http";
import WebSocket, { WebSocketServer } from "ws";
import { AuthError, ErrorCode, TsyftError, serializeError } from "../core/errors";
import { adminKeyPair, createGridCredentials } from "./auth/credentials";
import { forgetLocalGrid, rememberLocalGrid } from "./local-credentials";
import { GatewayAuth, type ModelWrite } from "./gateway-auth";
import {
  closeServer,
  listen,
  parseJsonBody,
  publicHost,
  readJsonBody,
  readTextBody,
  sendError,
  sendJson,
} from "./http-util";
import { openKeyValueStore, type KeyValueStore } from "./kv-store";
import { ModelRegistry, type ModelSearch } from "./model-registry";
import { NodeRegistry, type NodeStatus, type RegisteredNode } from "./node-registry";

export interface GatewayOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Default 127.0.0.1 (the CLI uses 0.0.0.0). */
  host?: string;
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
}

type GatewayEvent = {
  type: "event";
  event: "joined" | "left" | "stale" | "online";
  node: RegisteredNode | { id: string };
};

const MAX_JSON_BYTES = 1 << 20;

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
    this.gridKey = options.gridKey ?? adminKeyPair((options.adminToken ?? own?.adminToken)!).publicKey;
    this.nodes = new NodeRegistry({ heartbeatMs: options.heartbeatMs, missedHeartbeats: options.missedHeartbeats });
    this.http = http.createServer((req, res) => void this.onHttp(req, res));
    this.wss = new WebSocketServer({ server: this.http, maxPayload: MAX_JSON_BYTES });
    this.wss.on("connection", (socket) => this.onConnection(socket));
    this.wss.on("error", () => undefined);
  }

  /** Starts a gateway (see {@link startGateway}). */
  static async start(options: GatewayOptions = {}): Promise<Gateway> {
    const gateway = new Gateway(options);
    try {
      gateway.db = await openKeyValueStore(options.dataDir);
      gateway.models = new ModelRegistry(gateway.db.namespace("models"));
      gateway.auth = new GatewayAuth(gateway.gridKey, gateway.db.namespace("owners"));
      gateway.boundPort = await listen(gateway.http, options.port ?? 0, options.host ?? "127.0.0.1");
    } catch (error) {
      await gateway.close().catch(() => undefined);
      throw error;
    }
    rememberLocalGrid(gateway.url, { adminToken: gateway.adminToken ?? options.adminToken, gridKey: gateway.gridKey });
    gateway.sweep = setInterval(() => gateway.emitStatusChanges(), gateway.nodes.heartbeatMs);
    gateway.sweep.unref();
    return gateway;
  }

  get port(): number {
    return this.boundPort;
  }

  /** The gateway's http url (its WebSocket is the same with ws://). */
  get url(): string {
    return `http://${publicHost(this.options.host ?? "127.0.0.1")}:${this.boundPort}`;
  }

  async health(): Promise<GatewayHealth> {
    return {
      role: "gateway",
      nodes: this.nodes.size,
      models: (await this.models.list()).length,
      uptime: (Date.now() - this.startedAt) / 1000,
      url: this.url,
      gridKey: this.gridKey,
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

  private join(body: unknown): { ok: true; heartbeatMs: number; node: RegisteredNode } {
    const member = this.auth.admitJoin(body);
    const known = this.nodes.get(member.id) !== undefined;
    const node = this.nodes.join(member.id, member.address);
    this.lastStatus.set(node.id, node.status);
    if (!known) this.emit({ type: "event", event: "joined", node });
    return { ok: true, heartbeatMs: this.nodes.heartbeatMs, node };
  }

  private leave(body: unknown): boolean {
    const id = this.auth.admitMember(body, "leave");
    const left = this.nodes.leave(id);
    if (left) {
      this.lastStatus.delete(id);
      this.emit({ type: "event", event: "left", node: { id } });
    }
    return left;
  }

  private heartbeat(body: unknown): boolean {
    const known = this.nodes.heartbeat(this.auth.admitMember(body, "heartbeat"));
    if (known) this.emitStatusChanges();
    return known;
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
    for (const socket of this.subscribers) if (socket.readyState === WebSocket.OPEN) socket.send(text);
  }

  private async onHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://gateway");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const method = req.method ?? "GET";
    try {
      if (method === "GET" && (path === "/health" || path === "/")) return sendJson(res, 200, await this.health());
      if (method === "GET" && path === "/nodes") return sendJson(res, 200, { nodes: this.nodes.list() });
      if (method === "POST" && path === "/join")
        return sendJson(res, 200, this.join(await readJsonBody(req, MAX_JSON_BYTES)));
      if (method === "POST" && (path === "/heartbeat" || path === "/leave")) {
        const body = await readJsonBody(req, MAX_JSON_BYTES);
        const id = (body as { id?: unknown })?.id;
        const known = path === "/heartbeat" ? this.heartbeat(body) : this.leave(body);
        if (known) return sendJson(res, 200, { ok: true });
        return sendError(
          res,
          404,
          new TsyftError(ErrorCode.WORKER_ID, `No node ${JSON.stringify(id)} in the registry; POST /join first.`),
        );
      }
      if (path === "/models" && method === "GET") return sendJson(res, 200, { models: await this.models.list() });
      if (path === "/models/search" && method === "GET")
        return sendJson(res, 200, { models: await this.models.search(searchOf(url.searchParams)) });
      if (path === "/models" && method === "POST") {
        const overwrite = ["1", "true"].includes(url.searchParams.get("overwrite") ?? "");
        const text = await readTextBody(req, MAX_JSON_BYTES);
        const info = parseJsonBody(text) as { id?: unknown };
        const exists = typeof info?.id === "string" && (await this.models.get(info.id)) !== undefined;
        const write: ModelWrite = overwrite && exists ? "overwrite" : "create";
        await this.auth.authorizeModelWrite(signed(req, text), write, String(info?.id));
        const registered = await this.models.register(info, { overwrite });
        await this.auth.recordOwner(registered.id, req.headers);
        return sendJson(res, 201, registered);
      }
      const model = /^\/models\/([^/]+)$/.exec(path);
      if (model) {
        const id = decodeURIComponent(model[1]!);
        if (method === "GET") {
          const info = await this.models.get(id);
          return info ? sendJson(res, 200, info) : sendError(res, 404, noModel(id));
        }
        if (method === "DELETE") {
          if (!(await this.models.get(id))) return sendError(res, 404, noModel(id));
          await this.auth.authorizeModelWrite(signed(req, await readTextBody(req, MAX_JSON_BYTES)), "delete", id);
          await this.auth.forgetOwner(id);
          if (await this.models.delete(id)) {
            res.writeHead(204).end();
            return;
          }
          return sendError(res, 404, noModel(id));
        }
      }
      sendError(
        res,
        404,
        new TsyftError(
          ErrorCode.INVALID_ARGUMENT,
          `Gateway: no route ${method} ${path}. See GET /nodes, /models, /health.`,
        ),
      );
    } catch (error) {
      const status =
        error instanceof AuthError
          ? error.details.forbidden === true
            ? 403
            : 401
          : error instanceof TsyftError && error.details.conflict === true
            ? 409
            : error instanceof TsyftError && error.code === ErrorCode.MESSAGE_TOO_LARGE
              ? 413
              : error instanceof TsyftError
                ? 400
                : 500;
      if (!res.headersSent) sendError(res, status, error);
    }
  }

  private onConnection(socket: WebSocket): void {
    socket.on("error", () => undefined);
    socket.on("close", () => this.subscribers.delete(socket));
    socket.on("message", (data, isBinary) => {
      let message: { type?: unknown; rid?: unknown; [key: string]: unknown };
      const reply = (body: object) =>
        socket.readyState === WebSocket.OPEN &&
        socket.send(JSON.stringify({ type: message?.type, rid: message?.rid, ...body }));
      try {
        message = JSON.parse(isBinary ? Buffer.from(data as Buffer).toString("utf8") : data.toString());
        if (typeof message !== "object" || message === null) throw new Error("not an object");
      } catch {
        message = {};
        return reply({
          ok: false,
          error: { code: ErrorCode.MALFORMED_MESSAGE, message: "Expected a JSON object with a type." },
        });
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
        if (!this.heartbeat(message))
          throw new TsyftError(
            ErrorCode.WORKER_ID,
            `No node ${JSON.stringify(message.id)} in the registry; join first.`,
          );
        return {};
      case "leave":
        if (!this.leave(message))
          throw new TsyftError(ErrorCode.WORKER_ID, `No node ${JSON.stringify(message.id)} in the registry.`);
        return {};
      case "nodes":
        return { nodes: this.nodes.list() };
      case "models":
        return { models: await this.models.search((message.search ?? {}) as ModelSearch) };
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
  return new TsyftError(ErrorCode.INVALID_ARGUMENT, `No model "${id}" on this gateway. GET /models lists them.`, {
    id,
  });
}

function searchOf(params: URLSearchParams): ModelSearch {
  const flag = (name: string) => (params.has(name) ? ["1", "true"].includes(params.get(name)!) : undefined);
  const search: ModelSearch = {};
  const query = params.get("query") ?? params.get("q");
  if (query) search.query = query;
  const node = params.get("node");
  if (node) search.node = node;
  for (const name of ["mpc", "allowRemoteInference", "allowDownload"] as const) {
    const value = flag(name);
    if (value !== undefined) search[name] = value;
  }
  return search;
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
