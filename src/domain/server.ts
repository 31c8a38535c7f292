/**
 * The domain node (PySyft 0.6's domain): a data owner's server that hosts
 * private datasets, accounts with roles, requests, and a privacy budget per
 * user, with its state in PostgreSQL (PGlite in the data dir by default).
 *
 * HTTP JSON API: routes-accounts.ts and routes-data.ts; GET /health answers
 * `{ role: "domain", name }`. Every request but /login and /health is signed
 * (session-auth.ts) and checked against the caller's role here.
 *
 * A new domain has one Owner, info@openmined.org with the password
 * changethis (PySyft's default); the client warns until it is changed.
 *
 * @example
 * ```ts
 * const domain = await startDomain({ name: "Hospital A", port: 8081, dataDir: "./domain-a" });
 * const owner = await sy.login({ email: "info@openmined.org", password: "changethis", url: domain.url });
 * await domain.close();
 * ```
 */
import type * as http from "node:http";
import { TsyftError } from "../core/errors";
import { loadOrCreateGridCredentials } from "../grid/auth/credentials-file";
import { serveRoutes } from "../grid/http-router";
import { closeServer, createServer, listen, publicHost } from "../grid/http-util";
import type { TlsOptions } from "../grid/tls";
import { AssetFiles } from "./asset-files";
import { DataService } from "./data-service";
import { DEFAULT_OWNER } from "./defaults";
import { JobRunner } from "./jobs/runner";
import type { LoginThrottleOptions } from "./login-throttle";
import type { TrainModelFn } from "./jobs/train-interface";
import { trainModel } from "../nn/train";
import { hashPassword } from "./passwords";
import { accountRoutes, type RouteContext } from "./routes-accounts";
import { dataRoutes } from "./routes-data";
import { jobRoutes } from "./routes-jobs";
import { SessionAuth } from "./session-auth";
import { openDomainStore, type DomainStore } from "./storage";

export interface DomainOptions {
  /** The domain's name, shown at login. */
  name: string;
  /** Where its database (PGlite), asset files and credentials live. */
  dataDir: string;
  /** A PostgreSQL server instead of PGlite (`postgres://user:password@host:port/db`). */
  databaseUrl?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  tls?: TlsOptions;
  /** How long a login lasts; default 12 h. */
  sessionMs?: number;
  /** How failed logins are slowed down (default: 5 free per account, 20 per address, then 1 s doubling). */
  loginThrottle?: LoginThrottleOptions;
  /** The delta of every (epsilon, delta) release; default 1e-5. */
  delta?: number;
  /** The largest dataset upload, in bytes; default 512 MiB. */
  maxUploadBytes?: number;
  /** What training jobs call; default src/nn's trainModel. */
  trainModel?: TrainModelFn;
}

/**
 * A running domain.
 *
 * @example
 * ```ts
 * const domain = await Domain.start({ name: "test", dataDir });
 * domain.url;   // http://127.0.0.1:40123
 * ```
 */
export class Domain {
  private boundPort = 0;
  private closing?: Promise<void>;

  private constructor(
    readonly options: DomainOptions,
    readonly store: DomainStore,
    private readonly server: http.Server,
    private readonly jobs: JobRunner,
  ) {}

  static async start(options: DomainOptions): Promise<Domain> {
    const store = await openDomainStore({ dataDir: options.dataDir, databaseUrl: options.databaseUrl });
    try {
      await ensureOwner(store);
      const { adminToken } = loadOrCreateGridCredentials(options.dataDir);
      const auth = new SessionAuth(store, adminToken, {
        sessionMs: options.sessionMs,
        loginThrottle: options.loginThrottle,
      });
      const ctx: RouteContext = { store, auth, name: options.name };
      const delta = options.delta ?? 1e-5;
      const data = new DataService(store, new AssetFiles(options.dataDir), { delta });
      const jobs = new JobRunner(store, data, options.dataDir, { trainModel: options.trainModel ?? trainModel, delta });
      await jobs.recover();
      const routes = [
        {
          method: "GET" as const,
          path: "/health",
          handle: () => ({ status: 200, body: { role: "domain", name: options.name } }),
        },
        ...accountRoutes(ctx),
        ...dataRoutes({ ...ctx, data, maxUploadBytes: options.maxUploadBytes ?? 512 * 1024 * 1024 }),
        ...jobRoutes({ ...ctx, jobs }),
      ];
      const handler = serveRoutes({ name: `domain ${options.name}`, routes, hint: "See GET /health, /datasets." });
      const domain = new Domain(options, store, createServer(handler, { tls: options.tls }), jobs);
      domain.boundPort = await listen(domain.server, options.port ?? 0, options.host ?? "127.0.0.1");
      return domain;
    } catch (error) {
      await store.close().catch(() => undefined);
      throw error;
    }
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `${this.options.tls ? "https" : "http"}://${publicHost(this.options.host ?? "127.0.0.1")}:${this.boundPort}`;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await closeServer(this.server);
      await this.jobs.close();
      await this.store.close();
    })();
    return this.closing;
  }
}

/**
 * Starts a domain (see {@link Domain}).
 *
 * @example
 * ```ts
 * const domain = await startDomain({ name: "Hospital A", dataDir: "./domain-a", port: 8081 });
 * ```
 */
export function startDomain(options: DomainOptions): Promise<Domain> {
  return Domain.start(options);
}

/** A new domain's Owner, PySyft's default account (made once: the users table is empty only the first time). */
async function ensureOwner(store: DomainStore): Promise<void> {
  if ((await store.users.list()).length > 0) return;
  const passwordHash = await hashPassword(DEFAULT_OWNER.password);
  await store.users
    .create({ email: DEFAULT_OWNER.email, name: DEFAULT_OWNER.name, role: "Owner", passwordHash, budget: 0 })
    .catch((error: unknown) => {
      // Another process of this domain (on the same server) made it first.
      if (!(error instanceof TsyftError && error.details.conflict === true)) throw error;
    });
}
