/**
 * AND of XOR-shared 64-bit words, batched: Beaver's trick over GF(2)^64.
 *
 * For pairs (x, y) of binary-shared words and a binary triple a, b, c = a & b:
 * 1. open e = x ^ a and f = y ^ b for all pairs at once (1 round; 2 words per
 *    AND from each holder to each other holder);
 * 2. z = c ^ (e & b) ^ (a & f) (^ e & f on holder 0 only).
 */
import * as ring from "../../ring";
import type { PartyContext } from "../context";

/** ANDs each pair of same-shape binary shares, in one round for all pairs. */
export async function andShared(
  ctx: PartyContext,
  pairs: ReadonlyArray<readonly [ring.RingTensor, ring.RingTensor]>,
  label: string,
): Promise<ring.RingTensor[]> {
  const sizes = pairs.map(([x]) => x.size);
  const flat = (ts: ring.RingTensor[]) => ring.concat(ts.map((t) => ring.reshape(t, [t.size])), 0);
  const x = flat(pairs.map((p) => p[0]));
  const y = flat(pairs.map((p) => p[1]));
  const { a, b, c } = await ctx.material.triple(ctx.tag(`triple.and.${label}`), { kind: "binaryTriple", shape: [...x.shape] });
  const [e, f] = await ctx.open([ring.xor(x, a), ring.xor(y, b)], "xor", `and.${label}`);
  let z = ring.xor(await c, ring.xor(ring.and(e!, b), ring.and(a, f!)));
  if (ctx.isFirst) z = ring.xor(z, ring.and(e!, f!));
  const out: ring.RingTensor[] = [];
  let offset = 0;
  pairs.forEach(([x0], i) => {
    out.push(ring.reshape(ring.slice(z, [offset], [sizes[i]!]), x0.shape));
    offset += sizes[i]!;
  });
  return out;
}
