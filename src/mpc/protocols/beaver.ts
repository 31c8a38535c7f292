/**
 * Beaver multiplication: one routine for mul, matmul, conv2d and depthwiseConv2d.
 *
 * For a bilinear op ⊗ and shared x, y, with a triple a, b, c = a ⊗ b from the
 * crypto provider:
 * 1. open e = x - a and f = y - b (1 round; |x| + |y| ring elements from each
 *    holder to each other holder), while the last holder's share of c arrives;
 * 2. z = c + e ⊗ b + a ⊗ f (+ e ⊗ f on holder 0 only).
 * e and f are uniformly masked, so opening them reveals nothing. Works for
 * any number of holders. The result carries the product of both scales: the
 * caller truncates (truncate.ts) when both operands were fixed point.
 * Provider: 1 word per element of z to the last holder (its share of c); a, b
 * and the other holders' shares of c come from their 16-byte keys, sent once.
 *
 * Fixed operands (a plan's weights, named by `fixed`) get a mask bound to the
 * value rather than to the op: x - a is then the same every time (within the
 * provider's key epoch), so it is opened once per epoch by an exchange of its
 * own that concurrent runs share (PartyContext.openFixed), kept by every
 * holder, and step 1 sends only the fresh operand.
 * Reopening the same value reveals nothing new; a mask is never used for two
 * different values. For a dense layer this removes |W| elements per run.
 */
import { waited } from "../../core/profiler";
import * as ring from "../../ring";
import type { PartyContext } from "../context";
import { applyBeaverOp, type BeaverOp } from "../provider/provider";

export async function beaver(
  ctx: PartyContext,
  x: ring.RingTensor,
  y: ring.RingTensor,
  op: BeaverOp,
  fixed: { x?: string; y?: string } = {},
): Promise<ring.RingTensor> {
  const xMask = fixed.x === undefined ? undefined : `mask:${fixed.x}:x`;
  const yMask = fixed.y === undefined ? undefined : `mask:${fixed.y}:y`;
  const { a, b, c } = await ctx.material.triple(ctx.tag(`triple.${op.kind}`), {
    kind: "beaver",
    op,
    xShape: [...x.shape],
    yShape: [...y.shape],
    ...(xMask && { xMask }),
    ...(yMask && { yMask }),
  });
  const masked = [ring.sub(x, a), ring.sub(y, b)];
  const fixedOpens = [xMask && ctx.openFixed(xMask, masked[0]!), yMask && ctx.openFixed(yMask, masked[1]!)];
  const fresh = masked.filter((_, i) => !fixedOpens[i]);
  const [opened, ...fixedOpened] = await Promise.all([
    fresh.length > 0 ? ctx.open(fresh, "add", `beaver.${op.kind}`) : [],
    ...fixedOpens,
  ]);
  const [e, f] = fixedOpened.map((k) => k || opened.shift()!) as [ring.RingTensor, ring.RingTensor];
  let z = ring.add(await waited("provider", c), ring.add(applyBeaverOp(op, e, b), applyBeaverOp(op, a, f)));
  if (ctx.isFirst) z = ring.add(z, applyBeaverOp(op, e, f));
  return z;
}
