import { afterEach, describe, expect, it, vi } from "vitest";
import { DISPLAY } from "../../src/core/display-protocol";
import { progress } from "../../src/display";
import { installFakeKernel } from "./fake-kernel";

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("progress", () => {
  it("is displayed once, then redrawn in place at most every throttleMs", () => {
    vi.useFakeTimers();
    const kernel = installFakeKernel();
    try {
      const bar = progress(10, { label: "train", throttleMs: 100 });
      expect(kernel.sent).toHaveLength(1);
      expect(kernel.sent[0].kind).toBe("display");
      const id = kernel.sent[0].displayId;
      for (let i = 0; i < 5; i++) bar.tick(); // within the throttle window: no redraw yet
      expect(kernel.sent).toHaveLength(1);
      vi.advanceTimersByTime(100); // the trailing redraw shows the latest state
      expect(kernel.sent).toHaveLength(2);
      expect(kernel.sent[1]).toMatchObject({ kind: "update", displayId: id });
      expect(kernel.sent[1].bundle["text/plain"]).toContain("5/10 (50%)");
      bar.set(8, "loss 0.12");
      vi.advanceTimersByTime(100);
      expect(kernel.sent.at(-1)!.bundle["text/plain"]).toContain("8/10 (80%)");
      expect(kernel.sent.at(-1)!.bundle["text/plain"]).toContain("loss 0.12");
      bar.done();
      const final = kernel.sent.at(-1)!;
      expect(final).toMatchObject({ kind: "update", displayId: id });
      expect(final.bundle["text/plain"]).toMatch(/^train █{30} 10\/10 \(100%\) .* ✓$/);
      expect(final.bundle["text/html"]).toContain('class="tsyft-progress"');
      expect(final.bundle["text/html"]).toContain("width:100.0%");
      vi.advanceTimersByTime(1000);
      expect(kernel.sent.at(-1)).toBe(final); // nothing after done()
    } finally {
      kernel.remove();
    }
  });

  it("prints one line when done outside a kernel", () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const bar = progress(4, { label: "load" });
    bar.tick(2);
    bar.tick(2);
    expect(log).not.toHaveBeenCalled();
    bar.done("ok");
    expect(log).toHaveBeenCalledTimes(1);
    expect(log.mock.calls[0][0]).toMatch(/^load █{30} 4\/4 \(100%\) .* ok ✓$/);
    expect(bar[DISPLAY]()["text/plain"]).toContain("4/4");
  });

  it("rejects a negative total", () => {
    expect(() => progress(-1)).toThrow(/total/);
  });
});
