/**
 * Comparisons, each a one-liner over ltz. Results are fixed-point 0/1 values
 * (the bit times the scale), so they compose with every other op.
 * lt, gt, le, ge: 8 rounds, 25 words per element from each holder. eq: one ltz
 * over [x - y, y - x] batched, 8 rounds, 50 words.
 * Provider: ltz's 14 words per element to the last holder (28 for eq).
 */
import type { ComparisonOp } from "../../core/ops";
import * as ring from "../../ring";
import type { PartyContext } from "../context";
import { ltz } from "./ltz";

/** 1 - bit on arithmetic 0/1 shares (holder 0 adds the public 1); not ring.not, which flips all 64 bits. */
export function oneMinus(ctx: PartyContext, bit: ring.RingTensor): ring.RingTensor {
  return ctx.isFirst ? ring.sub(ring.scalar(1n), bit) : ring.neg(bit);
}

/** Unscaled 0/1 shares of the comparison `op` between shared x and y. */
export async function compareBits(
  ctx: PartyContext,
  op: ComparisonOp,
  x: ring.RingTensor,
  y: ring.RingTensor,
): Promise<ring.RingTensor> {
  switch (op) {
    case "lt":
      return ltz(ctx, ring.sub(x, y));
    case "gt":
      return ltz(ctx, ring.sub(y, x));
    case "le":
      return oneMinus(ctx, await ltz(ctx, ring.sub(y, x)));
    case "ge":
      return oneMinus(ctx, await ltz(ctx, ring.sub(x, y)));
    case "eq": {
      const d = ring.reshape(ring.sub(x, y), [-1]);
      const both = await ltz(ctx, ring.concat([d, ring.neg(d)], 0));
      const lt = ring.slice(both, [0], [d.size]);
      const gt = ring.slice(both, [d.size], [d.size]);
      return ring.reshape(oneMinus(ctx, ring.add(lt, gt)), ring.shapes.broadcast(x.shape, y.shape));
    }
  }
}

/** Fixed-point 0/1 shares of the comparison. */
export async function compare(
  ctx: PartyContext,
  op: ComparisonOp,
  x: ring.RingTensor,
  y: ring.RingTensor,
  scale: bigint,
): Promise<ring.RingTensor> {
  return ring.mulScalar(await compareBits(ctx, op, x, y), scale);
}
