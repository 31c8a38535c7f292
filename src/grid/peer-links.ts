/**
 * A node's links to the other nodes: the PeerTransport its Worker sends
 * protocol frames through (channel 0x03), one WebSocket per peer carrying
 * frames both ways.
 *
 * 1. `dial(peer, url)` opens a socket, says hello as a peer expecting `peer`,
 *    and waits for its welcome; the other node has registered the link by
 *    then, so both ends have confirmed when `dial` resolves.
 * 2. The dialed node registers the socket with `accept`.
 *    Both ends authenticate: the hello carries this node's certificate, the
 *    welcome the peer's, each checked against the grid key (auth/handshake.ts).
 * 3. A frame received on the link of peer X is X's: a frame whose header
 *    names another sender is dropped and counted (`refused`), so a node can
 *    speak only as itself.
 * 4. When a link closes, the worker's mailbox fails every wait on that peer
 *    (`peerLost`). The dialer, which knows the peer's url, redials with
 *    backoff; once linked again, `peerBack`, and if the peer restarted (a new
 *    boot id) the worker forgets what it cached about it.
 * 5. A redial that fails asks `locate` (the gateway) where the peer is now: a
 *    peer restarted on another port has joined the gateway from there with a
 *    signed join, so its entry is the address it proved; the dialer switches
 *    to it and dials at once. The peer must still prove its id there.
 *
 * @example
 * ```ts
 * const links = new PeerLinks({ self: "bob", url: () => node.url, boot, maxPayload, key, gridKey, worker: () => node.worker });
 * await links.dial("alice", "ws://localhost:3001");
 * links.sendTo("alice", encodeFrame(frame));        // what the worker's Communicator does
 * ```
 */
import WebSocket from "ws";
import { getConfig } from "../core/config";
import { CommunicationError, ErrorCode } from "../core/errors";
import { peerFrameSender } from "../workers/messages";
import type { PeerTransport, Worker } from "../workers/worker";
import type { NodeKey } from "./auth/handshake";
import { Backoff } from "./backoff";
import { dial } from "./dial";
import { Channel, decodeGridFrame, encodeGridFrame, messageBytes } from "./framing";
import { sendOn, type LinkShape } from "./link-delay";

export interface PeerLinksOptions {
  /** This node's id. */
  self: string;
  /** This node's url, told to the peers it dials. */
  url: () => string;
  /** This node's boot id (new at every start). */
  boot: string;
  /** Largest WebSocket message accepted. */
  maxPayload: number;
  /** The CA wss peers are verified with (PEM text or a file; default TSYFT_CA_FILE). */
  ca?: string | Buffer;
  /** This node's key and certificate, and the grid key its peers must prove themselves under. */
  key: NodeKey;
  gridKey: string;
  /** The worker that receives peer frames. */
  worker: () => Worker;
  /** Called when a dialed link is up (to persist the peer's url). */
  onDialed?: (peer: string, url: string) => void;
  /** Where the grid's gateway lists node `peer` now (undefined: it lists none, or there is no gateway). */
  locate?: (peer: string) => Promise<string | undefined>;
  /** This node's distance to its peers: what it sends them leaves that much later (link-delay.ts). */
  link?: LinkShape;
}

/** Bytes and frames over one peer link, both ways. */
export interface LinkStats {
  bytesIn: number;
  bytesOut: number;
  framesIn: number;
  framesOut: number;
}

interface Link {
  socket: WebSocket;
  dialed: boolean;
  url?: string;
  stats: LinkStats;
  /** One-way latency measured by the dialer before its hello; the same figure at both ends. */
  latencyMs: number;
}

/** WebSocket pings a dialer times before its hello (the least round trip counts). */
const LATENCY_PINGS = 5;

/**
 * A measured latency below this (ms, one way) counts as none: loopback or a LAN, where a round costs what the cost
 * model's per-round overhead stands for, and where the ping's own scheduling noise (0.05-0.4 ms here) would make
 * "auto" choose differently from one link to the next.
 */
export const MEASURED_LATENCY_FLOOR_MS = 1;

interface DialTarget {
  url: string;
  backoff: Backoff;
  timer?: NodeJS.Timeout;
}

/**
 * A node's peer links, one socket per peer: its Worker's PeerTransport.
 *
 * @example
 * ```ts
 * await node.peers.dial("alice", "ws://localhost:3001");
 * node.peers.ids();   // ["alice"]
 * ```
 */
export class PeerLinks implements PeerTransport {
  private readonly links = new Map<string, Link>();
  private readonly targets = new Map<string, DialTarget>();
  private readonly dialing = new Map<string, Promise<void>>();
  private readonly boots = new Map<string, string>();
  private closed = false;
  /** Frames dropped because their header named another sender than the link's peer. */
  refused = 0;
  /** Totals of links gone by, so stats survive reconnections. */
  private readonly totals = new Map<string, LinkStats>();

  constructor(private readonly options: PeerLinksOptions) {}

  /** Sends a frame to `to`; throws CONNECTION naming the peer when there is no open link. */
  sendTo(to: string, bytes: Uint8Array): void {
    if (to === this.options.self) {
      queueMicrotask(() => this.options.worker().receiveFrame(bytes));
      return;
    }
    const link = this.links.get(to);
    if (!link || link.socket.readyState !== WebSocket.OPEN) {
      throw new CommunicationError(
        ErrorCode.CONNECTION,
        `${this.options.self} has no link to ${to}${this.targets.has(to) ? " (reconnecting)" : ""}. ` +
          `Link the nodes first: await client.connectGridNode(${to}) or await sy.grid.connectAllNodes([...]).`,
        { worker: to },
      );
    }
    const frame = encodeGridFrame(Channel.Peer, bytes);
    link.stats.bytesOut += frame.byteLength;
    link.stats.framesOut++;
    sendOn(link.socket, frame, this.options.link);
  }

  /**
   * The one-way latency to `peer` that the "auto" comparison weighs (mpc/comparison-choice.ts): what the link
   * measured when it opened (the dialer's least ping round trip, halved, sent in its hello, so both ends hold the
   * same figure; under MEASURED_LATENCY_FLOOR_MS it counts as 0) plus the distance this node simulates (its `link`
   * shape, the same on every node a local grid starts). 0 for itself; the simulated part alone while no link is up.
   */
  linkLatencyMs(peer: string): number {
    if (peer === this.options.self) return 0;
    const measured = this.links.get(peer)?.latencyMs ?? 0;
    return (this.options.link?.latencyMs ?? 0) + (measured < MEASURED_LATENCY_FLOOR_MS ? 0 : measured);
  }

  /** The measured one-way latency of each link up now, in ms (see linkLatencyMs). */
  latencies(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const id of this.ids()) out[id] = this.links.get(id)!.latencyMs;
    return out;
  }

  /** Ids of the peers linked now. */
  ids(): string[] {
    return [...this.links.keys()].filter((id) => this.links.get(id)!.socket.readyState === WebSocket.OPEN);
  }

  has(peer: string): boolean {
    return this.ids().includes(peer);
  }

  /** Traffic per peer since this node started. */
  stats(): Record<string, LinkStats> {
    const out: Record<string, LinkStats> = {};
    const add = (peer: string, s: LinkStats) => {
      const t = (out[peer] ??= { bytesIn: 0, bytesOut: 0, framesIn: 0, framesOut: 0 });
      t.bytesIn += s.bytesIn;
      t.bytesOut += s.bytesOut;
      t.framesIn += s.framesIn;
      t.framesOut += s.framesOut;
    };
    for (const [peer, s] of this.totals) add(peer, s);
    for (const [peer, link] of this.links) add(peer, link.stats);
    return out;
  }

  /**
   * Registers a socket whose other end said hello as peer `peer` (the node side of a dial), with the latency
   * its hello stated.
   */
  accept(peer: string, socket: WebSocket, boot: string | undefined, latencyMs = 0): LinkStats {
    return this.attach(peer, socket, { dialed: false, boot, url: undefined, latencyMs });
  }

  /** Counts a frame received on an accepted link and hands it to the worker. */
  receive(peer: string, payload: Uint8Array, frameBytes: number): void {
    const link = this.links.get(peer);
    if (link) {
      link.stats.bytesIn += frameBytes;
      link.stats.framesIn++;
    }
    this.deliver(peer, payload);
  }

  /** Hands a frame to the worker if its header names the link's peer as its sender (read without copying it). */
  private deliver(peer: string, payload: Uint8Array): void {
    if (peerFrameSender(payload) !== peer) {
      this.refused++;
      return;
    }
    this.options.worker().receiveFrame(payload);
  }

  /**
   * Opens a link to node `peer` at `url`; resolves once both ends have
   * registered it. Keeps redialing it with backoff if it drops later.
   */
  dial(peer: string, url: string, timeoutMs = getConfig().timeoutMs): Promise<void> {
    if (this.closed)
      return Promise.reject(new CommunicationError(ErrorCode.CONNECTION, `${this.options.self} is closed.`));
    if (peer === this.options.self) {
      return Promise.reject(
        new CommunicationError(ErrorCode.WORKER_ID, `${this.options.self} cannot link to itself.`, { worker: peer }),
      );
    }
    const target = this.targets.get(peer);
    if (target) target.url = url;
    else this.targets.set(peer, { url, backoff: new Backoff() });
    if (this.has(peer)) return Promise.resolve();
    let inFlight = this.dialing.get(peer);
    if (!inFlight) {
      inFlight = this.open(peer, url, timeoutMs).finally(() => this.dialing.delete(peer));
      this.dialing.set(peer, inFlight);
    }
    // A first dial that fails leaves nothing to redial; a known peer stays a target.
    if (!target) inFlight.catch(() => !this.links.has(peer) && this.targets.delete(peer));
    return inFlight;
  }

  /** Dials `peer` in the background until it answers (a link remembered from before a restart). */
  redial(peer: string, url: string): void {
    if (!this.targets.has(peer)) this.targets.set(peer, { url, backoff: new Backoff() });
    this.scheduleRedial(peer, 0);
  }

  /** Closes every link and stops redialing; peers see the links drop. */
  close(): void {
    this.closed = true;
    for (const target of this.targets.values()) clearTimeout(target.timer);
    this.targets.clear();
    for (const [peer, link] of this.links) {
      this.links.delete(peer);
      link.socket.terminate();
    }
  }

  private async open(peer: string, url: string, timeoutMs: number): Promise<void> {
    const self = this.options.self;
    const { socket, welcome, latencyMs } = await dial({
      url,
      maxPayload: this.options.maxPayload,
      ca: this.options.ca,
      hello: { t: "hello", role: "peer", from: self, url: this.options.url(), boot: this.options.boot },
      key: this.options.key,
      gridKey: this.options.gridKey,
      expect: peer,
      timeoutMs,
      say: {
        timeout: `${self} got no welcome from ${peer} at ${url} within ${timeoutMs} ms.`,
        unreachable: (error) => `${self} could not open a peer link to ${peer} at ${url}: ${error.message}.`,
        closed: (code, reason) => `${peer} at ${url} closed the link before welcoming ${self} (${code} ${reason}).`,
        wrongId: (answered) => `${self} expected node "${peer}" at ${url}, but "${answered}" answered.`,
      },
      gone: () => (this.closed ? `${self} is closed.` : undefined),
      link: this.options.link,
      measurePings: LATENCY_PINGS,
    });
    const stats = this.attach(peer, socket, { dialed: true, boot: welcome.boot, url, latencyMs });
    socket.on("message", (frame) => this.onDialedMessage(peer, messageBytes(frame as Buffer), stats));
    this.options.onDialed?.(peer, url);
  }

  private onDialedMessage(peer: string, bytes: Uint8Array, stats: LinkStats): void {
    stats.bytesIn += bytes.byteLength;
    stats.framesIn++;
    let frame;
    try {
      frame = decodeGridFrame(bytes);
    } catch {
      return;
    }
    if (frame.channel === Channel.Peer) this.deliver(peer, frame.payload);
  }

  private attach(
    peer: string,
    socket: WebSocket,
    how: { dialed: boolean; boot: string | undefined; url: string | undefined; latencyMs: number },
  ): LinkStats {
    const { dialed, boot, url, latencyMs } = how;
    const worker = this.options.worker();
    const previous = this.links.get(peer);
    if (previous && previous.socket !== socket) {
      this.links.delete(peer);
      this.retire(peer, previous);
      previous.socket.terminate();
    }
    const stats: LinkStats = { bytesIn: 0, bytesOut: 0, framesIn: 0, framesOut: 0 };
    this.links.set(peer, { socket, dialed, url, stats, latencyMs });
    const knownBoot = this.boots.get(peer);
    if (boot !== undefined) {
      if (knownBoot !== undefined && knownBoot !== boot) worker.forgetPeer(peer);
      this.boots.set(peer, boot);
    }
    worker.peerBack(peer);
    const target = this.targets.get(peer);
    target?.backoff.reset();
    socket.on("error", () => undefined); // a close event follows every error
    socket.on("close", (code, reason) =>
      this.onClose(peer, socket, `${code}${reason.length ? ` ${reason.toString()}` : ""}`),
    );
    return stats;
  }

  private onClose(peer: string, socket: WebSocket, reason: string): void {
    const link = this.links.get(peer);
    if (!link || link.socket !== socket) return; // replaced by a newer link
    this.links.delete(peer);
    this.retire(peer, link);
    this.options.worker().mailbox.peerLost(peer, `link closed: ${reason}`);
    if (!this.closed && this.targets.has(peer)) this.scheduleRedial(peer);
  }

  private retire(peer: string, link: Link): void {
    const t = this.totals.get(peer) ?? { bytesIn: 0, bytesOut: 0, framesIn: 0, framesOut: 0 };
    t.bytesIn += link.stats.bytesIn;
    t.bytesOut += link.stats.bytesOut;
    t.framesIn += link.stats.framesIn;
    t.framesOut += link.stats.framesOut;
    this.totals.set(peer, t);
  }

  private scheduleRedial(peer: string, delayMs?: number): void {
    const target = this.targets.get(peer);
    if (!target || this.closed) return;
    clearTimeout(target.timer);
    target.timer = setTimeout(() => {
      if (this.closed || this.has(peer)) return;
      this.dial(peer, target.url).catch(async () => {
        const moved = await this.relocate(peer, target);
        this.scheduleRedial(peer, moved ? 0 : undefined);
      });
    }, delayMs ?? target.backoff.next());
    target.timer.unref?.();
  }

  /**
   * Points `target` at the address the gateway lists for `peer` when that is
   * another one than it failed at (the peer came back on another port);
   * true when it did. Without an answer, the target stays as it was.
   */
  private async relocate(peer: string, target: DialTarget): Promise<boolean> {
    const listed = await this.options.locate?.(peer).catch(() => undefined);
    if (listed === undefined || sameUrl(listed, target.url) || this.targets.get(peer) !== target) return false;
    target.url = listed;
    target.backoff.reset();
    return true;
  }
}

/**
 * Whether two node urls name the same place (a trailing slash aside).
 *
 * @example
 * ```ts
 * sameUrl("ws://127.0.0.1:3000/", "ws://127.0.0.1:3000");   // true
 * ```
 */
export function sameUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, "") === b.replace(/\/+$/, "");
}
