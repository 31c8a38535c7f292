/**
 * The rich-display protocol shared by the library and the kernel.
 *
 * An object that wants a rich rendering in notebooks has a method under
 * `Symbol.for("tsyft.display")` returning a MIME bundle (`text/plain` always,
 * plus `text/html`, `image/svg+xml`, `application/vnd.vegalite.v5+json`, ...).
 * The kernel looks the method up by the registered symbol, so it needs no
 * import of the library, and any package can take part.
 *
 * The kernel in turn publishes a bridge under `Symbol.for("tsyft.kernel")` on
 * `globalThis` through which `sy.display(obj)` sends `display_data` and
 * `update_display_data`. Outside a kernel there is no bridge and `sy.display`
 * prints the `text/plain` form.
 */

/** Key of the method returning an object's MIME bundle. */
export const DISPLAY = Symbol.for("tsyft.display");

/** Key on `globalThis` of the kernel's display bridge. */
export const KERNEL_BRIDGE = Symbol.for("tsyft.kernel");

/** A MIME bundle: MIME type to data (string, or JSON for `+json` types). */
export type MimeBundle = Record<string, unknown> & { "text/plain": string };

/** Objects that render themselves. */
export interface Displayable {
  [DISPLAY](): MimeBundle;
}

/** What the kernel offers the library while a cell runs. */
export interface KernelBridge {
  /** Sends `display_data`; with `displayId` the output can later be updated in place. */
  display(bundle: MimeBundle, options?: { displayId?: string; metadata?: Record<string, unknown> }): void;
  /** Sends `update_display_data` for an output shown earlier with `displayId`. */
  updateDisplay(bundle: MimeBundle, options: { displayId: string; metadata?: Record<string, unknown> }): void;
}

export function isDisplayable(value: unknown): value is Displayable {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as Record<symbol, unknown>)[DISPLAY] === "function"
  );
}

/** The kernel's bridge, when running inside the tsyft kernel or notebook runner. */
export function kernelBridge(): KernelBridge | undefined {
  return (globalThis as Record<symbol, unknown>)[KERNEL_BRIDGE] as KernelBridge | undefined;
}

/** Escapes text for HTML renderings. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}
