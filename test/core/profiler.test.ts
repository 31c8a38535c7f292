/**
 * The timing profiler (src/core/profiler.ts): steps add up by self time,
 * layers follow their async continuations, waits and resets, nothing is
 * recorded when none is attached; the ring's kernels and PRG report
 * themselves; and a node dumps its profile on SIGUSR2 (grid/node-profile.ts).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  activeProfiler,
  attachProfiler,
  detachProfiler,
  inLayer,
  NO_LAYER,
  timed,
  waited,
} from "../../src/core/profiler";
import { PROFILE_DIR_ENV, profileFromEnvironment } from "../../src/grid/node-profile";
import * as ring from "../../src/ring";

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

afterEach(() => {
  detachProfiler();
});

describe("profiler", () => {
  it("records nothing and passes values through when none is attached", async () => {
    expect(activeProfiler()).toBeUndefined();
    expect(timed("x", () => 41 + 1)).toBe(42);
    expect(await waited("w", Promise.resolve("ok"))).toBe("ok");
    expect(await inLayer("0:add", async () => 7)).toBe(7);
    expect(detachProfiler()).toBeUndefined();
  });

  it("nested steps: self times add up to the outer total; layers follow awaits; waits count", async () => {
    const profiler = attachProfiler();
    await inLayer("3:relu", async () => {
      timed("outer", () => {
        busy(6);
        timed("inner", () => busy(8));
      });
      await waited("open", new Promise((resolve) => setTimeout(resolve, 5)));
      timed("inner", () => busy(2)); // after an await: still in the layer
    });
    timed("outside", () => busy(1));
    const report = profiler.report();
    const { outer, inner, outside } = report.steps;
    expect(outer!.calls).toBe(1);
    expect(inner!.calls).toBe(2);
    expect(outer!.totalMs).toBeGreaterThanOrEqual(14);
    expect(outer!.selfMs + 8).toBeLessThanOrEqual(outer!.totalMs + 0.5);
    expect(outer!.selfMs).toBeGreaterThanOrEqual(6);
    expect(inner!.selfMs).toBeGreaterThanOrEqual(10);
    expect(report.layers["3:relu"]!.calls).toBe(1);
    expect(report.layers["3:relu"]!.steps.inner).toBeCloseTo(inner!.selfMs, 5);
    expect(report.layers["3:relu"]!.wallMs).toBeGreaterThanOrEqual(outer!.totalMs + 2);
    expect(report.layers[NO_LAYER]!.steps.outside).toBeCloseTo(outside!.selfMs, 5);
    expect(report.waits.open!.count).toBe(1);
    expect(report.waits.open!.ms).toBeGreaterThanOrEqual(4);
    expect(report.peakRssBytes).toBeGreaterThan(0);
    profiler.reset();
    expect(profiler.report().steps).toEqual({});
  });

  it("a step that throws is still recorded and the error goes through", () => {
    const profiler = attachProfiler();
    expect(() =>
      timed("failing", () => {
        throw new RangeError("boom");
      }),
    ).toThrow("boom");
    expect(profiler.report().steps.failing!.calls).toBe(1);
  });

  it("the ring's kernels and PRG report themselves under their kernel set's name", () => {
    const profiler = attachProfiler();
    const a = ring.expand(ring.randomSeed(), [1000], 0);
    const sum = ring.add(a, a);
    expect(ring.equal(sum, ring.mulScalar(a, 2n))).toBe(true);
    const steps = profiler.report().steps;
    expect(steps["prg.expand"]!.calls).toBe(1);
    expect(steps[`${ring.activeKernels()}.add`]!.calls).toBe(1);
    expect(steps[`${ring.activeKernels()}.mulScalar`]!.calls).toBe(1);
    detachProfiler();
    ring.add(a, a);
    expect(profiler.report().steps[`${ring.activeKernels()}.add`]!.calls).toBe(1);
  });
});

describe("node profiles", () => {
  it("without the environment variable nothing is attached; with it SIGUSR2 writes and resets", async () => {
    const saved = process.env[PROFILE_DIR_ENV];
    delete process.env[PROFILE_DIR_ENV];
    profileFromEnvironment("bob")();
    expect(activeProfiler()).toBeUndefined();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-profiler-test-"));
    process.env[PROFILE_DIR_ENV] = dir;
    const stop = profileFromEnvironment("bob");
    try {
      timed("step", () => busy(1));
      process.emit("SIGUSR2", "SIGUSR2");
      const first = JSON.parse(fs.readFileSync(path.join(dir, "bob.json"), "utf8"));
      expect(first).toMatchObject({ id: "bob", pid: process.pid, dump: 1 });
      expect(first.steps.step.calls).toBe(1);
      process.emit("SIGUSR2", "SIGUSR2");
      const second = JSON.parse(fs.readFileSync(path.join(dir, "bob.json"), "utf8"));
      expect(second.dump).toBe(2);
      expect(second.steps).toEqual({});
    } finally {
      stop();
      if (saved === undefined) delete process.env[PROFILE_DIR_ENV];
      else process.env[PROFILE_DIR_ENV] = saved;
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(activeProfiler()).toBeUndefined();
    expect(process.listenerCount("SIGUSR2")).toBe(0);
  });
});
