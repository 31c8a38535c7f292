/**
 * AND of XOR-shared 64-bit words, batched: Beaver's trick over GF(2)^64.
 *
 * For pairs (x, y) of binary-shared words (either may be shifted left first)
 * and a binary triple a, b, c = a & b as long as all pairs together:
 * 1. open e = x ^ a and f = y ^ b for all pairs at once, as one tensor [e, f]
 *    (1 round; 2 words per AND from each holder to each other holder);
 * 2. z = c ^ (e & b) ^ (a & f) (^ e & f on holder 0 only).
 * Each step is one fused pass over the words (ring.andMasks, ring.andCombine);
 * the results are views of z, one per pair.
 */
import { ErrorCode, ProtocolError } from "../../core/errors";
import * as ring from "../../ring";
import type { PartyContext } from "../context";

/** ANDs each pair of same-size binary shares, in one round for all pairs; results have the x operands' shapes. */
export async function andShared(
  ctx: PartyContext,
  pairs: ReadonlyArray<readonly [ring.BitOperand, ring.BitOperand]>,
  label: string,
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
  const { a, b, c } = await ctx.material.triple(ctx.tag(`triple.and.${label}`), { kind: "binaryTriple", shape: [m] });
  const masked = ring.andMasks(pairs.map((p) => p[0]), pairs.map((p) => p[1]), a, b);
  const theirs = await ctx.exchange([masked], `and.${label}`);
  const z = ring.andCombine([masked, ...theirs.map(([t]) => t!)], a, b, await c, ctx.isFirst);
  return ring.split(z, sizes).map((part, i) => ring.reshape(part, tensorOf(pairs[i]![0]).shape));
}
