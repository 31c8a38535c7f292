/**
 * The `tsyft` command line (bin/tsyft.js):
 *
 *   tsyft node --id bob [--port 3000] [--host 127.0.0.1] [--gateway url] [--data-dir dir] [--backend cpu|wasm]
 *              [--tls-cert file --tls-key file] [--ca file] [--admin-key <grid key>] [--identity file] [link flags]
 *              [--allow-origin <origins>]
 *   tsyft gateway [--port 5000] [--host 127.0.0.1] [--data-dir dir] [--heartbeat-ms 5000]
 *                 [--tls-cert file --tls-key file] [--admin-key <grid key>] [link flags]
 *   tsyft grid up [--detach] [--ports default|random] [--data-dir dir] [--state-dir dir]
 *                 [--tls-cert file --tls-key file] [--ca file] [link flags] [--allow-origin <origins>]
 *   tsyft grid down [--state-dir dir]
 *   tsyft grid status [--state-dir dir]
 *   tsyft grid enroll --id bob (--data-dir dir | --identity file) [--state-dir dir]
 *   tsyft grid token --subject ada [--expires-hours 24] [--state-dir dir]
 *
 * Credentials (cli-credentials.ts): `grid up` keeps the grid's admin token in
 * <state dir>/credentials.json and prints it once; the other commands find
 * it there or in TSYFT_ADMIN_TOKEN.
 *
 * Servers listen on 127.0.0.1 unless --host says otherwise; another address
 * is refused without credentials and warned about without TLS (exposure.ts).
 * A node's data dir also comes from TSYFT_NODE_DATA; TSYFT_PROFILE_DIR makes
 * it record timings and write them there on SIGUSR2 (node-profile.ts). Servers print one JSON
 * line on stdout when they listen (`{"event":"listening",...}`, see
 * processes.ts) and stop cleanly on SIGINT/SIGTERM. `grid up` prints who is
 * where and stops everything on Ctrl-C; with `--detach` it leaves the grid
 * running and records it in <state dir>/grid.json (default out/grid, or the
 * data dir) for `grid down` and `grid status`.
 *
 * @example
 * ```ts
 * // what bin/tsyft.js does
 * require("../dist/src/grid/cli.js").main(process.argv.slice(2));
 * ```
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { getConfig } from "../core/config";
import { CREDENTIALS_FILE, loadOrCreateGridCredentials } from "./auth/credentials-file";
import {
  UsageError,
  announce,
  exposedHost,
  loadTf,
  parse,
  portOf,
  SERVER_FLAGS,
  LINK_FLAGS,
  linkOf,
  ORIGIN_FLAGS,
  originsOf,
  positiveOf,
  str,
  tlsOf,
  untilStopped,
} from "./cli-flags";
import { enrollNode, gatewayGridKey, nodeCredentials, userToken } from "./cli-credentials";
import { startGateway } from "./gateway";
import { toHttp } from "./http-util";
import {
  DEFAULT_GRID,
  gridStateDir,
  readGridState,
  startLocalGrid,
  stopDetachedGrid,
  type GridMember,
} from "./local-grid";
import { startNode } from "./node";
import { memberHealth } from "./member-health";
import { ALLOWED_ORIGINS_ENV } from "./origins";
import { profileFromEnvironment } from "./node-profile";

const USAGE = `Usage:
  tsyft node --id <id> [--port 3000] [--host 127.0.0.1] [--gateway <url>] [--data-dir <dir>] [--backend cpu|wasm]
             [--tls-cert <file> --tls-key <file>] [--ca <file>] [--admin-key <grid key>] [--identity <file>]
             [--allow-origin <origins>]
  tsyft gateway [--port 5000] [--host 127.0.0.1] [--data-dir <dir>] [--heartbeat-ms 5000]
                [--tls-cert <file> --tls-key <file>] [--admin-key <grid key>]
  tsyft grid up [--detach] [--ports default|random] [--data-dir <dir>] [--state-dir <dir>]
                [--tls-cert <file> --tls-key <file>] [--ca <file>] [--allow-origin <origins>]
  tsyft grid down [--state-dir <dir>]
  tsyft grid status [--state-dir <dir>] [--ca <file>]
  tsyft grid enroll --id <id> (--data-dir <dir> | --identity <file>) [--state-dir <dir>]
  tsyft grid token --subject <name> [--expires-hours <h>] [--state-dir <dir>]

Servers listen on 127.0.0.1 unless --host says otherwise. Another address (e.g. 0.0.0.0) is
refused unless credentials are configured (--admin-key, --identity, or a --data-dir holding
identity.json or credentials.json), and warned about without TLS.
--tls-cert/--tls-key serve wss:// and https:// on the same port; --ca (or TSYFT_CA_FILE) is the
CA that peers and the gateway are verified with when their certificates are self-signed.
A node's data dir may also come from TSYFT_NODE_DATA. The grid's admin token is kept in
<state dir>/credentials.json (default out/grid) by grid up, or comes from TSYFT_ADMIN_TOKEN.
Link flags put network distance on every link: [--link-latency-ms <one-way ms>] [--link-bandwidth-mbps <Mbit/s>]
(default TSYFT_LINK_LATENCY_MS, TSYFT_LINK_BANDWIDTH_MBPS; grid up passes them to each process).
--allow-origin lists the browser pages (comma-separated origins, or *) whose sockets nodes take besides the
gateway's own page (default TSYFT_ALLOWED_ORIGINS).`;

/** A command that layers above the grid add to the CLI (src/cli.ts adds `domain`). */
export interface CliCommand {
  /** Lines for the usage text. */
  usage: string;
  /** Runs with the arguments after the command's name; resolves with the exit code. */
  run(args: readonly string[]): Promise<number>;
}

/**
 * Runs the CLI; resolves with the exit code (servers resolve only when stopped).
 * `commands` adds commands defined above the grid (they cannot be imported here).
 *
 * @example
 * ```ts
 * process.exitCode = await main(["grid", "status"]);
 * ```
 */
export async function main(
  argv: readonly string[],
  commands: Readonly<Record<string, CliCommand>> = {},
): Promise<number> {
  const [command, ...rest] = argv;
  const usage = [USAGE, ...Object.values(commands).map((c) => c.usage)].join("\n");
  try {
    const extra = command === undefined ? undefined : commands[command];
    if (extra) return await extra.run(rest);
    switch (command) {
      case "node":
        return await runNode(rest);
      case "gateway":
        return await runGateway(rest);
      case "grid": {
        const [sub, ...args] = rest;
        if (sub === "up") return await gridUp(args);
        if (sub === "down") return await gridDown(args);
        if (sub === "status") return await gridStatus(args);
        if (sub === "enroll") return gridEnroll(args);
        if (sub === "token") return gridToken(args);
        throw new UsageError(
          `tsyft grid: expected up, down, status, enroll or token, got ${JSON.stringify(sub ?? "")}.`,
        );
      }
      case undefined:
      case "help":
      case "--help":
      case "-h":
        console.log(usage);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`tsyft: unknown command ${JSON.stringify(command)}.`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`${(error as Error).message}\n\n${usage}`);
      return 2;
    }
    console.error(`tsyft ${command}: ${(error as Error).message}`);
    return 1;
  }
}

async function runNode(args: readonly string[]): Promise<number> {
  const values = parse(args, {
    id: { type: "string" },
    port: { type: "string" },
    gateway: { type: "string" },
    "data-dir": { type: "string" },
    backend: { type: "string" },
    ...SERVER_FLAGS,
    ...LINK_FLAGS,
    ...ORIGIN_FLAGS,
    ca: { type: "string" },
    identity: { type: "string" },
  });
  const id = str(values, "id");
  if (id === undefined) throw new UsageError("tsyft node: --id is required (e.g. --id bob).");
  const dataDir = str(values, "data-dir") ?? process.env.TSYFT_NODE_DATA;
  const host = exposedHost("node", values, dataDir);
  const link = linkOf(values); // checked before TensorFlow.js loads
  const allowedOrigins = originsOf(values);
  const tf = await loadTf(str(values, "backend") ?? "cpu");
  const stopProfiling = profileFromEnvironment(id);
  const identityFile = str(values, "identity");
  const node = await startNode({
    id,
    port: portOf(values.port, 3000),
    host,
    gateway: str(values, "gateway"),
    dataDir,
    identityFile,
    ...nodeCredentials({ gridKey: str(values, "admin-key"), identityFile, dataDir }),
    tf,
    tls: tlsOf(values),
    ca: str(values, "ca"),
    ...link,
    ...(allowedOrigins && { allowedOrigins }),
  });
  if (node.adminToken) {
    console.error(`tsyft node ${node.id}: a one-node grid of its own; admin token, shown once: ${node.adminToken}`);
  }
  announce({ role: "node", id: node.id, port: node.port, url: node.url });
  console.error(
    `tsyft node ${node.id} listening on ${node.url} (health: ${toHttp(node.url)}/health)${values.gateway ? `, joined ${values.gateway}` : ""}`,
  );
  const reason = await untilStopped(values["exit-with-parent"] === true);
  console.error(`tsyft node ${node.id}: stopping (${reason})`);
  await node.close();
  stopProfiling();
  return 0;
}

async function runGateway(args: readonly string[]): Promise<number> {
  const values = parse(args, {
    port: { type: "string" },
    "data-dir": { type: "string" },
    "heartbeat-ms": { type: "string" },
    ...SERVER_FLAGS,
    ...LINK_FLAGS,
  });
  const heartbeatMs = positiveOf(values, "heartbeat-ms");
  const link = linkOf(values); // checked before the grid key is looked for (or made)
  const { gridKey, notice } = gatewayGridKey({ adminKey: str(values, "admin-key"), dataDir: str(values, "data-dir") });
  if (notice) console.error(`tsyft gateway: ${notice}`);
  const gateway = await startGateway({
    port: portOf(values.port, DEFAULT_GRID.gateway.port),
    host: exposedHost("gateway", values, str(values, "data-dir")),
    dataDir: str(values, "data-dir"),
    heartbeatMs,
    tls: tlsOf(values),
    gridKey,
    ...link,
  });
  announce({ role: "gateway", id: "gateway", port: gateway.port, url: gateway.url });
  console.error(`tsyft gateway listening on ${gateway.url} (GET /nodes, /models)`);
  const reason = await untilStopped(values["exit-with-parent"] === true);
  console.error(`tsyft gateway: stopping (${reason})`);
  await gateway.close();
  return 0;
}

function printMembers(members: readonly GridMember[], health?: ReadonlyMap<string, string>): void {
  const rows = [
    ["ROLE", "ID", "URL", "PORT", "PID", ...(health ? ["STATUS"] : [])],
    ...members.map((m) => [
      m.role,
      m.id,
      m.url,
      String(m.port),
      m.pid === undefined ? "-" : String(m.pid),
      ...(health ? [health.get(m.id) ?? "?"] : []),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows)
    console.log(
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    );
}

async function gridUp(args: readonly string[]): Promise<number> {
  const values = parse(args, {
    detach: { type: "boolean" },
    ports: { type: "string" },
    "data-dir": { type: "string" },
    "state-dir": { type: "string" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
    ca: { type: "string" },
    ...LINK_FLAGS,
    ...ORIGIN_FLAGS,
  });
  const link = linkOf(values); // checked before anything is made
  const allowedOrigins = originsOf(values);
  // The nodes are child processes: they take the list from their environment.
  if (allowedOrigins) process.env[ALLOWED_ORIGINS_ENV] = allowedOrigins.join(",");
  const ports = str(values, "ports") ?? "default";
  if (ports !== "default" && ports !== "random")
    throw new UsageError(`--ports: expected default or random, got ${JSON.stringify(ports)}.`);
  const stateDir = gridStateDir({ stateDir: str(values, "state-dir"), dataDir: str(values, "data-dir") });
  const detach = values.detach === true;
  if (detach && readGridState(stateDir)) {
    throw new UsageError(
      `A detached grid is already recorded in ${stateDir}; stop it first with tsyft grid down --state-dir ${stateDir}.`,
    );
  }
  // Made here rather than in startLocalGrid, to know whether the token is new (printed once).
  const credentials = loadOrCreateGridCredentials(stateDir);
  console.error(`Starting a gateway and ${DEFAULT_GRID.nodes.map((n) => n.id).join(", ")}...`);
  const grid = await startLocalGrid({
    ports,
    dataDir: str(values, "data-dir"),
    detach,
    stateDir,
    startTimeoutMs: Math.max(90_000, getConfig().timeoutMs),
    tls: tlsOf(values),
    ca: str(values, "ca"),
    ...link,
  });
  printMembers([grid.gateway, ...grid.nodes]);
  console.log(
    credentials.created
      ? `Admin token (shown once; kept in ${credentials.file}, mode 0600): ${credentials.adminToken}`
      : `Admin token in ${credentials.file}; clients made in this process use it by themselves.`,
  );
  if (detach) {
    console.log(
      `Detached; state in ${grid.stateFile}. Stop with: tsyft grid down${values["state-dir"] || values["data-dir"] ? ` --state-dir ${stateDir}` : ""}`,
    );
    return 0;
  }
  console.log("Ctrl-C stops the grid.");
  await untilStopped(false);
  console.error("Stopping the grid...");
  await grid.stop();
  return 0;
}

function gridEnroll(args: readonly string[]): number {
  const values = parse(args, {
    id: { type: "string" },
    "data-dir": { type: "string" },
    identity: { type: "string" },
    "state-dir": { type: "string" },
  });
  const id = str(values, "id");
  if (id === undefined) throw new UsageError("tsyft grid enroll: --id is required (e.g. --id bob).");
  const dataDir = str(values, "data-dir");
  const identityFile = str(values, "identity");
  if (dataDir === undefined && identityFile === undefined)
    throw new UsageError("tsyft grid enroll: pass --data-dir <dir> (or --identity <file>).");
  const { file, gridKey } = enrollNode({ id, dataDir, identityFile, stateDir: str(values, "state-dir") });
  console.log(`Node ${id} enrolled: identity and certificate in ${file} (grid key ${gridKey}).`);
  const where = identityFile ? `--identity ${file}` : `--data-dir ${dataDir}`;
  console.log(`Start it with: npx tsyft node --id ${id} ${where} --admin-key=${gridKey} --gateway <url>`);
  return 0;
}

function gridToken(args: readonly string[]): number {
  const values = parse(args, {
    subject: { type: "string" },
    "expires-hours": { type: "string" },
    "state-dir": { type: "string" },
  });
  const subject = str(values, "subject");
  if (subject === undefined) throw new UsageError("tsyft grid token: --subject is required (e.g. --subject ada).");
  const hours = positiveOf(values, "expires-hours");
  const expiresInMs = hours === undefined ? undefined : hours * 3600_000;
  console.log(userToken({ subject, stateDir: str(values, "state-dir"), expiresInMs }));
  return 0;
}

async function gridDown(args: readonly string[]): Promise<number> {
  const values = parse(args, { "state-dir": { type: "string" }, "data-dir": { type: "string" } });
  const stateDir = gridStateDir({ stateDir: str(values, "state-dir"), dataDir: str(values, "data-dir") });
  const stopped = await stopDetachedGrid(stateDir);
  if (!stopped) {
    console.error(`No detached grid recorded in ${stateDir} (grid.json).`);
    return 1;
  }
  console.log(`Stopped ${stopped.map((m) => `${m.id} (pid ${m.pid})`).join(", ")}.`);
  return 0;
}

async function gridStatus(args: readonly string[]): Promise<number> {
  const values = parse(args, {
    "state-dir": { type: "string" },
    "data-dir": { type: "string" },
    ca: { type: "string" },
  });
  const stateDir = gridStateDir({ stateDir: str(values, "state-dir"), dataDir: str(values, "data-dir") });
  const state = readGridState(stateDir);
  const members: GridMember[] = state
    ? [state.gateway, ...state.nodes]
    : [
        {
          id: "gateway",
          role: "gateway",
          port: DEFAULT_GRID.gateway.port,
          url: `http://localhost:${DEFAULT_GRID.gateway.port}`,
        },
        ...DEFAULT_GRID.nodes.map((n) => ({
          id: n.id,
          role: "node" as const,
          port: n.port,
          url: `ws://localhost:${n.port}`,
        })),
      ];
  const health = new Map<string, string>();
  await Promise.all(members.map(async (m) => health.set(m.id, await memberHealth(m, str(values, "ca")))));
  if (!state) console.log(`No detached grid recorded in ${stateDir}; checking the default ports.`);
  printMembers(members, health);
  const credentials = path.join(stateDir, CREDENTIALS_FILE);
  if (fs.existsSync(credentials)) console.log(`Admin token in ${credentials}.`);
  return [...health.values()].every((h) => h.startsWith("up")) ? 0 : 1;
}
