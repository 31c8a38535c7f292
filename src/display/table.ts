/**
 * `table(rows | arquero table)`: a data table as an HTML table (text/html)
 * and aligned text (text/plain), showing the first `maxRows` rows.
 */
import { DISPLAY, escapeHtml, type Displayable, type MimeBundle } from "../core/display-protocol";
import { ErrorCode, TsyftError } from "../core/errors";
import { CELL_STYLE, HEAD_STYLE, TABLE_STYLE, formatValue, plainTable, withCaption } from "./format";

/** What `table` needs from an arquero table (ColumnTable). */
export interface ArqueroLike {
  columnNames(): string[];
  numRows(): number;
  objects(options?: { limit?: number }): object[];
}

export type TableRows = ReadonlyArray<Record<string, unknown>> | ReadonlyArray<ReadonlyArray<unknown>>;

export interface TableOptions {
  /** Rows shown (default 20); the caption says how many there are. */
  maxRows?: number;
  /** Column names: picks and orders object columns, or names array columns. */
  columns?: string[];
  /** Text under the table. */
  caption?: string;
}

/**
 * Whether `value` looks like an arquero table (what `table` accepts besides rows).
 *
 * @example
 * ```ts
 * sy.isArqueroTable(aq.table({ a: [1] }));   // true
 * sy.isArqueroTable([{ a: 1 }]);             // false
 * ```
 */
export function isArqueroTable(value: unknown): value is ArqueroLike {
  const t = value as Partial<ArqueroLike> | null;
  return (
    !!t &&
    typeof t === "object" &&
    typeof t.columnNames === "function" &&
    typeof t.numRows === "function" &&
    typeof t.objects === "function"
  );
}

/**
 * A table ready to render; made by {@link table}.
 *
 * @example
 * ```ts
 * const t = sy.table(rows, { maxRows: 5 });
 * t.totalRows;      // rows in the data
 * t.toString();     // the aligned text form
 * ```
 */
export class DataTable implements Displayable {
  readonly columns: string[];
  /** The rows shown (at most maxRows). */
  readonly rows: unknown[][];
  /** Rows in the data. */
  readonly totalRows: number;
  readonly caption?: string;

  constructor(columns: string[], rows: unknown[][], totalRows: number, caption?: string) {
    this.columns = columns;
    this.rows = rows;
    this.totalRows = totalRows;
    this.caption = caption;
  }

  private isNumeric(): boolean[] {
    return this.columns.map(
      (_, c) =>
        this.rows.length > 0 &&
        this.rows.every((r) => r[c] == null || typeof r[c] === "number" || typeof r[c] === "bigint"),
    );
  }

  private captionText(): string {
    const shown =
      this.rows.length < this.totalRows
        ? `first ${this.rows.length} of ${this.totalRows} rows`
        : `${this.totalRows} row${this.totalRows === 1 ? "" : "s"}`;
    const size = `${shown} × ${this.columns.length} column${this.columns.length === 1 ? "" : "s"}`;
    return this.caption ? `${this.caption} (${size})` : size;
  }

  toHtml(): string {
    const numeric = this.isNumeric();
    const head = ["", ...this.columns].map((c) => `<th style="${HEAD_STYLE}">${escapeHtml(c)}</th>`).join("");
    const body = this.rows
      .map((row, i) => {
        const cells = row
          .map(
            (v, c) =>
              `<td style="${CELL_STYLE}${numeric[c] ? "" : ";text-align:left"}">${escapeHtml(formatValue(v, 200))}</td>`,
          )
          .join("");
        return `<tr><th style="${HEAD_STYLE}">${i}</th>${cells}</tr>`;
      })
      .join("");
    const more =
      this.rows.length < this.totalRows
        ? `<tr><td style="${CELL_STYLE};text-align:center" colspan="${this.columns.length + 1}">…</td></tr>`
        : "";
    return withCaption(
      `<table class="tsyft-table" style="${TABLE_STYLE}"><thead><tr>${head}</tr></thead><tbody>${body}${more}</tbody></table>`,
      this.captionText(),
    );
  }

  toString(): string {
    const rows = this.rows.map((row, i) => [String(i), ...row.map((v) => formatValue(v, 40))]);
    const text = plainTable(["", ...this.columns], rows, [true, ...this.isNumeric()]);
    return `${text}\n${this.rows.length < this.totalRows ? "…\n" : ""}(${this.captionText()})`;
  }

  [DISPLAY](): MimeBundle {
    return { "text/html": this.toHtml(), "text/plain": this.toString() };
  }
}

/**
 * A table of rows (objects or arrays) or of an arquero table, rendered as an
 * HTML table with a plain-text twin. Shows the first `maxRows` rows (20).
 *
 * @example
 * ```ts
 * import * as aq from "arquero";
 * const dt = aq.table({ lesion: ["bkl", "mel"], n: [519, 555] });
 * sy.table(dt)                                         // last expression: rendered
 * sy.display(sy.table([{ worker: "bob", shares: 2 }], { caption: "holders" }));
 * ```
 */
export function table(data: TableRows | ArqueroLike, options: TableOptions = {}): DataTable {
  const maxRows = options.maxRows ?? 20;
  if (!Number.isInteger(maxRows) || maxRows < 0) {
    throw new TsyftError(
      ErrorCode.INVALID_ARGUMENT,
      `table(): maxRows must be a non-negative integer, got ${maxRows}.`,
    );
  }
  if (isArqueroTable(data)) {
    const columns = options.columns ?? data.columnNames();
    const objects = data.objects({ limit: maxRows }) as Array<Record<string, unknown>>;
    return new DataTable(
      columns,
      objects.map((o) => columns.map((c) => o[c])),
      data.numRows(),
      options.caption,
    );
  }
  if (!Array.isArray(data)) {
    throw new TsyftError(
      ErrorCode.INVALID_ARGUMENT,
      `table() takes an array of rows or an arquero table, got ${data === null ? "null" : typeof data}. Pass rows like [{ a: 1 }, { a: 2 }].`,
    );
  }
  const shown = data.slice(0, maxRows);
  if (data.length > 0 && Array.isArray(data[0])) {
    const width = Math.max(0, ...shown.map((r) => (r as unknown[]).length));
    const columns = options.columns ?? Array.from({ length: width }, (_, i) => String(i));
    return new DataTable(
      columns,
      shown.map((r) => columns.map((_, i) => (r as unknown[])[i])),
      data.length,
      options.caption,
    );
  }
  const columns = options.columns ?? columnsOf(shown as ReadonlyArray<Record<string, unknown>>);
  const rows = (shown as ReadonlyArray<Record<string, unknown>>).map((r) =>
    columns.map((c) => (r == null ? undefined : r[c])),
  );
  return new DataTable(columns, rows, data.length, options.caption);
}

/** Keys of the rows, in order of first appearance. */
function columnsOf(rows: ReadonlyArray<Record<string, unknown>>): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row ?? {})) seen.add(key);
  return [...seen];
}
