/**
 * argmax along an axis: a tournament (select-tree.ts) that carries each
 * candidate's index along with its value, so the winner's index comes out
 * shared, as a fixed-point number. ceil(log2 K) levels of 9 rounds; ties go to
 * the lower index. K - 1 comparisons per output element, each 29 words from
 * each holder (25 for ltz, 4 for selecting the value and its index together).
 * Provider: 16 words per comparison to the last holder (14 for ltz, 2 for the
 * select's c).
 */
import * as ring from "../../ring";
import type { PartyContext } from "../context";
import { selectMax } from "./select-tree";

export async function argmax(
  ctx: PartyContext,
  x: ring.RingTensor,
  axis: number,
  scale: bigint,
): Promise<ring.RingTensor> {
  const rank = x.shape.length;
  const ax = axis < 0 ? axis + rank : axis;
  const perm = [ax, ...x.shape.map((_, i) => i).filter((i) => i !== ax)];
  const moved = ring.transpose(x, perm);
  const k = x.shape[ax]!;
  const outShape = x.shape.filter((_, i) => i !== ax);
  const m = outShape.reduce((a, b) => a * b, 1);
  const rows = ring.reshape(moved, [k, m]);
  // Index k held by holder 0 as public k·scale; the others hold zeros.
  const indices = ctx.isFirst
    ? ring.broadcastTo(
        ring.mulScalar(
          ring.fromInts(
            Array.from({ length: k }, (_, i) => i),
            [k, 1],
          ),
          scale,
        ),
        [k, m],
      )
    : ring.zeros([k, m]);
  const { payload } = await selectMax(ctx, rows, indices);
  return ring.reshape(payload!, outShape);
}
