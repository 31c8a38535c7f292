/**
 * relu(x) = x · [x >= 0].
 * 1. b = 1 - ltz(x) (8 rounds), an unscaled 0/1 share;
 * 2. x · b by one Beaver multiplication (1 round), no truncation since b is
 *    unscaled.
 * Rounds: 9. Words per element from each holder: 25 + 2.
 * Provider: 15 words per element to the last holder: 14 for ltz, 1 for the
 * product's c.
 */
import * as ring from "../../ring";
import type { PartyContext } from "../context";
import { beaver } from "./beaver";
import { oneMinus } from "./comparisons";
import { ltz } from "./ltz";

export async function relu(ctx: PartyContext, x: ring.RingTensor): Promise<ring.RingTensor> {
  const positive = oneMinus(ctx, await ltz(ctx, x));
  return beaver(ctx, x, positive, { kind: "mul" });
}
