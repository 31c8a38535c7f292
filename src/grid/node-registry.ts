/**
 * The gateway's registry of nodes: who joined, at which address, and whether
 * they are still beating. A node is "online" while its last heartbeat is at
 * most `missedHeartbeats` intervals old, "stale" after; `leave` removes it.
 *
 * @example
 * ```ts
 * const registry = new NodeRegistry({ heartbeatMs: 5_000 });
 * registry.join("bob", "ws://localhost:3000");
 * registry.heartbeat("bob");          // true; false for an unknown id (join again)
 * registry.list();                    // [{ id: "bob", address, status: "online", ... }]
 * ```
 */
import { ErrorCode, TsyftError } from "../core/errors";
import { checkId } from "../core/ids";

/** Longest node address accepted (a url). */
const MAX_ADDRESS_LENGTH = 1024;

export type NodeStatus = "online" | "stale";

/** A registered node, as GET /nodes lists it. */
export interface RegisteredNode {
  id: string;
  address: string;
  status: NodeStatus;
  /** ISO times. */
  joinedAt: string;
  lastSeen: string;
}

export interface NodeRegistryOptions {
  /** The interval nodes are asked to beat at. Default 5 s. */
  heartbeatMs?: number;
  /** Heartbeats a node may miss before it is stale. Default 3. */
  missedHeartbeats?: number;
  /** The clock (tests). */
  now?: () => number;
}

interface Entry {
  id: string;
  address: string;
  joinedAt: number;
  lastSeen: number;
}

/**
 * Nodes by id, with their address and last heartbeat.
 *
 * @example
 * ```ts
 * const registry = new NodeRegistry({ heartbeatMs: 1_000, missedHeartbeats: 3 });
 * registry.join("bob", "ws://localhost:3000");
 * ```
 */
export class NodeRegistry {
  readonly heartbeatMs: number;
  readonly missedHeartbeats: number;
  private readonly now: () => number;
  private readonly nodes = new Map<string, Entry>();

  constructor(options: NodeRegistryOptions = {}) {
    this.heartbeatMs = options.heartbeatMs ?? 5_000;
    this.missedHeartbeats = options.missedHeartbeats ?? 3;
    this.now = options.now ?? Date.now;
  }

  /** Registers (or re-registers) a node: WORKER_ID for a bad id, INVALID_ARGUMENT for a bad address. */
  join(joining: unknown, address: unknown): RegisteredNode {
    const id = checkId(joining, "node id to join", ErrorCode.WORKER_ID);
    if (typeof address !== "string" || address.length > MAX_ADDRESS_LENGTH || !isNodeUrl(address)) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `join: expected an address like ws://host:port (at most ${MAX_ADDRESS_LENGTH} characters), got ${JSON.stringify(typeof address === "string" ? address.slice(0, 80) : address)}.`,
      );
    }
    const now = this.now();
    const previous = this.nodes.get(id);
    this.nodes.set(id, {
      id,
      address,
      joinedAt: previous?.address === address ? previous.joinedAt : now,
      lastSeen: now,
    });
    return this.describe(this.nodes.get(id)!);
  }

  /** Records a heartbeat; false when the id is unknown (the node should join again). */
  heartbeat(id: unknown): boolean {
    const entry = typeof id === "string" ? this.nodes.get(id) : undefined;
    if (!entry) return false;
    entry.lastSeen = this.now();
    return true;
  }

  /** Removes a node; false when it was not registered. */
  leave(id: unknown): boolean {
    return typeof id === "string" && this.nodes.delete(id);
  }

  has(id: string): boolean {
    return this.nodes.has(id);
  }

  get(id: string): RegisteredNode | undefined {
    const entry = this.nodes.get(id);
    return entry && this.describe(entry);
  }

  list(): RegisteredNode[] {
    return [...this.nodes.values()].map((e) => this.describe(e)).sort((a, b) => a.id.localeCompare(b.id));
  }

  get size(): number {
    return this.nodes.size;
  }

  private describe(entry: Entry): RegisteredNode {
    const stale = this.now() - entry.lastSeen > this.heartbeatMs * this.missedHeartbeats;
    return {
      id: entry.id,
      address: entry.address,
      status: stale ? "stale" : "online",
      joinedAt: new Date(entry.joinedAt).toISOString(),
      lastSeen: new Date(entry.lastSeen).toISOString(),
    };
  }
}

/** A ws(s) or http(s) url with a host. */
function isNodeUrl(address: string): boolean {
  try {
    const url = new URL(address);
    return ["ws:", "wss:", "http:", "https:"].includes(url.protocol) && url.host !== "";
  } catch {
    return false;
  }
}
