/**
 * `node:crypto` for the browser bundle: the part the client path calls, on the browser's
 * `crypto.getRandomValues` and the audited pure-JS @noble packages (synchronous, as Node's calls
 * are; WebCrypto's are async). Node keeps node:crypto itself: this file is only in the bundle.
 *
 * Covered: randomBytes, randomFillSync, randomUUID, createHash("sha256"), createHmac("sha256"),
 * timingSafeEqual, createCipheriv("aes-128-ctr") as a stream, and Ed25519 keys (generateKeyPairSync,
 * createPrivateKey from PKCS#8 DER, createPublicKey, export as DER, sign, verify).
 *
 * @example
 * ```ts
 * createHash("sha256").update("abc").digest("hex");   // "ba7816bf..."
 * ```
 */
import { ctr } from "@noble/ciphers/aes.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { hmac } from "@noble/hashes/hmac.js";
import { Buffer } from "./buffer";

type Data = string | Uint8Array;

const bytesOf = (data: Data): Uint8Array => (typeof data === "string" ? Buffer.from(data, "utf8") : data);

function unsupported(what: string): Error {
  return new Error(`${what} is not available in tsyft's browser build (only what the client path uses is).`);
}

/** getRandomValues fills at most 65536 bytes a call. */
export function randomFillSync<T extends ArrayBufferView>(view: T, offset = 0, size?: number): T {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  const end = size === undefined ? bytes.length : offset + size;
  for (let at = offset; at < end; at += 65536)
    globalThis.crypto.getRandomValues(bytes.subarray(at, Math.min(end, at + 65536)));
  return view;
}

export function randomBytes(size: number): Buffer {
  return randomFillSync(Buffer.alloc(size));
}

export function randomUUID(): string {
  return globalThis.crypto.randomUUID();
}

/** A Node-style hash or hmac: update() any number of times, then digest(). */
class Digest {
  private readonly parts: Uint8Array[] = [];

  constructor(private readonly finish: (data: Uint8Array) => Uint8Array) {}

  update(data: Data): this {
    this.parts.push(bytesOf(data));
    return this;
  }

  digest(): Buffer;
  digest(encoding: BufferEncoding): string;
  digest(encoding?: BufferEncoding): Buffer | string {
    const out = Buffer.from(this.finish(Buffer.concat(this.parts)));
    return encoding ? out.toString(encoding) : out;
  }
}

export function createHash(algorithm: string): Digest {
  if (algorithm !== "sha256") throw unsupported(`createHash("${algorithm}")`);
  return new Digest((data) => sha256(data));
}

export function createHmac(algorithm: string, key: Data): Digest {
  if (algorithm !== "sha256") throw unsupported(`createHmac("${algorithm}")`);
  return new Digest((data) => hmac(sha256, bytesOf(key), data));
}

export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) throw new RangeError("Input buffers must have the same byte length");
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** The counter block `blocks` blocks after `iv` (a 128-bit big-endian counter, as OpenSSL's CTR mode). */
function counterAt(iv: Uint8Array, blocks: number): Uint8Array {
  const out = new Uint8Array(iv);
  let carry = blocks;
  for (let i = 15; i >= 0 && carry > 0; i--) {
    const sum = out[i]! + (carry % 256);
    out[i] = sum & 0xff;
    carry = Math.floor(carry / 256) + (sum >> 8);
  }
  return out;
}

/** AES-128-CTR as Node's Cipher: successive update() calls continue one keystream. */
class CtrStream {
  private position = 0;

  constructor(
    private readonly key: Uint8Array,
    private readonly iv: Uint8Array,
  ) {}

  update(data: Uint8Array): Buffer {
    const skip = this.position % 16;
    const padded = new Uint8Array(skip + data.length);
    padded.set(data, skip);
    const out = ctr(this.key, counterAt(this.iv, Math.floor(this.position / 16))).encrypt(padded);
    this.position += data.length;
    return Buffer.from(out.buffer, out.byteOffset + skip, data.length);
  }

  final(): Buffer {
    return Buffer.alloc(0);
  }
}

export type Cipher = CtrStream;

export function createCipheriv(algorithm: string, key: Uint8Array, iv: Uint8Array): CtrStream {
  if (algorithm !== "aes-128-ctr") throw unsupported(`createCipheriv("${algorithm}")`);
  return new CtrStream(new Uint8Array(key), new Uint8Array(iv));
}

/** DER prefixes that wrap a raw 32-byte Ed25519 key (RFC 8410), as keys.ts writes them. */
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** An Ed25519 KeyObject: the 32-byte seed (private) or point (public). */
export class KeyObject {
  constructor(
    readonly type: "private" | "public",
    readonly raw: Uint8Array,
  ) {}

  export(options: { format: "der"; type: "pkcs8" | "spki" }): Buffer {
    if (options.format !== "der") throw unsupported(`KeyObject.export({ format: "${options.format}" })`);
    return Buffer.concat([this.type === "private" ? PKCS8_PREFIX : SPKI_PREFIX, this.raw]);
  }
}

function rawFromDer(der: Uint8Array, prefix: Uint8Array, what: string): Uint8Array {
  if (der.length !== prefix.length + 32 || !timingSafeEqual(der.subarray(0, prefix.length), prefix))
    throw new Error(`${what}: expected a DER-wrapped Ed25519 key.`);
  return new Uint8Array(der.subarray(prefix.length));
}

export function createPrivateKey(options: { key: Uint8Array; format: "der"; type: "pkcs8" }): KeyObject {
  return new KeyObject("private", rawFromDer(options.key, PKCS8_PREFIX, "createPrivateKey"));
}

export function createPublicKey(key: KeyObject | { key: Uint8Array; format: "der"; type: "spki" }): KeyObject {
  if (key instanceof KeyObject)
    return key.type === "public" ? key : new KeyObject("public", ed25519.getPublicKey(key.raw));
  const raw = rawFromDer(key.key, SPKI_PREFIX, "createPublicKey");
  ed25519.Point.fromBytes(raw); // throws for bytes that are no point, as Node does
  return new KeyObject("public", raw);
}

export function generateKeyPairSync(type: string): { privateKey: KeyObject; publicKey: KeyObject } {
  if (type !== "ed25519") throw unsupported(`generateKeyPairSync("${type}")`);
  const privateKey = new KeyObject("private", randomBytes(32));
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

export function sign(algorithm: null, data: Uint8Array, key: KeyObject): Buffer {
  if (algorithm !== null || key.type !== "private") throw unsupported("sign with anything but an Ed25519 private key");
  return Buffer.from(ed25519.sign(data, key.raw));
}

export function verify(algorithm: null, data: Uint8Array, key: KeyObject, signature: Uint8Array): boolean {
  if (algorithm !== null) throw unsupported("verify with a digest algorithm");
  return ed25519.verify(signature, data, key.raw);
}
