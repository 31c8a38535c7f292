/**
 * Material streamed from the dealer to a run under way (issue 15). A run on
 * demand asks the dealer once per piece of material and waits a round trip
 * for each; a run whose pieces are known (learned from the first run of the
 * same plan, learning.ts, or from a dry run) asks for them all at its start:
 *
 * 1. The holder sends one `stream` request naming a window of pieces (tags
 *    and specs, in the order the run will ask); the dealer checks all of them,
 *    then deals and sends them one reply each (`${tag}#streamed`), one per
 *    turn of its event loop, so the first leave while the rest are made.
 * 2. When the run asks for a piece it streamed with the same spec, it waits
 *    for that reply instead of asking; a piece asked with another spec is
 *    asked on demand (the streamed one is never used: the list can only cost
 *    time, never a wrong value). Each piece used frees its room in the window
 *    and the next pieces are asked for.
 * 3. The window holds at most a quarter of the largest message in ring
 *    elements, so streamed replies never pile up past the mailbox's limits;
 *    what a failed run leaves is released with its scope.
 *
 * The dealer deals the same words as on demand (a piece is a function of the
 * holders' keys, its tag and its spec), so a streamed run's values equal an
 * on-demand run's.
 *
 * @example
 * ```ts
 * const window = new StreamWindow((items) => sendStreamRequest(items));
 * window.add([{ tag: "run-7/0:triple.matmul", spec }]);   // asks now
 * window.take("run-7/0:triple.matmul", spec);             // true: wait for `${tag}#streamed`
 * ```
 */
import { getConfig } from "../../core/config";
import { ErrorCode, ProtocolError } from "../../core/errors";
import { checkLimit } from "../../core/limits";
import { scopeOf, type OutgoingFrame } from "../communicator";
import { materialElements } from "./limits";
import { beaverOutputShape, type MaterialSpec, type ProviderRequest, type TaggedSpec } from "./provider";

/** Many pieces of a run under way, answered one reply per piece (`streamedTag`) as they are dealt. */
export interface StreamRequest extends ProviderRequest {
  type: "stream";
  holders: string[];
  items: TaggedSpec[];
}

/** The reply tag of a piece dealt in a stream (not the on-demand `#dealt`: a piece asked for both ways stays apart). */
export function streamedTag(tag: string): string {
  return `${tag}#streamed`;
}

/** Ring elements a batch of pieces may total: a quarter of the largest message, as one reply must carry them. */
export function batchBudget(): number {
  return Math.max(1, Math.floor(getConfig().maxMessageBytes / 4 / 8));
}

/** Ring elements the last holder receives for one piece of material (at most that for the others). */
export function correctionElements(spec: MaterialSpec): number {
  const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
  switch (spec.kind) {
    case "dcf":
      return (3 * spec.bits + 1) * size(spec.shape);
    case "beaver":
      return size(beaverOutputShape(spec.op, spec.xShape, spec.yShape));
    case "binaryTriple":
      return size(spec.shape);
    case "randomBits":
      return 2 * size(spec.shape);
  }
}

/** Whether two specs ask for the same material (a streamed piece is used only for the spec it was dealt for). */
function sameSpec(a: MaterialSpec, b: MaterialSpec): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A holder's side of streaming: the pieces asked for and not yet used, and those waiting for room. */
export class StreamWindow {
  /** Pieces asked for and not yet used, by tag: the spec asked with and its size. */
  private readonly streamed = new Map<string, { spec: MaterialSpec; elements: number }>();
  /** Pieces to ask for once the window has room, in the order the runs will use them. */
  private queue: TaggedSpec[] = [];
  /** Ring elements asked for and not yet used. */
  private outstanding = 0;

  /** `send` sends one stream request for `items`; it throws when the dealer cannot be reached. */
  constructor(private readonly send: (items: TaggedSpec[]) => void) {}

  /** Queues pieces (those already streaming are skipped) and asks for what fits. */
  add(items: readonly TaggedSpec[]): void {
    const fresh = items.filter((i) => !this.streamed.has(i.tag));
    if (fresh.length === 0) return;
    this.queue.push(...fresh);
    this.pump();
  }

  /**
   * Whether the run should wait for the streamed reply of `tag`: it was asked
   * for with this very spec. Either way the piece leaves the window.
   */
  take(tag: string, spec: MaterialSpec): boolean {
    const piece = this.forget(tag);
    if (!piece) return false;
    this.pump();
    return sameSpec(piece.spec, spec);
  }

  /** Forgets the pieces of `scope`, asked for or queued (its run ended); a reply on its way ages out of the mailbox. */
  release(scope: string): void {
    this.queue = this.queue.filter((i) => scopeOf(i.tag) !== scope);
    for (const tag of [...this.streamed.keys()]) if (scopeOf(tag) === scope) this.forget(tag);
    this.pump();
  }

  /** Takes a piece out of the window, freeing its room; the piece, if it was there. */
  private forget(tag: string): { spec: MaterialSpec; elements: number } | undefined {
    const piece = this.streamed.get(tag);
    if (!piece) return undefined;
    this.streamed.delete(tag);
    this.outstanding -= piece.elements;
    return piece;
  }

  /** Asks for the queued pieces that fit in the window (at least one when none is outstanding). */
  private pump(): void {
    const budget = batchBudget();
    const items: TaggedSpec[] = [];
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      const elements = correctionElements(next.spec);
      if (this.outstanding > 0 && this.outstanding + elements > budget) break;
      this.queue.shift();
      this.streamed.set(next.tag, { spec: next.spec, elements });
      this.outstanding += elements;
      items.push({ tag: next.tag, spec: next.spec });
    }
    if (items.length === 0) return;
    try {
      this.send(items);
    } catch {
      // No link to the dealer now: each piece is asked for on demand, and fails there with the link's error.
      for (const item of items) this.forget(item.tag);
    }
  }
}

/** Most pieces one stream request may name (a run asks in windows far smaller). */
const MAX_STREAM_ITEMS = 100_000;

/** The items of a stream request, checked for form: tags and specs (the dealer checks the specs in full). */
export function streamItems(items: unknown, requester: string): TaggedSpec[] {
  if (
    !Array.isArray(items) ||
    items.length > MAX_STREAM_ITEMS ||
    !items.every((i) => typeof i?.tag === "string" && i.tag.includes("/") && typeof i.spec === "object")
  ) {
    throw new ProtocolError(
      ErrorCode.MALFORMED_MESSAGE,
      `A stream request from ${requester} must name at most ${MAX_STREAM_ITEMS} pieces as { tag: "<scope>/...", spec }.`,
    );
  }
  return items as TaggedSpec[];
}

/** Refuses (TSYFT_ERR_LIMIT) a stream of several pieces whose words would not fit in one message. */
export function checkStreamSize(items: readonly TaggedSpec[], requester: string): void {
  const elements = items.reduce((n, i) => n + materialElements(i.spec), 0);
  checkLimit(
    "maxMessageBytes",
    items.length > 1 ? elements * 8 : 0,
    `bytes of material one stream request from ${requester} asks for`,
    getConfig().maxMessageBytes,
  );
}

/** An abort of every run scope `items` are for: those runs fail at once instead of waiting out their timeout. */
export function abortsFor(items: readonly TaggedSpec[], reason: string): OutgoingFrame[] {
  return [...new Set(items.map((i) => scopeOf(i.tag)))].map((scope) => ({
    kind: "abort",
    tag: scope,
    tensors: [],
    meta: reason,
  }));
}
