/**
 * TFECluster: the three servers of Keras secure serving (PySyft 0.2's
 * `sy.TFECluster(alice, bob, carol)`). They are tsyft node processes, linked
 * to each other: server0 and server1 hold 2-of-2 additive shares of the model
 * and of each query, server2 is the crypto provider (it deals the correlated
 * randomness and never sees a share of a value). server0 also hosts the
 * model's plan (its IR and the ids of the weight shares, never a weight) and
 * counts the queries it serves.
 *
 * `start()` makes the cluster's admin credentials (kept in `stateDir`, mode
 * 0600, so a restarted notebook administers the same servers), issues each
 * server its identity, launches auto-managed servers as child processes
 * (they end with this process) or prints the command that starts the others,
 * and waits for all three; servers already running are reused.
 *
 * @example
 * ```ts
 * const cluster = new sy.TFECluster(alice, bob, carol);
 * await cluster.start();
 * await model.share(cluster);
 * await cluster.stop();
 * ```
 */
import type { ChildProcess } from "node:child_process";
import * as path from "node:path";
import { CommunicationError, ErrorCode, TsyftError } from "../core/errors";
import { DISPLAY, escapeHtml, type MimeBundle } from "../core/display-protocol";
import { currentHook } from "../tensors/hook";
import type { GridCredentials } from "../grid/auth/credentials";
import { loadOrCreateGridCredentials, readGridCredentials } from "../grid/auth/credentials-file";
import { loadOrCreateIdentity } from "../grid/auth/identity";
import { WebsocketGridClient } from "../grid/client";
import { httpJson } from "../grid/http-util";
import { forgetLocalGrid, rememberLocalGrid } from "../grid/local-credentials";
import { spawnCli, stopChild, waitHealthy, waitListening } from "../grid/processes";
import { TFEWorker, type ServerAddress } from "./worker";

/** The servers' node ids, in cluster order: two share holders, then the crypto provider (TF Encrypted's names). */
export const SERVER_IDS = ["server0", "server1", "server2"] as const;

export interface TFEClusterOptions {
  /**
   * Where the cluster keeps its admin credentials and the servers' identities.
   * Default: out/tfe-cluster/<the servers' host_port, joined by "-"> in the working directory.
   */
  stateDir?: string;
  /** How long start() waits for each server. Default 120 s. */
  startTimeoutMs?: number;
}

/** A started cluster: the owner's clients of the servers (signed in as the cluster's admin). */
interface Started {
  credentials: GridCredentials;
  clients: [WebsocketGridClient, WebsocketGridClient, WebsocketGridClient];
  /** The servers this cluster launched, by server id (none for reused or hand-started ones). */
  children: Map<string, ChildProcess>;
}

export class TFECluster {
  readonly workers: readonly [TFEWorker, TFEWorker, TFEWorker];
  readonly stateDir: string;
  private readonly startTimeoutMs: number;
  private started?: Promise<Started>;
  /** The pids of the servers the last start() launched, by server id; kept after stop(). */
  private launched: ReadonlyMap<string, number> = new Map();

  constructor(...args: Array<TFEWorker | TFEClusterOptions>) {
    const last = args[args.length - 1];
    const options = last !== undefined && !isWorker(last) ? (args.pop() as TFEClusterOptions) : {};
    const workers = args.filter(isWorker);
    if (args.length !== 3 || workers.length !== 3) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `Expected three workers but ${args.length} were given: new sy.TFECluster(alice, bob, carol), each a ` +
          `new sy.TFEWorker({ host: "localhost:4000" }) (two share holders and a crypto provider).`,
        { given: args.length },
      );
    }
    const clientOnly = workers.findIndex((w) => !w.isServer);
    if (clientOnly >= 0) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `TFECluster: worker ${clientOnly + 1} has no host; a cluster's workers are servers: new sy.TFEWorker({ host: "localhost:${4000 + clientOnly}" }).`,
      );
    }
    const urls = workers.map((w) => w.address!.url);
    if (new Set(urls).size !== 3) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `TFECluster: the three servers need three different addresses, got ${urls.join(", ")}.`,
      );
    }
    this.workers = [workers[0]!, workers[1]!, workers[2]!];
    const tag = workers.map((w) => `${w.address!.hostname}_${w.address!.port}`).join("-");
    this.stateDir = path.resolve(options.stateDir ?? path.join("out", "tfe-cluster", tag));
    this.startTimeoutMs = options.startTimeoutMs ?? 120_000;
  }

  /** The server addresses, in cluster order. */
  get addresses(): readonly ServerAddress[] {
    return this.workers.map((w) => w.address!);
  }

  /**
   * The process ids of the servers the last start() launched, in cluster order (not those it
   * reused or that were started by hand). Kept after stop(), so a notebook
   * can show that they exited.
   */
  get pids(): readonly number[] {
    return SERVER_IDS.flatMap((id) => this.launched.get(id) ?? []);
  }

  /** Whether start() has been called (and stop() not since). */
  get isStarted(): boolean {
    return this.started !== undefined;
  }

  /** The grid key the servers' certificates are signed with, when this machine keeps the cluster's credentials. */
  get gridKey(): string | undefined {
    return readGridCredentials(this.stateDir)?.gridKey;
  }

  /**
   * Starts the cluster: reuses servers already running (with this cluster's
   * credentials), launches the auto-managed ones that are not, prints the
   * command for the others and waits for them; then links the three. Calling
   * it again while started returns the same cluster.
   */
  async start(): Promise<this> {
    this.started ??= this.launch().catch((error: unknown) => {
      this.started = undefined;
      throw error;
    });
    await this.started;
    return this;
  }

  /**
   * Stops the servers this cluster launched (their shares go with them) and
   * closes the owner's connections; servers it reused or that were started
   * by hand keep running.
   */
  async stop(): Promise<void> {
    const started = this.started;
    this.started = undefined;
    if (!started) return;
    const launched = await started.catch(() => undefined);
    if (launched) {
      await Promise.all(launched.clients.map((c) => c.close()));
      await Promise.all([...launched.children.values()].map((c) => stopChild(c)));
    }
    for (const a of this.addresses) forgetLocalGrid(a.url);
  }

  /** The servers, in cluster order, with the pid of each one the last start() launched (others have none here). */
  servers(): Array<{ id: string; host: string; pid?: number }> {
    return this.workers.map((w, i) => {
      const pid = this.launched.get(SERVER_IDS[i]);
      return { id: SERVER_IDS[i], host: w.host!, ...(pid !== undefined && { pid }) };
    });
  }

  /** The owner's clients of server0, server1 (the share holders) and server2 (the provider); start() first. */
  async ownerClients(): Promise<Started["clients"]> {
    if (!this.started) {
      throw new TsyftError(ErrorCode.INVALID_ARGUMENT, "The cluster is not started: call await cluster.start() first.");
    }
    return (await this.started).clients;
  }

  toString(): string {
    const servers = this.workers.map((w, i) => `${SERVER_IDS[i]} ${w.host}`).join(", ");
    return `TFECluster(${servers}; ${this.isStarted ? "started" : "not started"})`;
  }

  [DISPLAY](): MimeBundle {
    const roles = ["share holder", "share holder", "crypto provider"];
    const rows = this.workers
      .map(
        (w, i) =>
          `<tr><td>${SERVER_IDS[i]}</td><td>${escapeHtml(w.host ?? "")}</td><td>${roles[i]}</td>` +
          `<td>${w.autoManaged ? "auto" : "by hand"}</td></tr>`,
      )
      .join("");
    return {
      "text/plain": this.toString(),
      "text/html":
        `<table><caption>TFE cluster (${this.isStarted ? "started" : "not started"})</caption>` +
        `<tr><th>server</th><th>host</th><th>role</th><th>managed</th></tr>${rows}</table>`,
    };
  }

  private async launch(): Promise<Started> {
    const credentials = loadOrCreateGridCredentials(this.stateDir);
    const children = new Map<string, ChildProcess>();
    const clients: WebsocketGridClient[] = [];
    try {
      // The servers start in parallel: each spends its first seconds loading TensorFlow.js.
      await Promise.all(this.workers.map((w, i) => this.bringUp(w, SERVER_IDS[i], credentials, children)));
      const hook = currentHook();
      for (const [i, a] of this.addresses.entries()) {
        rememberLocalGrid(a.url, credentials);
        const client = new WebsocketGridClient(hook, a.url, {
          id: SERVER_IDS[i],
          token: credentials.adminToken,
          gridKey: credentials.gridKey,
        });
        clients.push(client);
        await client.connect().catch((error: Error) => {
          throw new CommunicationError(
            ErrorCode.CONNECTION,
            `The server at ${a.url} does not accept this cluster's credentials (kept in ${this.stateDir}): ` +
              `${error.message} Is another cluster using port ${a.port}? Stop it, or pick other ports.`,
            { worker: SERVER_IDS[i] },
            { cause: error },
          );
        });
      }
      const [h0, h1, p] = clients as Started["clients"];
      await Promise.all([h0.connectGridNode(h1), h0.connectGridNode(p), h1.connectGridNode(p)]);
      this.launched = new Map([...children].flatMap(([id, c]) => (c.pid === undefined ? [] : [[id, c.pid] as const])));
      return { credentials, clients: [h0, h1, p], children };
    } catch (error) {
      await Promise.all(clients.map((c) => c.close()));
      await Promise.all([...children.values()].map((c) => stopChild(c)));
      throw error;
    }
  }

  /** Makes one server answer: reused when running, launched when auto-managed, else started by hand. */
  private async bringUp(
    worker: TFEWorker,
    id: string,
    credentials: GridCredentials,
    children: Map<string, ChildProcess>,
  ): Promise<void> {
    const address = worker.address!;
    const identity = path.join(this.stateDir, "identities", `${id}.json`);
    loadOrCreateIdentity({ id, file: identity, adminToken: credentials.adminToken });
    const running = await healthOf(address);
    if (running !== undefined) {
      if (running === id) return;
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `Port ${address.port} on ${address.hostname} is taken by node "${running}", not ${id} of this cluster. ` +
          "Stop it, or give the cluster other ports.",
        { worker: id },
      );
    }
    const bind = isLocal(address.hostname) ? "127.0.0.1" : address.hostname;
    const args = ["node", "--id", id, "--host", bind, "--port", String(address.port), "--identity", identity];
    if (worker.autoManaged) {
      if (!isLocal(address.hostname)) {
        throw new TsyftError(
          ErrorCode.INVALID_ARGUMENT,
          `TFEWorker ${worker.host} is auto-managed, but ${address.hostname} is not this machine: ` +
            "use autoManaged: false and start that server on its host.",
        );
      }
      const child = spawnCli(args);
      children.set(id, child);
      await waitListening(child, id, this.startTimeoutMs);
      await waitHealthy(address.healthUrl, this.startTimeoutMs);
      return;
    }
    const where = path.relative(process.cwd(), identity) || identity;
    console.log(
      `Start ${id} (${worker.host}) with:\n  npx tsyft ${args.slice(0, -1).join(" ")} ${where}\n` +
        (isLocal(address.hostname) ? "" : `(copy ${where} to that host first)\n`),
    );
    try {
      await waitHealthy(address.healthUrl, this.startTimeoutMs);
    } catch {
      throw new CommunicationError(
        ErrorCode.TIMEOUT,
        `${id} did not answer at ${address.healthUrl} within ${this.startTimeoutMs} ms; ` +
          `start it with the command printed above (npx tsyft ${args.join(" ")}).`,
        { worker: id },
      );
    }
  }
}

function isWorker(value: unknown): value is TFEWorker {
  return value instanceof TFEWorker;
}

function isLocal(hostname: string): boolean {
  return hostname === "localhost" || hostname === "127.0.0.1" || hostname === "::1";
}

/** The id of the node answering at `address`, or undefined when nothing answers. */
async function healthOf(address: ServerAddress): Promise<string | undefined> {
  try {
    const { status, body } = await httpJson<{ id?: unknown }>("GET", address.healthUrl, undefined, {
      timeoutMs: 2_000,
    });
    return status === 200 && typeof body?.id === "string" ? body.id : undefined;
  } catch {
    return undefined;
  }
}
