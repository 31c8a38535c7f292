/**
 * PublicGridNetwork: serving models through a gateway (PyGrid's
 * `PublicGridNetwork(hook, gateway).serve_model(...)` and
 * `run_remote_inference(...)`).
 *
 * With `mpc`, the model's weights are secret-shared between two nodes with a
 * third as crypto provider, and a fourth hosts the plan (its IR and the ids of
 * the shares, never weights). A query is shared on the user's side, run by
 * the holders (one command each), and only the result is reconstructed, by
 * the user. Without `mpc`, the plaintext plan lives on one node and the data
 * is sent to it as is; only the output comes back, never the plan's bytes.
 *
 * The nodes enforce the owner's choices (workers/requests.ts): the host keeps
 * the plan's policy (allowRemoteInference, allowDownload, the owner token's
 * hash), and the holders a use grant for exactly the plan's IR over the
 * weight shares. A query frees its shares on the holders when it ends.
 *
 * @example
 * ```ts
 * const grid = new sy.grid.PublicGridNetwork(hook, "http://localhost:5000");
 * await grid.serveModel(model, { id: "convnet", allowRemoteInference: true, mpc: true });
 * const y = await grid.runRemoteInference("convnet", tf.tensor([5, 3]), { mpc: true });   // [1022]
 * ```
 */
import type * as tfjs from "@tensorflow/tfjs";
import { AuthError, CommunicationError, ErrorCode, PlanError, TsyftError } from "../core/errors";
import { Plan } from "../plans/plan";
import type { Hook } from "../tensors/hook";
import { ownerTokenHash } from "../plans/host";
import type { InputRef } from "../tensors/handle";
import { fromTensorData, tensorData } from "../tensors/hook";
import { WebsocketGridClient } from "./client";
import { createOwnerToken } from "./auth/credentials";
import { GatewayClient } from "./gateway-client";
import { linkOptionsOf, type LinkOptions, type LinkShape } from "./link-delay";
import { clientLinkFor, localGridCredentials } from "./local-credentials";
import type { HostedModelInfo, ModelSearch } from "./model-registry";
import type { RegisteredNode } from "./node-registry";
import { sameUrl } from "./peer-links";
import { PlacementCache } from "./placement-cache";
import { queryEncrypted } from "./encrypted-query";

export interface ServeModelOptions {
  /** The model's id on the grid (the plan's id when absent). */
  id?: string;
  allowRemoteInference?: boolean;
  allowDownload?: boolean;
  /** Secret-share the weights among two nodes with a crypto provider. */
  mpc?: boolean;
  description?: string;
  /** Replace a model already served under this id (needs its owner token, unless this network has the admin's). */
  overwrite?: boolean;
  /** The owner token of the model being overwritten (serveModel's result gave it). */
  ownerToken?: string;
}

/** What serveModel registered, and the credential that may overwrite or delete it (keep it; it is shown once). */
export type ServedModel = HostedModelInfo & { ownerToken: string };

export interface RemoteInferenceOptions {
  /** Must match how the model is served: shares the input on the user's side. */
  mpc?: boolean;
}

export interface PublicGridOptions extends LinkOptions {
  /** The CA an https gateway and wss nodes are verified with: PEM text or a file (default TSYFT_CA_FILE). */
  ca?: string | Buffer;
  /**
   * An admin or user token. Left out: the admin token of a grid this process
   * started at this gateway, else anonymous (enough to query models served
   * with allowRemoteInference); `null`: anonymous.
   */
  token?: string | null;
}

export class PublicGridNetwork {
  readonly gateway: GatewayClient;
  private readonly clients = new Map<string, Promise<WebsocketGridClient>>();
  private readonly fetched = new Map<string, Plan>();
  /** What this network signs with: a token, or null for one anonymous key shared by its clients. */
  private readonly token: string | null;
  /** The gateway's last answers, which queries use while it is down. */
  private readonly placement: PlacementCache;
  private readonly link?: LinkShape;

  constructor(
    readonly hook: Hook,
    gatewayUrl: string,
    private readonly options: PublicGridOptions = {},
  ) {
    this.token = options.token === undefined ? (localGridCredentials(gatewayUrl)?.adminToken ?? null) : options.token;
    // Its distance to the grid (options, else the grid's when started here, else TSYFT_LINK_LATENCY_MS), on every link.
    this.link = clientLinkFor(gatewayUrl, options);
    this.gateway = new GatewayClient(gatewayUrl, { token: this.token ?? undefined, ca: options.ca, link: this.link });
    this.placement = new PlacementCache(this.gateway);
  }

  /** The nodes online in the grid. */
  async onlineNodes(): Promise<RegisteredNode[]> {
    return this.placement.onlineNodes();
  }

  /**
   * A connected client of node `id` (one per node, kept). Its address is the
   * gateway's, or the one remembered from it while the gateway is down; a
   * kept client whose node went away is replaced when the gateway lists the
   * node elsewhere (it came back on another port).
   */
  async node(id: string): Promise<WebsocketGridClient> {
    const kept = this.clients.get(id);
    if (kept) await this.forgetIfMoved(id, kept);
    // Read again: a concurrent call may have replaced the client meanwhile.
    let client = this.clients.get(id);
    if (!client) {
      client = (async () => {
        const address = await this.placement.address(id);
        if (!address)
          throw new CommunicationError(
            ErrorCode.CONNECTION,
            `Node "${id}" is not online in the grid at ${this.gateway.url}.`,
            { worker: id },
          );
        // The grid key from the gateway: each node must prove it is the node the gateway lists.
        const gridKey = await this.placement.gridKey();
        return new WebsocketGridClient(this.hook, address, {
          id,
          token: this.token,
          gridKey,
          ca: this.options.ca,
          ...linkOptionsOf(this.link),
        }).connect();
      })();
      client.catch(() => this.clients.get(id) === client && this.clients.delete(id));
      this.clients.set(id, client);
    }
    return client;
  }

  /**
   * When the kept client of node `id` has lost its node and the gateway lists
   * the node at another address, closes and forgets that client, and the
   * plans fetched through it (they hold it as their holders' worker).
   */
  private async forgetIfMoved(id: string, kept: Promise<WebsocketGridClient>): Promise<void> {
    const client = await kept;
    if (client.connected) return;
    const address = await this.placement.address(id).catch(() => undefined);
    if (address === undefined || sameUrl(address, client.url) || this.clients.get(id) !== kept) return;
    this.clients.delete(id);
    this.fetched.clear();
    void client.close();
  }

  /**
   * Serves a model: a built Plan, or a tf.LayersModel (converted and built
   * with its input shape). Resolves with what the gateway registered.
   */
  async serveModel(model: Plan | tfjs.LayersModel, options: ServeModelOptions = {}): Promise<ServedModel> {
    const plan = model instanceof Plan ? model : await Plan.fromModel(model, { id: options.id }).build();
    if (!plan.isBuilt)
      throw new PlanError(
        ErrorCode.PLAN_NOT_BUILT,
        `serveModel: build the plan first: await model.build(exampleInput).`,
      );
    const id = options.id ?? plan.id;
    const nodes = await this.onlineNodes();
    const mpc = options.mpc ?? false;
    if (mpc && nodes.length < 4) {
      throw new TsyftError(
        ErrorCode.UNSUPPORTED_PARTIES,
        `serveModel with mpc needs 4 online nodes (2 share holders, a crypto provider and a plan host); the grid at ${this.gateway.url} has ${nodes.length}` +
          (nodes.length ? ` (${nodes.map((n) => n.id).join(", ")})` : "") +
          ". Start more nodes (npx tsyft grid up starts four).",
      );
    }
    if (nodes.length === 0)
      throw new CommunicationError(ErrorCode.CONNECTION, `No node is online in the grid at ${this.gateway.url}.`);
    if (!options.overwrite && (await this.gateway.model(id))) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `A model "${id}" is already served; pick another id or pass { overwrite: true }.`,
        { id },
      );
    }
    // Placement: the host first, then the holders, then the provider, in id order (stable across runs).
    const [host, holderA, holderB, provider] = nodes.map((n) => n.id);
    const toServe =
      plan instanceof Plan && plan.id === id ? plan : Plan.deserialize({ ...plan.serialize(), id }, this.hook);
    // An overwrite keeps the owner's token; a new model gets a new one.
    const ownerToken = options.ownerToken ?? createOwnerToken();
    const allowRemoteInference = options.allowRemoteInference ?? false;
    if (mpc) {
      const [h0, h1, p] = await Promise.all([this.node(holderA!), this.node(holderB!), this.node(provider!)]);
      await linkNodes([
        [h0, h1],
        [h0, p],
        [h1, p],
      ]);
      toServe.fixPrecision().share(h0, h1, { cryptoProvider: p });
    }
    const policy = {
      allowRemoteInference,
      allowDownload: options.allowDownload ?? false,
      ownerTokenHash: ownerTokenHash(ownerToken),
    };
    // With allowRemoteInference, sending also has the holders grant anyone exactly this IR over the weight shares.
    await toServe.send(await this.node(host!), { policy, ...(options.overwrite && { ownerToken }) }).ready();
    const registered = await this.gateway.registerModel(
      {
        id,
        mpc,
        allowRemoteInference,
        allowDownload: policy.allowDownload,
        nodes: { host: host!, holders: mpc ? [holderA!, holderB!] : [], ...(mpc && { provider: provider! }) },
        ...(options.description !== undefined && { description: options.description }),
      },
      { overwrite: options.overwrite, ownerToken },
    );
    return { ...registered, ownerToken };
  }

  /**
   * Runs a served model on `data`. With mpc the data is secret-shared here
   * and never leaves this process in the clear; the result is reconstructed here.
   * A model queried before runs on the placement the gateway gave then while the
   * gateway is asked again, so that a query costs one round trip, not two; the
   * answer is returned only once the gateway confirms that placement (else the
   * query runs again where the gateway says, or fails as the gateway says).
   */
  async runRemoteInference(id: string, data: tfjs.Tensor, options: RemoteInferenceOptions = {}): Promise<tfjs.Tensor> {
    const mpc = options.mpc ?? false;
    const remembered = this.placement.remembered(id);
    if (mpc && remembered?.mpc && remembered.allowRemoteInference && this.fetched.has(id)) {
      const early = this.runShared(remembered, data);
      early.catch(() => undefined); // judged below, once the gateway has confirmed where it ran
      const info = await this.queryableInfo(id, mpc);
      if (JSON.stringify(info.nodes) === JSON.stringify(remembered.nodes)) return early;
      this.fetched.delete(id); // the model moved or was served anew: its plan too
      return this.runShared(info, data);
    }
    const info = await this.queryableInfo(id, mpc);
    return mpc ? this.runShared(info, data) : this.runOnHost(info, data);
  }

  /** Model `id`'s entry at the gateway, checked to allow remote inference `mpc` or not. */
  private async queryableInfo(id: string, mpc: boolean): Promise<HostedModelInfo> {
    const info = await this.modelInfo(id);
    if (!info.allowRemoteInference) {
      throw new AuthError(
        ErrorCode.AUTH,
        `Model "${id}" does not allow remote inference (its owner served it with allowRemoteInference: false).`,
        { id },
      );
    }
    if (mpc !== info.mpc) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `Model "${id}" is served ${info.mpc ? "with" : "without"} mpc; call runRemoteInference("${id}", data, { mpc: ${info.mpc} }).`,
        { id },
      );
    }
    return info;
  }

  /** One encrypted query of an mpc model on the holders and provider `info` names. */
  private async runShared(info: HostedModelInfo, data: tfjs.Tensor): Promise<tfjs.Tensor> {
    const plan = await this.fetchedPlan(info);
    const [h0, h1, p] = await Promise.all([
      this.node(info.nodes.holders[0]!),
      this.node(info.nodes.holders[1]!),
      this.node(info.nodes.provider!),
    ]);
    return queryEncrypted(plan, data, [h0, h1], p);
  }

  /**
   * A model served without mpc runs on its host: the input goes there, only
   * the output comes back, never the plan (whose bytes carry the weights).
   */
  private async runOnHost(info: HostedModelInfo, data: tfjs.Tensor): Promise<tfjs.Tensor> {
    const host = await this.node(info.nodes.host);
    const output = this.hook.ids.next();
    const input: InputRef = { kind: "plain", value: tensorData(data) };
    host.submit({ type: "run-hosted-plan", planId: info.id, inputs: [input], outputs: [output] });
    try {
      const value = await host.fetch(output, { remove: true });
      if (value.kind !== "tensor") {
        throw new TsyftError(ErrorCode.INVALID_ARGUMENT, `Model "${info.id}" answered a share, not a tensor.`);
      }
      return fromTensorData(this.hook.tf, value.value);
    } catch (error) {
      host.release([output]); // a failed run leaves its failure under the output's id
      throw error;
    }
  }

  /** The input shapes of served mpc model `id`, from its plan's IR (fetched as a query fetches it; no weights). */
  async inputShapes(id: string): Promise<number[][]> {
    const plan = await this.fetchedPlan(await this.queryableInfo(id, true));
    return plan.serialize().ir.inputs.map((input) => input.shape);
  }

  /** Deals ahead, for `runs` future queries on inputs of this shape, the material of a served mpc model. */
  async preprocess(id: string, runs: number, inputShape: number[]): Promise<number> {
    const info = await this.modelInfo(id);
    if (!info.mpc)
      throw new TsyftError(ErrorCode.INVALID_ARGUMENT, `Model "${id}" is not served with mpc; nothing to deal ahead.`);
    return (await this.fetchedPlan(info)).preprocess(runs, inputShape);
  }

  /** The plan of a served model, as a fetched copy (its weights stay shared on their holders). */
  async download(id: string): Promise<Plan> {
    const info = await this.modelInfo(id);
    if (!info.allowDownload) throw new AuthError(ErrorCode.AUTH, `Model "${id}" does not allow download.`, { id });
    return this.fetchedPlan(info);
  }

  async models(): Promise<HostedModelInfo[]> {
    return this.gateway.models();
  }

  async search(search: ModelSearch | string): Promise<HostedModelInfo[]> {
    return this.gateway.searchModels(typeof search === "string" ? { query: search } : search);
  }

  /**
   * Stops serving a model: frees its plan and shares on the nodes and forgets
   * it at the gateway. Needs its owner token (serveModel's `ownerToken`)
   * unless this network has the admin's token.
   */
  async deleteModel(id: string, options: { ownerToken?: string } = {}): Promise<boolean> {
    const info = await this.gateway.model(id);
    if (!info) return false;
    // The gateway checks the owner first, so a refused delete leaves the model served.
    const deleted = await this.gateway.deleteModel(id, options);
    const plan = this.fetched.get(id) ?? (await this.fetchPlanAnyway(info));
    // With the owner token the nodes free the model's plan and shares whoever asks (the owner, the admin...).
    const release = { ownerToken: options.ownerToken };
    if (plan) {
      const shareIds = plan.serialize().state.flatMap((s) => (s.kind === "shared" ? [s.id] : []));
      await Promise.all(info.nodes.holders.map(async (h) => (await this.node(h)).release(shareIds, release)));
    }
    (await this.node(info.nodes.host)).release([id], release);
    this.fetched.delete(id);
    return deleted;
  }

  /** Closes the clients this network opened. */
  async close(): Promise<void> {
    const clients = await Promise.allSettled([...this.clients.values()]);
    for (const c of clients) if (c.status === "fulfilled") c.value.close();
    this.clients.clear();
  }

  private async modelInfo(id: string): Promise<HostedModelInfo> {
    const info = await this.placement.model(id);
    if (!info) {
      const known = (await this.gateway.models()).map((m) => m.id);
      throw new TsyftError(
        ErrorCode.OBJECT_NOT_FOUND,
        `No model "${id}" is served on this grid (served: ${known.join(", ") || "none"}).`,
        { id },
      );
    }
    return info;
  }

  private async fetchedPlan(info: HostedModelInfo): Promise<Plan> {
    let plan = this.fetched.get(info.id);
    if (!plan) {
      // The holders and provider must be known to the hook before the plan's share references are rebuilt.
      await Promise.all(
        [...info.nodes.holders, ...(info.nodes.provider ? [info.nodes.provider] : [])].map((n) => this.node(n)),
      );
      const bytes = await (await this.node(info.nodes.host)).fetchPlanBytes(info.id, { copy: true });
      plan = Plan.fromBytes(bytes, this.hook);
      this.fetched.set(info.id, plan);
    }
    return plan;
  }

  private async fetchPlanAnyway(info: HostedModelInfo): Promise<Plan | undefined> {
    try {
      return await this.fetchedPlan(info);
    } catch {
      return undefined;
    }
  }
}

/**
 * Links pairs of nodes for protocol traffic (a no-op for pairs linked already). The node decides who may: the
 * admin, or a signed-in user, since the gateway vouches for the addresses (node-sockets.ts).
 */
async function linkNodes(pairs: ReadonlyArray<[WebsocketGridClient, WebsocketGridClient]>): Promise<void> {
  await Promise.all(pairs.map(([a, b]) => a.connectGridNode(b)));
}
