/**
 * Average pooling: a window sum (local) divided by the window size.
 * "valid": every window has kh·kw elements, so the division is by a public
 * integer (local, truncate.ts). "same": border windows have fewer elements, as
 * in TensorFlow; each output is multiplied by the public fixed-point
 * reciprocal of its own count and truncated. 0 rounds.
 * Provider: nothing.
 */
import type { Pool2dAttrs } from "../../core/ops";
import * as ring from "../../ring";
import type { PartyContext } from "../context";
import { divPublicInteger, truncate } from "./truncate";

export function avgPool2d(ctx: PartyContext, x: ring.RingTensor, attrs: Pool2dAttrs, scale: bigint): ring.RingTensor {
  const patches = ring.extractPatches(x, { ...attrs, padValue: 0n }); // [N, OH, OW, K, C]
  const sums = ring.sum(patches, 3);
  if (attrs.padding === "valid") return divPublicInteger(ctx, sums, BigInt(attrs.filterSize[0] * attrs.filterSize[1]));
  const [, h, w] = x.shape as [number, number, number, number];
  const counts = ring.toFloat(
    ring.sum(ring.extractPatches(ring.fill([1, h, w, 1], 1n), { ...attrs, padValue: 0n }), 3),
    1,
  );
  const reciprocals = ring.fromFloat(
    Array.from(counts, (count) => 1 / count),
    [1, sums.shape[1]!, sums.shape[2]!, 1],
    Number(scale),
  );
  return truncate(ctx, ring.mul(sums, reciprocals), scale);
}
