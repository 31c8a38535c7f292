/**
 * A length-doubling PRG for function secret sharing: fixed-key AES-128 in the
 * Matyas-Meyer-Oseas form, G_j(s) = AES_K(s ^ j) ^ (s ^ j), with K a public
 * constant and j a small tweak XORed into the block's last 32-bit word.
 *
 * Why fixed-key: a DCF (dcf.ts) expands every element's seed once per tree
 * level, so a batch needs millions of independent PRG calls. Re-keying AES per
 * seed (as prg.ts does for its long streams) would cost a key schedule and a
 * cipher object per call; with one fixed key, a whole level of a batch is ONE
 * node:crypto call over all of its blocks (ECB, no padding), at AES-NI speed.
 * MMO with a fixed key is the construction that FSS implementations use for
 * this (Boyle, Gilboa, Ishai; Guo et al., "Efficient and secure multiparty
 * computation from fixed-key block ciphers", S&P 2020, as a correlation-robust
 * hash when AES is modelled as a random permutation).
 *
 * @example
 * ```ts
 * const blocks = new Uint8Array(32);          // two 16-byte inputs, tweaks already applied
 * const out = mmo(blocks);                    // AES_K(block) ^ block, per block
 * ```
 */
import { createCipheriv, createHash, type Cipher } from "node:crypto";
import { argumentError, describe } from "./shape-basics";

/** Bytes of one block (and of one DCF seed). */
export const BLOCK_BYTES = 16;

/** The public key: nothing up the sleeve, the hash of a fixed string. */
const FIXED_KEY = createHash("sha256").update("tsyft fixed-key MMO PRG for DCF").digest().subarray(0, 16);

let cipher: Cipher | undefined;

/** One ECB cipher for the process: ECB keeps no state between updates of whole blocks. */
function fixedCipher(): Cipher {
  if (!cipher) {
    cipher = createCipheriv("aes-128-ecb", FIXED_KEY, null);
    cipher.setAutoPadding(false);
  }
  return cipher;
}

/** node:crypto takes at most 2^31 - 1 bytes per update; larger batches go in pieces. */
const MAX_UPDATE = 2 ** 30;

/**
 * AES_K(b) ^ b for every 16-byte block b of `input` (tweaks already XORed in
 * by the caller), in one cipher call per 1 GiB; a new buffer.
 *
 * @example
 * ```ts
 * mmo(new Uint8Array(16)).byteLength; // 16
 * ```
 */
export function mmo(input: Uint8Array): Uint8Array {
  if (!(input instanceof Uint8Array) || input.byteLength % BLOCK_BYTES !== 0) {
    throw argumentError(
      `mmo: expected whole 16-byte blocks as a Uint8Array, got ${describe(input)}` +
        `${input instanceof Uint8Array ? ` of ${input.byteLength} bytes` : ""}.`,
      { op: "mmo" },
    );
  }
  // One update's output is a fresh buffer of our own: the feed-forward goes into it in place.
  let out: Uint8Array;
  if (input.byteLength <= MAX_UPDATE) out = fixedCipher().update(input);
  else {
    out = new Uint8Array(input.byteLength);
    for (let at = 0; at < input.byteLength; at += MAX_UPDATE) {
      out.set(fixedCipher().update(input.subarray(at, Math.min(input.byteLength, at + MAX_UPDATE))), at);
    }
  }
  const o = words32(out);
  const i = words32(input);
  for (let k = 0; k < o.length; k++) o[k]! ^= i[k]!;
  return o.buffer === out.buffer ? out : new Uint8Array(o.buffer);
}

/** A Uint32Array over `bytes`, copied when they are not 4-byte aligned. */
export function words32(bytes: Uint8Array): Uint32Array {
  if (bytes.byteOffset % 4 === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return new Uint32Array(new Uint8Array(bytes).buffer);
}
