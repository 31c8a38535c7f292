/**
 * Beaver multiplication: one routine for mul, matmul, conv2d and depthwiseConv2d.
 *
 * For a bilinear op ⊗ and shared x, y, with a triple a, b, c = a ⊗ b from the
 * crypto provider:
 * 1. open e = x - a and f = y - b (1 round; |x| + |y| ring elements from each
 *    holder to each other holder), while the last holder's share of c arrives;
 * 2. z = c + e ⊗ (b + f) + a ⊗ f on holder 0, c + e ⊗ b + a ⊗ f on the others
 *    (the shares add up to (a + e) ⊗ (b + f) = x ⊗ y): two products per holder.
 * e and f are uniformly masked, so opening them reveals nothing. Works for
 * any number of holders. The result carries the product of both scales: the
 * caller truncates (truncate.ts) when both operands were fixed point.
 * Provider: 1 word per element of z to the last holder (its share of c); a, b
 * and the other holders' shares of c come from their 16-byte keys, sent once.
 *
 * Fixed operands (a plan's weights, named by `fixed`) get a mask bound to the
 * value rather than to the op: y - b is then the same every time (within the
 * provider's key epoch), so it is opened once per epoch by an exchange of its
 * own that concurrent runs share (PartyContext.openFixed), kept by every
 * holder with b + f (holder 0) beside it, and step 1 sends only the fresh
 * operand; step 2 then mirrors when x is the fixed one:
 * z = c + (a + e) ⊗ f + e ⊗ b on holder 0, c + a ⊗ f + e ⊗ b on the others.
 * Reopening the same value reveals nothing new; a mask is never used for two
 * different values. For a dense layer this removes |W| elements per run, and
 * the weight-sized subtraction and addition of every run.
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
  const xFixed = xMask === undefined ? undefined : ctx.openFixed(xMask, a, x);
  const yFixed = yMask === undefined ? undefined : ctx.openFixed(yMask, b, y);
  const fresh = [xFixed ? undefined : ring.sub(x, a), yFixed ? undefined : ring.sub(y, b)];
  const toOpen = fresh.filter((t): t is ring.RingTensor => t !== undefined);
  const [opened, xOpening, yOpening] = await Promise.all([
    toOpen.length > 0 ? ctx.open(toOpen, "add", `beaver.${op.kind}`) : [],
    xFixed,
    yFixed,
  ]);
  const e = xOpening?.opened ?? opened.shift()!;
  const f = yOpening?.opened ?? opened.shift()!;
  const terms =
    xOpening && !yOpening
      ? ring.add(applyBeaverOp(op, xOpening.maskPlusOpened, f), applyBeaverOp(op, e, b))
      : ring.add(
          applyBeaverOp(op, e, yOpening?.maskPlusOpened ?? (ctx.isFirst ? ring.add(b, f) : b)),
          applyBeaverOp(op, a, f),
        );
  return ring.add(await waited("provider", c), terms);
}
