/**
 * Beaver multiplication: one routine for mul, matmul and conv2d.
 *
 * For a bilinear op ⊗ and shared x, y, with a triple a, b, c = a ⊗ b from the
 * crypto provider:
 * 1. open e = x - a and f = y - b (1 round; |x| + |y| ring elements from each
 *    holder to each other holder), while the last holder's share of c arrives;
 * 2. z = c + e ⊗ b + a ⊗ f (+ e ⊗ f on holder 0 only).
 * e and f are uniformly masked, so opening them reveals nothing. Works for
 * any number of holders. The result carries the product of both scales: the
 * caller truncates (truncate.ts) when both operands were fixed point.
 */
import * as ring from "../../ring";
import type { PartyContext } from "../context";
import { applyBeaverOp, type BeaverOp } from "../provider/provider";

export async function beaver(ctx: PartyContext, x: ring.RingTensor, y: ring.RingTensor, op: BeaverOp): Promise<ring.RingTensor> {
  const { a, b, c } = await ctx.material.triple(ctx.tag(`triple.${op.kind}`), {
    kind: "beaver",
    op,
    xShape: [...x.shape],
    yShape: [...y.shape],
  });
  const [e, f] = await ctx.open([ring.sub(x, a), ring.sub(y, b)], "add", `beaver.${op.kind}`);
  let z = ring.add(await c, ring.add(applyBeaverOp(op, e!, b), applyBeaverOp(op, a, f!)));
  if (ctx.isFirst) z = ring.add(z, applyBeaverOp(op, e!, f!));
  return z;
}
