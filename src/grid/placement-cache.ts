/**
 * What a client remembers of the gateway's answers: each model's placement
 * (its registry entry), the nodes' addresses and the grid key, from the last
 * answer that came. A query needs the gateway only to find things, so while
 * the gateway cannot be reached the remembered answers stand in for it and
 * queries keep working; every answer that does come replaces them (the
 * gateway is back, a node moved).
 *
 * Only "no answer" falls back (TSYFT_ERR_CONNECTION or TSYFT_ERR_TIMEOUT,
 * e.g. refused or timed out): a gateway that answers "no such model" or
 * refuses is believed, and nothing is remembered that it has not said.
 *
 * @example
 * ```ts
 * const placement = new PlacementCache(new GatewayClient("http://localhost:5000"));
 * const info = await placement.model("toy");            // from the gateway, remembered
 * const bob = await placement.address("bob");           // ws://127.0.0.1:3000
 * // ... the gateway goes down ...
 * await placement.model("toy");                          // the remembered entry
 * ```
 */
import { CommunicationError, ErrorCode } from "../core/errors";
import type { GatewayClient } from "./gateway-client";
import type { HostedModelInfo } from "./model-registry";
import type { RegisteredNode } from "./node-registry";

/**
 * The last answers of one gateway, standing in for it while it is down.
 *
 * @example
 * ```ts
 * const nodes = await new PlacementCache(gateway).onlineNodes();
 * ```
 */
export class PlacementCache {
  private readonly models = new Map<string, HostedModelInfo>();
  private readonly addresses = new Map<string, string>();
  private gridKeyValue?: string;

  constructor(private readonly gateway: GatewayClient) {}

  /** Model `id`'s entry (undefined: the gateway has none); the remembered one while the gateway does not answer. */
  async model(id: string): Promise<HostedModelInfo | undefined> {
    try {
      const info = await this.gateway.model(id);
      if (info) this.models.set(id, info);
      else this.models.delete(id);
      return info;
    } catch (error) {
      return this.orRemembered(error, this.models.get(id));
    }
  }

  /** Model `id`'s entry as the gateway last gave it, without asking (undefined: never given, or gone since). */
  remembered(id: string): HostedModelInfo | undefined {
    return this.models.get(id);
  }

  /** The nodes the gateway lists online, sorted by id; their addresses are remembered. */
  async onlineNodes(): Promise<RegisteredNode[]> {
    const online = (await this.gateway.nodes()).filter((n) => n.status === "online");
    for (const node of online) this.addresses.set(node.id, node.address);
    return online.sort((a, b) => a.id.localeCompare(b.id));
  }

  /**
   * Where node `id` is: the gateway's answer (undefined when it does not list
   * it online), or the remembered address while the gateway does not answer.
   */
  async address(id: string): Promise<string | undefined> {
    try {
      const node = (await this.onlineNodes()).find((n) => n.id === id);
      if (!node) this.addresses.delete(id);
      return node?.address;
    } catch (error) {
      return this.orRemembered(error, this.addresses.get(id));
    }
  }

  /** The grid key the gateway announces (asked once; nodes must prove themselves under it). */
  async gridKey(): Promise<string | undefined> {
    this.gridKeyValue ??= (await this.gateway.health()).gridKey;
    return this.gridKeyValue;
  }

  /** `remembered` when `error` means the gateway gave no answer and there is one; else rethrows `error`. */
  private orRemembered<T>(error: unknown, remembered: T | undefined): T {
    const noAnswer =
      error instanceof CommunicationError && (error.code === ErrorCode.CONNECTION || error.code === ErrorCode.TIMEOUT);
    if (noAnswer && remembered !== undefined) return remembered;
    throw error;
  }
}
