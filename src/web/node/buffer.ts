/**
 * Node's `Buffer` in the browser bundle (injected as a global by scripts/build-web.mjs): the `buffer`
 * package, plus the "base64url" encoding that its 6.x lacks and that keys, tokens and proofs use.
 *
 * @example
 * ```ts
 * Buffer.from([251, 255]).toString("base64url");   // "-_8"
 * ```
 */
import { Buffer as Base } from "buffer";

type Encoding = Parameters<Base["toString"]>[0];

const toUrl = (base64: string) => base64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const fromUrl = (url: string) => url.replace(/-/g, "+").replace(/_/g, "/");

const baseFrom = Base.from.bind(Base) as (value: unknown, encoding?: unknown, length?: unknown) => Base;
const baseToString = Base.prototype.toString;
const baseByteLength = Base.byteLength.bind(Base) as (value: unknown, encoding?: unknown) => number;

// Patched once, on the bundle's own copy of the package: nothing outside the bundle sees it.
Object.assign(Base, {
  from: (value: unknown, encoding?: unknown, length?: unknown) =>
    encoding === "base64url" && typeof value === "string"
      ? baseFrom(fromUrl(value), "base64")
      : baseFrom(value, encoding, length),
  byteLength: (value: unknown, encoding?: unknown) =>
    encoding === "base64url" && typeof value === "string"
      ? baseFrom(fromUrl(value), "base64").length
      : baseByteLength(value, encoding),
});
Base.prototype.toString = function toString(this: Base, encoding?: string, start?: number, end?: number): string {
  if (encoding === "base64url") return toUrl(baseToString.call(this, "base64", start, end));
  return baseToString.call(this, encoding as Encoding, start, end);
};

export const Buffer = Base;
