// The DCF of src/ring/dcf.ts written the plain way, one element at a time:
// BigInt arithmetic, one AES call per PRG block, the paper's steps as written
// (including the V update the batched code simplifies). The batched code must
// give the same correction words and the same shares, bit for bit.
import { createCipheriv, createHash } from "node:crypto";

const M64 = (1n << 64n) - 1n;
const KEY = createHash("sha256").update("tsyft fixed-key MMO PRG for DCF").digest().subarray(0, 16);

/** A 16-byte block as a 128-bit little-endian integer. */
function toInt(block: Buffer): bigint {
  return block.readBigUInt64LE(0) | (block.readBigUInt64LE(8) << 64n);
}

function toBlock(v: bigint): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(v & M64, 0);
  b.writeBigUInt64LE((v >> 64n) & M64, 8);
  return b;
}

/** G_j(s) = AES_K(s ^ j') ^ (s ^ j'), j' = j in the block's last 32-bit word. */
function g(seed: bigint, j: number): bigint {
  const x = seed ^ (BigInt(j) << 96n);
  const cipher = createCipheriv("aes-128-ecb", KEY, null);
  cipher.setAutoPadding(false);
  return toInt(cipher.update(toBlock(x))) ^ x;
}

/** One side (0 = L, 1 = R) of G(s): the seed with its control bit cleared, the bit, the value. */
function side(seed: bigint, c: number): { s: bigint; t: number; v: bigint } {
  const raw = g(seed, c);
  return { s: raw & ~1n, t: Number(raw & 1n), v: g(seed, 2 + c) & M64 };
}

const convert = (s: bigint) => (s >> 64n) & M64;
const sign = (t: number, v: bigint) => (t ? -v : v) & M64;

export interface ReferenceKey {
  sCW: bigint[];
  vCW: bigint[];
  tL: number[];
  tR: number[];
  last: bigint;
}

/** Gen for one element: alpha and beta as unsigned, roots as 128-bit integers. */
export function referenceGen(alpha: bigint, beta: bigint, roots: [bigint, bigint], bits: number): ReferenceKey {
  const s = [...roots];
  const t = [0, 1];
  let vAlpha = 0n;
  const key: ReferenceKey = { sCW: [], vCW: [], tL: [], tR: [], last: 0n };
  for (let i = 0; i < bits; i++) {
    const a = Number((alpha >> BigInt(bits - 1 - i)) & 1n);
    const L = [side(s[0]!, 0), side(s[1]!, 0)];
    const R = [side(s[0]!, 1), side(s[1]!, 1)];
    const [keep, lose] = a ? [R, L] : [L, R];
    const sCW = lose[0]!.s ^ lose[1]!.s;
    let vCW = sign(t[1]!, lose[1]!.v - lose[0]!.v - vAlpha);
    if (a === 1) vCW = (vCW + sign(t[1]!, beta)) & M64; // Lose = L
    vAlpha = (vAlpha - keep[1]!.v + keep[0]!.v + sign(t[1]!, vCW)) & M64;
    const tL = L[0]!.t ^ L[1]!.t ^ a ^ 1;
    const tR = R[0]!.t ^ R[1]!.t ^ a;
    const tKeep = a ? tR : tL;
    key.sCW.push(sCW);
    key.vCW.push(vCW);
    key.tL.push(tL);
    key.tR.push(tR);
    for (const b of [0, 1]) {
      s[b] = keep[b]!.s ^ (t[b] ? sCW : 0n);
      t[b] = keep[b]!.t ^ (t[b]! & tKeep);
    }
  }
  key.last = sign(t[1]!, convert(s[1]!) - convert(s[0]!) - vAlpha);
  return key;
}

/** Eval for one element: party b's share (unsigned) at x. */
export function referenceEval(b: 0 | 1, root: bigint, key: ReferenceKey, x: bigint, bits: number): bigint {
  let s = root;
  let t: number = b;
  let v = 0n;
  for (let i = 0; i < bits; i++) {
    const c = Number((x >> BigInt(bits - 1 - i)) & 1n);
    const next = side(s, c);
    v += next.v + (t ? key.vCW[i]! : 0n);
    s = next.s ^ (t ? key.sCW[i]! : 0n);
    t = next.t ^ (t & (c ? key.tR[i]! : key.tL[i]!));
  }
  v += convert(s) + (t ? key.last : 0n);
  return sign(b, v);
}
