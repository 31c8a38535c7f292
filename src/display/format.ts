/**
 * Shared formatting for the display helpers: cell values, plain-text tables.
 */
import { inspect } from "node:util";
import { escapeHtml } from "../core/display-protocol";

/** A short text form of one table cell or tensor value. */
export function formatValue(value: unknown, maxLength = 60): string {
  let text: string;
  if (value === null) text = "null";
  else if (value === undefined) text = "";
  else if (typeof value === "number") text = formatNumber(value);
  else if (typeof value === "bigint") text = `${value}n`;
  else if (typeof value === "string") text = value;
  else if (value instanceof Date) text = Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  else text = inspect(value, { depth: 1, breakLength: Infinity, maxArrayLength: 8, colors: false });
  return truncate(text.replace(/\s*\n\s*/g, " "), maxLength);
}

/** Integers as they are; other numbers with up to 6 significant digits. */
export function formatNumber(value: number, digits = 6): string {
  if (!Number.isFinite(value) || Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-4)) return value.toExponential(digits - 1).replace(/\.?0+e/, "e");
  return String(Number(value.toPrecision(digits)));
}

export function truncate(text: string, maxLength: number): string {
  return text.length <= maxLength ? text : text.slice(0, Math.max(0, maxLength - 1)) + "…";
}

/** Columns aligned with two spaces; numbers right-aligned. */
export function plainTable(header: string[], rows: string[][], numeric: boolean[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric[i] ? (c ?? "").padStart(widths[i]) : (c ?? "").padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** A fresh id for display_data outputs that may be updated later. */
export function newDisplayId(): string {
  return `tsyft-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Inline CSS shared by the HTML renderings (Jupyter strips <style> in some frontends). */
export const TABLE_STYLE = "border-collapse:collapse;font-family:monospace;font-size:12px";
export const CELL_STYLE = "border:1px solid #ddd;padding:2px 6px;text-align:right";
export const HEAD_STYLE = "border:1px solid #ddd;padding:2px 6px;background:#f5f5f5;text-align:center";
export const CAPTION_STYLE = "text-align:left;color:#666;font-size:11px;padding-top:2px";

/**
 * A table's HTML with its caption under it as a block of its own: a `<caption>` is as wide as its table, so
 * under a one-column tensor it wrapped on every word ("Tensor / shape [1] / · float32 / · 1 value").
 */
export function withCaption(tableHtml: string, caption: string): string {
  return `${tableHtml}<div class="tsyft-caption" style="${CAPTION_STYLE}">${escapeHtml(caption)}</div>`;
}
