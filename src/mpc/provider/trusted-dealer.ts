/**
 * The trusted dealer: a crypto provider that deals correlated randomness
 * straight to the share holders, never through the client.
 *
 * 1. Once per holder, the holder asks the dealer for a 128-bit key K_i over
 *    their direct link (1 round trip, the first time only).
 * 2. For material under tag t, every holder expands its share from a PRG
 *    seeded with HMAC(K_i, t): holders 0..n-2 get all of it that way and send
 *    nothing; the last holder expands a and b the same way and asks the dealer
 *    for the one part that cannot be random, its share of c (or of the bits).
 *    A binary triple is handed to the AND kernels as that seed, unexpanded
 *    (binaryTriple): the cipher masks the operands with it directly.
 * 3. The dealer, knowing every K_i, expands all shares, computes
 *    c = op(sum a_i, sum b_i) and answers c_last = c - sum_{i<last} c_i.
 *
 * So full material goes to one holder only (|c| ring elements per triple);
 * the others receive 16 bytes once. The request for c is sent before the
 * holders open their masked values, so its round trip overlaps theirs.
 * Honest-but-curious model: the dealer knows all the material, never the
 * inputs.
 */
import { createHmac } from "node:crypto";
import { getConfig } from "../../core/config";
import { ErrorCode, ProtocolError } from "../../core/errors";
import * as ring from "../../ring";
import type { Communicator, OutgoingFrame, PeerFrame } from "../communicator";
import { checkMaterialRequest } from "./limits";
import {
  applyBeaverOp,
  beaverOutputShape,
  type BinaryTripleShare,
  type MaterialSource,
  type MaterialSpec,
  type RandomBitsShare,
  type TripleShare,
} from "./provider";

/** Derives the 16-byte PRG seed of one piece of material from a holder's key. */
function seedFor(key: Uint8Array, tag: string): Uint8Array {
  return new Uint8Array(createHmac("sha256", key).update(tag).digest().subarray(0, 16));
}

function lowBit(t: ring.RingTensor): ring.RingTensor {
  return ring.and(t, ring.scalar(1n));
}

/**
 * Masks of fixed operands, expanded once per (key, mask tag) and kept: they
 * are the size of the weights and would otherwise be expanded on every run.
 */
class MaskCache {
  private readonly masks = new Map<string, ring.RingTensor>();

  get(key: Uint8Array, maskTag: string, shape: readonly number[], stream: number): ring.RingTensor {
    const id = `${Buffer.from(key).toString("hex")}|${maskTag}|${stream}`;
    let mask = this.masks.get(id);
    if (!mask) {
      mask = ring.expand(seedFor(key, maskTag), shape, stream);
      this.masks.set(id, mask);
    }
    return mask;
  }

  /** Forgets the masks of an operand (its object was freed). */
  forget(maskTagPrefix: string): void {
    for (const id of this.masks.keys()) if (id.split("|")[1]!.startsWith(maskTagPrefix)) this.masks.delete(id);
  }
}

/** A holder's binary triple as the seed it expands from (the ring's layout, see ring/and-gates.ts). */
function seededTriple(seed: Uint8Array, spec: Extract<MaterialSpec, { kind: "binaryTriple" }>): ring.SeededTriple {
  return { seed, length: ring.shapes.size(spec.shape) };
}

/** The parts of a holder's share that come from its PRG (c only for non-last holders). */
function expandShare(
  key: Uint8Array,
  tag: string,
  spec: MaterialSpec,
  withCorrelated: boolean,
  masks: MaskCache,
): ring.RingTensor[] {
  const seed = seedFor(key, tag);
  switch (spec.kind) {
    case "beaver": {
      const parts = [
        spec.xMask ? masks.get(key, spec.xMask, spec.xShape, 0) : ring.expand(seed, spec.xShape, 0),
        spec.yMask ? masks.get(key, spec.yMask, spec.yShape, 1) : ring.expand(seed, spec.yShape, 1),
      ];
      if (withCorrelated) parts.push(ring.expand(seed, beaverOutputShape(spec.op, spec.xShape, spec.yShape), 2));
      return parts;
    }
    case "binaryTriple": {
      const { a, b, c } = ring.expandTriple(seededTriple(seed, spec), withCorrelated);
      return [a, b, ...(c ? [c] : [])].map((t) => ring.reshape(t, spec.shape));
    }
    case "randomBits":
      return withCorrelated ? [lowBit(ring.expand(seed, spec.shape, 0)), ring.expand(seed, spec.shape, 1)] : [];
  }
}

interface KeyRequest {
  type: "key";
}
interface MaterialRequest {
  type: "material";
  holders: string[];
  spec: MaterialSpec;
}
/** Many pieces at once, dealt ahead of time (offline). */
interface MaterialsRequest {
  type: "materials";
  holders: string[];
  items: Array<{ tag: string; spec: MaterialSpec }>;
}
type DealerRequest = KeyRequest | MaterialRequest | MaterialsRequest;

/**
 * A correction the caller awaits after its open round. If that round fails
 * first (a peer died), the caller never awaits it: mark it handled so that its
 * rejection is not reported as unhandled; the caller still sees it when it does await.
 */
function pending<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** Ring elements the last holder receives for one piece of material. */
function correctionElements(spec: MaterialSpec): number {
  const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
  switch (spec.kind) {
    case "beaver":
      return size(beaverOutputShape(spec.op, spec.xShape, spec.yShape));
    case "binaryTriple":
      return size(spec.shape);
    case "randomBits":
      return 2 * size(spec.shape);
  }
}

/** The holders' side of the trusted dealer. */
export class DealerClient implements MaterialSource {
  private key?: Promise<Uint8Array>;
  private readonly rank: number;
  private keyRequests = 0;
  private batchRequests = 0;
  /** Corrections dealt ahead of time, by tag (last holder only). */
  private readonly preloaded = new Map<string, ring.RingTensor[]>();
  readonly masks = new MaskCache();

  constructor(
    private readonly comm: Communicator,
    readonly dealer: string,
    private readonly holders: readonly string[],
  ) {
    this.rank = holders.indexOf(comm.self);
  }

  private get isLast(): boolean {
    return this.rank === this.holders.length - 1;
  }

  private getKey(): Promise<Uint8Array> {
    if (!this.key) {
      const tag = `key-${this.comm.self}-${this.keyRequests++}/key`;
      this.comm.send(this.dealer, { kind: "request", tag, tensors: [], meta: { type: "key" } satisfies KeyRequest });
      this.key = this.comm.recv(this.dealer, tag).then((frame) => {
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
      this.key.catch(() => (this.key = undefined));
    }
    return this.key;
  }

  /**
   * Asks the dealer now, in one request, for the corrections of material that
   * later runs will use under these tags (only the last holder receives any).
   */
  async preload(items: ReadonlyArray<{ tag: string; spec: MaterialSpec }>): Promise<void> {
    if (!this.isLast || items.length === 0) return;
    // Each reply must fit in a message: ask in batches of at most a quarter of the size limit.
    const budget = Math.max(1, Math.floor(getConfig().maxMessageBytes / 4 / 8));
    let batch: Array<{ tag: string; spec: MaterialSpec }> = [];
    let elements = 0;
    for (const item of items) {
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

  private async preloadBatch(items: ReadonlyArray<{ tag: string; spec: MaterialSpec }>): Promise<void> {
    const tag = `pre-${this.comm.self}-${this.batchRequests++}/materials`;
    const request: MaterialsRequest = {
      type: "materials",
      holders: [...this.holders],
      items: items.map((i) => ({ tag: i.tag, spec: i.spec })),
    };
    this.comm.send(this.dealer, { kind: "request", tag, tensors: [], meta: request });
    const frame = await this.comm.recv(this.dealer, tag);
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

  private requestCorrection(tag: string, spec: MaterialSpec): Promise<ring.RingTensor[]> {
    const ready = this.preloaded.get(tag);
    if (ready) {
      this.preloaded.delete(tag);
      return Promise.resolve(ready);
    }
    const replyTag = `${tag}#dealt`;
    const request: MaterialRequest = { type: "material", holders: [...this.holders], spec };
    this.comm.send(this.dealer, { kind: "request", tag: replyTag, tensors: [], meta: request });
    return this.comm.recv(this.dealer, replyTag).then((frame) => frame.tensors);
  }

  async triple(tag: string, spec: Extract<MaterialSpec, { kind: "beaver" | "binaryTriple" }>): Promise<TripleShare> {
    const correction = this.isLast ? this.requestCorrection(tag, spec) : undefined;
    correction?.catch(() => undefined); // observed below; avoid an unhandled rejection meanwhile
    const [a, b, c] = expandShare(await this.getKey(), tag, spec, !this.isLast, this.masks);
    return { a: a!, b: b!, c: pending(correction ? correction.then((t) => t[0]!) : Promise.resolve(c!)) };
  }

  /** A seed and nothing else on holders 0..n-2; the last holder's c comes from the dealer. */
  async binaryTriple(tag: string, spec: Extract<MaterialSpec, { kind: "binaryTriple" }>): Promise<BinaryTripleShare> {
    const correction = this.isLast ? this.requestCorrection(tag, spec) : undefined;
    correction?.catch(() => undefined); // observed by the caller; avoid an unhandled rejection meanwhile
    const triple = seededTriple(seedFor(await this.getKey(), tag), spec);
    return { triple, c: pending(correction ? correction.then((t) => t[0]) : Promise.resolve(undefined)) };
  }

  async randomBits(tag: string, shape: readonly number[]): Promise<RandomBitsShare> {
    const spec: MaterialSpec = { kind: "randomBits", shape: [...shape] };
    if (this.isLast) {
      const [binary, arithmetic] = await this.requestCorrection(tag, spec);
      return { binary: binary!, arithmetic: arithmetic! };
    }
    const [binary, arithmetic] = expandShare(await this.getKey(), tag, spec, true, this.masks);
    return { binary: binary!, arithmetic: arithmetic! };
  }
}

/** The dealer's side: answers key and material requests from holders. */
export class TrustedDealer {
  private readonly keys = new Map<string, Uint8Array>();
  private readonly masks = new MaskCache();
  /** Ring elements sent as corrections, for benchmarks. */
  readonly stats = { requests: 0, elementsDealt: 0 };

  constructor(readonly self: string) {}

  private keyOf(holder: string): Uint8Array {
    let key = this.keys.get(holder);
    if (!key) {
      key = ring.randomSeed();
      this.keys.set(holder, key);
    }
    return key;
  }

  /** Answers one request frame; a bad request is answered with an abort of its scope. */
  handle(frame: PeerFrame): OutgoingFrame {
    try {
      const request = frame.meta as DealerRequest | undefined;
      if (request?.type === "key") {
        return { kind: "reply", tag: frame.tag, tensors: [], meta: { key: this.keyOf(frame.from) } };
      }
      if (request?.type === "material") {
        const tensors = this.deal(frame.from, frame.tag.replace(/#dealt$/, ""), request.holders, request.spec);
        this.stats.requests++;
        this.stats.elementsDealt += tensors.reduce((n, t) => n + t.size, 0);
        return { kind: "reply", tag: frame.tag, tensors };
      }
      if (request?.type === "materials") {
        const dealt = request.items.map((item) => this.deal(frame.from, item.tag, request.holders, item.spec));
        this.stats.requests++;
        this.stats.elementsDealt += dealt.flat().reduce((n, t) => n + t.size, 0);
        return { kind: "reply", tag: frame.tag, tensors: dealt.flat(), meta: { counts: dealt.map((d) => d.length) } };
      }
      throw new ProtocolError(
        ErrorCode.MALFORMED_MESSAGE,
        `Unknown crypto-provider request ${JSON.stringify(request)}.`,
      );
    } catch (error) {
      const scope = frame.tag.split("/")[0]!;
      return {
        kind: "abort",
        tag: scope,
        tensors: [],
        meta: `crypto provider ${this.self}: ${(error as Error).message}`,
      };
    }
  }

  private deal(requester: string, tag: string, holders: readonly string[], spec: MaterialSpec): ring.RingTensor[] {
    if (holders[holders.length - 1] !== requester) {
      throw new ProtocolError(
        ErrorCode.PROTOCOL_DESYNC,
        `Only the last holder (${holders[holders.length - 1]}) receives corrections; ${requester} asked.`,
      );
    }
    checkMaterialRequest(spec);
    if (spec.kind === "binaryTriple") {
      // Straight from every holder's seed: the cipher applies each keystream in turn (ring/and-gates.ts).
      const shares = holders.map((h) => seededTriple(seedFor(this.keyOf(h), tag), spec));
      return [ring.reshape(ring.andCorrection(shares.slice(0, -1), shares[shares.length - 1]!), spec.shape)];
    }
    const parts = holders.map((h, i) => expandShare(this.keyOf(h), tag, spec, i < holders.length - 1, this.masks));
    const others = parts.slice(0, -1);
    const last = parts[parts.length - 1]!;
    switch (spec.kind) {
      case "beaver": {
        const a = ring.add(sumOf(others.map((p) => p[0]!)), last[0]!);
        const b = ring.add(sumOf(others.map((p) => p[1]!)), last[1]!);
        const c = applyBeaverOp(spec.op, a, b);
        return [ring.sub(c, sumOf(others.map((p) => p[2]!)))];
      }
      case "randomBits": {
        const r = lowBit(ring.sample(spec.shape));
        return [ring.xor(r, xorOf(others.map((p) => p[0]!))), ring.sub(r, sumOf(others.map((p) => p[1]!)))];
      }
    }
  }
}

function sumOf(tensors: ring.RingTensor[]): ring.RingTensor {
  return tensors.reduce((acc, t) => ring.add(acc, t));
}

function xorOf(tensors: ring.RingTensor[]): ring.RingTensor {
  return tensors.reduce((acc, t) => ring.xor(acc, t));
}
