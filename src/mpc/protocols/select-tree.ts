/**
 * Tournament over the first axis: the shared core of max pooling and argmax.
 *
 * Rows are paired neighbour with neighbour, (0,1), (2,3), ..., so that at every
 * level the left candidate has the lower original index. For each pair:
 * 1. b = [left >= right] = 1 - ltz(left - right) (8 rounds);
 * 2. winner = right + b · (left - right), and the same select for any carried
 *    payload (e.g. indices), in one Beaver multiplication (1 round).
 * ceil(log2 K) levels of 9 rounds for K rows; ties go to the lower index, as
 * in TensorFlow's argMax. Every comparison knocks one row out: K - 1 per
 * column in all, each 25 + 2·(1 + P) words from each holder, for P payload
 * rows per value row (argmax: 1, its index).
 * Provider: 14 + 1 + P words per comparison to the last holder (ltz, then c).
 */
import * as ring from "../../ring";
import type { PartyContext } from "../context";
import { beaver } from "./beaver";
import { oneMinus } from "./comparisons";
import { ltz } from "./ltz";

/** Rows [K, M] of values and optional payload rows [K, P·M]; returns the winning row of each. */
export async function selectMax(
  ctx: PartyContext,
  values: ring.RingTensor,
  payload?: ring.RingTensor,
): Promise<{ values: ring.RingTensor; payload?: ring.RingTensor }> {
  let v = values;
  let p = payload;
  while (v.shape[0]! > 1) {
    const rows = v.shape[0]!;
    const pairs = Math.floor(rows / 2);
    const [left, right, restV] = splitPairs(v, pairs);
    const d = ring.sub(left, right);
    const b = oneMinus(ctx, await ltz(ctx, d));
    let winnerV: ring.RingTensor;
    let winnerP: ring.RingTensor | undefined;
    let restP: ring.RingTensor | undefined;
    if (p) {
      const [pl, pr, rp] = splitPairs(p, pairs);
      restP = rp;
      const m = d.shape[1]!;
      const perRow = pl.shape[1]! / m;
      // One multiplication for values and payload: stack the differences, repeat b.
      const diffs = ring.concat([d, ring.sub(pl, pr)], 1);
      const bits = ring.concat([b, ...Array.from({ length: perRow }, () => b)], 1);
      const selected = await beaver(ctx, diffs, bits, { kind: "mul" });
      winnerV = ring.add(right, ring.slice(selected, [0, 0], [pairs, m]));
      winnerP = ring.add(pr, ring.slice(selected, [0, m], [pairs, -1]));
    } else {
      winnerV = ring.add(right, await beaver(ctx, d, b, { kind: "mul" }));
    }
    v = restV ? ring.concat([winnerV, restV], 0) : winnerV;
    if (winnerP) p = restP ? ring.concat([winnerP, restP], 0) : winnerP;
  }
  return { values: ring.reshape(v, v.shape.slice(1)), payload: p && ring.reshape(p, p.shape.slice(1)) };
}

/** Splits rows [K, M] into left [n, M] (rows 0,2,..), right [n, M] (rows 1,3,..) and an odd last row. */
function splitPairs(
  t: ring.RingTensor,
  pairs: number,
): [ring.RingTensor, ring.RingTensor, ring.RingTensor | undefined] {
  const width = t.shape[1]!;
  const paired = ring.reshape(ring.slice(t, [0, 0], [pairs * 2, width]), [pairs, 2, width]);
  const left = ring.reshape(ring.slice(paired, [0, 0, 0], [pairs, 1, width]), [pairs, width]);
  const right = ring.reshape(ring.slice(paired, [0, 1, 0], [pairs, 1, width]), [pairs, width]);
  const rest = t.shape[0]! % 2 === 1 ? ring.slice(t, [pairs * 2, 0], [1, width]) : undefined;
  return [left, right, rest];
}
