/**
 * The frames a party received before anyone asked for them, bounded.
 *
 * A peer's frame may legitimately arrive before its receiver waits for it
 * (the receiver is still on an earlier op), so frames are kept by
 * (peer, tag). Without bounds, frames for tags nobody will ever wait for
 * (a departed or hostile sender) stay forever. So, per peer:
 * 1. at most `mailboxMaxFrames` frames and `mailboxMaxBytes` bytes: past
 *    either, that peer's oldest frames are dropped first;
 * 2. a frame older than `mailboxMaxAgeMs` is dropped by a sweep that runs
 *    only while something is buffered.
 * A dropped frame's (peer, tag) is remembered (boundedly), so that a wait
 * for it fails at once with TSYFT_ERR_LIMIT naming the setting instead of
 * running into the timeout.
 *
 * @example
 * ```ts
 * const buffer = new MailboxBuffer("bob");
 * buffer.put(frame);                       // frame.from = "alice", frame.tag = "op-1/open"
 * buffer.take("alice", "op-1/open");       // the frame, once
 * ```
 */
import { getConfig } from "../core/config";
import type { LimitError } from "../core/errors";
import { limitError } from "../core/limits";
import type { PeerFrame } from "./communicator";

/** The limits a buffer applies (a snapshot of the config when it was made). */
export interface MailboxLimits {
  mailboxMaxFrames: number;
  mailboxMaxBytes: number;
  mailboxMaxAgeMs: number;
}

interface Entry {
  frame: PeerFrame;
  bytes: number;
  at: number;
}

/** Dropped (peer, tag) pairs remembered for the waits that may still come. */
const MAX_REMEMBERED_DROPS = 4096;

/**
 * Buffered frames by peer then tag, each peer's in arrival order.
 *
 * @example
 * ```ts
 * const buffer = new MailboxBuffer("bob", { mailboxMaxFrames: 2, mailboxMaxBytes: 1 << 20, mailboxMaxAgeMs: 60_000 });
 * ```
 */
export class MailboxBuffer {
  /** Frames dropped by a limit since this buffer was made. */
  dropped = 0;
  private readonly peers = new Map<string, { entries: Map<string, Entry>; bytes: number }>();
  private readonly drops = new Map<string, LimitError>();
  private frames = 0;
  private sweeper?: NodeJS.Timeout;

  constructor(
    readonly self: string,
    private readonly limits: MailboxLimits = getConfig(),
    private readonly now: () => number = Date.now,
  ) {}

  /** Keeps a frame until `take`; drops what the limits say must go. */
  put(frame: PeerFrame): void {
    let peer = this.peers.get(frame.from);
    if (!peer) this.peers.set(frame.from, (peer = { entries: new Map(), bytes: 0 }));
    this.remove(frame.from, frame.tag);
    const bytes = frameBytes(frame);
    peer.entries.set(frame.tag, { frame, bytes, at: this.now() });
    peer.bytes += bytes;
    this.frames++;
    this.drops.delete(dropKey(frame.from, frame.tag));
    const { mailboxMaxFrames, mailboxMaxBytes } = this.limits;
    while (peer.entries.size > mailboxMaxFrames || peer.bytes > mailboxMaxBytes) {
      const tag = peer.entries.keys().next().value!;
      const over = peer.entries.size > mailboxMaxFrames;
      this.drop(
        frame.from,
        tag,
        over
          ? limitError(
              "mailboxMaxFrames",
              peer.entries.size,
              `${this.self}: frames buffered from ${frame.from} that nobody waits for`,
              mailboxMaxFrames,
              { worker: frame.from, tag },
            )
          : limitError(
              "mailboxMaxBytes",
              peer.bytes,
              `${this.self}: bytes buffered from ${frame.from} that nobody waits for`,
              mailboxMaxBytes,
              { worker: frame.from, tag },
            ),
      );
    }
    this.startSweeping();
  }

  /** The frame `from` sent under `tag`, removed from the buffer; undefined when there is none. */
  take(from: string, tag: string): PeerFrame | undefined {
    const entry = this.peers.get(from)?.entries.get(tag);
    if (entry) this.remove(from, tag);
    return entry?.frame;
  }

  /** Why the frame `from` sent under `tag` was dropped, if a limit dropped it. */
  dropReason(from: string, tag: string): LimitError | undefined {
    return this.drops.get(dropKey(from, tag));
  }

  /** Removes, without recording a drop, every frame for which `match(from, tag)` holds. */
  removeWhere(match: (from: string, tag: string) => boolean): void {
    for (const [from, peer] of this.peers) {
      for (const tag of [...peer.entries.keys()]) if (match(from, tag)) this.remove(from, tag);
    }
  }

  /** Forgets everything, drops included, and stops the sweep. */
  clear(): void {
    this.peers.clear();
    this.drops.clear();
    this.frames = 0;
    this.stopSweeping();
  }

  /** Frames buffered now. */
  get size(): number {
    return this.frames;
  }

  /** Bytes buffered now, over all peers. */
  get bytes(): number {
    let total = 0;
    for (const peer of this.peers.values()) total += peer.bytes;
    return total;
  }

  /** Drops the frames older than `mailboxMaxAgeMs` (the sweep calls it; tests may too). */
  sweep(): void {
    const oldest = this.now() - this.limits.mailboxMaxAgeMs;
    for (const [from, peer] of this.peers) {
      for (const [tag, entry] of [...peer.entries]) {
        // Each peer's entries are in arrival order: the first young one ends the scan.
        if (entry.at > oldest) break;
        this.drop(
          from,
          tag,
          limitError(
            "mailboxMaxAgeMs",
            this.now() - entry.at,
            `${this.self}: milliseconds a frame from ${from} waited for its receiver`,
            this.limits.mailboxMaxAgeMs,
            { worker: from, tag },
          ),
        );
      }
    }
  }

  private drop(from: string, tag: string, reason: LimitError): void {
    this.remove(from, tag);
    this.dropped++;
    this.drops.set(dropKey(from, tag), reason);
    if (this.drops.size > MAX_REMEMBERED_DROPS) this.drops.delete(this.drops.keys().next().value!);
  }

  private remove(from: string, tag: string): void {
    const peer = this.peers.get(from);
    const entry = peer?.entries.get(tag);
    if (!peer || !entry) return;
    peer.entries.delete(tag);
    peer.bytes -= entry.bytes;
    this.frames--;
    if (peer.entries.size === 0) this.peers.delete(from);
    if (this.frames === 0) this.stopSweeping();
  }

  private startSweeping(): void {
    if (this.sweeper || this.frames === 0) return;
    // Several sweeps per age: a frame outlives its age by at most a quarter of it, or a second.
    const every = Math.max(10, Math.min(1_000, Math.floor(this.limits.mailboxMaxAgeMs / 4)));
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref?.();
  }

  private stopSweeping(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}

/** What a buffered frame costs: its tensors' bytes, and a little for the rest. */
function frameBytes(frame: PeerFrame): number {
  return frame.tensors.reduce((n, t) => n + 8 * t.size, 64 + frame.tag.length);
}

function dropKey(from: string, tag: string): string {
  return `${from}\u0000${tag}`;
}
