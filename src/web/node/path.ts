/**
 * POSIX `path` for the browser bundle: the few functions library code calls while locating files
 * (which in the browser are only what fs.ts embeds).
 *
 * @example
 * ```ts
 * join("/", "build", "ring.wasm");   // "/build/ring.wasm"
 * ```
 */
export const sep = "/";

function normalize(p: string): string {
  const absolute = p.startsWith("/");
  const parts: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return (absolute ? "/" : "") + parts.join("/");
}

export function join(...parts: string[]): string {
  return normalize(parts.filter((p) => p !== "").join("/")) || ".";
}

export function resolve(...parts: string[]): string {
  let out = "/";
  for (const p of parts) out = p.startsWith("/") ? p : `${out}/${p}`;
  return normalize(out) || "/";
}

export function dirname(p: string): string {
  const n = normalize(p);
  const at = n.lastIndexOf("/");
  return at <= 0 ? (n.startsWith("/") ? "/" : ".") : n.slice(0, at);
}

export function basename(p: string): string {
  return normalize(p).split("/").pop() ?? "";
}

export default { sep, join, resolve, dirname, basename };
