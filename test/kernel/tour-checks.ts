/**
 * What an executed notebooks/00-kernel-tour.ipynb must contain, whoever ran
 * it (nbconvert through Jupyter, or the headless runner).
 */
import { expect } from "vitest";
import { text } from "./helpers";

interface Output {
  output_type: string;
  data?: Record<string, unknown>;
  name?: string;
  text?: unknown;
  ename?: string;
  evalue?: string;
  traceback?: string[];
  execution_count?: number;
}

interface Cell {
  cell_type: string;
  source: unknown;
  metadata: { tags?: string[] };
  outputs?: Output[];
  execution_count?: number | null;
}

export function checkExecutedTour(notebook: { cells: Cell[]; metadata: Record<string, unknown> }): void {
  const code = notebook.cells.filter((c) => c.cell_type === "code");
  expect(code.length).toBeGreaterThanOrEqual(8);

  // every code cell ran, in order, and its count is saved
  expect(code.map((c) => c.execution_count)).toEqual(code.map((_, i) => i + 1));
  for (const cell of code) {
    for (const output of cell.outputs ?? []) {
      if (output.output_type === "execute_result") expect(output.execution_count).toBe(cell.execution_count);
    }
  }

  const outputs = code.flatMap((c) => c.outputs ?? []);
  const html = (o: Output) => text(o.data?.["text/html"]);

  // a rich table (sy.table of an arquero table)
  const tables = outputs.filter((o) => html(o).includes('class="tsyft-table"'));
  expect(tables.length, "a text/html table").toBeGreaterThan(0);
  expect(html(tables[0])).toContain("<th");
  expect(html(tables[0])).toContain("crypto provider");
  expect(text(tables[0].data?.["text/plain"])).toContain("charlie");

  // a tensor rendered as HTML with its shape and dtype
  const tensors = outputs.filter((o) => html(o).includes('class="tsyft-tensor"'));
  expect(tensors.length, "a tensor with an HTML representation").toBeGreaterThan(0);
  expect(html(tensors[0])).toContain("shape [2, 3]");
  expect(html(tensors[0])).toContain("float32");
  expect(html(tensors[0])).toContain("-2.25");
  expect(text(tensors[0].data?.["text/plain"])).toContain("Tensor");

  // a vega-lite chart with its SVG
  const charts = outputs.filter((o) => o.data?.["application/vnd.vegalite.v5+json"]);
  expect(charts.length, "a vega-lite bundle").toBeGreaterThan(0);
  const spec = charts[0].data!["application/vnd.vegalite.v5+json"] as Record<string, unknown>;
  expect(String(spec.$schema)).toContain("vega-lite/v5");
  const svg = text(charts[0].data!["image/svg+xml"]);
  expect(svg).toContain("<svg");
  expect(svg).toContain("</svg>");
  expect(svg).toContain("fractional bits");

  // a progress bar, displayed once and updated in place to its final state
  const bars = outputs.filter((o) => html(o).includes('class="tsyft-progress"'));
  expect(bars.length, "exactly one progress bar output (updates replace it)").toBe(1);
  expect(bars[0].output_type).toBe("display_data");
  const barText = text(bars[0].data?.["text/plain"]);
  expect(barText).toMatch(/(\d+)\/\1 \(100%\)/);
  expect(barText).toContain("✓");

  // a display updated through its handle, and console output from async code
  expect(outputs.some((o) => html(o).includes("bob answered"))).toBe(true);
  expect(outputs.some((o) => html(o).includes("waiting for bob"))).toBe(false);
  expect(outputs.some((o) => o.output_type === "stream" && text(o.text).includes("asking bob for his share"))).toBe(
    true,
  );

  // the error of the raises-exception cell, and no other
  const errors = code.filter((c) => (c.outputs ?? []).some((o) => o.output_type === "error"));
  expect(errors.length).toBe(1);
  expect(errors[0].metadata.tags).toContain("raises-exception");
  const error = errors[0].outputs!.find((o) => o.output_type === "error")!;
  expect(error.ename).toBe("TsyftError");
  expect(error.evalue).toContain("table()");
  expect(error.traceback!.join("\n")).toContain("TSYFT_ERR_INVALID_ARGUMENT");

  // the cell after the error still ran with the kernel's state
  const last = code[code.length - 1];
  expect(text(last.outputs?.find((o) => o.output_type === "execute_result")?.data?.["text/plain"])).toBe("[ 2, 3 ]");

  expect((notebook.metadata.language_info as { name?: string } | undefined)?.name).toBe("typescript");
}
