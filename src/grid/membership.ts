/**
 * A node's membership in a gateway's registry: join, heartbeat at the
 * interval the gateway asks for, join again if the gateway forgot it (a
 * gateway restart), leave on close. Failures never stop the node; they are
 * kept in `lastError` and retried at the next beat. Every request is signed
 * by the node's key and carries its certificate (auth/gateway-proofs.ts):
 * the gateway takes membership for an id only from the node holding it.
 *
 * @example
 * ```ts
 * const membership = new GatewayMembership("http://localhost:5000", { id: "bob", address: "ws://localhost:3000" }, key);
 * membership.start();
 * // ...
 * await membership.stop();   // leaves the registry
 * ```
 */
import { signMembership, type MembershipType } from "./auth/gateway-proofs";
import type { NodeKey } from "./auth/handshake";
import { httpJson, toHttp } from "./http-util";
import type { LinkShape } from "./link-delay";

export interface MembershipInfo {
  id: string;
  /** The url clients and nodes reach this node at. */
  address: string;
}

/**
 * One node's membership in one gateway.
 *
 * @example
 * ```ts
 * new GatewayMembership("http://localhost:5000", { id: "bob", address: "ws://localhost:3000" }, node.key).start();
 * ```
 */
export class GatewayMembership {
  readonly gateway: string;
  private timer?: NodeJS.Timeout;
  private joined = false;
  private stopped = false;
  private heartbeatMs = 5_000;
  /** Beats answered so far (tests and status). */
  beats = 0;
  lastError?: Error;

  constructor(
    gateway: string,
    private readonly info: MembershipInfo,
    private readonly key: NodeKey,
    /** The CA an https gateway is verified with (PEM text or a file; default TSYFT_CA_FILE). */
    private readonly ca?: string | Buffer,
    /** The node's distance to the gateway: each call crosses it both ways. */
    private readonly link?: LinkShape,
  ) {
    this.gateway = toHttp(gateway);
  }

  /** Joins now, then beats in the background. */
  start(): Promise<void> {
    return this.beat();
  }

  get isJoined(): boolean {
    return this.joined;
  }

  /** Stops beating and leaves the registry (best effort). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.joined) return;
    this.joined = false;
    await httpJson("POST", `${this.gateway}/leave`, this.signed("leave"), {
      timeoutMs: 2_000,
      ca: this.ca,
      link: this.link,
    }).catch(() => undefined);
  }

  private signed(type: MembershipType) {
    return signMembership(this.key, type, this.info.id, type === "join" ? this.info.address : undefined);
  }

  /** The address the gateway lists for node `id` now; undefined when it lists none (or does not answer). */
  async addressOf(id: string): Promise<string | undefined> {
    const { status, body } = await httpJson<{ nodes?: Array<{ id?: unknown; address?: unknown }> }>(
      "GET",
      `${this.gateway}/nodes`,
      undefined,
      { ca: this.ca, link: this.link },
    );
    const node = status === 200 ? body?.nodes?.find((n) => n.id === id) : undefined;
    return typeof node?.address === "string" ? node.address : undefined;
  }

  private async beat(): Promise<void> {
    if (this.stopped) return;
    try {
      if (!this.joined) {
        const { status, body } = await httpJson<{ heartbeatMs?: number }>(
          "POST",
          `${this.gateway}/join`,
          this.signed("join"),
          { ca: this.ca, link: this.link },
        );
        if (status !== 200) throw new Error(`join answered ${status}: ${JSON.stringify(body)}`);
        if (typeof body?.heartbeatMs === "number" && body.heartbeatMs > 0) this.heartbeatMs = body.heartbeatMs;
        this.joined = true;
      } else {
        const { status } = await httpJson("POST", `${this.gateway}/heartbeat`, this.signed("heartbeat"), {
          ca: this.ca,
          link: this.link,
        });
        if (status === 404) {
          this.joined = false; // the gateway forgot us (restarted): join again now
          return this.beat();
        }
        if (status !== 200) throw new Error(`heartbeat answered ${status}`);
      }
      this.beats++;
      this.lastError = undefined;
    } catch (error) {
      this.lastError = error as Error;
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.beat(), this.heartbeatMs);
    this.timer.unref?.();
  }
}
