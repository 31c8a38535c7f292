import * as tf from "@tensorflow/tfjs";
import * as aq from "arquero";
import { beforeAll, describe, expect, it } from "vitest";
import { DISPLAY, isDisplayable } from "../../src/core/display-protocol";
import { TsyftError } from "../../src/core/errors";
import { installDisplays, mimeBundle, tensorBundle } from "../../src/display";
import { hook } from "../../src";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("installDisplays", () => {
  it("gives tensors an HTML grid with shape and dtype, and tf's toString as text", () => {
    installDisplays(tf);
    const t = tf.tensor([
      [1.5, -2.25, 3],
      [0.5, 4, -1],
    ]);
    expect(isDisplayable(t)).toBe(true);
    const bundle = mimeBundle(t);
    const html = bundle["text/html"] as string;
    expect(html).toContain('class="tsyft-tensor"');
    expect(html).toContain("Tensor shape [2, 3] · float32 · 6 values");
    for (const v of ["1.5", "-2.25", "3", "0.5", "4", "-1"]) expect(html).toContain(`>${v}</td>`);
    expect(bundle["text/plain"]).toBe(t.toString());
  });

  it("sy.hook(tf) installs them: a fresh process only calls the hook", () => {
    Reflect.deleteProperty(tf.Tensor.prototype, DISPLAY);
    expect(isDisplayable(tf.tensor([1]))).toBe(false);
    hook(tf);
    const t = tf.tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(isDisplayable(t)).toBe(true);
    expect(mimeBundle(t)["text/html"]).toContain('class="tsyft-tensor"');
  });

  it("puts the caption under the table as a block of its own, not a <caption> as narrow as the table", () => {
    const html = tensorBundle(tf.tensor([1022]) as never)["text/html"] as string;
    expect(html).not.toContain("<caption");
    expect(html).toMatch(/<\/table><div class="tsyft-caption"[^>]*>Tensor shape \[1\] · float32 · 1 value<\/div>$/);
  });

  it("shows the corners of large tensors and labels rows of rank-3 tensors", () => {
    const big = tf.range(0, 1000).reshape([40, 25]);
    const html = tensorBundle(big as never)["text/html"] as string;
    expect(html).toContain(">0</td>");
    expect(html).toContain(">999</td>");
    expect(html).not.toContain(">500</td>");
    expect(html).toContain(">…</th>");
    const cube = tensorBundle(tf.ones([2, 2, 3], "int32") as never)["text/html"] as string;
    expect(cube).toContain(">[1, 0]</th>");
    expect(cube).toContain("int32");
  });

  it("handles scalars, booleans and disposed tensors", () => {
    expect(tensorBundle(tf.scalar(7) as never)["text/html"]).toContain(">7</td>");
    expect(tensorBundle(tf.tensor([true, false], undefined, "bool") as never)["text/html"]).toContain(">false</td>");
    const gone = tf.tensor([1, 2]);
    gone.dispose();
    expect(tensorBundle(gone as never)["text/plain"]).toBe("Tensor (disposed) shape [2] float32");
  });

  it("gives arquero tables an HTML table, and is idempotent", () => {
    installDisplays(tf, aq);
    const first = (tf.Tensor.prototype as unknown as Record<symbol, unknown>)[DISPLAY];
    installDisplays(tf, aq);
    expect((tf.Tensor.prototype as unknown as Record<symbol, unknown>)[DISPLAY]).toBe(first);
    const dt = aq.table({ dx: ["bkl", "mel"], n: [1, 2] });
    const bundle = mimeBundle(dt);
    expect(bundle["text/html"]).toContain('class="tsyft-table"');
    expect(bundle["text/html"]).toContain(">mel<");
    expect(Object.keys(dt)).not.toContain(DISPLAY.toString());
  });

  it("rejects a namespace without Tensor", () => {
    expect(() => installDisplays({} as never)).toThrow(TsyftError);
  });
});
