/**
 * Rendering of TensorFlow.js tensors: an HTML grid of values with a
 * shape/dtype caption (large tensors show their corners), and tf's own
 * `toString()` as text/plain.
 */
import { escapeHtml, type MimeBundle } from "../core/display-protocol";
import { CELL_STYLE, HEAD_STYLE, TABLE_STYLE, formatNumber, withCaption } from "./format";

/** The part of tf.Tensor the renderer uses. */
export interface RenderableTensor {
  readonly shape: number[];
  readonly dtype: string;
  readonly size: number;
  readonly isDisposed: boolean;
  dataSync(): ArrayLike<number | string | boolean> | Uint8Array[];
  toString(verbose?: boolean): string;
}

export interface TensorRenderOptions {
  /** Rows shown before the middle is elided (default 20: first 10 and last 10). */
  maxRows?: number;
  /** Columns shown before the middle is elided (default 12). */
  maxCols?: number;
}

/** Indices to show out of `n`: all, or the first and last halves of `max` with a gap (-1). */
function pick(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const head = Math.ceil(max / 2);
  const tail = Math.floor(max / 2);
  return [...Array.from({ length: head }, (_, i) => i), -1, ...Array.from({ length: tail }, (_, i) => n - tail + i)];
}

function formatCell(value: unknown, dtype: string): string {
  if (dtype === "bool") return value ? "true" : "false";
  if (typeof value === "number") return dtype === "int32" ? String(value) : formatNumber(value, 4);
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return String(value);
}

/** Row label of a flattened leading index: `[i, j]` for rank > 2. */
function rowLabel(row: number, leading: number[]): string {
  if (leading.length <= 1) return String(row);
  const index: number[] = [];
  for (let d = leading.length - 1; d >= 0; d--) {
    index.unshift(row % leading[d]);
    row = Math.floor(row / leading[d]);
  }
  return `[${index.join(", ")}]`;
}

/**
 * The HTML grid of a tensor's values: rank 0-2 as they are, higher ranks with
 * the leading dimensions flattened into labelled rows (`[i, j]`); the middle of
 * large tensors is elided.
 *
 * @example
 * ```ts
 * sy.display(sy.html(sy.tensorHtml(tf.randomNormal([100, 100]), { maxRows: 6, maxCols: 6 })));
 * ```
 */
export function tensorHtml(tensor: RenderableTensor, options: TensorRenderOptions = {}): string {
  const shape = tensor.shape;
  const caption = `Tensor shape [${shape.join(", ")}] · ${tensor.dtype} · ${tensor.size} value${tensor.size === 1 ? "" : "s"}`;
  const values = tensor.dataSync() as ArrayLike<unknown>;
  const cols = shape.length === 0 ? 1 : shape[shape.length - 1];
  const leading = shape.slice(0, -1);
  const rows = shape.length === 0 ? 1 : leading.reduce((a, b) => a * b, 1);
  const rowIdx = pick(rows, options.maxRows ?? 20);
  const colIdx = pick(cols, options.maxCols ?? 12);
  const dots = `<td style="${CELL_STYLE};text-align:center">…</td>`;
  const head =
    shape.length === 0
      ? ""
      : `<thead><tr><th style="${HEAD_STYLE}"></th>${colIdx.map((c) => `<th style="${HEAD_STYLE}">${c < 0 ? "…" : c}</th>`).join("")}</tr></thead>`;
  const body = rowIdx
    .map((r) => {
      if (r < 0) return `<tr><th style="${HEAD_STYLE}">…</th>${colIdx.map(() => dots).join("")}</tr>`;
      const label = shape.length === 0 ? "" : `<th style="${HEAD_STYLE}">${escapeHtml(rowLabel(r, leading))}</th>`;
      const cells = colIdx
        .map((c) =>
          c < 0 ? dots : `<td style="${CELL_STYLE}">${escapeHtml(formatCell(values[r * cols + c], tensor.dtype))}</td>`,
        )
        .join("");
      return `<tr>${label}${cells}</tr>`;
    })
    .join("");
  return withCaption(
    `<table class="tsyft-tensor" style="${TABLE_STYLE}">${head}<tbody>${body}</tbody></table>`,
    caption,
  );
}

/**
 * The bundle of a tensor: {@link tensorHtml} and tf's `toString()` (used as
 * tf.Tensor.prototype[DISPLAY] by installDisplays).
 *
 * @example
 * ```ts
 * sy.tensorBundle(tf.tensor([1, 2]))["text/plain"];   // "Tensor\n    [1, 2]"
 * ```
 */
export function tensorBundle(tensor: RenderableTensor, options: TensorRenderOptions = {}): MimeBundle {
  if (tensor.isDisposed) {
    const text = `Tensor (disposed) shape [${tensor.shape.join(", ")}] ${tensor.dtype}`;
    return { "text/plain": text, "text/html": `<code>${escapeHtml(text)}</code>` };
  }
  return { "text/html": tensorHtml(tensor, options), "text/plain": tensor.toString() };
}
