/**
 * ltz(x) = [x < 0]: the one primitive every comparison is built on; this file's
 * protocol is the default ("kogge-stone"), ltz-fss.ts the one-round alternative.
 *
 * Two holders with x = x0 + x1 mod 2^64 (CrypTen's A2B with a Kogge-Stone adder,
 * keeping only what the sign bit needs):
 * 1. view x0 and x1 as binary-shared words (holder 0 holds x0 and 0, holder 1
 *    holds 0 and x1): p = x0 ^ x1 is local, g = x0 & x1 is one AND round;
 * 2. six Kogge-Stone levels (shifts 1, 2, 4, 8, 16, 32): g ^= p & (g << k),
 *    p &= p << k, both ANDs of a level in one round (the last needs g only;
 *    the XOR into g is fused into the AND, binary-and.ts); then g holds at
 *    bit j the carry out of bits 0..j;
 * 3. the sign bit of x0 + x1 is p[63] ^ g[62], bit 63 of p ^ (g << 1), XOR-shared;
 * 4. convert it to additive shares (b2a.ts, 1 round).
 * Rounds: 8. Words sent per element by each holder: 2 + 5·4 + 2 + 1 = 25
 * (200 bytes). The result is an unscaled 0/1 ring value.
 * Provider: 14 words per element to the last holder: 1 + 5·2 + 1 = 12 for the
 * AND triples' c (steps 1 and 2), 2 for the random bit of b2a (step 4).
 */
import * as ring from "../../ring";
import { chooseComparison } from "../comparison-choice";
import type { PartyContext } from "../context";
import { andShared } from "./binary-and";
import { b2a } from "./b2a";
import { ltzFss } from "./ltz-fss";

const KOGGE_STONE_SHIFTS = [1, 2, 4, 8, 16, 32] as const;

/**
 * [x < 0] by the comparison protocol the run chose (config `comparison`, which
 * travels with the command): this file's Kogge-Stone adder, or function
 * secret sharing (ltz-fss.ts); "auto" picks per batch (comparison-choice.ts).
 */
export function ltz(ctx: PartyContext, x: ring.RingTensor): Promise<ring.RingTensor> {
  const { comparison, fssBits } = ctx.protocols;
  return chooseComparison(comparison, x.size, ctx.linkLatencyMs, fssBits) === "fss"
    ? ltzFss(ctx, x)
    : ltzKoggeStone(ctx, x);
}

export async function ltzKoggeStone(ctx: PartyContext, x: ring.RingTensor): Promise<ring.RingTensor> {
  ctx.requireTwoHolders("comparison");
  const mine = ring.reshape(x, [x.size]);
  const zero = ring.zeros(mine.shape);
  const fromHolder0 = ctx.isFirst ? mine : zero;
  const fromHolder1 = ctx.isFirst ? zero : mine;

  const p0 = mine; // x0 ^ 0 on holder 0, 0 ^ x1 on holder 1
  let [g] = await andShared(ctx, [[fromHolder0, fromHolder1]], "ltz.g");
  let p = p0;
  for (const k of KOGGE_STONE_SHIFTS) {
    const lastLevel = k === KOGGE_STONE_SHIFTS[KOGGE_STONE_SHIFTS.length - 1];
    const pairs: Array<[ring.BitOperand, ring.BitOperand]> = [[p, { tensor: g!, shl: k }]];
    if (!lastLevel) pairs.push([p, { tensor: p, shl: k }]);
    const [carried, propagate] = await andShared(ctx, pairs, `ltz.ks${k}`, g); // g ^ (p & (g << k)), p & (p << k)
    g = carried;
    if (!lastLevel) p = propagate!;
  }
  const signBit = ring.shrLogical(ring.xor(p0, ring.shl(g!, 1)), 63);
  return ring.reshape(await b2a(ctx, signBit), x.shape);
}
