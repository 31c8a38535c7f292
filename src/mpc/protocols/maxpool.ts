/**
 * Max pooling: gather each window (local), then a tournament over the window
 * (select-tree.ts): ceil(log2(kh·kw)) levels of 9 rounds; 2x2 windows take 18.
 * Padded positions ("same") hold a very negative public value so they never win.
 * kh·kw - 1 comparisons per output element, each 27 words from each holder.
 * Provider: 15 words per comparison to the last holder (as relu).
 */
import type { Pool2dAttrs } from "../../core/ops";
import * as ring from "../../ring";
import type { PartyContext } from "../context";
import { selectMax } from "./select-tree";

/**
 * Below every encodable value (encode keeps |x·scale| < 2^62, whatever the scale), so
 * padding never wins, yet x - PAD_VALUE and PAD_VALUE - x stay inside the signed ring.
 */
const PAD_VALUE = -(1n << 62n);

export async function maxPool2d(ctx: PartyContext, x: ring.RingTensor, attrs: Pool2dAttrs): Promise<ring.RingTensor> {
  const pad = ctx.isFirst ? PAD_VALUE : 0n;
  const patches = ring.extractPatches(x, { ...attrs, padValue: pad }); // [N, OH, OW, K, C]
  const [n, oh, ow, k, c] = patches.shape as [number, number, number, number, number];
  const rows = ring.reshape(ring.transpose(ring.reshape(patches, [n * oh * ow, k, c]), [1, 0, 2]), [
    k,
    n * oh * ow * c,
  ]);
  const { values } = await selectMax(ctx, rows);
  return ring.reshape(values, [n, oh, ow, c]);
}
