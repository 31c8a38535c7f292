/**
 * How a value is shown: the MIME bundle of a cell's last expression and of
 * `display(...)` calls.
 *
 * `text/plain` is always there (Node's util.inspect, like the REPL); objects
 * with a method under `Symbol.for("tsyft.display")` add richer types. The
 * kernel looks the method up by the registered symbol, so it needs no import
 * of the library (the kernel depends on tslab, never on src/).
 */
import * as util from "util";
import type { MimeBundle } from "./messages";

const DISPLAY = Symbol.for("tsyft.display");

/** Options for util.inspect: enough to read, bounded for huge values. */
const INSPECT: util.InspectOptions = {
  depth: 3,
  maxArrayLength: 100,
  maxStringLength: 10_000,
  breakLength: 100,
  colors: false,
};

/** The plain-text form of any value. */
export function plainText(value: unknown): string {
  try {
    return util.inspect(value, INSPECT);
  } catch (error) {
    return `<value that could not be inspected: ${(error as Error)?.message ?? String(error)}>`;
  }
}

/** The full bundle of a value; `warn` receives problems of a failing display method. */
export function bundleOf(value: unknown, warn: (text: string) => void): MimeBundle {
  const rich = richBundle(value, warn);
  const text = typeof rich?.["text/plain"] === "string" ? (rich["text/plain"] as string) : plainText(value);
  return sanitizeBundle({ ...rich, "text/plain": text });
}

function richBundle(value: unknown, warn: (text: string) => void): MimeBundle | undefined {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return undefined;
  let method: unknown;
  try {
    method = (value as Record<symbol, unknown>)[DISPLAY];
  } catch {
    return undefined;
  }
  if (typeof method !== "function") return undefined;
  try {
    const bundle = (method as () => unknown).call(value);
    if (bundle && typeof bundle === "object") return bundle as MimeBundle;
    warn(`[Symbol.for("tsyft.display")] returned ${plainText(bundle)}, not a MIME bundle; showing text/plain.\n`);
  } catch (error) {
    warn(`[Symbol.for("tsyft.display")] threw ${plainText(error)}; showing text/plain.\n`);
  }
  return undefined;
}

/**
 * Makes a bundle safe for JSON and for postMessage: strings stay, bytes become
 * base64 (as Jupyter expects for image/png), JSON types are deep-copied.
 */
export function sanitizeBundle(bundle: MimeBundle): MimeBundle {
  const out: MimeBundle = {};
  for (const [mime, value] of Object.entries(bundle)) {
    if (value === undefined) continue;
    if (typeof value === "string") out[mime] = value;
    else if (value instanceof Uint8Array)
      out[mime] = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
    else {
      try {
        out[mime] = JSON.parse(JSON.stringify(value));
      } catch {
        out[mime] = String(value);
      }
    }
  }
  if (typeof out["text/plain"] !== "string") out["text/plain"] = fallbackText(out);
  return out;
}

/** A text/plain form for bundles that lack one (tslab's display API sends single types). */
function fallbackText(bundle: MimeBundle): string {
  const html = bundle["text/html"];
  if (typeof html === "string") {
    const text = html
      .replace(/<[^>]*>/g, "")
      .replace(/\s+/g, " ")
      .trim();
    if (text) return text;
  }
  return `<${Object.keys(bundle).join(", ") || "empty"} output>`;
}

/** Deep-copies display metadata to plain JSON. */
export function sanitizeMetadata(metadata: unknown): Record<string, unknown> {
  if (!metadata || typeof metadata !== "object") return {};
  try {
    return JSON.parse(JSON.stringify(metadata));
  } catch {
    return {};
  }
}
