/**
 * The material of the "fss" comparison (protocols/ltz-fss.ts) in the keyed
 * scheme of keyed.ts, for `bits`-bit values and two holders:
 *
 * 1. Holder i expands from its seed for the tag, seedFor(K_i, tag): its share
 *    r_i of the mask (stream 0), the root seeds of its DCF keys (ring dcfRoots),
 *    and, holder 0 only, its share ρ_0 of the mask's top bit (stream 1).
 * 2. Whoever knows both keys (the dealer) has r = r_0 + r_1, its top bit
 *    ρ = bit bits-1 of r, α = r mod 2^(bits-1) and β = 1 - 2ρ, and generates
 *    the correction words of the DCF for β·[y < α] over bits - 1 bits from both
 *    holders' roots (ring/dcf.ts). Every holder receives them (3·bits words per
 *    element); the last holder also receives ρ_1 = ρ - ρ_0 (1 word).
 *
 * Neither holder learns r: each knows only its own share and roots, and the
 * correction words alone hide α and β (the DCF's security). The dealer's work
 * is deterministic in (keys, tag), so it may compute it once for both holders
 * (DcfDealer) or once per holder (the insecure seeded source) alike.
 *
 * @example
 * ```ts
 * const own = expandDcf(key, tag, { kind: "dcf", shape: [4], bits: 64 }, 0);
 * const sent = new DcfDealer().dealTo(keys, 0, tag, spec); // holder 0's words
 * ```
 */
import { ErrorCode, ProtocolError } from "../../core/errors";
import * as ring from "../../ring";
import { seedFor } from "./keyed";
import type { MaterialSpec } from "./provider";

export type DcfSpec = Extract<MaterialSpec, { kind: "dcf" }>;

/** What a holder expands itself (step 1). */
export interface OwnDcf {
  mask: ring.RingTensor;
  roots: Uint8Array;
  /** ρ_0, on holder 0 only; the last holder's comes from the dealer. */
  topBit?: ring.RingTensor;
}

/** Refuses a spec the "fss" comparison cannot use (a hostile or broken holder, or a wrong group). */
export function checkDcfSpec(spec: DcfSpec, holders: number): void {
  if (!Number.isInteger(spec.bits) || spec.bits < 2 || spec.bits > 64) {
    throw new ProtocolError(
      ErrorCode.MALFORMED_MESSAGE,
      `A request for DCF material of ${JSON.stringify(spec.bits)} bits; expected an integer from 2 to 64 (config fssBits).`,
    );
  }
  if (holders !== 2) {
    throw new ProtocolError(
      ErrorCode.UNSUPPORTED_PARTIES,
      `DCF material is for exactly 2 share holders, the group has ${holders}. Share among 2 for comparisons.`,
      { holders },
    );
  }
}

/**
 * Step 1 for holder `rank` of two: its mask share, its DCF roots, and on
 * holder 0 its share of the mask's top bit.
 *
 * @example
 * ```ts
 * const { mask, roots } = expandDcf(key, "run-1/3:dcf.ltz", { kind: "dcf", shape: [8], bits: 64 }, 1);
 * ```
 */
export function expandDcf(key: Uint8Array, tag: string, spec: DcfSpec, rank: number): OwnDcf {
  const seed = seedFor(key, tag);
  const n = ring.shapes.size(spec.shape);
  const own: OwnDcf = { mask: ring.expand(seed, [n], 0), roots: ring.dcfRoots(seed, n) };
  if (rank === 0) own.topBit = ring.expand(seed, [n], 1);
  return own;
}

/** The low `bits` bits of each element (bits <= 64), as unsigned values in the ring. */
export function lowBits(x: ring.RingTensor, bits: number): ring.RingTensor {
  return bits >= 64 ? x : ring.shrLogical(ring.shl(x, 64 - bits), 64 - bits);
}

/** Bit `k` of each element, 0 or 1. */
export function bitOf(x: ring.RingTensor, k: number): ring.RingTensor {
  return ring.shrLogical(ring.shl(x, 63 - k), 63);
}

/** Step 2: the correction words and the last holder's share of the top bit. */
function generate(keys: readonly Uint8Array[], tag: string, spec: DcfSpec): ring.RingTensor[] {
  const [zero, one] = keys.map((key, rank) => expandDcf(key, tag, spec, rank)) as [OwnDcf, OwnDcf];
  const r = ring.add(zero.mask, one.mask);
  const rho = bitOf(r, spec.bits - 1);
  const alpha = lowBits(r, spec.bits - 1);
  const beta = ring.sub(ring.scalar(1n), ring.mulScalar(rho, 2n));
  const cw = ring.dcfGen(alpha, beta, [zero.roots, one.roots], spec.bits - 1);
  return [cw.seeds, cw.values, cw.flags, cw.last, ring.sub(rho, zero.topBit!)];
}

/** The tensors a holder receives: the correction words, and the top-bit share for the last holder. */
function forHolder(dealt: ring.RingTensor[], rank: number): ring.RingTensor[] {
  return rank === 1 ? dealt : dealt.slice(0, 4);
}

/**
 * What a holder makes of the provider's tensors for `spec`: the correction
 * words and its top-bit share (its own on holder 0).
 */
export function receivedDcf(
  tensors: readonly ring.RingTensor[],
  spec: DcfSpec,
  own: OwnDcf,
): { corrections: ring.DcfCorrections; topBit: ring.RingTensor } {
  const n = ring.shapes.size(spec.shape);
  const levels = spec.bits - 1;
  const [seeds, values, flags, last, topBit] = tensors;
  const fits =
    seeds?.size === 2 * levels * n &&
    values?.size === levels * n &&
    flags?.size === 2 * n &&
    last?.size === n &&
    (own.topBit ? tensors.length === 4 : topBit?.size === n);
  if (!fits) {
    throw new ProtocolError(
      ErrorCode.PROTOCOL_DESYNC,
      `DCF material for ${n} elements of ${spec.bits} bits: expected ${own.topBit ? 4 : 5} tensors of ` +
        `${2 * levels * n}, ${levels * n}, ${2 * n}, ${n}${own.topBit ? "" : `, ${n}`} elements, ` +
        `got ${tensors.map((t) => t.size).join(", ") || "none"}. Run the same tsyft version on every node.`,
    );
  }
  return {
    corrections: { bits: levels, seeds: seeds!, values: values!, flags: flags!, last: last! },
    topBit: (own.topBit ?? topBit)!,
  };
}

/**
 * What the provider sends holder `rank` under `tag`, generated afresh (step 2):
 * for a source whose holders generate their own (insecure-seeded.ts).
 *
 * @example
 * ```ts
 * dcfDealtTo(keys, 1, tag, { kind: "dcf", shape: [8], bits: 64 }).length; // 5: the correction words and ρ_1
 * ```
 */
export function dcfDealtTo(keys: readonly Uint8Array[], rank: number, tag: string, spec: DcfSpec): ring.RingTensor[] {
  checkDcfSpec(spec, keys.length);
  return forHolder(generate(keys, tag, spec), rank);
}

/**
 * Ring elements of generated material the dealer keeps for the second holder:
 * past it the oldest entries go (they can be generated again, identically),
 * so a holder that never asks cannot make the dealer hold keys for ever.
 */
const MAX_PENDING_WORDS = 2 ** 24;

/**
 * The dealer's side: generates a tag's material once and hands each holder
 * its part; an entry is dropped once both have it.
 *
 * @example
 * ```ts
 * const dealer = new DcfDealer();
 * dealer.dealTo(keys, 0, tag, spec, "bob,charlie"); // generates, keeps it for charlie
 * dealer.dealTo(keys, 1, tag, spec, "bob,charlie"); // the same material, then forgets it
 * ```
 */
export class DcfDealer {
  private readonly pending = new Map<string, { dealt: ring.RingTensor[]; waiting: Set<number>; words: number }>();
  private pendingWords = 0;

  dealTo(keys: readonly Uint8Array[], rank: number, tag: string, spec: DcfSpec, group = ""): ring.RingTensor[] {
    checkDcfSpec(spec, keys.length);
    const id = `${group}|${tag}|${spec.shape.join("x")}|${spec.bits}`;
    let entry = this.pending.get(id);
    if (!entry) {
      const dealt = generate(keys, tag, spec);
      entry = { dealt, waiting: new Set([0, 1]), words: dealt.reduce((n, t) => n + t.size, 0) };
      this.pending.set(id, entry);
      this.pendingWords += entry.words;
    }
    entry.waiting.delete(rank);
    if (entry.waiting.size === 0) this.forget(id);
    for (const oldest of this.pending.keys()) {
      if (this.pendingWords <= MAX_PENDING_WORDS || oldest === id) break;
      this.forget(oldest);
    }
    return forHolder(entry.dealt, rank);
  }

  private forget(id: string): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pendingWords -= entry.words;
    this.pending.delete(id);
  }
}
