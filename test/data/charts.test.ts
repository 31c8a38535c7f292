import * as aq from "arquero";
import { compile, type TopLevelSpec } from "vega-lite";
import { beforeAll, describe, expect, it } from "vitest";
import { DataError, ErrorCode } from "../../src/core/errors";
import {
  barChart,
  classBalanceChart,
  confusionMatrixChart,
  histogramChart,
  imageGridChart,
  trainingCurvesChart,
  VEGA_LITE_SCHEMA,
} from "../../src/data/charts";
import { Dataset } from "../../src/data/dataset";
import { readSkinCancerDataset, SKIN_CANCER_CLASSES } from "../../src/data/ham10000";
import { loadMnist } from "../../src/data/mnist";
import { classificationReport, confusionMatrix } from "../../src/data/metrics";
import { HAM10000_MEAN, HAM10000_STD, normalize } from "../../src/data/transforms";
import { hasHam10000 } from "./helpers";

/** Compiles a spec to vega and returns the inlined data values of its first dataset. */
function compiles(spec: TopLevelSpec): void {
  expect(spec.$schema).toBe(VEGA_LITE_SCHEMA);
  const warnings: string[] = [];
  const logger = {
    level: () => logger,
    error: (...args: unknown[]) => {
      throw new Error(`vega-lite error: ${args.join(" ")}`);
    },
    warn: (...args: unknown[]) => {
      warnings.push(args.join(" "));
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  };
  const { spec: vega } = compile(JSON.parse(JSON.stringify(spec)) as TopLevelSpec, { logger: logger as never });
  expect(vega.$schema).toMatch(/vega\/v5/);
  expect(warnings).toEqual([]);
}

function values(spec: TopLevelSpec): Record<string, unknown>[] {
  return ((spec as { data: { values: Record<string, unknown>[] } }).data.values);
}

/** A small table like the HAM10000 one, for when the real data is absent. */
const small = aq.from([
  { dx: "bkl", label: 0, age: 45, localization: "back" },
  { dx: "mel", label: 1, age: 70, localization: "face" },
  { dx: "mel", label: 1, age: null, localization: "back" },
  { dx: "bkl", label: 0, age: 60, localization: "trunk" },
  { dx: "bkl", label: 0, age: 35.5, localization: "back" },
]);

describe("confusionMatrix", () => {
  it("counts matrix[true][pred] and checks its input", () => {
    expect(confusionMatrix([0, 0, 1, 1], [0, 1, 1, 1], 2)).toEqual([[1, 1], [0, 2]]);
    expect(confusionMatrix(Int32Array.from([2, 0]), Int32Array.from([2, 2]), 3)).toEqual([[0, 0, 1], [0, 0, 0], [0, 0, 1]]);
    expect(() => confusionMatrix([0, 2], [0, 1], 2)).toThrow(DataError);
    expect(() => confusionMatrix([0], [0, 1], 2)).toThrow(/yTrue has 1/);
    const report = classificationReport([[1, 1], [0, 2]]);
    expect(report.accuracy).toBe(0.75);
    expect(report.recall).toEqual([0.5, 1]);
    expect(report.precision[0]).toBe(1);
    expect(report.precision[1]).toBeCloseTo(2 / 3);
  });
});

describe("chart specs compile with vega-lite", () => {
  it("classBalanceChart", () => {
    const spec = classBalanceChart(small, "dx");
    compiles(spec);
    expect(values(spec)).toEqual([
      { class: "bkl", count: 3, caption: "3 (60.0%)" },
      { class: "mel", count: 2, caption: "2 (40.0%)" },
    ]);
    const named = classBalanceChart(small, "label", { classNames: SKIN_CANCER_CLASSES });
    compiles(named);
    expect(values(named).map((v) => v.class)).toEqual(["bkl", "mel"]);
    expect(() => classBalanceChart(small, "nope")).toThrow(/no column "nope"/);
  });

  it("histogramChart, plain and coloured", () => {
    const spec = histogramChart(small, "age");
    compiles(spec);
    expect(values(spec)).toEqual([{ value: 45 }, { value: 70 }, { value: 60 }, { value: 35.5 }]);
    compiles(histogramChart(small, "age", { color: "dx", maxbins: 10, title: "Age" }));
  });

  it("barChart, most frequent first", () => {
    const spec = barChart(small, "localization");
    compiles(spec);
    expect(values(spec)).toEqual([
      { category: "back", count: 3 },
      { category: "face", count: 1 },
      { category: "trunk", count: 1 },
    ]);
    expect(values(barChart(small, "localization", { limit: 1 }))).toHaveLength(1);
  });

  it("trainingCurvesChart", () => {
    const history = [1, 2, 3].flatMap((epoch) => [
      { epoch, split: "train", metric: "loss", value: 1 / epoch },
      { epoch, split: "valid", metric: "loss", value: 1.2 / epoch },
      { epoch, split: "valid", metric: "accuracy", value: 0.5 + epoch / 10 },
    ]);
    const spec = trainingCurvesChart(history);
    compiles(spec);
    expect(values(spec)).toHaveLength(9);
  });

  it("confusionMatrixChart", () => {
    const spec = confusionMatrixChart(["bkl", "mel"], [[50, 8], [12, 37]]);
    compiles(spec);
    expect(values(spec)).toContainEqual({ actual: "mel", predicted: "bkl", count: 12, fraction: 12 / 49 });
    compiles(confusionMatrixChart(["a", "b", "c"], [[1, 0, 0], [0, 1, 0], [0, 0, 0]], { normalize: true }));
    expect(() => confusionMatrixChart(["a", "b"], [[1, 2]])).toThrow(DataError);
  });

  it("imageGridChart of MNIST digits (PNG data URLs in image marks)", async () => {
    const mnist = await loadMnist({ limit: 6 });
    const images = Array.from({ length: 6 }, (_, i) => ({ image: mnist.images.subarray(i * 784, (i + 1) * 784), shape: [28, 28] }));
    const spec = await imageGridChart(images, { labels: Array.from(mnist.labels), columns: 3, size: 56 });
    compiles(spec);
    const cells = (spec as { concat: { data: { values: { url: string }[] }; title: { text: string } }[] }).concat;
    expect(cells).toHaveLength(6);
    expect(cells.every((c) => c.data.values[0]!.url.startsWith("data:image/png;base64,"))).toBe(true);
    expect(cells.map((c) => c.title.text)).toEqual(Array.from(mnist.labels, String));
    await expect(imageGridChart(images, { labels: ["1"] })).rejects.toMatchObject({ code: ErrorCode.SHAPE_MISMATCH });
  });
});

describe.skipIf(!hasHam10000)("chart specs on the real HAM10000 table", () => {
  let table: aq.ColumnTable;
  beforeAll(async () => {
    table = await readSkinCancerDataset();
  });

  it("class balance, ages and localizations compile", () => {
    const balance = classBalanceChart(table, "dx");
    compiles(balance);
    expect(values(balance).map((v) => v.count)).toEqual([583, 491]);
    compiles(histogramChart(table, "age", { color: "dx" }));
    const places = barChart(table, "localization");
    compiles(places);
    expect(values(places)[0]).toEqual({ category: "back", count: 244 });
  });

  it("a grid of normalized lesion images, denormalized for display, compiles", async () => {
    const ds = new Dataset(table.slice(0, 4), { size: 32, transform: normalize(HAM10000_MEAN, HAM10000_STD) });
    const samples = await Promise.all([0, 1, 2, 3].map((i) => ds.get(i)));
    const spec = await imageGridChart(samples, {
      labels: samples.map((s) => SKIN_CANCER_CLASSES[s.label]!),
      columns: 2,
      denormalize: { mean: HAM10000_MEAN, std: HAM10000_STD },
    });
    compiles(spec);
  });
});
