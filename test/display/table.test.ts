import * as aq from "arquero";
import { describe, expect, it } from "vitest";
import { DISPLAY } from "../../src/core/display-protocol";
import { ErrorCode, TsyftError } from "../../src/core/errors";
import { table } from "../../src/display";

describe("table", () => {
  it("renders rows of objects as an HTML table with a plain-text twin", () => {
    const bundle = table([
      { worker: "bob", shares: 2, ratio: 0.333333333 },
      { worker: "charlie", shares: 12 },
    ])[DISPLAY]();
    const htmlText = bundle["text/html"] as string;
    expect(htmlText).toContain('<table class="tsyft-table"');
    expect(htmlText.match(/<th[^>]*>worker<\/th>/)).not.toBeNull();
    expect(htmlText).toContain(">0.333333<");
    expect(htmlText).toContain("2 rows × 3 columns");
    expect(bundle["text/plain"]).toBe(
      [
        "   worker   shares     ratio",
        "-  -------  ------  --------",
        "0  bob           2  0.333333",
        "1  charlie      12",
        "(2 rows × 3 columns)",
      ].join("\n"),
    );
  });

  it("renders an arquero table and truncates to maxRows", () => {
    const dt = aq.table({
      id: Array.from({ length: 50 }, (_, i) => i),
      name: Array.from({ length: 50 }, (_, i) => `row${i}`),
    });
    const t = table(dt, { maxRows: 5, caption: "ids" });
    expect(t.rows).toHaveLength(5);
    expect(t.totalRows).toBe(50);
    const bundle = t[DISPLAY]();
    expect(bundle["text/html"]).toContain("ids (first 5 of 50 rows × 2 columns)");
    expect(bundle["text/html"]).toContain(">row4<");
    expect(bundle["text/html"]).not.toContain(">row5<");
    expect(bundle["text/plain"]).toContain("…");
  });

  it("names array columns and escapes HTML in values", () => {
    const bundle = table(
      [
        [1, "<b>x</b>"],
        [2, "y & z"],
      ],
      { columns: ["n", "text"] },
    )[DISPLAY]();
    expect(bundle["text/html"]).toContain("&lt;b&gt;x&lt;/b&gt;");
    expect(bundle["text/html"]).toContain("y &amp; z");
    expect(bundle["text/html"]).not.toContain("<b>x</b>");
  });

  it("throws a typed error for what is not a table", () => {
    const call = () => table(42 as never);
    expect(call).toThrow(TsyftError);
    try {
      call();
    } catch (error) {
      expect((error as TsyftError).code).toBe(ErrorCode.INVALID_ARGUMENT);
      expect((error as Error).message).toContain("got number");
    }
    expect(() => table([], { maxRows: -1 })).toThrow(/maxRows/);
  });
});
