/**
 * The globals Node code expects, for the browser bundle (esbuild injects these where code uses them):
 * `Buffer` and `process`.
 *
 * @example
 * ```ts
 * Buffer.from("hi").toString("base64url");   // "aGk"
 * ```
 */
export { Buffer } from "./buffer";
export { process } from "./process";
