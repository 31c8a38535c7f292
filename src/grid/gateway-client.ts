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
import { httpJson, toHttp } from "./http-util";
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
  private readonly timeoutMs: number;
  /** Signs registry writes (POST/DELETE /models); none: they are refused by the gateway. */
  private readonly token?: string;

  constructor(url: string, options: { token?: string; timeoutMs?: number } = {}) {
    this.url = toHttp(url);
    this.timeoutMs = options.timeoutMs ?? 10_000;
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

  /** Registers model metadata; `overwrite` replaces a model with the same id. */
  registerModel(info: HostedModelInfo, options: { overwrite?: boolean } = {}): Promise<HostedModelInfo> {
    return this.request("POST", `/models${options.overwrite ? "?overwrite=1" : ""}`, info);
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
      this.timeoutMs,
    );
    return status === 404 ? undefined : this.check(status, body);
  }

  async searchModels(search: ModelSearch): Promise<HostedModelInfo[]> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(search)) if (value !== undefined) params.set(key, String(value));
    return (await this.request<{ models: HostedModelInfo[] }>("GET", `/models/search?${params}`)).models;
  }

  /** Removes a model's metadata; false when there was none. */
  async deleteModel(id: string): Promise<boolean> {
    const { status, body } = await httpJson(
      "DELETE",
      `${this.url}/models/${encodeURIComponent(id)}`,
      undefined,
      this.timeoutMs,
    );
    if (status === 404) return false;
    this.check(status, body);
    return true;
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const { status, body: answer } = await httpJson<T>(method, `${this.url}${path}`, body, this.timeoutMs);
    return this.check(status, answer);
  }

  private check<T>(status: number, body: T): T {
    if (status >= 200 && status < 300) return body;
    const error = (body as { error?: SerializedError } | undefined)?.error;
    if (error) throw deserializeError(error);
    throw new CommunicationError(ErrorCode.CONNECTION, `Gateway ${this.url} answered ${status}.`);
  }
}
