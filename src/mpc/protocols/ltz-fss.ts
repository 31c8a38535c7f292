/**
 * ltz(x) = [x < 0] by function secret sharing (AriaNN, Ryffel et al., PETS
 * 2022, with the DCF of Boyle et al., Eurocrypt 2021; ring/dcf.ts), for two
 * holders with x = x0 + x1 mod 2^64, reading k = `fssBits` bits (64 by default).
 *
 * The dealer gives holder i a share r_i of a uniform mask r, and DCF keys for
 * β·[y' < α] over k - 1 bits with α = r mod 2^(k-1), β = 1 - 2ρ, ρ = bit k-1
 * of r, plus a share ρ_i of ρ (provider/dcf-material.ts). Online:
 * 1. open y = x + r mod 2^64 (1 round, 1 word per element from each holder);
 * 2. each holder evaluates its keys at y' = y mod 2^(k-1) (local);
 * 3. holder i's share of [x < 0] is [i = 0]·y_(k-1) + (1 - 2·y_(k-1))·(ρ_i + DCF_i).
 *
 * Why step 3 is right, the wrap-around included. With u = x mod 2^k, u = y - r
 * mod 2^k, so bit k-1 of u, the sign of x when x is in [-2^(k-1), 2^(k-1)), is
 * y_(k-1) ^ r_(k-1) ^ b, where b is the borrow out of the low k-1 bits of the
 * subtraction: b = [y' < r mod 2^(k-1)]. Every wrap of x + r mod 2^64 is
 * inside that identity: it holds for all y and r, with no case left out. The
 * DCF gives shares of β·b = (1 - 2ρ)·b, so ρ_i + DCF_i share ρ + (1 - 2ρ)·b
 * = ρ ^ b = w; and y_(k-1) ^ w = y_(k-1) + (1 - 2·y_(k-1))·w, y_(k-1) public.
 * At k = 64 every ring value is in range: exact. At k < 64 (config fssBits)
 * the result is exact for x in [-2^(k-1), 2^(k-1)) and arbitrary outside it;
 * the keys shrink to 3k words and the work to k - 1 levels.
 *
 * Rounds: 1. Words sent per element by each holder: 1 (8 bytes).
 * Provider: 3k words per element to every holder (the correction words, 192
 * at k = 64: 1,536 bytes), and 1 more to the last holder (ρ_1); the root
 * seeds and r_i come from each holder's own key. PRG calls per element: 2
 * fixed-key AES blocks per level, 2(k - 1) = 126 at k = 64, in one cipher call
 * per level for the whole batch; the dealer makes 8(k - 1) per element.
 * The result is an unscaled 0/1 ring value, as ltz.ts's. A batch larger than
 * one piece of material may be (maxDealerElements: about 86,900 elements at
 * k = 64) asks for several pieces and still opens y in one round.
 */
import { getConfig } from "../../core/config";
import * as ring from "../../ring";
import type { PartyContext } from "../context";
import { bitOf, lowBits } from "../provider/dcf-material";
import { materialElements } from "../provider/limits";

export async function ltzFss(ctx: PartyContext, x: ring.RingTensor): Promise<ring.RingTensor> {
  ctx.requireTwoHolders("comparison");
  const bits = ctx.protocols.fssBits;
  const mine = ring.reshape(x, [x.size]);
  // A batch larger than the provider deals at once (maxDealerElements) takes several pieces of material,
  // still opened in one round.
  const sizes = pieces(x.size, materialElements({ kind: "dcf", shape: [1], bits }), getConfig().maxDealerElements);
  const keys = await Promise.all(
    sizes.map((size) => ctx.material.dcf(ctx.tag("dcf.ltz"), { kind: "dcf", shape: [size], bits })),
  );
  const mask =
    keys.length === 1
      ? keys[0]!.mask
      : ring.concat(
          keys.map((k) => k.mask),
          0,
        );
  const [y] = await ctx.open([ring.add(mine, mask)], "add", "ltz.fss");
  const party = ctx.rank === 0 ? 0 : 1;
  const low = ring.split(lowBits(y!, bits - 1), sizes);
  const evaluated = await Promise.all(
    keys.map(async ({ roots, dealt }, i) => {
      const { corrections, topBit } = await dealt;
      return ring.add(topBit, ring.dcfEval(party, roots, corrections, low[i]!));
    }),
  );
  const w = evaluated.length === 1 ? evaluated[0]! : ring.concat(evaluated, 0);
  const yTop = bitOf(y!, bits - 1);
  const share = ring.mul(w, ring.sub(ring.scalar(1n), ring.mulScalar(yTop, 2n)));
  return ring.reshape(ctx.isFirst ? ring.add(share, yTop) : share, x.shape);
}

/** `n` elements in pieces of at most `limit / perElement` each (at least one piece, of at least one element). */
function pieces(n: number, perElement: number, limit: number): number[] {
  const most = Math.max(1, Math.floor(limit / perElement));
  const sizes: number[] = [];
  for (let at = 0; at < n; at += most) sizes.push(Math.min(most, n - at));
  return sizes.length > 0 ? sizes : [0];
}
