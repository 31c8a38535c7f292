import { afterEach, describe, expect, it, vi } from "vitest";
import { DISPLAY } from "../../src/core/display-protocol";
import { display, html, htmlToText, mimeBundle, updateDisplay } from "../../src/display";
import { installFakeKernel } from "./fake-kernel";

afterEach(() => vi.restoreAllMocks());

describe("mimeBundle", () => {
  it("uses an object's own bundle and adds text/plain when it lacks one", () => {
    const own = { [DISPLAY]: () => ({ "text/plain": "mine", "text/html": "<b>mine</b>" }) };
    expect(mimeBundle(own)).toEqual({ "text/plain": "mine", "text/html": "<b>mine</b>" });
    const htmlOnly = { [DISPLAY]: () => ({ "text/html": "<i>x</i>" }) };
    const bundle = mimeBundle(htmlOnly);
    expect(bundle["text/html"]).toBe("<i>x</i>");
    expect(typeof bundle["text/plain"]).toBe("string");
  });

  it("shows strings as they are and other values as util.inspect does", () => {
    expect(mimeBundle("plain words")).toEqual({ "text/plain": "plain words" });
    expect(mimeBundle({ a: 1, b: [1, 2] })).toEqual({ "text/plain": "{ a: 1, b: [ 1, 2 ] }" });
    expect(mimeBundle(undefined)).toEqual({ "text/plain": "undefined" });
  });
});

describe("display inside a kernel", () => {
  it("sends display_data with a display id, and update() redraws that output", () => {
    const kernel = installFakeKernel();
    try {
      const handle = display(html("<b>one</b>"), { metadata: { isolated: true } });
      handle.update(html("<b>two</b>"));
      expect(kernel.sent).toHaveLength(2);
      expect(kernel.sent[0]).toEqual({
        kind: "display",
        bundle: { "text/html": "<b>one</b>", "text/plain": "one" },
        displayId: handle.displayId,
        metadata: { isolated: true },
      });
      expect(kernel.sent[1]).toMatchObject({
        kind: "update",
        displayId: handle.displayId,
        bundle: { "text/html": "<b>two</b>" },
      });
    } finally {
      kernel.remove();
    }
  });

  it("keeps a given display id and gives distinct ids otherwise", () => {
    const kernel = installFakeKernel();
    try {
      expect(display("a", { displayId: "fixed" }).displayId).toBe("fixed");
      const first = display("b").displayId;
      const second = display("c").displayId;
      expect(first).not.toBe(second);
      updateDisplay("d", "fixed");
      expect(kernel.sent.at(-1)).toEqual({
        kind: "update",
        bundle: { "text/plain": "d" },
        displayId: "fixed",
        metadata: undefined,
      });
    } finally {
      kernel.remove();
    }
  });
});

describe("display outside a kernel", () => {
  it("prints the text/plain form", () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const handle = display(html("<p>hello <b>world</b></p>"));
    handle.update({ n: 1 });
    expect(log.mock.calls).toEqual([["hello world"], ["{ n: 1 }"]]);
  });
});

describe("html", () => {
  it("bundles the markup with a tag-free text form", () => {
    expect(html("<p>a &amp; b</p><p>c&lt;d</p>")[DISPLAY]()).toEqual({
      "text/html": "<p>a &amp; b</p><p>c&lt;d</p>",
      "text/plain": "a & b\nc<d",
    });
  });

  it("drops scripts and styles from the text form, and rejects non-strings", () => {
    expect(htmlToText("<style>p{}</style>x<script>alert(1)</script><br/>y")).toBe("x\ny");
    expect(() => html(42 as unknown as string)).toThrow(TypeError);
  });
});
