/**
 * The domain's tables (datasets, assets, users, requests) as MIME bundles: an
 * HTML table, and aligned text for terminals. Kept here rather than taken from
 * src/display so that the domain's client stays free of the notebook display
 * stack (charts, vega) that it would pull in.
 *
 * @example
 * ```ts
 * htmlTable(["Idx", "Name"], [[0, "IDC"]], "1 dataset");   // { "text/plain": ..., "text/html": "<table>..." }
 * ```
 */
import { escapeHtml, type MimeBundle } from "../core/display-protocol";

/** A table as text/html and text/plain. */
export function htmlTable(
  head: readonly string[],
  rows: readonly (readonly unknown[])[],
  caption?: string,
): MimeBundle {
  const cells = rows.map((row) => row.map(cellText));
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: readonly string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join(" | ");
  const plain = [line(head), widths.map((w) => "-".repeat(w)).join("-+-"), ...cells.map(line)].join("\n");
  const th = head.map((h) => `<th style="text-align:left">${escapeHtml(h)}</th>`).join("");
  const tr = cells.map((r) => `<tr>${r.map((c) => `<td style="text-align:left">${escapeHtml(c)}</td>`).join("")}</tr>`);
  const cap = caption ? `<caption style="caption-side:bottom">${escapeHtml(caption)}</caption>` : "";
  return {
    "text/plain": caption ? `${plain}\n${caption}` : plain,
    "text/html": `<table>${cap}<thead><tr>${th}</tr></thead><tbody>${tr.join("")}</tbody></table>`,
  };
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return `[${value.join(", ")}]`;
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toPrecision(4);
  return String(value);
}
