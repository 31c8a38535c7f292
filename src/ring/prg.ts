/**
 * Randomness for sharing: fresh uniform tensors from the OS source, and a
 * seeded PRG (AES-128 in counter mode) so a dealer can send a 16-byte seed in
 * place of a whole tensor of masks, expanded into a tensor (`expand`) or
 * applied to bytes (`xorKeystream`).
 */
import { createCipheriv, randomBytes, randomFillSync, type Cipher } from "node:crypto";
import { timed } from "../core/profiler";
import { argumentError, checkShape, describe, size, type Shape } from "./shape-basics";
import { RingTensor } from "./tensor";

/** Bytes of a PRG seed (an AES-128 key). */
export const SEED_BYTES = 16;

/** randomFillSync fills, and a cipher update takes, at most 2^31 - 1 bytes per call. */
const MAX_FILL = 2 ** 30;

/** Keystream bytes expanded per cipher call; a longer tensor takes several. */
const KEYSTREAM_CHUNK = 1 << 23;

/** Zeros to encrypt, kept between calls (only ever read). */
let zeroBlock = new Uint8Array(0);

function zeroBytes(length: number): Uint8Array {
  if (zeroBlock.byteLength < length)
    zeroBlock = new Uint8Array(Math.min(KEYSTREAM_CHUNK, Math.max(length, 2 * zeroBlock.byteLength)));
  return zeroBlock.subarray(0, length);
}

/**
 * 16 fresh random bytes from node:crypto, for `expand`.
 *
 * @example
 * ```ts
 * const seed = randomSeed(); // Uint8Array(16)
 * ```
 */
export function randomSeed(): Uint8Array {
  return new Uint8Array(randomBytes(SEED_BYTES));
}

/**
 * A tensor of independent uniform elements of Z_2^64 from node:crypto.
 *
 * @example
 * ```ts
 * const mask = sample([2, 3]);
 * ```
 */
export function sample(shape: Shape): RingTensor {
  return timed("prg.sample", () => sampleNow(shape));
}

function sampleNow(shape: Shape): RingTensor {
  const s = checkShape(shape, "sample");
  const data = new BigInt64Array(size(s));
  const bytes = new Uint8Array(data.buffer);
  for (let at = 0; at < bytes.length; at += MAX_FILL) {
    randomFillSync(bytes, at, Math.min(MAX_FILL, bytes.length - at));
  }
  return new RingTensor(data, s);
}

/**
 * Deterministic pseudo-random tensor: AES-128-CTR keyed by `seed`, with the
 * counter block's high 64 bits set to `stream` (big-endian) and its low 64
 * bits counting blocks from 0. The same (seed, stream, shape) always gives the
 * same tensor; different streams give independent ones, and a longer shape
 * extends a shorter one.
 *
 * @example
 * ```ts
 * const seed = randomSeed();
 * const a = expand(seed, [4], 0);
 * equal(a, expand(seed, [4], 0)); // true
 * equal(a, expand(seed, [4], 1)); // false
 * ```
 */
export function expand(seed: Uint8Array, shape: Shape, stream: number | bigint = 0): RingTensor {
  return timed("prg.expand", () => expandNow(seed, shape, stream));
}

function expandNow(seed: Uint8Array, shape: Shape, stream: number | bigint): RingTensor {
  const s = checkShape(shape, "expand");
  const cipher = cipherFor(seed, stream, "expand");
  const bytes = size(s) * 8;
  // Encrypting zeros yields the raw keystream. In one piece, the cipher's own output
  // buffer becomes the tensor; a longer stream goes in chunks into one array.
  if (bytes <= KEYSTREAM_CHUNK) return new RingTensor(words(cipher.update(zeroBytes(bytes))), s);
  const data = new BigInt64Array(bytes / 8);
  const out = new Uint8Array(data.buffer);
  for (let at = 0; at < bytes; at += KEYSTREAM_CHUNK) {
    out.set(cipher.update(zeroBytes(Math.min(KEYSTREAM_CHUNK, bytes - at))), at);
  }
  return new RingTensor(data, s);
}

/**
 * `plain` XORed with the keystream of `expand(seed, ., stream)` (AES-128-CTR
 * encryption), in a new buffer: for kernels that lay out the values to mask
 * and let the cipher mask them, so that the keystream is never stored apart.
 *
 * @example
 * ```ts
 * const masked = xorKeystream(seed, 0, toBytes(x)); // toBytes(x) ^ toBytes(expand(seed, x.shape, 0))
 * ```
 */
export function xorKeystream(seed: Uint8Array, stream: number | bigint, plain: Uint8Array): Uint8Array {
  return keystreamXor(seed, stream)(plain);
}

/**
 * xorKeystream piece by piece: each call masks the next bytes with the
 * keystream that follows the previous call's.
 *
 * @example
 * ```ts
 * const mask = keystreamXor(seed, 0);
 * const head = mask(first);
 * const tail = mask(second);   // head, tail = xorKeystream(seed, 0, first ++ second)
 * ```
 */
export function keystreamXor(seed: Uint8Array, stream: number | bigint): (plain: Uint8Array) => Uint8Array {
  const cipher = cipherFor(seed, stream, "xorKeystream");
  return (plain) => timed("prg.xor", () => maskWith(cipher, plain));
}

function maskWith(cipher: Cipher, plain: Uint8Array): Uint8Array {
  if (!(plain instanceof Uint8Array))
    throw argumentError(`xorKeystream: expected the bytes to mask as a Uint8Array, got ${describe(plain)}.`, {
      op: "xorKeystream",
    });
  if (plain.byteLength <= MAX_FILL) return cipher.update(plain);
  const out = new Uint8Array(plain.byteLength);
  for (let at = 0; at < plain.byteLength; at += MAX_FILL) out.set(cipher.update(plain.subarray(at, at + MAX_FILL)), at);
  return out;
}

/**
 * The keystream itself, `bytes` long (xorKeystream of zeros), in a new buffer.
 *
 * @example
 * ```ts
 * keystream(seed, 1, 16); // the bytes of expand(seed, [2], 1)
 * ```
 */
export function keystream(seed: Uint8Array, stream: number | bigint, bytes: number): Uint8Array {
  if (bytes <= KEYSTREAM_CHUNK) return xorKeystream(seed, stream, zeroBytes(bytes));
  return new Uint8Array(expand(seed, [bytes / 8], stream).data.buffer);
}

/** AES-128-CTR keyed by `seed`, counter block = stream (big-endian u64) || block index (u64). */
function cipherFor(seed: Uint8Array, stream: number | bigint, op: string): Cipher {
  if (!(seed instanceof Uint8Array) || seed.byteLength !== SEED_BYTES) {
    throw argumentError(
      `${op}: expected a ${SEED_BYTES}-byte Uint8Array seed (from randomSeed()), got ${describe(seed)}` +
        `${seed instanceof Uint8Array ? ` of ${seed.byteLength} bytes` : ""}.`,
      { op },
    );
  }
  const id = typeof stream === "bigint" ? stream : Number.isSafeInteger(stream) ? BigInt(stream) : -1n;
  if (id < 0n || id >= 1n << 64n) {
    throw argumentError(`${op}: expected a stream id in [0, 2^64), got ${describe(stream)}.`, { op });
  }
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64BE(id, 0);
  return createCipheriv("aes-128-ctr", seed, iv);
}

/** Keystream bytes as elements: in place when aligned (the cipher's output is a fresh buffer), else copied. */
function words(bytes: Uint8Array): BigInt64Array {
  if (bytes.byteOffset % 8 === 0) return new BigInt64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
  const data = new BigInt64Array(bytes.byteLength / 8);
  new Uint8Array(data.buffer).set(bytes);
  return data;
}
