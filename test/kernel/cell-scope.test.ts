/**
 * The kernel's cell scopes (kernel/engine/cell-scope.ts) record the timers a
 * cell schedules so that an interrupt can clear them; a timer the cell
 * clears itself must leave the record at once (a cell of encrypted queries
 * sets and clears a receive deadline per message). Runs in its own fork: it
 * replaces the process's timer globals, as the kernel's worker does.
 */
import { describe, expect, it } from "vitest";
import { cancelScope, newScope, runInScope, trackTimers } from "../../kernel/engine/cell-scope";

trackTimers();

describe("cell scope timers", () => {
  it("forgets timers the cell clears, keeps the pending ones, and an interrupt clears those", async () => {
    const scope = newScope(1);
    let fired = 0;
    runInScope(scope, () => {
      for (let i = 0; i < 1000; i++) clearTimeout(setTimeout(() => fired++, 60_000));
      clearInterval(setInterval(() => fired++, 60_000));
      clearImmediate(setImmediate(() => fired++));
      setTimeout(() => fired++, 60_000);
      setTimeout(() => fired++, 60_000);
    });
    expect(scope.timers.size).toBe(2);
    expect(cancelScope(scope)).toBe(2);
    expect(scope.timers.size).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fired).toBe(0);
  });

  it("a timer that fires leaves the record, and clearing outside any cell still works", async () => {
    const scope = newScope(2);
    const fired = await new Promise<number>((resolve) => runInScope(scope, () => setTimeout(() => resolve(1), 1)));
    expect(fired).toBe(1);
    expect(scope.timers.size).toBe(0);
    let outside = 0;
    clearTimeout(setTimeout(() => outside++, 1));
    clearTimeout(undefined);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(outside).toBe(0);
  });
});
