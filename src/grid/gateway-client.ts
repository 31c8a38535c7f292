/**
 * A client of a gateway's HTTP API: the nodes of the grid and the models
 * hosted on them. `PublicGridNetwork` (with Plans) builds on it: it finds
 * nodes here, sends a model's shares to them, then registers the model.
 *
 * @example
 * ```ts
 * const gateway = new sy.grid.GatewayClient("http://localhost:5000");
 * const online = (await gateway.nodes()).filter((n) => n.status === "online");
 * await gateway.registerModel({ id: "convnet", mpc: true, allowRemoteInference: true, allowDownload: false,
 *   nodes: { host: "alice", holders: ["bob", "charlie"], provider: "dan" } });
 * await gateway.searchModels({ query: "conv" });
 * ```
 */
import { CommunicationError, ErrorCode, deserializeError, type SerializedError } from "../core/errors";
import { clientKey } from "./auth/credentials";
import { httpProof } from "./auth/gateway-proofs";
import { httpJson, toHttp, type HttpJsonOptions } from "./http-util";
import type { LinkShape } from "./link-delay";
import type { GatewayHealth } from "./gateway";
import type { HostedModelInfo, ModelSearch } from "./model-registry";
import type { RegisteredNode } from "./node-registry";

/**
 * The gateway's HTTP API from code.
 *
 * @example
 * ```ts
 * const models = await new GatewayClient("http://localhost:5000").models();
 * ```
 */
export class GatewayClient {
  readonly url: string;
  private readonly http: HttpJsonOptions;
  /** Signs registry writes (POST/DELETE /models); none: they are refused by the gateway. */
  private readonly token?: string;

  /**
   * @param options `token` signs registry writes; `timeoutMs` (default 10 s); `ca`, the CA an https
   *   gateway is verified with (PEM text or a file; default TSYFT_CA_FILE); `link`, this client's distance to
   *   the gateway (each call crosses it both ways, see link-delay.ts).
   */
  constructor(
    url: string,
    options: { token?: string; timeoutMs?: number; ca?: string | Buffer; link?: LinkShape } = {},
  ) {
    this.url = toHttp(url);
    this.http = {
      timeoutMs: options.timeoutMs ?? 10_000,
      ...(options.ca !== undefined && { ca: options.ca }),
      ...(options.link && { link: options.link }),
      tap: "gateway",
    };
    this.token = options.token;
  }

  /** The gateway's health, with the grid key its nodes prove themselves under. */
  health(): Promise<GatewayHealth> {
    return this.request("GET", "/health");
  }

  /** The registered nodes, with their status (online or stale). */
  async nodes(): Promise<RegisteredNode[]> {
    return (await this.request<{ nodes: RegisteredNode[] }>("GET", "/nodes")).nodes;
  }

  /**
   * Registers model metadata (needs a token); `overwrite` replaces a model
   * with the same id (its owner token, or the admin's token, needed).
   * `ownerToken` is recorded (as a hash) as the credential that may
   * overwrite or delete it.
   */
  registerModel(
    info: HostedModelInfo,
    options: { overwrite?: boolean; ownerToken?: string } = {},
  ): Promise<HostedModelInfo> {
    return this.request("POST", `/models${options.overwrite ? "?overwrite=1" : ""}`, info, options.ownerToken);
  }

  async models(): Promise<HostedModelInfo[]> {
    return (await this.request<{ models: HostedModelInfo[] }>("GET", "/models")).models;
  }

  /** The model `id`, or undefined when the gateway has none. */
  async model(id: string): Promise<HostedModelInfo | undefined> {
    const { status, body } = await httpJson<HostedModelInfo>(
      "GET",
      `${this.url}/models/${encodeURIComponent(id)}`,
      undefined,
      this.http,
    );
    return status === 404 ? undefined : this.check(status, body);
  }

  async searchModels(search: ModelSearch): Promise<HostedModelInfo[]> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(search)) if (value !== undefined) params.set(key, String(value));
    return (await this.request<{ models: HostedModelInfo[] }>("GET", `/models/search?${params}`)).models;
  }

  /** Removes a model's metadata (its owner token, or the admin's token, needed); false when there was none. */
  async deleteModel(id: string, options: { ownerToken?: string } = {}): Promise<boolean> {
    const path = `/models/${encodeURIComponent(id)}`;
    const { status, body } = await httpJson("DELETE", `${this.url}${path}`, undefined, {
      ...this.http,
      headers: this.signedHeaders("DELETE", path, "", options.ownerToken),
    });
    if (status === 404) return false;
    this.check(status, body);
    return true;
  }

  private async request<T>(method: string, path: string, body?: unknown, ownerToken?: string): Promise<T> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers = method === "GET" ? {} : this.signedHeaders(method, path, text ?? "", ownerToken);
    const { status, body: answer } = await httpJson<T>(method, `${this.url}${path}`, text, { ...this.http, headers });
    return this.check(status, answer);
  }

  /** A write's proof (when this client has a token) and owner credential (when given). */
  private signedHeaders(method: string, path: string, body: string, ownerToken?: string): Record<string, string> {
    const key = this.token === undefined ? undefined : clientKey(this.token);
    return {
      ...(key && {
        authorization: httpProof(
          { pair: key.pair, ...(key.kind === "user" && { cert: key.cert }) },
          method,
          path,
          body,
        ),
      }),
      ...(ownerToken !== undefined && { "x-tsyft-owner": ownerToken }),
    };
  }

  private check<T>(status: number, body: T): T {
    if (status >= 200 && status < 300) return body;
    const error = (body as { error?: SerializedError } | undefined)?.error;
    if (error) throw deserializeError(error);
    throw new CommunicationError(ErrorCode.CONNECTION, `Gateway ${this.url} answered ${status}.`);
  }
}
