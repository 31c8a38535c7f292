/**
 * A distributed comparison function (DCF), batched: two keys for f(x) = β·[x < α]
 * on `bits`-bit unsigned inputs, such that the two parties' evaluations at any
 * public x are additive shares of f(x) mod 2^64, while each key alone hides α
 * and β. The construction of Boyle et al. ("Function Secret Sharing for
 * Mixed-Mode and Fixed-Point Secure Computation", Eurocrypt 2021, figure 1),
 * on the GGM tree of Boyle, Gilboa and Ishai, with the fixed-key MMO PRG of
 * fixed-key-prg.ts:
 *
 * G(s) = (s_L, t_L) from G_0(s), (s_R, t_R) from G_1(s), v_L, v_R = the low
 * 64 bits of G_2(s), G_3(s). A seed's control bit t is its lowest bit, cleared
 * in the seed (so seeds carry 127 bits). Convert(s) = the high 64 bits of s.
 *
 * Gen (the dealer), per element, root seeds s_0, s_1, t_0 = 0, t_1 = 1, V = 0;
 * for each level i from the top bit a of α: Keep = a's side, Lose = the other;
 * 1. sCW = s_0^Lose ^ s_1^Lose; tCW_L = t_0^L ^ t_1^L ^ a ^ 1; tCW_R = t_0^R ^ t_1^R ^ a;
 * 2. VCW = (-1)^t_1 · (v_1^Lose - v_0^Lose - V + [Lose = L]·β);
 * 3. V = v_1^Lose - v_0^Lose - v_1^Keep + v_0^Keep + [Lose = L]·β (the paper's
 *    update, V - v_1^Keep + v_0^Keep + (-1)^t_1·VCW, with V cancelled);
 * 4. s_b = s_b^Keep ^ t_b·sCW, t_b = t_b^Keep ^ t_b·tCW_Keep.
 * Then last = (-1)^t_1 · (Convert(s_1) - Convert(s_0) - V).
 *
 * Eval (party b at public x), t = b, V = 0; for each level with bit c of x:
 * (s, t) = side c of G(s) ^ t·(sCW, tCW_c), V += v_c + t_old·VCW; at the end
 * V += Convert(s) + t·last, and party 1 negates.
 *
 * Costs per element: the correction words, the same in both keys, are
 * {@link dcfKeyWords}(bits) = 3·bits + 3 ring elements (sCW 2, VCW 1 per level;
 * the tCW bits of every level packed in 2; last 1): 192 (1,536 bytes) for 63
 * bits. The root seeds are not sent: each party expands its own from a PRG
 * seed it has (dcfRoots). Eval: 2 fixed-key AES blocks per level (only the
 * side x takes), 2·bits in all, in one cipher call per level for the batch.
 * Gen: 8 blocks per level (both parties, all four outputs).
 *
 * @example
 * ```ts
 * const roots = [randomSeed(), randomSeed()];
 * const cw = dcfGen(fromBigInts([5n], [1]), fromBigInts([1n], [1]), roots, 8);
 * const at = fromBigInts([3n], [1]);
 * add(dcfEval(0, roots[0], cw, at), dcfEval(1, roots[1], cw, at)); // [1n]: 3 < 5
 * ```
 */
import { fmtShape } from "../core/errors";
import { wordsOf } from "./convert";
import { add, mul, neg, sub } from "./elementwise";
import { BLOCK_BYTES, mmo, words32 } from "./fixed-key-prg";
import { keystream } from "./prg";
import { argumentError } from "./shape-basics";
import { RingTensor } from "./tensor";

/** The correction words of a batch of DCF keys (both parties' keys share them). */
export interface DcfCorrections {
  /** Input bits compared (tree levels), 1 to 64. */
  bits: number;
  /** sCW of each level: [bits, n, 2] (a 16-byte seed as 2 elements). */
  seeds: RingTensor;
  /** VCW of each level: [bits, n]. */
  values: RingTensor;
  /** tCW_L (row 0) and tCW_R (row 1), bit i for level i: [2, n]. */
  flags: RingTensor;
  /** The final correction: [n]. */
  last: RingTensor;
}

/** The PRG stream root seeds come from (see dcfRoots). */
const ROOT_STREAM = 0x64636600; // "dcf\0"

/**
 * Ring elements per element of the correction words: what a key costs to send.
 *
 * @example
 * ```ts
 * dcfKeyWords(63); // 192
 * ```
 */
export function dcfKeyWords(bits: number): number {
  return 3 * bits + 3;
}

/**
 * The root seeds of `n` keys, expanded from one 16-byte PRG seed: a party that
 * holds the seed needs none of them sent.
 *
 * @example
 * ```ts
 * dcfRoots(randomSeed(), 4).byteLength; // 64
 * ```
 */
export function dcfRoots(seed: Uint8Array, n: number): Uint8Array {
  return keystream(seed, ROOT_STREAM, n * BLOCK_BYTES);
}

function checkBits(bits: number, op: string): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > 64) {
    throw argumentError(`${op}: expected an integer bit width from 1 to 64, got ${bits}.`, { op, bits });
  }
}

function checkRoots(roots: Uint8Array, n: number, op: string): void {
  if (!(roots instanceof Uint8Array) || roots.byteLength !== n * BLOCK_BYTES) {
    throw argumentError(
      `${op}: expected ${n} root seeds (${n * BLOCK_BYTES} bytes, from dcfRoots), got ${roots instanceof Uint8Array ? roots.byteLength : typeof roots} bytes.`,
      { op },
    );
  }
}

/** Bit k (0 = least significant) of element e of a tensor's words. */
function bitAt(w: Uint32Array, e: number, k: number): number {
  return k < 32 ? (w[2 * e]! >>> k) & 1 : (w[2 * e + 1]! >>> (k - 32)) & 1;
}

/** acc[i..i+1] += (lo, hi) mod 2^64, on 32-bit words. */
function add64(acc: Uint32Array, i: number, lo: number, hi: number): void {
  const sum = acc[i]! + lo;
  acc[i] = sum;
  acc[i + 1] = acc[i + 1]! + hi + (sum > 0xffffffff ? 1 : 0);
}

/** A tensor of n ring elements and its words, to fill in. */
function vector(n: number): [BigInt64Array, Uint32Array] {
  const data = new BigInt64Array(n);
  return [data, wordsOf(data)];
}

/** Convert(s) of every seed: its high 64 bits. */
function convertSeeds(s: Uint32Array, n: number): RingTensor {
  const [data, w] = vector(n);
  for (let e = 0; e < n; e++) {
    w[2 * e] = s[4 * e + 2]!;
    w[2 * e + 1] = s[4 * e + 3]!;
  }
  return new RingTensor(data, [n]);
}

/**
 * The correction words for f_e(x) = beta[e]·[x < alpha[e]] on `bits`-bit
 * inputs (only the low `bits` bits of alpha are read), given both parties'
 * root seeds (dcfRoots). The dealer's side.
 *
 * @example
 * ```ts
 * const cw = dcfGen(alpha, beta, [dcfRoots(seed0, n), dcfRoots(seed1, n)], 63);
 * ```
 */
export function dcfGen(
  alpha: RingTensor,
  beta: RingTensor,
  roots: readonly [Uint8Array, Uint8Array],
  bits: number,
): DcfCorrections {
  checkBits(bits, "dcfGen");
  const n = alpha.size;
  if (beta.size !== n) {
    throw argumentError(`dcfGen: expected beta of ${n} elements like alpha, got shape ${fmtShape(beta.shape)}.`);
  }
  roots.forEach((r) => checkRoots(r, n, "dcfGen"));
  const a32 = wordsOf(alpha.data);
  const s = roots.map((r) => new Uint32Array(words32(r))) as [Uint32Array, Uint32Array];
  const t = [new Uint8Array(n), new Uint8Array(n).fill(1)] as const;
  const seeds = new BigInt64Array(bits * n * 2);
  const seeds32 = wordsOf(seeds);
  const values = new BigInt64Array(bits * n);
  const [flags, flags32] = vector(2 * n);
  const input = new Uint32Array(8 * n * 4);
  const flatBeta = new RingTensor(beta.data, [n]);
  let v = new RingTensor(new BigInt64Array(n), [n]);
  for (let i = 0; i < bits; i++) {
    const k = bits - 1 - i;
    // Block (b·4 + j)·n + e is party b's seed of element e under tweak j.
    for (let b = 0; b < 2; b++) {
      for (let j = 0; j < 4; j++) {
        const at = (b * 4 + j) * n * 4;
        input.set(s[b]!, at);
        if (j > 0) for (let e = 0; e < n; e++) input[at + 4 * e + 3]! ^= j;
      }
    }
    const out = words32(mmo(new Uint8Array(input.buffer)));
    const block = (b: number, j: number, e: number) => ((b * 4 + j) * n + e) * 4;
    const [loseV0, lose0] = vector(n);
    const [loseV1, lose1] = vector(n);
    const [keepV0, keep0] = vector(n);
    const [keepV1, keep1] = vector(n);
    const [aData, aWords] = vector(n);
    const [signData, signWords] = vector(n);
    for (let e = 0; e < n; e++) {
      const a = bitAt(a32, e, k);
      const keep = a;
      const lose = 1 - a;
      const l0 = block(0, lose, e);
      const l1 = block(1, lose, e);
      const c0 = (out[l0]! ^ out[l1]!) & 0xfffffffe;
      const c1 = out[l0 + 1]! ^ out[l1 + 1]!;
      const c2 = out[l0 + 2]! ^ out[l1 + 2]!;
      const c3 = out[l0 + 3]! ^ out[l1 + 3]!;
      const sc = (i * n + e) * 4;
      seeds32[sc] = c0;
      seeds32[sc + 1] = c1;
      seeds32[sc + 2] = c2;
      seeds32[sc + 3] = c3;
      const tcwL = (out[block(0, 0, e)]! ^ out[block(1, 0, e)]! ^ a ^ 1) & 1;
      const tcwR = (out[block(0, 1, e)]! ^ out[block(1, 1, e)]! ^ a) & 1;
      const word = i < 32 ? 0 : 1;
      flags32[2 * e + word]! |= tcwL << (i % 32);
      flags32[2 * (n + e) + word]! |= tcwR << (i % 32);
      const tcwKeep = keep ? tcwR : tcwL;
      // The sign (-1)^t_1 of the level, from t_1 before it moves down.
      const negative = t[1][e] === 1;
      signWords[2 * e] = negative ? 0xffffffff : 1;
      signWords[2 * e + 1] = negative ? 0xffffffff : 0;
      aWords[2 * e] = a;
      for (let b = 0; b < 2; b++) {
        const kb = block(b, keep, e);
        const told = t[b]![e]!;
        const sb = s[b]!;
        sb[4 * e] = (out[kb]! & 0xfffffffe) ^ (told ? c0 : 0);
        sb[4 * e + 1] = out[kb + 1]! ^ (told ? c1 : 0);
        sb[4 * e + 2] = out[kb + 2]! ^ (told ? c2 : 0);
        sb[4 * e + 3] = out[kb + 3]! ^ (told ? c3 : 0);
        t[b]![e] = (out[kb]! & 1) ^ (told & tcwKeep);
      }
      const vl0 = block(0, 2 + lose, e);
      const vl1 = block(1, 2 + lose, e);
      const vk0 = block(0, 2 + keep, e);
      const vk1 = block(1, 2 + keep, e);
      lose0[2 * e] = out[vl0]!;
      lose0[2 * e + 1] = out[vl0 + 1]!;
      lose1[2 * e] = out[vl1]!;
      lose1[2 * e + 1] = out[vl1 + 1]!;
      keep0[2 * e] = out[vk0]!;
      keep0[2 * e + 1] = out[vk0 + 1]!;
      keep1[2 * e] = out[vk1]!;
      keep1[2 * e + 1] = out[vk1 + 1]!;
    }
    const tensor = (d: BigInt64Array) => new RingTensor(d, [n]);
    // Steps 2 and 3, for the whole level at once.
    const d = add(sub(tensor(loseV1), tensor(loseV0)), mul(tensor(aData), flatBeta));
    values.set(mul(tensor(signData), sub(d, v)).data, i * n);
    v = add(sub(d, tensor(keepV1)), tensor(keepV0));
  }
  const [finalSign, finalWords] = vector(n);
  for (let e = 0; e < n; e++) {
    finalWords[2 * e] = t[1][e] ? 0xffffffff : 1;
    finalWords[2 * e + 1] = t[1][e] ? 0xffffffff : 0;
  }
  const last = mul(new RingTensor(finalSign, [n]), sub(sub(convertSeeds(s[1], n), convertSeeds(s[0], n)), v));
  return {
    bits,
    seeds: new RingTensor(seeds, [bits, n, 2]),
    values: new RingTensor(values, [bits, n]),
    flags: new RingTensor(flags, [2, n]),
    last,
  };
}

/**
 * Party `party`'s additive share of beta[e]·[x[e] < alpha[e]] for every
 * element, from its root seeds (dcfRoots) and the correction words; only the
 * low `bits` bits of x are read. Shaped as x.
 *
 * @example
 * ```ts
 * const share = dcfEval(0, dcfRoots(seed0, x.size), cw, x);
 * ```
 */
export function dcfEval(party: 0 | 1, roots: Uint8Array, cw: DcfCorrections, x: RingTensor): RingTensor {
  const n = x.size;
  const { bits } = cw;
  checkBits(bits, "dcfEval");
  checkRoots(roots, n, "dcfEval");
  if (cw.last.size !== n || cw.values.size !== bits * n || cw.seeds.size !== 2 * bits * n || cw.flags.size !== 2 * n) {
    throw argumentError(
      `dcfEval: expected correction words for ${n} elements and ${bits} bits, got values ${fmtShape(cw.values.shape)}, ` +
        `seeds ${fmtShape(cw.seeds.shape)}, flags ${fmtShape(cw.flags.shape)}, last ${fmtShape(cw.last.shape)}.`,
    );
  }
  const x32 = wordsOf(x.data);
  const seeds32 = wordsOf(cw.seeds.data);
  const values32 = wordsOf(cw.values.data);
  const flags32 = wordsOf(cw.flags.data);
  const s = new Uint32Array(words32(roots));
  const t = new Uint8Array(n).fill(party);
  const [acc, acc32] = vector(n);
  // Blocks 0..n-1: each seed under tweak c (its side); blocks n..2n-1: under 2 + c (its v).
  const input = new Uint32Array(2 * n * 4);
  const sides = new Uint8Array(n);
  for (let i = 0; i < bits; i++) {
    const k = bits - 1 - i;
    input.set(s, 0);
    input.set(s, 4 * n);
    for (let e = 0; e < n; e++) {
      const c = bitAt(x32, e, k);
      sides[e] = c;
      input[4 * e + 3]! ^= c;
      input[4 * (n + e) + 3]! ^= 2 + c;
    }
    const out = words32(mmo(new Uint8Array(input.buffer)));
    const word = i < 32 ? 0 : 1;
    const shift = i % 32;
    for (let e = 0; e < n; e++) {
      const c = sides[e]!;
      const told = t[e]!;
      const o = 4 * e;
      let w0 = out[o]!;
      let tNew = w0 & 1;
      w0 &= 0xfffffffe;
      let w1 = out[o + 1]!;
      let w2 = out[o + 2]!;
      let w3 = out[o + 3]!;
      if (told) {
        const sc = (i * n + e) * 4;
        w0 ^= seeds32[sc]!;
        w1 ^= seeds32[sc + 1]!;
        w2 ^= seeds32[sc + 2]!;
        w3 ^= seeds32[sc + 3]!;
        tNew ^= (flags32[2 * (c * n + e) + word]! >>> shift) & 1;
        add64(acc32, 2 * e, values32[2 * (i * n + e)]!, values32[2 * (i * n + e) + 1]!);
      }
      s[o] = w0;
      s[o + 1] = w1;
      s[o + 2] = w2;
      s[o + 3] = w3;
      t[e] = tNew;
      const vo = 4 * (n + e);
      add64(acc32, 2 * e, out[vo]!, out[vo + 1]!);
    }
  }
  const last32 = wordsOf(cw.last.data);
  for (let e = 0; e < n; e++) {
    add64(acc32, 2 * e, s[4 * e + 2]!, s[4 * e + 3]!);
    if (t[e]) add64(acc32, 2 * e, last32[2 * e]!, last32[2 * e + 1]!);
  }
  const share = new RingTensor(acc, x.shape);
  return party === 1 ? neg(share) : share;
}
