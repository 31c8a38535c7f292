/**
 * AND of XOR-shared 64-bit words, batched: Beaver's trick over GF(2)^64.
 *
 * For pairs (x, y) of binary-shared words (either may be shifted left first)
 * and a binary triple a, b, c = a & b as long as all pairs together:
 * 1. open e = x ^ a and f = y ^ b for all pairs at once, as one tensor [e, f]
 *    (1 round; 2 words per AND from each holder to each other holder), while
 *    the last holder's share of c comes from the dealer;
 * 2. z = c ^ (e & b) ^ (a & f) (^ e & f on holder 0 only), each holder's a
 *    and b taken back from its own e and f.
 * Each step is one fused pass (ring.andMasks, ring.andCombine): the triple
 * stays a PRG seed that the cipher applies as it masks, and the masks are
 * sent from where they lie. The results are views of z, one per pair.
 * Provider: 1 word per AND to the last holder (its share of c); the others
 * expand their whole triple from their key.
 */
import { ErrorCode, ProtocolError } from "../../core/errors";
import { waited } from "../../core/profiler";
import * as ring from "../../ring";
import type { PartyContext } from "../context";

/**
 * ANDs each pair of same-size binary shares, in one round for all pairs;
 * results have the x operands' shapes. An `addend` (binary shared too) is
 * XORed into the results from the first element on, as far as it reaches.
 */
export async function andShared(
  ctx: PartyContext,
  pairs: ReadonlyArray<readonly [ring.BitOperand, ring.BitOperand]>,
  label: string,
  addend?: ring.RingTensor,
): Promise<ring.RingTensor[]> {
  const tensorOf = (o: ring.BitOperand) => (o instanceof ring.RingTensor ? o : o.tensor);
  const sizes = pairs.map(([x, y]) => {
    if (tensorOf(x).size !== tensorOf(y).size) {
      throw new ProtocolError(
        ErrorCode.SHAPE_MISMATCH,
        `AND of binary shares: a pair has ${tensorOf(x).size} and ${tensorOf(y).size} elements; expected operands of one size.`,
      );
    }
    return tensorOf(x).size;
  });
  const m = sizes.reduce((n, s) => n + s, 0);
  const { triple, c } = await ctx.material.binaryTriple(ctx.tag(`triple.and.${label}`), {
    kind: "binaryTriple",
    shape: [m],
  });
  const xs = pairs.map((p) => p[0]);
  const ys = pairs.map((p) => p[1]);
  const masked = ring.andMasks(xs, ys, triple);
  const theirs = await ctx.exchange([masked], `and.${label}`);
  const cShare = await waited("provider", c);
  const z = ring.andCombine(
    [masked, ...theirs.map(([t]) => t!)],
    xs,
    ys,
    cShare ? { ...triple, c: cShare } : triple,
    ctx.isFirst,
    addend,
  );
  return ring.split(z, sizes).map((part, i) => ring.reshape(part, tensorOf(pairs[i]![0]).shape));
}
