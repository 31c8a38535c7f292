/**
 * Material expanded from per-holder keys: what the trusted dealer and the
 * insecure seeded provider have in common.
 *
 * 1. Holder i has a 128-bit key K_i.
 * 2. For material under tag t, every holder expands its share from a PRG
 *    seeded with HMAC(K_i, t): holders 0..n-2 get all of it that way; the last
 *    holder expands a and b the same way and needs the one part that cannot be
 *    random, its share of c (or of the bits): the correction. A binary triple
 *    is handed to the AND kernels as that seed, unexpanded (binaryTriple): the
 *    cipher masks the operands with it directly (ring/and-gates.ts).
 * 3. Whoever knows every K_i expands all shares, computes c = op(sum a_i,
 *    sum b_i) and gives the last holder c_last = c - sum_{i<last} c_i.
 *
 * The kinds differ in who knows the keys, so who computes step 3: the dealer
 * only (trusted-dealer.ts), or every holder (insecure-seeded.ts).
 */
import { createHmac } from "node:crypto";
import * as ring from "../../ring";
import { checkDcfSpec, expandDcf, receivedDcf, type DcfSpec } from "./dcf-material";
import {
  applyBeaverOp,
  beaverOutputShape,
  type BinaryTripleShare,
  type DcfShare,
  type MaterialSource,
  type MaterialSpec,
  type RandomBitsShare,
  type TaggedSpec,
  type TripleShare,
} from "./provider";

/** Derives the 16-byte PRG seed of one piece of material from a holder's key. */
export function seedFor(key: Uint8Array, tag: string): Uint8Array {
  return new Uint8Array(createHmac("sha256", key).update(tag).digest().subarray(0, 16));
}

function lowBit(t: ring.RingTensor): ring.RingTensor {
  return ring.and(t, ring.scalar(1n));
}

/**
 * Masks of fixed operands, expanded once per (key, mask tag) and kept: they
 * are the size of the weights and would otherwise be expanded on every run.
 * The dealer keeps their sum over the holders instead (`sum`), the one thing
 * it needs of them for each run's correction.
 */
export class MaskCache {
  private readonly masks = new Map<string, ring.RingTensor>();
  private readonly sums = new Map<string, ring.RingTensor>();

  /** The sum over `keys` of their masks under `maskTag` (the whole mask), expanded and added once. */
  sum(keys: readonly Uint8Array[], maskTag: string, shape: readonly number[], stream: number): ring.RingTensor {
    const id = `${keys.map((key) => Buffer.from(key).toString("hex")).join(",")}|${maskTag}|${stream}`;
    let sum = this.sums.get(id);
    if (!sum) {
      sum = sumOf(keys.map((key) => ring.expand(seedFor(key, maskTag), shape, stream)));
      this.sums.set(id, sum);
    }
    return sum;
  }

  get(key: Uint8Array, maskTag: string, shape: readonly number[], stream: number): ring.RingTensor {
    const id = `${Buffer.from(key).toString("hex")}|${maskTag}|${stream}`;
    let mask = this.masks.get(id);
    if (!mask) {
      mask = ring.expand(seedFor(key, maskTag), shape, stream);
      this.masks.set(id, mask);
    }
    return mask;
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
    case "dcf":
      return []; // expanded by dcf-material.ts
  }
}

/** Step 3: the last holder's correction for one piece of material, from every holder's key (in holder order). */
export function lastHolderCorrection(
  keys: readonly Uint8Array[],
  tag: string,
  spec: Exclude<MaterialSpec, { kind: "dcf" }>,
  masks: MaskCache,
): ring.RingTensor[] {
  if (spec.kind === "binaryTriple") {
    // Straight from every holder's seed: the cipher applies each keystream in turn (ring/and-gates.ts).
    const shares = keys.map((key) => seededTriple(seedFor(key, tag), spec));
    return [ring.reshape(ring.andCorrection(shares.slice(0, -1), shares[shares.length - 1]!), spec.shape)];
  }
  if (spec.kind === "beaver") {
    // The same streams as expandShare: a on 0, b on 1 (or the fixed masks), the holders' c on 2.
    const whole = (mask: string | undefined, shape: readonly number[], stream: number) =>
      mask
        ? masks.sum(keys, mask, shape, stream)
        : sumOf(keys.map((key) => ring.expand(seedFor(key, tag), shape, stream)));
    const c = applyBeaverOp(spec.op, whole(spec.xMask, spec.xShape, 0), whole(spec.yMask, spec.yShape, 1));
    const cShape = beaverOutputShape(spec.op, spec.xShape, spec.yShape);
    const others = keys.slice(0, -1).map((key) => ring.expand(seedFor(key, tag), cShape, 2));
    return [others.length > 0 ? ring.sub(c, sumOf(others)) : c];
  }
  const parts = keys.map((key, i) => expandShare(key, tag, spec, i < keys.length - 1, masks));
  const others = parts.slice(0, -1);
  switch (spec.kind) {
    case "randomBits": {
      const r = lowBit(ring.sample(spec.shape));
      return [ring.xor(r, xorOf(others.map((p) => p[0]!))), ring.sub(r, sumOf(others.map((p) => p[1]!)))];
    }
  }
}

function sumOf(tensors: ring.RingTensor[]): ring.RingTensor {
  return tensors.reduce((acc, t) => ring.add(acc, t));
}

function xorOf(tensors: ring.RingTensor[]): ring.RingTensor {
  return tensors.reduce((acc, t) => ring.xor(acc, t));
}

/**
 * A correction the caller awaits after its open round. If that round fails
 * first (a peer died), the caller never awaits it: mark it handled so that its
 * rejection is not reported as unhandled; the caller still sees it when it does await.
 */
function pending<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** The holder side of a keyed provider (steps 1 and 2); a kind says where the key and the correction come from. */
export abstract class KeyedMaterialSource implements MaterialSource {
  protected readonly rank: number;
  protected readonly masks = new MaskCache();
  abstract readonly epoch: string | undefined;

  constructor(
    self: string,
    protected readonly holders: readonly string[],
  ) {
    this.rank = holders.indexOf(self);
  }

  protected get isLast(): boolean {
    return this.rank === this.holders.length - 1;
  }

  /** This holder's key K_i. */
  protected abstract key(): Promise<Uint8Array>;

  /**
   * What the provider sends this holder under `tag`: the last holder's
   * correction (step 3), or, for DCF material, any holder's words (dcf-material.ts).
   */
  protected abstract correction(tag: string, spec: MaterialSpec): Promise<ring.RingTensor[]>;

  abstract preload(items: readonly TaggedSpec[]): Promise<void>;

  async triple(tag: string, spec: Extract<MaterialSpec, { kind: "beaver" | "binaryTriple" }>): Promise<TripleShare> {
    // Asked for before the key is awaited, so that its round trip overlaps.
    const correction = this.isLast ? this.correction(tag, spec) : undefined;
    correction?.catch(() => undefined); // observed below; avoid an unhandled rejection meanwhile
    const [a, b, c] = expandShare(await this.key(), tag, spec, !this.isLast, this.masks);
    return { a: a!, b: b!, c: pending(correction ? correction.then((t) => t[0]!) : Promise.resolve(c!)) };
  }

  /** A seed and nothing else on holders 0..n-2; the last holder's c is its correction. */
  async binaryTriple(tag: string, spec: Extract<MaterialSpec, { kind: "binaryTriple" }>): Promise<BinaryTripleShare> {
    const correction = this.isLast ? this.correction(tag, spec) : undefined;
    correction?.catch(() => undefined); // observed by the caller; avoid an unhandled rejection meanwhile
    const triple = seededTriple(seedFor(await this.key(), tag), spec);
    return { triple, c: pending(correction ? correction.then((t) => t[0]) : Promise.resolve(undefined)) };
  }

  /** Mask and roots from this holder's key at once; the correction words (and the last holder's top bit) from the provider. */
  async dcf(tag: string, spec: DcfSpec): Promise<DcfShare> {
    checkDcfSpec(spec, this.holders.length);
    const dealt = this.correction(tag, spec);
    dealt.catch(() => undefined); // observed by the caller; avoid an unhandled rejection meanwhile
    const own = expandDcf(await this.key(), tag, spec, this.rank);
    return { mask: own.mask, roots: own.roots, dealt: pending(dealt.then((t) => receivedDcf(t, spec, own))) };
  }

  async randomBits(tag: string, shape: readonly number[]): Promise<RandomBitsShare> {
    const spec: MaterialSpec = { kind: "randomBits", shape: [...shape] };
    if (this.isLast) {
      const [binary, arithmetic] = await this.correction(tag, spec);
      return { binary: binary!, arithmetic: arithmetic! };
    }
    const [binary, arithmetic] = expandShare(await this.key(), tag, spec, true, this.masks);
    return { binary: binary!, arithmetic: arithmetic! };
  }
}
