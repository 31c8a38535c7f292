/** `html(str)`: raw HTML as a notebook output. */
import { DISPLAY, type Displayable, type MimeBundle } from "../core/display-protocol";

/**
 * A piece of HTML that renders as such in notebooks; made by {@link html}.
 *
 * @example
 * ```ts
 * String(sy.html("<b>bold</b>"));   // "bold"
 * ```
 */
export class Html implements Displayable {
  constructor(readonly html: string) {}

  /** The text a plain-text frontend shows: the HTML without tags or entities. */
  toString(): string {
    return htmlToText(this.html);
  }

  [DISPLAY](): MimeBundle {
    return { "text/html": this.html, "text/plain": this.toString() };
  }
}

/**
 * Wraps an HTML string so notebooks render it (text/html, with a text/plain
 * fallback that strips the tags).
 *
 * @example
 * ```ts
 * sy.html("<b>alice</b> holds <code>x</code>")   // last expression of a cell: rendered
 * sy.display(sy.html("<hr/>"));                   // anywhere in a cell
 * ```
 */
export function html(markup: string): Html {
  if (typeof markup !== "string") throw new TypeError(`html() takes a string of HTML, got ${typeof markup}`);
  return new Html(markup);
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", nbsp: " " };

/**
 * Strips tags and decodes the common entities; block tags become line breaks.
 *
 * @example
 * ```ts
 * sy.htmlToText("<p>a &amp; b</p><p>c</p>");   // "a & b\nc"
 * ```
 */
export function htmlToText(markup: string): string {
  return markup
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, "")
    .replace(/<br\s*\/?>|<\/(p|div|tr|li|h[1-6])>/gi, "\n")
    .replace(/<[^>]*>/g, "")
    .replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_, e: string) => ENTITIES[e])
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}
