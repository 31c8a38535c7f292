/**
 * The gateway's registry of hosted models: metadata only (where a model's
 * shares live and what its owner allows), persisted in the gateway's
 * key/value store. `PublicGridNetwork.serveModel` (with Plans) registers here
 * after it has sent the model's shares to the nodes named in `nodes`.
 *
 * @example
 * ```ts
 * const models = new ModelRegistry(db.namespace("models"));
 * await models.register({ id: "convnet", mpc: true, allowRemoteInference: true, allowDownload: false,
 *   nodes: { host: "alice", holders: ["bob", "charlie"], provider: "dan" } });
 * await models.search({ query: "conv", mpc: true });   // [{ id: "convnet", ... }]
 * ```
 */
import { decodeMessage, encodeMessage } from "../core/codec";
import { ErrorCode, TsyftError } from "../core/errors";
import { checkId } from "../core/ids";
import type { Namespace } from "./kv-store";

/** Where a model's plan and shares live. */
export interface ModelPlacement {
  /** The node that hosts the plan (and answers inference requests). */
  host: string;
  /** The nodes holding shares of the weights (empty for a plaintext model). */
  holders: string[];
  /** The crypto provider of the holders, if any. */
  provider?: string;
}

/** What the gateway knows of a hosted model. */
export interface HostedModelInfo {
  id: string;
  /** Weights are secret-shared among `nodes.holders`. */
  mpc: boolean;
  allowRemoteInference: boolean;
  allowDownload: boolean;
  nodes: ModelPlacement;
  /** Free-form description shown in listings and matched by search. */
  description?: string;
  /** ISO time, set by the registry. */
  registeredAt?: string;
}

export interface ModelSearch {
  /** Substring of the id or description (case-insensitive). */
  query?: string;
  mpc?: boolean;
  allowRemoteInference?: boolean;
  allowDownload?: boolean;
  /** Models with a share, the plan or the provider on this node. */
  node?: string;
}

/**
 * Checks and normalizes model metadata; throws INVALID_ARGUMENT naming the bad field.
 *
 * @example
 * ```ts
 * checkModelInfo({ id: "m", mpc: false, allowRemoteInference: true, allowDownload: true, nodes: { host: "bob", holders: [] } });
 * ```
 */
export function checkModelInfo(value: unknown): HostedModelInfo {
  const bad = (what: string, got: unknown) =>
    new TsyftError(ErrorCode.INVALID_ARGUMENT, `Model metadata: expected ${what}, got ${JSON.stringify(got)}.`);
  const v = value as Partial<HostedModelInfo> | null;
  if (typeof v !== "object" || v === null) throw bad("an object", value);
  const id = checkId(v.id, "model id");
  for (const flag of ["mpc", "allowRemoteInference", "allowDownload"] as const) {
    if (typeof v[flag] !== "boolean") throw bad(`a boolean ${flag}`, v[flag]);
  }
  const nodes = v.nodes as Partial<ModelPlacement> | undefined;
  if (typeof nodes !== "object" || nodes === null || typeof nodes.host !== "string")
    throw bad("nodes: { host, holders, provider? }", nodes);
  if (!Array.isArray(nodes.holders) || !nodes.holders.every((h) => typeof h === "string"))
    throw bad("nodes.holders: a list of node ids", nodes.holders);
  if (nodes.provider !== undefined && typeof nodes.provider !== "string")
    throw bad("nodes.provider: a node id", nodes.provider);
  for (const node of [nodes.host, ...nodes.holders, ...(nodes.provider === undefined ? [] : [nodes.provider])])
    checkId(node, "node id in nodes");
  if (v.mpc && nodes.holders.length < 2) throw bad("at least 2 holders for an mpc model", nodes.holders);
  if (v.description !== undefined && (typeof v.description !== "string" || v.description.length > 4096))
    throw bad(
      "a string description of at most 4096 characters",
      typeof v.description === "string" ? `${v.description.length} characters` : v.description,
    );
  return {
    id,
    mpc: v.mpc!,
    allowRemoteInference: v.allowRemoteInference!,
    allowDownload: v.allowDownload!,
    nodes: {
      host: nodes.host,
      holders: [...nodes.holders],
      ...(nodes.provider !== undefined ? { provider: nodes.provider } : {}),
    },
    ...(v.description !== undefined ? { description: v.description } : {}),
    ...(v.registeredAt !== undefined ? { registeredAt: v.registeredAt } : {}),
  };
}

/**
 * Checks a search from the wire (the gateway's WebSocket `models` message);
 * INVALID_ARGUMENT naming the bad field.
 *
 * @example
 * ```ts
 * checkModelSearch({ query: "conv", mpc: true });
 * ```
 */
export function checkModelSearch(value: unknown): ModelSearch {
  if (value === undefined) return {};
  const v = value as Record<string, unknown> | null;
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new TsyftError(ErrorCode.INVALID_ARGUMENT, `Model search: expected an object, got ${JSON.stringify(value)}.`);
  const search: ModelSearch = {};
  for (const [key, type] of [
    ["query", "string"],
    ["node", "string"],
    ["mpc", "boolean"],
    ["allowRemoteInference", "boolean"],
    ["allowDownload", "boolean"],
  ] as const) {
    if (v[key] === undefined) continue;
    if (typeof v[key] !== type)
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `Model search: expected a ${type} ${key}, got ${JSON.stringify(v[key])}.`,
      );
    (search as Record<string, unknown>)[key] = v[key];
  }
  return search;
}

/**
 * Hosted models by id, persisted in a key/value namespace.
 *
 * @example
 * ```ts
 * const models = new ModelRegistry(new MemoryKeyValueStore().namespace("models"));
 * await models.list();
 * ```
 */
export class ModelRegistry {
  constructor(private readonly namespace: Namespace) {}

  /** Registers a model; an id already taken fails unless `overwrite`. */
  async register(info: unknown, options: { overwrite?: boolean } = {}): Promise<HostedModelInfo> {
    const model = checkModelInfo(info);
    if (!options.overwrite && (await this.namespace.get(model.id))) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `A model "${model.id}" is already registered. Delete it first, or register with overwrite.`,
        { id: model.id, conflict: true },
      );
    }
    const stored = { ...model, registeredAt: new Date().toISOString() };
    await this.namespace.put(model.id, encodeMessage(stored));
    return stored;
  }

  async get(id: string): Promise<HostedModelInfo | undefined> {
    const bytes = await this.namespace.get(id);
    return bytes && (decodeMessage(bytes) as HostedModelInfo);
  }

  async list(): Promise<HostedModelInfo[]> {
    const out: HostedModelInfo[] = [];
    for await (const [, bytes] of this.namespace.entries()) out.push(decodeMessage(bytes) as HostedModelInfo);
    return out;
  }

  async search(search: ModelSearch): Promise<HostedModelInfo[]> {
    const query = search.query?.toLowerCase();
    return (await this.list()).filter(
      (m) =>
        (query === undefined ||
          m.id.toLowerCase().includes(query) ||
          (m.description ?? "").toLowerCase().includes(query)) &&
        (search.mpc === undefined || m.mpc === search.mpc) &&
        (search.allowRemoteInference === undefined || m.allowRemoteInference === search.allowRemoteInference) &&
        (search.allowDownload === undefined || m.allowDownload === search.allowDownload) &&
        (search.node === undefined ||
          m.nodes.host === search.node ||
          m.nodes.holders.includes(search.node) ||
          m.nodes.provider === search.node),
    );
  }

  /** Removes a model; false when there was none. */
  async delete(id: string): Promise<boolean> {
    if (!(await this.namespace.get(id))) return false;
    await this.namespace.del(id);
    return true;
  }
}

/**
 * A search from the query string of GET /models/search (query or q, node, and the flags as 1/true).
 *
 * @example
 * ```ts
 * searchFromQuery(new URLSearchParams("q=conv&mpc=1"));   // { query: "conv", mpc: true }
 * ```
 */
export function searchFromQuery(params: URLSearchParams): ModelSearch {
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
