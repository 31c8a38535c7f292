// The batched DCF (src/ring/dcf.ts) against a plain per-element implementation
// (dcf-reference.ts) and against the plaintext oracle beta·[x < alpha], on random
// and edge inputs, for the full 63-bit width ltz uses and for narrower ones.
import { createCipheriv } from "node:crypto";
import { describe, expect, it } from "vitest";
import * as ring from "../../src/ring";
import { dcfEval, dcfGen, dcfKeyWords, dcfRoots } from "../../src/ring/dcf";
import { mmo } from "../../src/ring/fixed-key-prg";
import { referenceEval, referenceGen } from "./dcf-reference";
import { Rng } from "./helpers";

const M64 = (1n << 64n) - 1n;
const unsigned = (v: bigint) => v & M64;

/** Root seed e of a dcfRoots batch as a 128-bit little-endian integer. */
function rootOf(roots: Uint8Array, e: number): bigint {
  const b = Buffer.from(roots.buffer, roots.byteOffset + 16 * e, 16);
  return b.readBigUInt64LE(0) | (b.readBigUInt64LE(8) << 64n);
}

/** Alphas, betas and points: random ones, and the edges of each alpha (alpha - 1, alpha, alpha + 1, 0, the top). */
function cases(rng: Rng, bits: number, randomCount: number) {
  const top = (1n << BigInt(bits)) - 1n;
  const fit = (v: bigint) => unsigned(v) & top;
  const alphas: bigint[] = [0n, 1n, top, top - 1n, 1n << BigInt(bits - 1), (1n << BigInt(bits - 1)) - 1n];
  for (let i = 0; i < randomCount; i++) alphas.push(fit(rng.next64()));
  const rows: Array<{ alpha: bigint; beta: bigint; x: bigint }> = [];
  for (const alpha of alphas) {
    const beta = rows.length % 3 === 0 ? 1n : rows.length % 3 === 1 ? M64 : unsigned(rng.next64());
    for (const x of [alpha - 1n, alpha, alpha + 1n, 0n, top, fit(rng.next64())]) rows.push({ alpha, beta, x: fit(x) });
  }
  return rows;
}

describe("fixed-key MMO PRG", () => {
  it("is AES_K(b) ^ b per block, in one batched call", () => {
    const input = ring.toBytes(ring.sample([10])); // 5 blocks
    const out = mmo(input);
    const { createHash } = require("node:crypto") as typeof import("node:crypto");
    const key = createHash("sha256").update("tsyft fixed-key MMO PRG for DCF").digest().subarray(0, 16);
    for (let b = 0; b < 5; b++) {
      const block = Buffer.from(input.subarray(16 * b, 16 * b + 16));
      const cipher = createCipheriv("aes-128-ecb", key, null);
      cipher.setAutoPadding(false);
      const enc = cipher.update(block);
      for (let i = 0; i < 16; i++) expect(out[16 * b + i]).toBe(enc[i]! ^ block[i]!);
    }
    expect(() => mmo(new Uint8Array(15))).toThrow(expect.objectContaining({ code: "TSYFT_ERR_INVALID_ARGUMENT" }));
  });
});

describe.each([63, 64, 8, 1])("DCF over %i bits", (bits) => {
  const rng = new Rng(bits);
  const rows = cases(rng, bits, 20);
  const n = rows.length;
  const alpha = ring.fromBigInts(
    rows.map((r) => BigInt.asIntN(64, r.alpha)),
    [n],
  );
  const beta = ring.fromBigInts(
    rows.map((r) => BigInt.asIntN(64, r.beta)),
    [n],
  );
  const x = ring.fromBigInts(
    rows.map((r) => BigInt.asIntN(64, r.x)),
    [n],
  );
  const seeds = [ring.randomSeed(), ring.randomSeed()];
  const roots: [Uint8Array, Uint8Array] = [dcfRoots(seeds[0]!, n), dcfRoots(seeds[1]!, n)];
  const cw = dcfGen(alpha, beta, roots, bits);

  it("has the correction words of the per-element reference, bit for bit", () => {
    expect(cw.seeds.shape).toEqual([bits, n, 2]);
    expect(cw.values.shape).toEqual([bits, n]);
    const seedWords = ring.toBigInts(cw.seeds).map(unsigned);
    const values = ring.toBigInts(cw.values).map(unsigned);
    const flags = ring.toBigInts(cw.flags).map(unsigned);
    const last = ring.toBigInts(cw.last).map(unsigned);
    rows.forEach((r, e) => {
      const ref = referenceGen(r.alpha, r.beta, [rootOf(roots[0], e), rootOf(roots[1], e)], bits);
      for (let i = 0; i < bits; i++) {
        const at = 2 * (i * n + e);
        expect(seedWords[at]! | (seedWords[at + 1]! << 64n), `sCW level ${i}`).toBe(ref.sCW[i]);
        expect(values[i * n + e], `VCW level ${i}`).toBe(ref.vCW[i]);
        expect(Number((flags[e]! >> BigInt(i)) & 1n), `tCW_L level ${i}`).toBe(ref.tL[i]);
        expect(Number((flags[n + e]! >> BigInt(i)) & 1n), `tCW_R level ${i}`).toBe(ref.tR[i]);
      }
      expect(last[e]).toBe(ref.last);
    });
  });

  it("gives each party the reference's share, and the shares add up to beta·[x < alpha]", () => {
    const shares = ([0, 1] as const).map((b) => ring.toBigInts(dcfEval(b, roots[b], cw, x)).map(unsigned));
    rows.forEach((r, e) => {
      const ref = referenceGen(r.alpha, r.beta, [rootOf(roots[0], e), rootOf(roots[1], e)], bits);
      for (const b of [0, 1] as const) {
        expect(shares[b]![e], `party ${b}`).toBe(referenceEval(b, rootOf(roots[b], e), ref, r.x, bits));
      }
      const want = r.x < r.alpha ? r.beta : 0n;
      expect(unsigned(shares[0]![e]! + shares[1]![e]!), `x = ${r.x}, alpha = ${r.alpha}`).toBe(want);
    });
  });

  it("gives shares that do not repeat the output on their own", () => {
    // A single party's share is masked by PRG values: it is never the output itself across a batch.
    const share = ring.toBigInts(dcfEval(0, roots[0], cw, x)).map(unsigned);
    const outputs = rows.map((r) => (r.x < r.alpha ? r.beta : 0n));
    expect(share.filter((s, e) => s === outputs[e]).length).toBeLessThan(2);
  });
});

describe("DCF key size and checks", () => {
  it("states its correction words per element", () => {
    expect(dcfKeyWords(63)).toBe(192);
    const n = 5;
    const cw = dcfGen(
      ring.zeros([n]),
      ring.zeros([n]),
      [dcfRoots(ring.randomSeed(), n), dcfRoots(ring.randomSeed(), n)],
      63,
    );
    expect(cw.seeds.size + cw.values.size + cw.flags.size + cw.last.size).toBe(dcfKeyWords(63) * n);
  });

  it("refuses a width outside 1..64 and roots of the wrong count", () => {
    const roots = dcfRoots(ring.randomSeed(), 2);
    expect(() => dcfGen(ring.zeros([2]), ring.zeros([2]), [roots, roots], 65)).toThrow(/bit width from 1 to 64/);
    expect(() => dcfGen(ring.zeros([3]), ring.zeros([3]), [roots, roots], 8)).toThrow(/expected 3 root seeds/);
  });
});
