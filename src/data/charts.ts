/**
 * Vega-lite v5 chart specs for the tutorials: plain JSON objects with their data inlined, to be
 * shown by any vega-lite renderer (the tsyft kernel, JupyterLab, vega-embed).
 *
 * Data is reduced here (counts, bins' raw values, matrices) so a spec stays small whatever the
 * table's size. Fields are renamed to fixed keys in the inlined data, so column names with dots
 * or spaces need no escaping.
 */
import type * as aq from "arquero";
import type { TopLevelSpec } from "vega-lite";
import { DataError, ErrorCode } from "../core/errors";
import { toPngDataUrl } from "./image";
import { denormalize } from "./transforms";

/**
 * The vega-lite v5 JSON schema, the `$schema` of every spec made here.
 *
 * @example
 * ```ts
 * barChart(table, "localization").$schema === VEGA_LITE_SCHEMA;   // true
 * ```
 */
export const VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

/** Options shared by the charts. */
export interface ChartOptions {
  /** Chart title (default: one naming the field). */
  readonly title?: string;
  /** Plot width in pixels. */
  readonly width?: number;
  /** Plot height in pixels. */
  readonly height?: number;
}

/**
 * Bars of the number of rows per class, labelled with counts and percentages.
 * `classNames` names integer classes (`["bkl", "mel"]` for the `label` column).
 *
 * @example
 * ```ts
 * classBalanceChart(table, "dx");                                          // bkl 583 (54.3%), mel 491 (45.7%)
 * classBalanceChart(train, "label", { classNames: SKIN_CANCER_CLASSES });
 * ```
 */
export function classBalanceChart(
  table: aq.Table,
  field: string,
  options: ChartOptions & { readonly classNames?: readonly string[] } = {},
): TopLevelSpec {
  const counts = countBy(table, field);
  const total = counts.reduce((sum, c) => sum + c.count, 0);
  const values = counts.map(({ key, count }) => ({
    class: typeof key === "number" && options.classNames?.[key] !== undefined ? options.classNames[key] : displayKey(key),
    count,
    caption: `${count} (${((100 * count) / Math.max(1, total)).toFixed(1)}%)`,
  }));
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title ?? `Class balance: ${field} (${total} rows)`,
    width: options.width ?? Math.max(160, 60 * values.length),
    height: options.height ?? 220,
    data: { values },
    encoding: {
      x: { field: "class", type: "nominal", title: field, axis: { labelAngle: 0 }, sort: values.map((v) => v.class) },
      y: { field: "count", type: "quantitative", title: "rows" },
    },
    layer: [
      { mark: { type: "bar" }, encoding: { color: { field: "class", type: "nominal", legend: null } } },
      { mark: { type: "text", dy: -8 }, encoding: { text: { field: "caption", type: "nominal" } } },
    ],
  };
}

/**
 * A histogram of a numeric column (nulls and non-numbers left out), stacked by `color` when given.
 *
 * @example
 * ```ts
 * histogramChart(table, "age", { color: "dx", maxbins: 20 });
 * ```
 */
export function histogramChart(
  table: aq.Table,
  field: string,
  options: ChartOptions & { readonly maxbins?: number; readonly color?: string } = {},
): TopLevelSpec {
  checkColumns(table, options.color === undefined ? [field] : [field, options.color]);
  const raw = table.array(field);
  const groups = options.color === undefined ? undefined : table.array(options.color);
  const values: { value: number; group?: string }[] = [];
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i];
    if (typeof v !== "number" || !Number.isFinite(v)) continue;
    values.push(groups === undefined ? { value: v } : { value: v, group: displayKey(groups[i]) });
  }
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title ?? `Distribution of ${field} (${values.length} values)`,
    width: options.width ?? 360,
    height: options.height ?? 220,
    data: { values },
    mark: { type: "bar", tooltip: true },
    encoding: {
      x: { field: "value", type: "quantitative", bin: { maxbins: options.maxbins ?? 30 }, title: field },
      y: { aggregate: "count", type: "quantitative", title: "rows" },
      ...(options.color === undefined ? {} : { color: { field: "group", type: "nominal" as const, title: options.color } }),
    },
  };
}

/**
 * Horizontal bars of the number of rows per value of a column, most frequent first
 * (e.g. lesion localizations). `limit` keeps the most frequent values.
 *
 * @example
 * ```ts
 * barChart(table, "localization");
 * ```
 */
export function barChart(table: aq.Table, field: string, options: ChartOptions & { readonly limit?: number } = {}): TopLevelSpec {
  const counts = countBy(table, field).sort((a, b) => b.count - a.count || displayKey(a.key).localeCompare(displayKey(b.key)));
  const kept = options.limit === undefined ? counts : counts.slice(0, options.limit);
  const values = kept.map(({ key, count }) => ({ category: displayKey(key), count }));
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title ?? `Rows per ${field}`,
    width: options.width ?? 320,
    height: options.height ?? Math.max(60, 18 * values.length),
    data: { values },
    encoding: {
      y: { field: "category", type: "nominal", title: field, sort: values.map((v) => v.category) },
      x: { field: "count", type: "quantitative", title: "rows" },
    },
    layer: [
      { mark: { type: "bar", tooltip: true } },
      { mark: { type: "text", align: "left", dx: 3 }, encoding: { text: { field: "count", type: "quantitative" } } },
    ],
  };
}

/** One point of a training history. */
export interface HistoryPoint {
  readonly epoch: number;
  /** e.g. "train", "valid". */
  readonly split: string;
  /** e.g. "loss", "accuracy". */
  readonly metric: string;
  readonly value: number;
}

/**
 * Training curves: one panel per metric, one line per split, epochs on x.
 *
 * @example
 * ```ts
 * trainingCurvesChart([
 *   { epoch: 1, split: "train", metric: "loss", value: 0.69 },
 *   { epoch: 1, split: "valid", metric: "loss", value: 0.66 },
 *   { epoch: 1, split: "valid", metric: "accuracy", value: 0.61 },
 * ]);
 * ```
 */
export function trainingCurvesChart(history: readonly HistoryPoint[], options: ChartOptions = {}): TopLevelSpec {
  const values = history.map(({ epoch, split, metric, value }) => ({ epoch, split, metric, value }));
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title ?? "Training curves",
    data: { values },
    facet: { column: { field: "metric", type: "nominal", title: null } },
    spec: {
      width: options.width ?? 260,
      height: options.height ?? 200,
      mark: { type: "line", point: true, tooltip: true },
      encoding: {
        x: { field: "epoch", type: "quantitative", axis: { tickMinStep: 1, format: "d" } },
        y: { field: "value", type: "quantitative", scale: { zero: false }, title: null },
        color: { field: "split", type: "nominal" },
      },
    },
    resolve: { scale: { y: "independent" } },
  };
}

/**
 * A confusion-matrix heatmap (`matrix[true][pred]`, as {@link confusionMatrix} returns) with counts
 * written in the cells; `normalize` colours by the fraction of each true class.
 *
 * @example
 * ```ts
 * confusionMatrixChart(["bkl", "mel"], confusionMatrix(yTrue, yPred, 2));
 * ```
 */
export function confusionMatrixChart(
  labels: readonly string[],
  matrix: readonly (readonly number[])[],
  options: ChartOptions & { readonly normalize?: boolean } = {},
): TopLevelSpec {
  if (matrix.length !== labels.length || matrix.some((row) => row.length !== labels.length)) {
    throw new DataError(
      ErrorCode.SHAPE_MISMATCH,
      `confusionMatrixChart: ${labels.length} labels need a ${labels.length}x${labels.length} matrix, got rows of lengths [${matrix.map((r) => r.length).join(", ")}].`,
    );
  }
  const values = matrix.flatMap((row, t) => {
    const support = row.reduce((a, b) => a + b, 0);
    return row.map((count, p) => ({
      actual: labels[t]!,
      predicted: labels[p]!,
      count,
      fraction: support === 0 ? 0 : count / support,
    }));
  });
  const colorField = options.normalize ? "fraction" : "count";
  const colorMax = Math.max(...values.map((v) => v[colorField]), 0);
  const side = Math.max(120, 60 * labels.length);
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title ?? "Confusion matrix",
    width: options.width ?? side,
    height: options.height ?? side,
    data: { values },
    encoding: {
      x: { field: "predicted", type: "nominal", sort: [...labels], axis: { labelAngle: 0, orient: "top" } },
      y: { field: "actual", type: "nominal", sort: [...labels] },
    },
    layer: [
      {
        mark: { type: "rect", tooltip: true },
        encoding: { color: { field: colorField, type: "quantitative", scale: { scheme: "blues", domainMin: 0 } } },
      },
      {
        mark: { type: "text", fontSize: 14 },
        encoding: {
          text: { field: "count", type: "quantitative" },
          color: { condition: { test: `datum.${colorField} > ${colorMax / 2}`, value: "white" }, value: "black" },
        },
      },
    ],
  };
}

/** An image to draw: HWC floats (or [H, W] greyscale) in [0, 1] (or normalized, see `denormalize`). */
export interface ImageLike {
  readonly image: Float32Array;
  readonly shape: readonly number[];
}

/** Options of {@link imageGridChart}. */
export interface ImageGridOptions {
  /** A caption per image (e.g. class names). */
  readonly labels?: readonly (string | number)[];
  /** Images per row (default 8). */
  readonly columns?: number;
  /** Displayed size of each image in pixels (default 64). */
  readonly size?: number;
  /** Undo a normalization before drawing. */
  readonly denormalize?: { readonly mean: readonly number[]; readonly std: readonly number[] };
  readonly title?: string;
}

/**
 * A grid of images, each a PNG data URL (made with sharp) in a vega-lite image mark, with
 * optional captions. Pixels are enlarged with nearest-neighbour so small images stay sharp.
 *
 * @example
 * ```ts
 * const samples = await Promise.all([0, 1, 2, 3].map((i) => dataset.get(i)));
 * await imageGridChart(samples, { labels: samples.map((s) => SKIN_CANCER_CLASSES[s.label]), columns: 4 });
 * ```
 */
export async function imageGridChart(images: readonly ImageLike[], options: ImageGridOptions = {}): Promise<TopLevelSpec> {
  const size = options.size ?? 64;
  const columns = options.columns ?? 8;
  if (!Number.isInteger(columns) || columns < 1 || !Number.isInteger(size) || size < 1) {
    throw new DataError(ErrorCode.INVALID_ARGUMENT, `imageGridChart: columns and size must be positive integers, got ${columns} and ${size}.`);
  }
  if (options.labels !== undefined && options.labels.length !== images.length) {
    throw new DataError(ErrorCode.SHAPE_MISMATCH, `imageGridChart: ${images.length} images but ${options.labels.length} labels.`);
  }
  const undo = options.denormalize ? denormalize(options.denormalize.mean, options.denormalize.std) : undefined;
  const urls = await Promise.all(
    images.map(({ image, shape }) => {
      const hwc = shape.length === 2 ? [shape[0]!, shape[1]!, 1] : [...shape];
      const pixels = undo ? undo({ image, shape: [hwc[0]!, hwc[1]!, hwc[2]!], label: 0 }).image : image;
      return toPngDataUrl(pixels, hwc, { scale: Math.max(1, Math.ceil(size / Math.max(hwc[0]!, hwc[1]!))) });
    }),
  );
  const cells = urls.map((url, i) => ({
    width: size,
    height: size,
    ...(options.labels === undefined ? {} : { title: { text: String(options.labels[i]), fontSize: 11, offset: 2 } }),
    data: { values: [{ url }] },
    mark: { type: "image" as const, width: size, height: size, align: "left" as const, baseline: "top" as const },
    encoding: {
      url: { field: "url", type: "nominal" as const },
      x: { value: 0 },
      y: { value: 0 },
    },
  }));
  return {
    $schema: VEGA_LITE_SCHEMA,
    ...(options.title === undefined ? {} : { title: options.title }),
    columns,
    spacing: 4,
    concat: cells,
    config: { view: { stroke: null } },
  };
}

/** Row counts per value of a column, sorted by value. */
function countBy(table: aq.Table, field: string): { key: unknown; count: number }[] {
  checkColumns(table, [field]);
  const counts = new Map<unknown, number>();
  const values = table.array(field);
  for (let i = 0; i < values.length; i++) counts.set(values[i], (counts.get(values[i]) ?? 0) + 1);
  return [...counts].map(([key, count]) => ({ key, count })).sort((a, b) => compareKeys(a.key, b.key));
}

function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return displayKey(a).localeCompare(displayKey(b));
}

function displayKey(key: unknown): string {
  return key === null || key === undefined || key === "" ? "(missing)" : String(key);
}

function checkColumns(table: aq.Table, fields: readonly string[]): void {
  const names = table.columnNames();
  for (const field of fields) {
    if (!names.includes(field)) {
      throw new DataError(ErrorCode.INVALID_ARGUMENT, `The table has no column "${field}"; it has ${names.join(", ")}.`);
    }
  }
}
