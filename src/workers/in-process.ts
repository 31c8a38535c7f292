/**
 * The in-process network: how VirtualWorkers and the client talk when they
 * all live in one process. Every message is encoded to bytes exactly as on a
 * socket and delivered on a later microtask, in order per link, so the code
 * path is the one of real nodes and a tap sees what a wire would carry.
 */
import { CommunicationError, ErrorCode } from "../core/errors";
import type { Hook } from "../tensors/hook";
import type { PeerTransport, Worker } from "./worker";

/** What a tap sees: every message, as bytes. */
export interface TapEvent {
  channel: "request" | "reply" | "peer";
  from: string;
  to: string;
  bytes: Uint8Array;
}

export type Tap = (event: TapEvent) => void;

export interface NetworkStats {
  messages: number;
  bytes: number;
  peerMessages: number;
  peerBytes: number;
}

export class InProcessNetwork {
  private readonly workers = new Map<string, Worker>();
  private readonly taps = new Set<Tap>();
  readonly stats: NetworkStats = { messages: 0, bytes: 0, peerMessages: 0, peerBytes: 0 };

  register(worker: Worker): void {
    if (this.workers.has(worker.id)) {
      throw new CommunicationError(
        ErrorCode.WORKER_ID,
        `A worker with id "${worker.id}" already exists on this hook. Pick another id, or reuse the existing worker.`,
        { worker: worker.id },
      );
    }
    this.workers.set(worker.id, worker);
  }

  unregister(id: string): void {
    this.workers.delete(id);
  }

  get(id: string): Worker {
    const worker = this.workers.get(id);
    if (!worker) {
      throw new CommunicationError(
        ErrorCode.CONNECTION,
        `No in-process worker "${id}". Known: ${[...this.workers.keys()].join(", ") || "none"}.`,
        {
          worker: id,
        },
      );
    }
    return worker;
  }

  ids(): string[] {
    return [...this.workers.keys()];
  }

  /** Sees every message from now on; returns a function that removes the tap. */
  tap(tap: Tap): () => void {
    this.taps.add(tap);
    return () => this.taps.delete(tap);
  }

  resetStats(): void {
    Object.assign(this.stats, { messages: 0, bytes: 0, peerMessages: 0, peerBytes: 0 });
  }

  private observe(event: TapEvent): void {
    this.stats.messages++;
    this.stats.bytes += event.bytes.byteLength;
    if (event.channel === "peer") {
      this.stats.peerMessages++;
      this.stats.peerBytes += event.bytes.byteLength;
    }
    for (const tap of this.taps) tap(event);
  }

  /** The transport a worker uses to reach its peers. */
  transportFor(self: string): PeerTransport {
    return {
      sendTo: (to, bytes) => {
        const target = this.get(to);
        this.observe({ channel: "peer", from: self, to, bytes });
        queueMicrotask(() => target.receiveFrame(bytes));
      },
    };
  }

  /** Delivers a client request to worker `to`; resolves with the encoded reply, if any. */
  request(from: string, to: string, bytes: Uint8Array): Promise<Uint8Array | undefined> {
    const target = this.get(to);
    this.observe({ channel: "request", from, to, bytes });
    return new Promise<Uint8Array | undefined>((resolve, reject) => {
      queueMicrotask(() => {
        target.handleRequest(bytes).then((reply) => {
          if (reply) this.observe({ channel: "reply", from: to, to: from, bytes: reply });
          resolve(reply);
        }, reject);
      });
    });
  }
}

const networks = new WeakMap<Hook, InProcessNetwork>();

/** The in-process network of a hook (one per hook). */
export function networkOf(hook: Hook): InProcessNetwork {
  let network = networks.get(hook);
  if (!network) {
    network = new InProcessNetwork();
    networks.set(hook, network);
  }
  return network;
}
