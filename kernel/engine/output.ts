/**
 * Where a cell's output goes, in the execution worker: console output (writes
 * to process.stdout and stderr) and display calls become messages to the main
 * thread, tagged with the id of the cell they belong to.
 *
 * Display calls come through the bridge at `globalThis[Symbol.for("tsyft.kernel")]`
 * (see src/core/display-protocol.ts for the contract) and through tslab's own
 * display API, so `tslab.display.html(...)` works in cells too.
 */
import type { FromWorker } from "./messages";
import { bundleOf, sanitizeBundle, sanitizeMetadata } from "./repr";

/**
 * TF.js's CPU backend prints, on first use in Node, a banner urging to install tfjs-node: a native package
 * that cannot be installed here and that tsyft does not need (sy.useWasmBackend is the fast path). Dropped.
 */
const TFJS_NODE_BANNER = /looks like you are running TensorFlow\.js in Node\.js\. To speed things up dramatically/;

interface DisplayOptions {
  displayId?: string;
  metadata?: Record<string, unknown>;
}

/**
 * Takes over stdout, stderr and the display APIs for the rest of the worker's life.
 *
 * @param activeId the id of the cell output belongs to now (the running one, else the last one).
 * @returns `warn`, which writes a line to the active cell's stderr.
 */
export function captureOutput(post: (message: FromWorker) => void, activeId: () => number): (text: string) => void {
  const warn = (text: string): void => post({ type: "stream", id: activeId(), name: "stderr", text });

  for (const name of ["stdout", "stderr"] as const) {
    const stream = process[name] as NodeJS.WriteStream;
    stream.write = function write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
      const text =
        typeof chunk === "string"
          ? chunk
          : Buffer.from(chunk as Uint8Array).toString(
              typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8",
            );
      if (text.length > 0 && !(name === "stderr" && TFJS_NODE_BANNER.test(text)))
        post({ type: "stream", id: activeId(), name, text });
      const done = typeof encoding === "function" ? encoding : callback;
      if (typeof done === "function") process.nextTick(done as () => void);
      return true;
    } as typeof stream.write;
  }

  const sendDisplay = (bundle: unknown, options: DisplayOptions | undefined, update: boolean): void => {
    const data =
      bundle && typeof bundle === "object" && !Array.isArray(bundle)
        ? sanitizeBundle(bundle as Record<string, unknown>)
        : bundleOf(bundle, warn);
    const displayId = options?.displayId === undefined ? undefined : String(options.displayId);
    if (update && displayId === undefined) throw new TypeError("updateDisplay needs options.displayId");
    post({ type: "display", id: activeId(), data, metadata: sanitizeMetadata(options?.metadata), displayId, update });
  };

  (globalThis as Record<symbol, unknown>)[Symbol.for("tsyft.kernel")] = Object.freeze({
    display: (bundle: unknown, options?: DisplayOptions) => sendDisplay(bundle, options, false),
    updateDisplay: (bundle: unknown, options: DisplayOptions) => sendDisplay(bundle, options, true),
  });

  try {
    const jupyter = require("tslab/dist/jupyter");
    jupyter.lastWriteDisplayData = (
      content: {
        data: Record<string, unknown>;
        metadata?: Record<string, unknown>;
        transient?: { display_id?: string };
      },
      update: boolean,
    ) => sendDisplay(content.data, { displayId: content.transient?.display_id, metadata: content.metadata }, update);
  } catch {
    // tslab's display API stays unavailable; tsyft's works regardless.
  }
  return warn;
}
