/**
 * A whole grid on this machine, PyGrid's tutorial setup: a gateway and the nodes alice, bob, charlie and dan,
 * each a child process (or, for tests and notebooks that want speed, in this process).
 *
 * The grid's credentials are handled here: an admin credential (kept in
 * credentials.json, mode 0600, when the grid has a data or state dir; else in
 * memory), each node's identity and certificate issued before it starts (in
 * its data dir, or an identity file passed with --identity), the gateway
 * started with the grid key. The handle has `adminToken` and `gridKey`, its
 * clients connect as the admin, and so do clients made in this process for
 * the grid's urls without a token (local-credentials.ts).
 *
 * @example
 * ```ts
 * const grid = await sy.grid.startLocalGrid({ ports: "random" });
 * const [alice, bob, charlie, dan] = grid.clients(hook);
 * await sy.grid.connectAllNodes([alice, bob, charlie, dan]);
 * // ... secure ops among bob, charlie and dan
 * await grid.stop();
 * ```
 */
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { currentHook, type Hook } from "../tensors/hook";
import type { TF } from "../tensors/plain-ops";
import { createGridCredentials, type GridCredentials } from "./auth/credentials";
import { loadOrCreateGridCredentials } from "./auth/credentials-file";
import { IDENTITY_FILE, loadOrCreateIdentity } from "./auth/identity";
import { WebsocketGridClient } from "./client";
import { linkArgs, linkOptionsOf, linkShape, type LinkOptions, type LinkShape } from "./link-delay";
import { forgetLocalGrid, rememberLocalGrid } from "./local-credentials";
import { startGateway, type Gateway } from "./gateway";
import { startNode, type GridNode } from "./node";
import { notebookGridKey, rememberGrid, stopEarlierGrid } from "./notebook-grids";
import { spawnCli, stopChild, stopPid, waitListening, waitListeningInLog, waitReady } from "./processes";
import { tlsArgs, type TlsOptions } from "./tls";

/**
 * The tutorial grid: ports as in PyGrid's examples.
 *
 * @example
 * ```ts
 * DEFAULT_GRID.nodes.find((n) => n.id === "bob")!.port;   // 3000
 * ```
 */
export const DEFAULT_GRID = {
  gateway: { id: "gateway", port: 5000 },
  nodes: [
    { id: "alice", port: 3001 },
    { id: "bob", port: 3000 },
    { id: "charlie", port: 3002 },
    { id: "dan", port: 3003 },
  ],
} as const;

export interface LocalGridOptions extends LinkOptions {
  /** "default": gateway 5000, bob 3000, alice 3001, charlie 3002, dan 3003; "random": free ports. */
  ports?: "default" | "random";
  /** Run the gateway and nodes in this process instead of child processes. Default false. */
  inProcess?: boolean;
  /** Persist each node's objects under dataDir/<id> (and the gateway's models under dataDir/gateway). */
  dataDir?: string;
  /** Child processes outlive this one (the CLI's `grid up --detach`); their logs and grid.json go to stateDir. */
  detach?: boolean;
  /** Where a detached grid keeps logs and grid.json. Default: dataDir, else out/grid. */
  stateDir?: string;
  /** Node ids (default alice, bob, charlie, dan). */
  nodes?: readonly string[];
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** TensorFlow.js for in-process nodes. */
  tf?: TF;
  /** How long each process may take to become healthy. Default 90 s. */
  startTimeoutMs?: number;
  /** Serve wss/https with this certificate and key (file paths for child processes; PEM text in process too). */
  tls?: TlsOptions;
  /** The CA nodes and clients verify the grid's certificate with (PEM text or a file; default TSYFT_CA_FILE). */
  ca?: string | Buffer;
  /**
   * In a notebook, a grid started again with the same options first stops the one started before (re-running
   * the grid cell leaves one grid). false: keep it; a string: replace the grid started under that name.
   */
  replace?: boolean | string;
}

/** Where one member of the grid is. */
export interface GridMember {
  id: string;
  role: "gateway" | "node";
  port: number;
  url: string;
  /** The child's pid (undefined in process). */
  pid?: number;
}

/** What grid.json records for `grid down` and `grid status`. */
export interface GridState {
  startedAt: string;
  stateDir: string;
  gateway: GridMember;
  nodes: GridMember[];
}

export interface LocalGrid {
  gateway: GridMember;
  nodes: GridMember[];
  /** The grid's admin token: whoever has it administers the grid. */
  adminToken: string;
  /** The grid key (the admin's public key) nodes and the gateway trust. */
  gridKey: string;
  /** Where the credentials are kept (none: in memory, for a grid without a data or state dir). */
  credentialsFile?: string;
  /** The distance on the grid's links (linkLatencyMs, linkBandwidthMbps); none: loopback as it is. */
  link?: LinkShape;
  /** The member with this id. */
  node(id: string): GridMember;
  /** One client per node, in the order of `nodes`, not yet connected, each signed in as the admin. */
  clients(hook?: Hook): WebsocketGridClient[];
  /** The state file of a detached grid. */
  stateFile?: string;
  /** Stops every process (for a detached grid too). */
  stop(): Promise<void>;
}

export const STATE_FILE = "grid.json";

/** Where a grid keeps its state: stateDir, else dataDir, else out/grid in the working directory. */
export function gridStateDir(options: { stateDir?: string; dataDir?: string }): string {
  return path.resolve(options.stateDir ?? options.dataDir ?? path.join("out", "grid"));
}

/**
 * Starts a gateway and the nodes, each joined to the gateway; resolves once
 * every one answers GET /health and the gateway lists every node.
 *
 * @example
 * ```ts
 * const grid = await sy.grid.startLocalGrid({ ports: "random", inProcess: true });
 * grid.nodes.map((n) => n.url);
 * ```
 */
export async function startLocalGrid(options: LocalGridOptions = {}): Promise<LocalGrid> {
  const replaceKey = notebookGridKey(options);
  await stopEarlierGrid(replaceKey);
  const random = options.ports === "random";
  const ids = options.nodes ?? DEFAULT_GRID.nodes.map((n) => n.id);
  const portOf = (id: string) => (random ? 0 : (DEFAULT_GRID.nodes.find((n) => n.id === id)?.port ?? 0));
  const gatewayPort = random ? 0 : DEFAULT_GRID.gateway.port;
  const dataDirOf = (id: string) => (options.dataDir === undefined ? undefined : path.resolve(options.dataDir, id));
  const timeoutMs = options.startTimeoutMs ?? 90_000;
  const host = options.host ?? "127.0.0.1";
  const keep = options.dataDir !== undefined || options.stateDir !== undefined || options.detach === true;
  const credentials: Credentials = keep
    ? loadOrCreateGridCredentials(gridStateDir(options))
    : { ...createGridCredentials(), file: undefined };
  // The distance is checked here, before any process starts; every member (and every client made here) gets it.
  const link = linkShape(options);
  const secure: Secure = { tls: options.tls, ca: options.ca, ...linkOptionsOf(link) };
  const grid = await (options.inProcess
    ? startInProcess(ids, portOf, gatewayPort, dataDirOf, host, credentials, options.tf, secure)
    : startChildren(
        ids,
        portOf,
        gatewayPort,
        dataDirOf,
        host,
        timeoutMs,
        credentials,
        {
          detachTo: options.detach ? gridStateDir(options) : undefined,
          identityDir: keep ? gridStateDir(options) : undefined,
        },
        secure,
      ));
  if (link) grid.link = link;
  for (const member of [grid.gateway, ...grid.nodes]) rememberLocalGrid(member.url, { ...credentials, link });
  const stop = grid.stop;
  grid.stop = async () => {
    await stop();
    for (const member of [grid.gateway, ...grid.nodes]) forgetLocalGrid(member.url);
  };
  return rememberGrid(replaceKey, grid);
}

/** What every member starts with: the servers' TLS, the CA members and clients check it with, the links' distance. */
type Secure = Pick<LocalGridOptions, "tls" | "ca" | "linkLatencyMs" | "linkBandwidthMbps">;

type Credentials = GridCredentials & { file?: string };

function makeGrid(
  gateway: GridMember,
  nodes: GridMember[],
  credentials: Credentials,
  stop: () => Promise<void>,
  stateFile?: string,
  ca?: string | Buffer,
): LocalGrid {
  return {
    gateway,
    nodes,
    adminToken: credentials.adminToken,
    gridKey: credentials.gridKey,
    ...(credentials.file !== undefined && { credentialsFile: credentials.file }),
    stateFile,
    node(id) {
      const member = nodes.find((n) => n.id === id);
      if (!member) throw new RangeError(`No node "${id}" in this grid; it has ${nodes.map((n) => n.id).join(", ")}.`);
      return member;
    },
    clients(hook?: Hook) {
      const h = hook ?? currentHook();
      return nodes.map((n) => new WebsocketGridClient(h, n.url, { id: n.id, token: credentials.adminToken, ca }));
    },
    stop,
  };
}

async function startInProcess(
  ids: readonly string[],
  portOf: (id: string) => number,
  gatewayPort: number,
  dataDirOf: (id: string) => string | undefined,
  host: string,
  credentials: Credentials,
  tf: TF | undefined,
  secure: Secure,
): Promise<LocalGrid> {
  const gateway: Gateway = await startGateway({
    port: gatewayPort,
    host,
    dataDir: dataDirOf("gateway"),
    gridKey: credentials.gridKey,
    ...secure,
  });
  const nodes: GridNode[] = [];
  const { adminToken } = credentials;
  try {
    for (const id of ids) {
      const dataDir = dataDirOf(id);
      nodes.push(
        await startNode({ id, port: portOf(id), host, dataDir, gateway: gateway.url, tf, adminToken, ...secure }),
      );
    }
    await waitReady(nodes, 30_000, secure.ca);
  } catch (error) {
    await Promise.all(nodes.map((n) => n.close()));
    await gateway.close();
    throw error;
  }
  return makeGrid(
    { id: "gateway", role: "gateway", port: gateway.port, url: gateway.url },
    nodes.map((n) => ({ id: n.id, role: "node", port: n.port, url: n.url })),
    credentials,
    async () => {
      await Promise.all(nodes.map((n) => n.close()));
      await gateway.close();
    },
    undefined,
    secure.ca,
  );
}

async function startChildren(
  ids: readonly string[],
  portOf: (id: string) => number,
  gatewayPort: number,
  dataDirOf: (id: string) => string | undefined,
  host: string,
  timeoutMs: number,
  credentials: Credentials,
  dirs: { detachTo?: string; identityDir?: string },
  secure: Secure,
): Promise<LocalGrid> {
  const stateDir = dirs.detachTo;
  const detach = stateDir !== undefined;
  // Identities of nodes without a data dir: files in the state dir, or in a temporary dir removed at stop.
  const identityDir = dirs.identityDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-grid-"));
  const removeIdentities = () =>
    dirs.identityDir === undefined && fs.rmSync(identityDir, { recursive: true, force: true });
  const children: ChildProcess[] = [];
  const members: GridMember[] = [];
  const stopAll = async () => {
    await Promise.all(children.map((c) => (detach ? stopPid(c.pid!) : stopChild(c))));
    removeIdentities();
  };
  // The parent issues each node's identity and certificate; the node process never sees the admin token.
  const identityArgs = (id: string) => {
    const dataDir = dataDirOf(id);
    const file = dataDir ? path.join(dataDir, IDENTITY_FILE) : path.join(identityDir, "identities", `${id}.json`);
    loadOrCreateIdentity({ id, file, adminToken: credentials.adminToken });
    return dataDir ? [] : ["--identity", file];
  };
  // Each node gets its own --data-dir (or none): an inherited TSYFT_NODE_DATA would put all four in one.
  const env = { ...process.env };
  delete env.TSYFT_NODE_DATA;
  const launch = async (role: "gateway" | "node", id: string, args: string[]): Promise<GridMember> => {
    const logFile = detach ? path.join(stateDir, "logs", `${id}.log`) : undefined;
    const child = spawnCli(args, { detach, logFile, env });
    children.push(child);
    if (child.pid === undefined) throw new Error(`Could not start ${id}: ${args.join(" ")}.`);
    const info = detach
      ? await waitListeningInLog(logFile!, id, child.pid, timeoutMs)
      : await waitListening(child, id, timeoutMs);
    await waitReady([{ url: `${secure.tls ? "https" : "http"}://127.0.0.1:${info.port}` }], timeoutMs, secure.ca);
    return { id, role, port: info.port, url: info.url, pid: child.pid };
  };
  const dataArgs = (id: string) => (dataDirOf(id) ? ["--data-dir", dataDirOf(id)!] : []);
  try {
    const gateway = await launch("gateway", "gateway", [
      "gateway",
      "--port",
      String(gatewayPort),
      "--host",
      host,
      // One argument: a base64url key may start with "-", which parseArgs would take for a flag.
      `--admin-key=${credentials.gridKey}`,
      ...dataArgs("gateway"),
      ...tlsArgs({ tls: secure.tls }),
      ...linkArgs(secure),
    ]);
    // Nodes start in parallel: each spends its first seconds loading TensorFlow.js.
    const nodes = await Promise.all(
      ids.map((id) =>
        launch("node", id, [
          "node",
          "--id",
          id,
          "--port",
          String(portOf(id)),
          "--host",
          host,
          "--gateway",
          gateway.url,
          ...dataArgs(id),
          ...identityArgs(id),
          ...tlsArgs(secure),
          ...linkArgs(secure),
        ]),
      ),
    );
    members.push(gateway, ...nodes);
    let stateFile: string | undefined;
    if (detach) {
      stateFile = path.join(stateDir, STATE_FILE);
      const state: GridState = { startedAt: new Date().toISOString(), stateDir, gateway, nodes };
      fs.mkdirSync(stateDir, { recursive: true });
      fs.writeFileSync(stateFile, JSON.stringify(state, null, 2) + "\n");
    }
    return makeGrid(
      gateway,
      nodes,
      credentials,
      async () => {
        await stopAll();
        if (stateFile) fs.rmSync(stateFile, { force: true });
      },
      stateFile,
      secure.ca,
    );
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * Reads grid.json of a detached grid; undefined when there is none.
 *
 * @example
 * ```ts
 * readGridState("out/grid")?.nodes.map((n) => n.url);
 * ```
 */
export function readGridState(stateDir: string): GridState | undefined {
  const file = path.join(stateDir, STATE_FILE);
  if (!fs.existsSync(file)) return undefined;
  return JSON.parse(fs.readFileSync(file, "utf8")) as GridState;
}

/**
 * Stops a detached grid (the CLI's `grid down`); resolves with the members
 * stopped, or undefined when stateDir holds no grid.
 *
 * @example
 * ```ts
 * await sy.grid.stopDetachedGrid("out/grid");
 * ```
 */
export async function stopDetachedGrid(stateDir: string): Promise<GridMember[] | undefined> {
  const state = readGridState(stateDir);
  if (!state) return undefined;
  const members = [...state.nodes, state.gateway];
  await Promise.all(members.map((m) => (m.pid ? stopPid(m.pid) : Promise.resolve())));
  fs.rmSync(path.join(stateDir, STATE_FILE), { force: true });
  return members;
}
