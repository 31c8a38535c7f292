/**
 * `display(obj)`: shows a value as a notebook output now, with a handle to
 * redraw it in place later.
 */
import { inspect } from "node:util";
import { DISPLAY, isDisplayable, kernelBridge, type MimeBundle } from "../core/display-protocol";
import { newDisplayId } from "./format";

export interface DisplayOptions {
  /** Id of the output, to update it later (one is made up when absent). */
  displayId?: string;
  /** Output metadata (e.g. `{ "image/png": { width: 200 } }`). */
  metadata?: Record<string, unknown>;
}

/** A displayed output that can be redrawn in place. */
export interface DisplayHandle {
  readonly displayId: string;
  /** Replaces the output with the rendering of `obj` (update_display_data). */
  update(obj: unknown): void;
}

/**
 * The MIME bundle of any value: its own `[DISPLAY]()` bundle when it has one
 * (plus text/plain when missing), a string as is, anything else as
 * util.inspect prints it.
 *
 * @example
 * ```ts
 * sy.mimeBundle(sy.html("<b>hi</b>"));   // { "text/html": "<b>hi</b>", "text/plain": "hi" }
 * sy.mimeBundle({ a: 1 });                // { "text/plain": "{ a: 1 }" }
 * ```
 */
export function mimeBundle(obj: unknown): MimeBundle {
  if (isDisplayable(obj)) {
    const bundle = obj[DISPLAY]();
    if (typeof bundle?.["text/plain"] === "string") return bundle;
    return { ...bundle, "text/plain": inspect(obj, { depth: 2, colors: false }) };
  }
  if (typeof obj === "string") return { "text/plain": obj };
  return { "text/plain": inspect(obj, { depth: 3, colors: false, maxArrayLength: 100 }) };
}

/**
 * Shows `obj` as a notebook output (display_data) and returns a handle whose
 * `update(next)` redraws the same output in place. Outside a kernel (plain
 * Node, scripts) it prints the text/plain form instead.
 *
 * @example
 * ```ts
 * const h = sy.display(sy.html("<i>training…</i>"));
 * // ... later, same output slot:
 * h.update(sy.html("<b>done</b>"));
 * ```
 */
export function display(obj: unknown, options: DisplayOptions = {}): DisplayHandle {
  const displayId = options.displayId ?? newDisplayId();
  const bundle = mimeBundle(obj);
  const bridge = kernelBridge();
  if (bridge) bridge.display(bundle, { displayId, metadata: options.metadata });
  else console.log(bundle["text/plain"]);
  return {
    displayId,
    update(next: unknown): void {
      const nextBundle = mimeBundle(next);
      const current = kernelBridge();
      if (current) current.updateDisplay(nextBundle, { displayId, metadata: options.metadata });
      else console.log(nextBundle["text/plain"]);
    },
  };
}

/**
 * Redraws an output shown earlier with `display(obj, { displayId })`.
 *
 * @example
 * ```ts
 * sy.display("step 1", { displayId: "status" });
 * sy.updateDisplay("step 2", "status");
 * ```
 */
export function updateDisplay(obj: unknown, displayId: string): void {
  const bundle = mimeBundle(obj);
  const bridge = kernelBridge();
  if (bridge) bridge.updateDisplay(bundle, { displayId });
  else console.log(bundle["text/plain"]);
}
