/**
 * A PNG rendering beside every SVG output.
 *
 * Classic Jupyter shows SVG and HTML only in trusted notebooks; a notebook
 * written by `npm start` or received from someone else is not trusted, and its
 * charts vanished (only the text/plain summary was left). Images are always
 * shown, so each bundle with `image/svg+xml` also gets `image/png`, drawn by
 * sharp (librsvg) at twice the size and shown at the SVG's width. Frontends
 * that render SVG still prefer it; JupyterLab still draws the Vega-Lite spec.
 */
import type { FromWorker, MimeBundle } from "./messages";

type Sharp = typeof import("sharp").default;
let sharpModule: Sharp | undefined | null;

function sharp(): Sharp | undefined {
  if (sharpModule === undefined) {
    try {
      // Loaded on the first SVG: the kernel starts without it, and a missing native build only costs the PNG.
      const loaded = require("sharp") as Sharp & { default?: Sharp };
      sharpModule = loaded.default ?? loaded;
    } catch {
      sharpModule = null; // no PNG then; the SVG and text stay
    }
  }
  return sharpModule ?? undefined;
}

/** Whether the bundle has an SVG and no PNG yet. */
export function wantsPng(bundle: MimeBundle | undefined): boolean {
  return !!bundle && typeof bundle["image/svg+xml"] === "string" && bundle["image/png"] === undefined;
}

/**
 * The bundle with a base64 `image/png` of its SVG, and display metadata giving
 * the PNG the SVG's width; unchanged when the SVG cannot be drawn.
 *
 * @example
 * ```ts
 * const { data } = await withPng({ "image/svg+xml": svg, "text/plain": "chart" }, {});
 * typeof data["image/png"];   // "string" (base64)
 * ```
 */
export async function withPng(
  bundle: MimeBundle,
  metadata: Record<string, unknown>,
): Promise<{ data: MimeBundle; metadata: Record<string, unknown> }> {
  const draw = sharp();
  const svg = bundle["image/svg+xml"];
  if (!draw || typeof svg !== "string") return { data: bundle, metadata };
  try {
    const png = await draw(Buffer.from(svg), { density: 144 }).flatten({ background: "#ffffff" }).png().toBuffer();
    const width = /<svg\b[^>]*?\swidth="(\d+(?:\.\d+)?)"/.exec(svg)?.[1];
    const pngMetadata = width ? { "image/png": { width: Math.round(Number(width)) } } : {};
    return { data: { ...bundle, "image/png": png.toString("base64") }, metadata: { ...metadata, ...pngMetadata } };
  } catch {
    return { data: bundle, metadata };
  }
}

/** The bundle a message carries: a display's, or a cell result's. */
function bundleOf(message: FromWorker): MimeBundle | undefined {
  if (message.type === "display") return message.data;
  if (message.type === "done" && message.outcome.status === "ok") return message.outcome.data;
  return undefined;
}

async function addPng(message: FromWorker): Promise<FromWorker> {
  if (message.type === "display") {
    const { data, metadata } = await withPng(message.data, message.metadata);
    return { ...message, data, metadata };
  }
  if (message.type === "done" && message.outcome.status === "ok" && message.outcome.data) {
    const { data, metadata } = await withPng(message.outcome.data, message.outcome.metadata ?? {});
    return { ...message, outcome: { ...message.outcome, data, metadata } };
  }
  return message;
}

/**
 * Wraps the worker's `send` so that bundles with an SVG get their PNG first;
 * messages behind one wait for it, so output keeps its order. Messages go out
 * at once (synchronously) whenever nothing is waiting.
 *
 * @example
 * ```ts
 * const post = postingWithPng((m) => parentPort!.postMessage(m));
 * ```
 */
export function postingWithPng(send: (message: FromWorker) => void): (message: FromWorker) => void {
  let waiting = 0;
  let outbox: Promise<void> = Promise.resolve();
  return (message) => {
    const convert = wantsPng(bundleOf(message));
    if (waiting === 0 && !convert) {
      send(message);
      return;
    }
    waiting++;
    outbox = outbox
      .then(async () => send(convert ? await addPng(message) : message))
      .catch(() => send(message))
      .finally(() => waiting--);
  };
}
