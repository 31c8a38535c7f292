/**
 * The browser bundle's file system: the files it embeds, read-only. It holds build/ring.wasm (the ring
 * kernels, about 4 KB), so `RingWasm.load()` works unchanged; any other path is ENOENT.
 *
 * @example
 * ```ts
 * readFileSync("/build/ring.wasm").byteLength;   // the embedded module's size
 * ```
 */
import ringWasm from "../../../build/ring.wasm";
import { Buffer } from "./buffer";

const files: Record<string, Uint8Array> = { "build/ring.wasm": ringWasm };

function lookup(path: string): Uint8Array | undefined {
  const name = Object.keys(files).find((f) => path === f || path.endsWith(`/${f}`));
  return name === undefined ? undefined : files[name];
}

function missing(path: string): Error {
  return Object.assign(new Error(`ENOENT: no such file in the browser bundle, open '${path}'`), { code: "ENOENT" });
}

export function existsSync(path: string): boolean {
  return lookup(String(path)) !== undefined;
}

export function readFileSync(path: string, encoding?: string | { encoding?: string }): Buffer | string {
  const bytes = lookup(String(path));
  if (!bytes) throw missing(String(path));
  const buffer = Buffer.from(bytes);
  const enc = typeof encoding === "string" ? encoding : encoding?.encoding;
  return enc ? buffer.toString(enc as BufferEncoding) : buffer;
}

export default { existsSync, readFileSync };
