/**
 * How parties talk: the `Communicator` interface the protocols use, and the
 * `Mailbox` that every implementation shares for receiving.
 *
 * Frames are addressed by (peer, tag). Tags are derived deterministically by
 * every party from the op being run (see PartyContext), so a frame that
 * arrives before its receiver asks for it is buffered, and one that never
 * arrives fails the wait after a timeout naming the peer and the tag. A party
 * that fails during a protocol sends an abort for the op's scope so that its
 * peers stop waiting at once.
 *
 * Implementations: in process (workers/in-process.ts) and over WebSockets
 * (grid/). Both only move frames; buffering and timeouts live here.
 */
import { getConfig } from "../core/config";
import { CommunicationError, ErrorCode, TsyftError } from "../core/errors";
import type { RingTensor } from "../ring";
import { MailboxBuffer, type MailboxLimits } from "./mailbox-buffer";

/** What one party sends another in one message. */
export interface PeerFrame {
  /** "data": protocol values; "request"/"reply": to and from a crypto provider; "abort": a peer gave up on a scope. */
  kind: "data" | "request" | "reply" | "abort";
  from: string;
  tag: string;
  tensors: RingTensor[];
  /** Small structured data (requests, error messages); never secret values. */
  meta?: unknown;
}

export type OutgoingFrame = Omit<PeerFrame, "from">;

export interface Communicator {
  /** This party's worker id. */
  readonly self: string;
  /** Sends a frame; frames on one link arrive in order. Returns at once. */
  send(to: string, frame: OutgoingFrame): void;
  /**
   * Resolves with the frame `from` sent under `tag` (of kind data or reply).
   * Rejects after the configured timeout, when `from` aborts the tag's scope,
   * or when the link to `from` is lost.
   */
  recv(from: string, tag: string): Promise<PeerFrame>;
  /**
   * The one-way latency, in milliseconds, that the link to `peer` adds to each
   * message (a simulated or measured network distance); absent or 0 on
   * loopback. The "auto" comparison reads it (mpc/comparison-choice.ts): both
   * holders must report the same figure for their link, so that they choose alike.
   */
  linkLatencyMs?(peer: string): number;
}

interface Waiter {
  resolve(frame: PeerFrame): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** Bound on remembered aborted scopes: old ones cannot be waited on any more. */
const MAX_ABORTED_SCOPES = 1024;

/** The scope of a tag: everything before its first "/". */
export function scopeOf(tag: string): string {
  const slash = tag.indexOf("/");
  return slash < 0 ? tag : tag.slice(0, slash);
}

/**
 * Buffers incoming frames by (peer, tag) and matches them with waits.
 * Shared by every Communicator implementation. What it buffers is bounded
 * per peer (mailbox-buffer.ts).
 */
export class Mailbox {
  private readonly buffered: MailboxBuffer;
  private readonly waiting = new Map<string, Waiter>();
  private readonly aborted = new Map<string, string>();
  private readonly lostPeers = new Map<string, string>();

  constructor(
    readonly self: string,
    limits?: MailboxLimits,
  ) {
    this.buffered = new MailboxBuffer(self, limits);
  }

  /** Hands a received frame to its waiter, or keeps it until asked for. */
  deliver(frame: PeerFrame): void {
    if (frame.kind === "abort") {
      this.abort(frame.from, frame.tag, typeof frame.meta === "string" ? frame.meta : "no reason given");
      return;
    }
    const key = mailKey(frame.from, frame.tag);
    const waiter = this.waiting.get(key);
    if (waiter) {
      this.waiting.delete(key);
      clearTimeout(waiter.timer);
      waiter.resolve(frame);
    } else {
      this.buffered.put(frame);
    }
  }

  recv(from: string, tag: string, timeoutMs = getConfig().timeoutMs): Promise<PeerFrame> {
    const key = mailKey(from, tag);
    const frame = this.buffered.take(from, tag);
    if (frame) return Promise.resolve(frame);
    const failure = this.failureFor(from, tag);
    if (failure) return Promise.reject(failure);
    if (this.waiting.has(key)) {
      return Promise.reject(
        new TsyftError(
          ErrorCode.PROTOCOL_DESYNC,
          `${this.self} is already waiting for "${tag}" from ${from}: tags must be unique.`,
        ),
      );
    }
    return new Promise<PeerFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        reject(
          new CommunicationError(
            ErrorCode.TIMEOUT,
            `${this.self} waited ${timeoutMs} ms for "${tag}" from ${from} and got nothing. ` +
              `Is ${from} alive and running the same op? (timeoutMs is configurable with sy.withConfig)`,
            { worker: from, tag, timeoutMs },
          ),
        );
      }, timeoutMs);
      timer.unref?.();
      this.waiting.set(key, { resolve, reject, timer });
    });
  }

  /** A peer gave up on `scope`: fail its pending and future waits in that scope. */
  abort(from: string, scope: string, reason: string): void {
    this.aborted.set(mailKey(from, scope), reason);
    if (this.aborted.size > MAX_ABORTED_SCOPES) this.aborted.delete(this.aborted.keys().next().value!);
    for (const [key, waiter] of this.waiting) {
      const [peer, tag] = splitKey(key);
      if (peer === from && scopeOf(tag) === scope) {
        this.waiting.delete(key);
        clearTimeout(waiter.timer);
        waiter.reject(this.failureFor(from, tag)!);
      }
    }
    this.buffered.removeWhere((peer, tag) => peer === from && scopeOf(tag) === scope);
  }

  /** The link to `peer` is gone: fail every wait on it until it is back. */
  peerLost(peer: string, reason: string): void {
    this.lostPeers.set(peer, reason);
    for (const [key, waiter] of this.waiting) {
      const [from, tag] = splitKey(key);
      if (from === peer) {
        this.waiting.delete(key);
        clearTimeout(waiter.timer);
        waiter.reject(this.failureFor(from, tag)!);
      }
    }
  }

  peerBack(peer: string): void {
    this.lostPeers.delete(peer);
  }

  /** Forgets buffered frames of a scope (after an op finished or failed locally). */
  dropScope(scope: string): void {
    this.buffered.removeWhere((_peer, tag) => scopeOf(tag) === scope);
  }

  /** Rejects every pending wait (shutdown). */
  close(reason: string): void {
    for (const [key, waiter] of this.waiting) {
      clearTimeout(waiter.timer);
      waiter.reject(
        new CommunicationError(ErrorCode.CONNECTION, `${this.self} closed (${reason}) while waiting for ${key}.`),
      );
    }
    this.waiting.clear();
    this.buffered.clear();
  }

  /** Counts for tests and diagnostics (`dropped`: frames a mailbox limit dropped). */
  get pending(): { buffered: number; bufferedBytes: number; waiting: number; dropped: number } {
    return {
      buffered: this.buffered.size,
      bufferedBytes: this.buffered.bytes,
      waiting: this.waiting.size,
      dropped: this.buffered.dropped,
    };
  }

  /** Drops frames past `mailboxMaxAgeMs` now (a sweep also runs on its own while frames are buffered). */
  sweep(): void {
    this.buffered.sweep();
  }

  private failureFor(from: string, tag: string): Error | undefined {
    const dropped = this.buffered.dropReason(from, tag);
    if (dropped) return dropped;
    const lost = this.lostPeers.get(from);
    if (lost !== undefined) {
      return new CommunicationError(
        ErrorCode.CONNECTION,
        `${this.self} lost its link to ${from} (${lost}) while waiting for "${tag}".`,
        { worker: from, tag },
      );
    }
    const reason = this.aborted.get(mailKey(from, scopeOf(tag)));
    if (reason !== undefined) {
      return new TsyftError(ErrorCode.PROTOCOL_ABORTED, `${from} aborted "${scopeOf(tag)}": ${reason}`, {
        worker: from,
        tag,
      });
    }
    return undefined;
  }
}

function mailKey(from: string, tag: string): string {
  return `${from}\u0000${tag}`;
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf("\u0000");
  return [key.slice(0, i), key.slice(i + 1)];
}
