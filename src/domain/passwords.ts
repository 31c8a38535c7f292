/**
 * Password hashes: scrypt (node:crypto) with a random salt, its parameters
 * stored with the hash so they can be raised later without breaking old
 * accounts; compared in constant time.
 *
 * Format: `scrypt$<N>$<r>$<p>$<salt b64url>$<hash b64url>`.
 *
 * @example
 * ```ts
 * const stored = await hashPassword("changethis");
 * await verifyPassword("changethis", stored);   // true
 * ```
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

/** N = 2^15, r = 8, p = 1: 32 MiB and tens of ms per login; kept with each hash, so a release can raise them. */
const DEFAULT = { N: 2 ** 15, r: 8, p: 1 };
const KEY_BYTES = 32;

function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize("NFC"), salt, KEY_BYTES, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/**
 * A new salted scrypt hash of `password`.
 *
 * @example
 * ```ts
 * (await hashPassword("s3cret")).startsWith("scrypt$");   // true
 * ```
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, DEFAULT);
  return ["scrypt", DEFAULT.N, DEFAULT.r, DEFAULT.p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

/**
 * Whether `password` matches a stored hash (false for a malformed one).
 *
 * @example
 * ```ts
 * await verifyPassword("wrong", stored);   // false
 * ```
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (scheme !== "scrypt" || !Object.values(params).every((v) => Number.isInteger(v) && v > 0) || !salt || !hash) {
    return false;
  }
  const expected = Buffer.from(hash, "base64url");
  const key = await derive(password, Buffer.from(salt, "base64url"), params);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash to compare against when the email is unknown, so that an unknown email takes as long as a wrong password. */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString("base64url"));
  return decoy;
}
