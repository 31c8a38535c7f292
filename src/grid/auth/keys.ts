/**
 * Ed25519 keys, the one kind of key in a grid: the admin's (whose public key
 * is the grid key), each node's, each user's, and the ephemeral key of an
 * anonymous client. Public keys travel as base64url of their 32 raw bytes.
 *
 * @example
 * ```ts
 * const pair = generateKeyPair();
 * const sig = signBytes(pair, new TextEncoder().encode("hello"));
 * verifyBytes(pair.publicKey, new TextEncoder().encode("hello"), sig);   // true
 * ```
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from "node:crypto";
import { AuthError, ErrorCode } from "../../core/errors";

/** DER prefixes that wrap a raw 32-byte Ed25519 key (RFC 8410). */
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** A key pair: the private key object and the public key as base64url. */
export interface KeyPair {
  privateKey: KeyObject;
  /** base64url of the raw 32-byte public key. */
  publicKey: string;
}

/**
 * A fresh key pair.
 *
 * @example
 * ```ts
 * const { publicKey } = generateKeyPair();   // 43 base64url characters
 * ```
 */
export function generateKeyPair(): KeyPair {
  const { privateKey } = generateKeyPairSync("ed25519");
  return { privateKey, publicKey: rawPublicKey(privateKey) };
}

/**
 * The 32-byte seed of a private key, base64url (what tokens and identity files hold).
 *
 * @example
 * ```ts
 * keyPairFromSeed(seedOf(pair.privateKey)).publicKey === pair.publicKey;   // true
 * ```
 */
export function seedOf(privateKey: KeyObject): string {
  const der = privateKey.export({ format: "der", type: "pkcs8" });
  return der.subarray(der.length - 32).toString("base64url");
}

/**
 * The key pair of a base64url seed; throws TSYFT_ERR_AUTH when it is not one.
 *
 * @example
 * ```ts
 * const pair = keyPairFromSeed(seed);
 * ```
 */
export function keyPairFromSeed(seed: string, what = "key"): KeyPair {
  const raw = Buffer.from(seed, "base64url");
  if (raw.length !== 32 || raw.toString("base64url") !== seed) {
    throw new AuthError(ErrorCode.AUTH, `Malformed ${what}: expected 32 bytes in base64url.`);
  }
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: "der", type: "pkcs8" });
  return { privateKey, publicKey: rawPublicKey(privateKey) };
}

function rawPublicKey(privateKey: KeyObject): string {
  const der = createPublicKey(privateKey).export({ format: "der", type: "spki" });
  return der.subarray(der.length - 32).toString("base64url");
}

const publicKeys = new Map<string, KeyObject>();

/** The KeyObject of a base64url public key (cached); undefined when it is not one. */
function publicKeyObject(publicKey: string): KeyObject | undefined {
  let key = publicKeys.get(publicKey);
  if (key) return key;
  const raw = typeof publicKey === "string" ? Buffer.from(publicKey, "base64url") : Buffer.alloc(0);
  if (raw.length !== 32) return undefined;
  try {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: "der", type: "spki" });
  } catch {
    return undefined;
  }
  if (publicKeys.size > 4096) publicKeys.clear();
  publicKeys.set(publicKey, key);
  return key;
}

/**
 * Signs bytes with a key pair's private key.
 *
 * @example
 * ```ts
 * const sig = signBytes(pair, bytes);   // 64 bytes
 * ```
 */
export function signBytes(pair: KeyPair, data: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, data, pair.privateKey));
}

/**
 * Whether `signature` is `publicKey`'s signature of `data`; false for anything malformed.
 *
 * @example
 * ```ts
 * verifyBytes(pair.publicKey, bytes, sig);   // true
 * ```
 */
export function verifyBytes(publicKey: string, data: Uint8Array, signature: unknown): boolean {
  const key = publicKeyObject(publicKey);
  if (!key || !(signature instanceof Uint8Array) || signature.length !== 64) return false;
  try {
    return verify(null, data, key, signature);
  } catch {
    return false;
  }
}

/**
 * A short, stable name for a public key: the first 16 hex digits of its sha256.
 *
 * @example
 * ```ts
 * fingerprint(pair.publicKey);   // "3f9a0c..." (16 characters)
 * ```
 */
export function fingerprint(publicKey: string): string {
  return createHash("sha256").update(Buffer.from(publicKey, "base64url")).digest("hex").slice(0, 16);
}
