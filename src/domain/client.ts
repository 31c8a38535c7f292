/**
 * The domain client: `sy.login({ email, password, port })` (or `{ url }`)
 * answers a `DomainClient`. It prints what PySyft 0.6's `sy.login` printed,
 * word for word: the warnings for the default account or password, then
 * "Connecting to ... done!" and "Logging into <name>... done!". Without
 * credentials the client is a guest (it may list datasets, nothing more).
 *
 * @example
 * ```ts
 * const owner = await sy.login({ email: "info@openmined.org", password: "changethis", port: 8081 });
 * await owner.changePassword({ oldPassword: "changethis", newPassword: "a better one" });
 * await owner.createUser({ name: "Ada", email: "ada@example.org", password: "ada-secret", budget: 10 });
 * const ds = await sy.login({ email: "ada@example.org", password: "ada-secret", port: 8081 });
 * const datasets = await ds.datasets;
 * ```
 */
import { ErrorCode, TsyftError } from "../core/errors";
import { DomainHttp, type DomainHttpOptions } from "./client-http";
import { checkModelSpec } from "../nn/spec";
import type { ModelHost } from "../nn/model";
import { JobPointer, startJob, type JobOptions } from "./job-pointer";
import type { ModelSpec } from "./jobs/train-interface";
import { ModelPointer } from "./model-pointer";
import type { AssetPointer } from "./pointer";
import { DatasetList, datasetOf, UserList, type DatasetInfo } from "./views";
import { RequestList, RequestView, type RequestInfo } from "./request-views";
import type { PublicUser } from "./session-auth";
import { privateUpload, type UploadAsset } from "./upload";
import { DEFAULT_OWNER } from "./defaults";

/** PySyft 0.6's warnings, verbatim (grid/client/client.py). */
export const DEFAULT_ACCOUNT_WARNING =
  "WARNING: CHANGE YOUR USERNAME AND PASSWORD!!! \n\nAnyone can login as an admin to your node" +
  " right now because your password is still the default PySyft username and password!!!\n";
export const DEFAULT_PASSWORD_WARNING =
  "WARNING: CHANGE YOUR PASSWORD!!! \n\nAnyone can login into your account" +
  " right now because your password is the default PySyft password!!!\n";

export interface LoginOptions extends Omit<DomainHttpOptions, "token"> {
  email?: string;
  password?: string;
  /** A domain on this machine: http://localhost:<port>. */
  port?: number;
  /** The domain's url (instead of port). */
  url?: string;
  /** Where the messages go (default console.log); `false` prints nothing. */
  log?: ((message: string) => void) | false;
}

/**
 * Logs into a domain (a guest without email and password).
 *
 * @example
 * ```ts
 * const guest = await sy.login({ port: 8081 });
 * ```
 */
export async function login(options: LoginOptions): Promise<DomainClient> {
  const log = options.log === false ? () => undefined : (options.log ?? ((m: string) => console.log(m)));
  if (options.password === DEFAULT_OWNER.password) {
    log(options.email === DEFAULT_OWNER.email ? DEFAULT_ACCOUNT_WARNING : DEFAULT_PASSWORD_WARNING);
  }
  if (options.url === undefined && options.port === undefined) {
    throw new TsyftError(
      ErrorCode.INVALID_ARGUMENT,
      "sy.login needs the domain's { port } (on this machine) or { url }.",
    );
  }
  const url = options.url ?? `http://localhost:${options.port}`;
  const http = new DomainHttp(url, options);
  const host = new URL(http.url).hostname;
  const { name } = await http.request<{ name: string }>("GET", "/health");
  log(`Connecting to ${host}... done! \t Logging into ${name}... done!`);
  if (options.email === undefined && options.password === undefined) return new DomainClient(http, name, undefined);
  const answer = await http.request<{ token: string; user: PublicUser }>("POST", "/login", {
    email: options.email,
    password: options.password,
  });
  http.token = answer.token;
  return new DomainClient(http, name, answer.user);
}

/**
 * A session with one domain: its datasets, users, requests and your privacy budget. It is a `sy.nn.ModelHost`:
 * `net.compile({ to: ds, ... })` and `new sy.nn.Model({ to: ds })` answer {@link ModelPointer}s.
 */
export class DomainClient implements ModelHost<ModelPointer> {
  constructor(
    private readonly http: DomainHttp,
    /** The domain's name. */
    readonly name: string,
    /** Who is logged in (undefined: a guest). */
    readonly user: PublicUser | undefined,
  ) {}

  get url(): string {
    return this.http.url;
  }

  /** The datasets: renders Idx | Name | Description | Assets | Id; `datasets[i]["key"]` is a pointer. */
  get datasets(): Promise<DatasetList> {
    return this.http.request<{ datasets: DatasetInfo[] }>("GET", "/datasets").then(({ datasets }) => {
      const list = new DatasetList();
      list.push(...datasets.map((d) => datasetOf(this.http, d)));
      return list;
    });
  }

  /** The users (for Owner, Administrator, Compliance Officer). */
  get users(): Promise<UserList> {
    return this.http.request<{ users: PublicUser[] }>("GET", "/users").then(({ users }) => {
      const list = new UserList();
      list.push(...users);
      return list;
    });
  }

  /** All requests for who may triage them; your own otherwise. Newest first. */
  get requests(): Promise<RequestList> {
    return this.http.request<{ requests: RequestInfo[] }>("GET", "/requests").then(({ requests }) => {
      const list = new RequestList();
      list.push(...requests.map((r) => new RequestView(this.http, r)));
      return list;
    });
  }

  /** Your remaining epsilon. */
  get privacyBudget(): Promise<number> {
    return this.http.request<{ privacyBudget: number }>("GET", "/me").then((me) => me.privacyBudget);
  }

  /** Creates a user (Data Scientist unless `role` says otherwise) with a privacy budget. */
  async createUser(user: {
    name: string;
    email: string;
    password: string;
    role?: PublicUser["role"];
    budget?: number;
  }): Promise<PublicUser> {
    return (await this.http.request<{ user: PublicUser }>("POST", "/users", user)).user;
  }

  /** Changes a user's role, budget, name, email or password (what your role allows). */
  async updateUser(
    id: string,
    fields: Partial<Pick<PublicUser, "name" | "email" | "role" | "budget">> & { password?: string },
  ): Promise<PublicUser> {
    return (await this.http.request<{ user: PublicUser }>("PUT", `/users/${encodeURIComponent(id)}`, fields)).user;
  }

  async deleteUser(id: string): Promise<void> {
    await this.http.request("DELETE", `/users/${encodeURIComponent(id)}`);
  }

  /** Changes your password; your other sessions end, this client carries on with a new one. */
  async changePassword(options: { oldPassword: string; newPassword: string }): Promise<void> {
    const answer = await this.http.request<{ token: string }>("POST", "/me/password", options);
    this.http.token = answer.token;
  }

  /** Asks for more privacy budget; the request appears in the owner's `domain.requests`. */
  async requestBudget(options: { eps: number; reason: string }): Promise<RequestView> {
    const { request } = await this.http.request<{ request: RequestInfo }>("POST", "/requests", {
      kind: "budget",
      epsilon: options.eps,
      reason: options.reason,
    });
    return new RequestView(this.http, request);
  }

  /**
   * Uploads a dataset: each asset a `sy.dp.private(tensor, { min, max, dataSubjects })`; other fields are kept
   * as metadata (PySyft's `load_dataset(assets=..., name=, description=, **metadata)`).
   */
  async loadDataset(dataset: {
    name: string;
    description?: string;
    assets: Record<string, UploadAsset>;
    [metadata: string]: unknown;
  }): Promise<DatasetInfo> {
    const { name, description, assets, ...metadata } = dataset;
    const body = { name, description: description ?? "", metadata, assets: privateUpload(assets) };
    return (await this.http.request<{ dataset: DatasetInfo }>("POST", "/datasets", body)).dataset;
  }

  /**
   * Starts a training job on the domain: `model` (a ModelSpec from sy.nn) trained on what `x` and `y` point at,
   * in the background (it goes on if this client goes away). With `dp`, DP-SGD, each step tallied in the ledger.
   */
  train(job: { model: ModelSpec; x: AssetPointer; y: AssetPointer } & JobOptions): Promise<JobPointer> {
    return startJob(this.http, job);
  }

  /**
   * The `sy.nn.ModelHost` seam: a pointer to `spec` on this domain, on which `fit`, `step`, `progress`, `weights`
   * and `cancel` run there. The spec is checked here and again by the domain.
   */
  async compileModel(spec: ModelSpec): Promise<ModelPointer> {
    checkModelSpec(spec);
    return new ModelPointer(this.http, spec);
  }

  /** A pointer to a job by id (yours; any, for who manages the domain's users). */
  job(id: string): JobPointer {
    return new JobPointer(this.http, id);
  }

  /** Ends this session on the domain. */
  async logout(): Promise<void> {
    await this.http.request("POST", "/logout");
    this.http.token = undefined;
  }
}
