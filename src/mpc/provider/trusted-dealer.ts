/**
 * The trusted dealer: a crypto provider that deals correlated randomness
 * straight to the share holders, never through the client. It is the keyed
 * scheme of keyed.ts with the keys kept by the dealer:
 *
 * 1. Once per holder, the holder asks the dealer for its 128-bit key K_i over
 *    their direct link (1 round trip, the first time only).
 * 2. Holders 0..n-2 expand all of their material from K_i and send nothing;
 *    the last holder expands a and b and asks the dealer for its correction.
 * 3. The dealer, knowing every K_i, computes the correction and answers it.
 *
 * Its keys live only in memory, so each start of the dealer is a new key
 * epoch: every reply carries it, and a holder refuses material of two epochs
 * (TSYFT_ERR_PROVIDER_EPOCH) rather than combine it into a wrong number.
 *
 * So full material goes to one holder only (|c| ring elements per triple);
 * the others receive 16 bytes once, except for the DCF keys of the "fss"
 * comparison, whose correction words every holder needs (dcf-material.ts). The request for c is sent before the
 * holders open their masked values, so its round trip overlaps theirs.
 * Honest-but-curious model: the dealer knows all the material, never the
 * inputs.
 */
import { randomBytes } from "node:crypto";
import { AuthError, ErrorCode, ProtocolError } from "../../core/errors";
import { timed } from "../../core/profiler";
import * as ring from "../../ring";
import type { Communicator, OutgoingFrame, PeerFrame } from "../communicator";
import { DcfDealer } from "./dcf-material";
import { KeyedMaterialSource, lastHolderCorrection, MaskCache } from "./keyed";
import { checkMaterialRequest } from "./limits";
import {
  abortsFor,
  batchBudget,
  checkStreamSize,
  correctionElements,
  streamedTag,
  streamItems,
  StreamWindow,
  type StreamRequest,
} from "./material-stream";
import {
  type CryptoProvider,
  type MaterialSpec,
  type ProviderRequest,
  type ProviderServer,
  type TaggedSpec,
} from "./provider";

interface KeyRequest extends ProviderRequest {
  type: "key";
  /** The sharing group the key is for: the requester must be one of them. */
  holders: string[];
}
interface MaterialRequest extends ProviderRequest {
  type: "material";
  holders: string[];
  spec: MaterialSpec;
}
/** Many pieces at once, dealt ahead of time (offline). */
interface MaterialsRequest extends ProviderRequest {
  type: "materials";
  holders: string[];
  items: TaggedSpec[];
}
type DealerRequest = KeyRequest | MaterialRequest | MaterialsRequest | StreamRequest;

const KIND = "trusted-dealer";

/**
 * Numbers the key and batch requests of every holder side in this process:
 * several sharing groups (and concurrent sessions) of one holder ask the same
 * dealer at once, and their reply tags must not collide.
 */
let requestCounter = 0;

/** The holders' side of the trusted dealer. */
export class DealerClient extends KeyedMaterialSource {
  private keyReply?: Promise<Uint8Array>;
  private knownEpoch?: string;
  /** Corrections dealt ahead of time, by tag (last holder only). */
  private readonly preloaded = new Map<string, ring.RingTensor[]>();
  /** Pieces of runs under way asked for ahead, in windows (material-stream.ts). */
  private readonly stream: StreamWindow;

  constructor(
    private readonly comm: Communicator,
    readonly dealer: string,
    holders: readonly string[],
  ) {
    super(comm.self, holders);
    this.stream = new StreamWindow((items) => {
      const request: StreamRequest = { provider: KIND, type: "stream", holders: [...this.holders], items };
      this.comm.send(this.dealer, {
        kind: "request",
        tag: `stream-${this.comm.self}-${requestCounter++}/stream`,
        tensors: [],
        meta: request,
      });
    });
  }

  get epoch(): string | undefined {
    return this.knownEpoch;
  }

  /** Records the dealer's epoch from a reply; material of another epoch than what this source holds is refused. */
  private noteEpoch(meta: unknown): void {
    const epoch = (meta as { epoch?: unknown } | undefined)?.epoch;
    if (typeof epoch !== "string") {
      throw new ProtocolError(
        ErrorCode.PROTOCOL_DESYNC,
        `Crypto provider ${this.dealer} answered without its key epoch. Run the same tsyft version on every node.`,
      );
    }
    if (this.knownEpoch === undefined) this.knownEpoch = epoch;
    else if (epoch !== this.knownEpoch) {
      throw new ProtocolError(
        ErrorCode.PROVIDER_EPOCH,
        `${this.comm.self} holds material of crypto provider ${this.dealer}'s key epoch ${this.knownEpoch}, ` +
          `but ${this.dealer} answered from epoch ${epoch}: it restarted. ${this.comm.self} re-keys; run the query again.`,
        { provider: this.dealer, epoch: this.knownEpoch, peerEpoch: epoch },
      );
    }
  }

  protected key(): Promise<Uint8Array> {
    if (!this.keyReply) {
      const tag = `key-${this.comm.self}-${requestCounter++}/key`;
      const request: KeyRequest = { provider: KIND, type: "key", holders: [...this.holders] };
      this.comm.send(this.dealer, { kind: "request", tag, tensors: [], meta: request });
      this.keyReply = this.comm.recv(this.dealer, tag).then((frame) => {
        this.noteEpoch(frame.meta);
        const key = (frame.meta as { key?: unknown } | undefined)?.key;
        if (!(key instanceof Uint8Array) || key.length !== 16) {
          throw new ProtocolError(
            ErrorCode.PROTOCOL_DESYNC,
            `Crypto provider ${this.dealer} answered a key request without a 16-byte key.`,
          );
        }
        return key;
      });
      // A failed key request may be retried by the next op.
      this.keyReply.catch(() => (this.keyReply = undefined));
    }
    return this.keyReply;
  }

  /**
   * Asks the dealer now, in batched requests, for the corrections of material
   * that later runs will use under these tags (the last holder receives
   * corrections of every kind, the others DCF words only).
   */
  async preload(items: readonly TaggedSpec[]): Promise<void> {
    if (items.length === 0) return;
    // The key too, offline: a run on preloaded material then needs nothing from the dealer.
    await this.key();
    const mine = this.mine(items);
    if (mine.length === 0) return;
    // Each reply must fit in a message: ask in batches of at most a quarter of the size limit.
    const budget = batchBudget();
    let batch: TaggedSpec[] = [];
    let elements = 0;
    for (const item of mine) {
      const size = correctionElements(item.spec);
      if (batch.length > 0 && elements + size > budget) {
        await this.preloadBatch(batch);
        batch = [];
        elements = 0;
      }
      batch.push(item);
      elements += size;
    }
    await this.preloadBatch(batch);
  }

  private async preloadBatch(items: readonly TaggedSpec[]): Promise<void> {
    const tag = `pre-${this.comm.self}-${requestCounter++}/materials`;
    const request: MaterialsRequest = {
      provider: KIND,
      type: "materials",
      holders: [...this.holders],
      items: items.map((i) => ({ tag: i.tag, spec: i.spec })),
    };
    this.comm.send(this.dealer, { kind: "request", tag, tensors: [], meta: request });
    const frame = await this.comm.recv(this.dealer, tag);
    this.noteEpoch(frame.meta);
    const counts = (frame.meta as { counts?: number[] } | undefined)?.counts;
    if (!Array.isArray(counts) || counts.length !== items.length) {
      throw new ProtocolError(
        ErrorCode.PROTOCOL_DESYNC,
        `Crypto provider ${this.dealer} answered ${counts?.length ?? 0} of ${items.length} preprocessed items.`,
      );
    }
    let offset = 0;
    counts.forEach((n, i) => {
      this.preloaded.set(items[i]!.tag, frame.tensors.slice(offset, offset + n));
      offset += n;
    });
  }

  /** How many preprocessed corrections are waiting to be used. */
  get preloadedCount(): number {
    return this.preloaded.size;
  }

  /**
   * Streams the pieces a run will ask for (`MaterialSource.prefetch`): one
   * request now for as many as the window holds, the dealer answering each
   * as soon as it is dealt, and more requests as the run uses them. What was
   * preloaded or is already streaming is not asked again.
   */
  prefetch(items: readonly TaggedSpec[]): void {
    this.stream.add(this.mine(items).filter((i) => !this.preloaded.has(i.tag)));
  }

  /** The pieces the dealer sends this holder: every kind to the last holder, DCF words only to the others. */
  private mine(items: readonly TaggedSpec[]): readonly TaggedSpec[] {
    return this.isLast ? items : items.filter((i) => i.spec.kind === "dcf");
  }

  /** Drops the pieces of `scope` streamed or queued and not used (a run that failed, or asked otherwise). */
  release(scope: string): void {
    this.stream.release(scope);
  }

  protected correction(tag: string, spec: MaterialSpec): Promise<ring.RingTensor[]> {
    const ready = this.preloaded.get(tag);
    if (ready) {
      this.preloaded.delete(tag);
      return Promise.resolve(ready);
    }
    if (this.stream.take(tag, spec)) {
      return this.comm.recv(this.dealer, streamedTag(tag)).then((frame) => {
        this.noteEpoch(frame.meta);
        return frame.tensors;
      });
    }
    const replyTag = `${tag}#dealt`;
    const request: MaterialRequest = { provider: KIND, type: "material", holders: [...this.holders], spec };
    this.comm.send(this.dealer, { kind: "request", tag: replyTag, tensors: [], meta: request });
    return this.comm.recv(this.dealer, replyTag).then((frame) => {
      this.noteEpoch(frame.meta);
      return frame.tensors;
    });
  }
}

/**
 * The dealer's side: answers key and material requests from holders. Keys
 * are per (holder, sharing group) and go only to a holder of that group (the
 * requester is the peer link the frame came on), so a node outside a group,
 * or a group member asking for another group, learns nothing of its keys.
 */
export class TrustedDealer implements ProviderServer {
  /** Keys by sharing group ("bob,charlie") and holder. */
  private readonly keys = new Map<string, Uint8Array>();
  private readonly masks = new MaskCache();
  private readonly dcf = new DcfDealer();
  /** This dealer's key epoch: its keys are made at random in memory, so a restart makes a new one. */
  readonly epoch = randomBytes(8).toString("hex");
  readonly stats = { requests: 0, elementsDealt: 0 };

  private keyOf(holder: string, holders: readonly string[]): Uint8Array {
    const id = `${holders.join(",")}#${holder}`;
    let key = this.keys.get(id);
    if (!key) {
      key = ring.randomSeed();
      this.keys.set(id, key);
    }
    return key;
  }

  answer(frame: PeerFrame): OutgoingFrame {
    const request = frame.meta as DealerRequest | undefined;
    if (request?.type === "key") {
      const holders = checkHolders(request.holders, frame.from);
      return {
        kind: "reply",
        tag: frame.tag,
        tensors: [],
        meta: { key: this.keyOf(frame.from, holders), epoch: this.epoch },
      };
    }
    if (request?.type === "material") {
      const tensors = this.deal(frame.from, frame.tag.replace(/#dealt$/, ""), request.holders, request.spec);
      this.stats.requests++;
      this.stats.elementsDealt += tensors.reduce((n, t) => n + t.size, 0);
      return { kind: "reply", tag: frame.tag, tensors, meta: { epoch: this.epoch } };
    }
    if (request?.type === "materials") {
      const dealt = request.items.map((item) => this.deal(frame.from, item.tag, request.holders, item.spec));
      this.stats.requests++;
      this.stats.elementsDealt += dealt.flat().reduce((n, t) => n + t.size, 0);
      return {
        kind: "reply",
        tag: frame.tag,
        tensors: dealt.flat(),
        meta: { counts: dealt.map((d) => d.length), epoch: this.epoch },
      };
    }
    throw new ProtocolError(ErrorCode.MALFORMED_MESSAGE, `Unknown crypto-provider request ${JSON.stringify(request)}.`);
  }

  /**
   * A stream request (a holder's prefetch): every piece is checked before any
   * is dealt, then each is dealt when the worker takes its reply, so the
   * first leave while the rest are made. A request this dealer refuses
   * aborts the scopes of the runs it was for, so that they fail at once.
   */
  answerStream(frame: PeerFrame): Iterable<OutgoingFrame> | undefined {
    const request = frame.meta as DealerRequest | undefined;
    if (request?.type !== "stream") return undefined;
    const items = streamItems(request.items, frame.from);
    try {
      const holders = checkHolders(request.holders, frame.from);
      for (const item of items) this.checkPiece(frame.from, holders, item.spec);
      checkStreamSize(items, frame.from);
      this.stats.requests++;
      return this.dealStream(frame.from, holders, items);
    } catch (error) {
      return abortsFor(items, `crypto provider refused a stream from ${frame.from}: ${(error as Error).message}`);
    }
  }

  private *dealStream(
    requester: string,
    holders: string[],
    items: readonly TaggedSpec[],
  ): Generator<OutgoingFrame, void, undefined> {
    for (const [i, item] of items.entries()) {
      let tensors: ring.RingTensor[];
      try {
        tensors = this.deal(requester, item.tag, holders, item.spec);
      } catch (error) {
        yield* abortsFor(items.slice(i), `crypto provider could not deal ${item.tag}: ${(error as Error).message}`);
        return;
      }
      this.stats.elementsDealt += tensors.reduce((n, t) => n + t.size, 0);
      yield { kind: "reply", tag: streamedTag(item.tag), tensors, meta: { epoch: this.epoch } };
    }
  }

  /** Refuses a piece `requester` may not have: only the last holder receives corrections other than DCF words. */
  private checkPiece(requester: string, holders: readonly string[], spec: MaterialSpec): void {
    if (spec?.kind !== "dcf" && holders[holders.length - 1] !== requester) {
      throw new ProtocolError(
        ErrorCode.PROTOCOL_DESYNC,
        `Only the last holder (${holders[holders.length - 1]}) receives corrections; ${requester} asked.`,
      );
    }
    checkMaterialRequest(spec);
  }

  private deal(requester: string, tag: string, group: unknown, spec: MaterialSpec): ring.RingTensor[] {
    const holders = checkHolders(group, requester);
    this.checkPiece(requester, holders, spec);
    const keys = () => holders.map((h) => this.keyOf(h, holders));
    if (spec.kind === "dcf") {
      return timed("provider.dealDcf", () =>
        this.dcf.dealTo(keys(), holders.indexOf(requester), tag, spec, holders.join(",")),
      );
    }
    return timed("provider.deal", () => lastHolderCorrection(keys(), tag, spec, this.masks));
  }
}

/** The holders a request names, checked: distinct node ids, the requester among them (a group of one is its own business). */
function checkHolders(holders: unknown, requester: string): string[] {
  if (
    !Array.isArray(holders) ||
    holders.length === 0 ||
    !holders.every((h) => typeof h === "string") ||
    new Set(holders).size !== holders.length
  ) {
    throw new ProtocolError(
      ErrorCode.MALFORMED_MESSAGE,
      `A dealer request from ${requester} must name its sharing group (distinct holder ids), got ${JSON.stringify(holders)?.slice(0, 80)}.`,
    );
  }
  if (!holders.includes(requester)) {
    throw new AuthError(
      ErrorCode.AUTH,
      `${requester} asked for dealer material of the group ${holders.join(", ")}, which it is not in: keys go only to a group's holders.`,
    );
  }
  return holders as string[];
}

/**
 * The trusted dealer as a kind of provider: the default. It deals ahead of
 * time, so plans can be preprocessed.
 */
export const trustedDealer: CryptoProvider<typeof KIND> = {
  kind: KIND,
  dealsAhead: true,
  holderSource: (comm, provider, holders) => new DealerClient(comm, provider, holders),
  server: () => new TrustedDealer(),
};
