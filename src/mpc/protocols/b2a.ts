/**
 * Binary-to-arithmetic conversion of shared bits (CrypTen's B2A by a random bit).
 *
 * For bits s XOR-shared in bit 0, and a random bit r from the crypto provider
 * shared both ways (XOR and additively):
 * 1. open c = s ^ r (1 round, 1 word per bit);
 * 2. s = c ^ r = c + r - 2cr, so holder i's additive share is
 *    [i = 0]·c + r_i·(1 - 2c).
 * Provider: 2 words per bit to the last holder (its XOR and additive shares of
 * r); the other holders expand theirs from their key.
 */
import * as ring from "../../ring";
import type { PartyContext } from "../context";

export async function b2a(ctx: PartyContext, bits: ring.RingTensor): Promise<ring.RingTensor> {
  const r = await ctx.material.randomBits(ctx.tag("bits.b2a"), bits.shape);
  const [c] = await ctx.open([ring.xor(bits, r.binary)], "xor", "b2a");
  const sign = ring.sub(ring.scalar(1n), ring.mulScalar(c!, 2n)); // 1 - 2c, public
  const share = ring.mul(r.arithmetic, sign);
  return ctx.isFirst ? ring.add(share, c!) : share;
}
