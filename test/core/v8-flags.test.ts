import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ErrorCode, TsyftError } from "../../src/core/errors";
import { CONCURRENT_GC_MIN_CPUS, GC_ENV, gcFlags } from "../../src/core/v8-flags";
import { cliCommand } from "../../src/grid/processes";

describe("gcFlags: the collector of the processes tsyft starts", () => {
  it("collects on the main thread below four CPUs, and keeps V8's default from four", () => {
    expect(gcFlags({}, 1)).toEqual(["--single-threaded-gc"]);
    expect(gcFlags({}, CONCURRENT_GC_MIN_CPUS - 1)).toEqual(["--single-threaded-gc"]);
    expect(gcFlags({}, CONCURRENT_GC_MIN_CPUS)).toEqual([]);
    expect(gcFlags({ [GC_ENV]: "auto" }, 64)).toEqual([]);
  });

  it("follows TSYFT_GC whatever the machine", () => {
    expect(gcFlags({ [GC_ENV]: "single" }, 64)).toEqual(["--single-threaded-gc"]);
    expect(gcFlags({ [GC_ENV]: "concurrent" }, 2)).toEqual([]);
  });

  it("refuses a choice it does not know, naming the ones it does", () => {
    const attempt = () => gcFlags({ [GC_ENV]: "parallel" }, 2);
    expect(attempt).toThrow(TsyftError);
    expect(attempt).toThrow(/TSYFT_GC must be one of auto, single, concurrent, got "parallel"/);
    try {
      attempt();
    } catch (e) {
      expect((e as TsyftError).code).toBe(ErrorCode.INVALID_ARGUMENT);
    }
  });

  it("is on the command line of the servers this machine starts, and Node accepts it there", () => {
    const { command, args } = cliCommand(["--version"]);
    for (const flag of gcFlags()) expect(args).toContain(flag);
    // The flag is one this Node knows: a process started with it runs (an unknown V8 flag would be reported).
    const run = spawnSync(command, ["--single-threaded-gc", "-e", "console.log(typeof gc)"], { encoding: "utf8" });
    expect(run.status).toBe(0);
    expect(run.stderr).not.toMatch(/unknown|bad option/i);
  });
});
