/**
 * The prediction chart: a vega-lite bar chart of the class probabilities (softmax of the logits),
 * compiled and rendered here with vega and vega-lite from the bundle (no CDN).
 *
 * @example
 * ```ts
 * await drawChart(document.querySelector("#chart")!, ["bkl", "mel"], [0.8, 0.2]);
 * ```
 */
import { View, parse } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** Softmax, stable for large logits. */
export function softmax(logits: readonly number[]): number[] {
  const top = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - top));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

let current: View | undefined;

/**
 * Draws one bar per class into `element`, the predicted one highlighted; replaces the chart before.
 *
 * @example
 * ```ts
 * await drawChart(element, ["0", "1"], [0.1, 0.9]);
 * ```
 */
export async function drawChart(
  element: HTMLElement,
  labels: readonly string[],
  values: readonly number[],
  title = "probability",
): Promise<void> {
  const best = values.indexOf(Math.max(...values));
  const spec: TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    width: 360,
    height: Math.max(60, 24 * labels.length),
    data: { values: labels.map((label, i) => ({ label, value: values[i], predicted: i === best })) },
    mark: { type: "bar", tooltip: true },
    encoding: {
      y: { field: "label", type: "nominal", sort: null, title: "class" },
      x: { field: "value", type: "quantitative", title },
      color: { field: "predicted", type: "nominal", legend: null, scale: { range: ["#9db4d0", "#d9480f"] } },
    },
  };
  current?.finalize();
  current = new View(parse(compile(spec).spec), { renderer: "svg", container: element, hover: true });
  await current.runAsync();
}
