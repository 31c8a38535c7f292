import { describe, expect, it } from "vitest";
import { DISPLAY } from "../../src/core/display-protocol";
import { ErrorCode, TsyftError } from "../../src/core/errors";
import { VEGALITE_MIME, vegaLite } from "../../src/display";

const spec = {
  title: "ops",
  data: {
    values: [
      { op: "mul", ms: 3 },
      { op: "matmul", ms: 12 },
      { op: "relu", ms: 7 },
    ],
  },
  mark: "bar",
  encoding: { x: { field: "op", type: "nominal" }, y: { field: "ms", type: "quantitative" } },
};

describe("vegaLite", () => {
  it("bundles the spec, an SVG rendered in Node, and a text summary", () => {
    const bundle = vegaLite(spec)[DISPLAY]();
    expect(Object.keys(bundle).sort()).toEqual(["image/svg+xml", "text/plain", VEGALITE_MIME].sort());
    expect(bundle[VEGALITE_MIME]).toMatchObject({
      $schema: "https://vega.github.io/schema/vega-lite/v5.json",
      mark: "bar",
    });
    const svg = bundle["image/svg+xml"] as string;
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("</svg>");
    expect(svg).toContain('class="mark-rect role-mark marks"');
    expect((svg.match(/<path/g) ?? []).length).toBeGreaterThan(3);
    expect(svg).toContain(">matmul<");
    expect(bundle["text/plain"]).toBe('<Vega-Lite "ops": bar chart, 3 data rows>');
  });

  it("renders the same SVG synchronously as vega's async toSVG", async () => {
    const chart = vegaLite(spec);
    const sync = chart.svgSync();
    const fresh = await vegaLite(spec).toSVG();
    expect(sync).toBe(fresh);
  });

  it("leaves the SVG out for specs that load data until render() is awaited", () => {
    const chart = vegaLite({ ...spec, data: { url: "https://example.invalid/data.json" } });
    expect(chart[DISPLAY]()["image/svg+xml"]).toBeUndefined();
    expect(chart[DISPLAY]()[VEGALITE_MIME]).toBeDefined();
  });

  it("copies the spec and reports invalid input with a typed error", () => {
    const input = { ...spec };
    const chart = vegaLite(input);
    (input as Record<string, unknown>).mark = "line";
    expect(chart.spec.mark).toBe("bar");
    expect(() => vegaLite([] as never)).toThrow(TsyftError);
    try {
      vegaLite({ mark: { type: 42 } } as never)[DISPLAY]();
      expect.unreachable("an invalid mark must not compile");
    } catch (error) {
      expect(error).toBeInstanceOf(TsyftError);
      expect((error as TsyftError).code).toBe(ErrorCode.INVALID_ARGUMENT);
    }
  });
});
