/**
 * Correlated randomness: what a protocol asks its crypto provider for, and
 * what a kind of crypto provider is (CrypTen's TupleProvider).
 *
 * A `MaterialSource` is the holder's side of a provider: each call returns this
 * party's share of one piece of material, identified by a tag that every
 * holder derives the same way. A `CryptoProvider` is one kind of provider:
 * it makes the holder side for a sharing group and, when the kind has one,
 * the provider worker's side that answers the holders' requests. The kinds:
 * the trusted dealer (trusted-dealer.ts, the default) and the insecure seeded
 * provider for tests (insecure-seeded.ts); endpoint.ts is what a worker holds.
 * Every kind deals every kind of material, including the DCF keys of the
 * "fss" comparison (dcf-material.ts).
 */
import type { ProviderKind } from "../../core/config";
import type { Conv2dAttrs } from "../../core/ops";
import * as ring from "../../ring";
import type { Communicator, OutgoingFrame, PeerFrame } from "../communicator";

type RingTensor = ring.RingTensor;

/** The bilinear map a Beaver triple is made for: c = op(a, b). */
export type BeaverOp =
  | { kind: "mul" }
  | { kind: "matmul" }
  | { kind: "conv2d"; attrs: Conv2dAttrs }
  | { kind: "depthwiseConv2d"; attrs: Conv2dAttrs };

/** One piece of material a protocol needs. */
export type MaterialSpec =
  | {
      kind: "beaver";
      op: BeaverOp;
      xShape: number[];
      yShape: number[];
      /**
       * Mask tags for operands that are fixed values used again and again (a
       * plan's weights): their mask then comes from the tag, not from the op,
       * so the masked value is opened once and reused. Never shared between
       * two different values.
       */
      xMask?: string;
      yMask?: string;
    }
  | { kind: "binaryTriple"; shape: number[] }
  | { kind: "randomBits"; shape: number[] }
  /** A mask and DCF keys for the "fss" comparison of `bits`-bit values (ltz-fss.ts, dcf-material.ts). */
  | { kind: "dcf"; shape: number[]; bits: number };

export type MaterialKind = MaterialSpec["kind"];

/**
 * A party's share of a triple: a, b uniform, c = op(a, b) (additively or
 * XOR-shared). c may still be on its way, so a protocol can open its masked
 * values while the provider answers.
 */
export interface TripleShare {
  a: RingTensor;
  b: RingTensor;
  c: Promise<RingTensor>;
}

/**
 * A party's share of a binary triple in the ring's form: tensors, or the PRG
 * seed they expand from while the AND kernels run (see ring/and-gates.ts).
 * When c is not part of `triple` (the last holder's share, from the dealer)
 * it comes in `c`, possibly still on its way.
 */
export interface BinaryTripleShare {
  triple: ring.BinaryTriple;
  c: Promise<RingTensor | undefined>;
}

/** A party's share of random bits r: XOR shares of r (in bit 0) and additive shares of r. */
export interface RandomBitsShare {
  binary: RingTensor;
  arithmetic: RingTensor;
}

/**
 * A holder's share of the material of the "fss" comparison (ltz-fss.ts): an
 * additive share of a mask r, the root seeds of its DCF keys (from its own
 * PRG, never sent), and what the provider sends: the keys' correction words
 * (the same for every holder) and this holder's additive share of r's top bit.
 * The mask is ready at once, so the masked value can be opened while the
 * provider's part is on its way.
 */
export interface DcfShare {
  mask: RingTensor;
  roots: Uint8Array;
  dealt: Promise<{ corrections: ring.DcfCorrections; topBit: RingTensor }>;
}

/** One piece of material under its tag, as asked for ahead of time. */
export interface TaggedSpec {
  tag: string;
  spec: MaterialSpec;
}

export interface MaterialSource {
  /** A Beaver triple (additive) or a binary triple (XOR) for `spec`, as tensors. */
  triple(tag: string, spec: Extract<MaterialSpec, { kind: "beaver" | "binaryTriple" }>): Promise<TripleShare>;
  /**
   * The binary triple of `spec` in the form the AND kernels read: as cheap as
   * the source can make it (a seed rather than tensors, for the dealer's
   * holders). Same material, under the same tag, as `triple`.
   */
  binaryTriple(tag: string, spec: Extract<MaterialSpec, { kind: "binaryTriple" }>): Promise<BinaryTripleShare>;
  /**
   * The provider's key epoch this source's material comes from (new at each
   * start of a provider that keeps its keys in memory); undefined until the
   * first material is known. Holders compare it in every open (context.ts),
   * so material of two epochs is never combined.
   */
  readonly epoch: string | undefined;
  /** Random bits shared both ways, for binary-to-arithmetic conversion. */
  randomBits(tag: string, shape: readonly number[]): Promise<RandomBitsShare>;
  /** A mask and DCF keys for the "fss" comparison (every holder gets words from the provider). */
  dcf(tag: string, spec: Extract<MaterialSpec, { kind: "dcf" }>): Promise<DcfShare>;
  /**
   * Gets now what later calls will ask for under these tags (the offline
   * phase), so that they need no provider round trip; a no-op for a source
   * that has nothing to fetch.
   */
  preload(items: readonly TaggedSpec[]): Promise<void>;
  /**
   * Asks now, without waiting, for what the run under way will ask for under
   * these tags, in the order it will (the provider deals and sends piece by
   * piece while the run computes); a later call for one of them with the same
   * spec waits for its piece instead of asking. Absent for a source with
   * nothing to ask.
   */
  prefetch?(items: readonly TaggedSpec[]): void;
  /** Forgets what was prefetched under `scope` and not used: its run has ended. */
  release?(scope: string): void;
}

/**
 * The provider worker's side of a kind of provider: answers the request
 * frames its holders send (kind "request"; their meta is a `ProviderRequest`).
 */
export interface ProviderServer {
  /** The reply to one request; throws a TsyftError for a request it cannot serve. */
  answer(frame: PeerFrame): OutgoingFrame;
  /**
   * The replies to a request answered piece by piece (a holder's prefetch),
   * made one at a time as they are sent; undefined for any other request
   * (`answer` replies to it).
   */
  answerStream?(frame: PeerFrame): Iterable<OutgoingFrame> | undefined;
  /** What it has dealt so far, for tests and benchmarks (ring elements sent as material). */
  readonly stats: { requests: number; elementsDealt: number };
}

/** What the meta of every request to a provider worker says first: the kind it is for. */
export interface ProviderRequest {
  provider: ProviderKind;
}

/** One kind of crypto provider, named `K`. */
export interface CryptoProvider<K extends ProviderKind = ProviderKind> {
  readonly kind: K;
  /**
   * Whether it can deal the material of known runs ahead of time: only then
   * does preprocessing dry-run a plan and call `preload`.
   */
  readonly dealsAhead: boolean;
  /** The holder side for one sharing group: `comm.self`'s material for `holders`, from worker `provider`. */
  holderSource(comm: Communicator, provider: string, holders: readonly string[]): MaterialSource;
  /** The side a worker runs when it is the provider; absent when holders need no messages. */
  server?(): ProviderServer;
}

/** Shape of c = op(a, b). */
export function beaverOutputShape(op: BeaverOp, xShape: readonly number[], yShape: readonly number[]): number[] {
  switch (op.kind) {
    case "mul":
      return ring.shapes.broadcast(xShape, yShape);
    case "matmul":
      return ring.shapes.matmul(xShape, yShape);
    case "conv2d":
      return ring.shapes.conv2d(xShape, yShape, op.attrs);
    case "depthwiseConv2d":
      return ring.shapes.depthwiseConv2d(xShape, yShape, op.attrs);
  }
}

export function applyBeaverOp(op: BeaverOp, a: RingTensor, b: RingTensor): RingTensor {
  switch (op.kind) {
    case "mul":
      return ring.mul(a, b);
    case "matmul":
      return ring.matmul(a, b);
    case "conv2d":
      return ring.conv2d(a, b, op.attrs);
    case "depthwiseConv2d":
      return ring.depthwiseConv2d(a, b, op.attrs);
  }
}
