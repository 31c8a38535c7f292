import { describe, expect, it } from "vitest";
import { allParties, ErrorCode, isAbortEcho, TsyftError, WorkerError } from "../../src/core/errors";

const refusal = new WorkerError(ErrorCode.REMOTE_OP_FAILED, 'Op "run-plan" failed on server0: not served', {
  worker: "server0",
  cause: ErrorCode.MODEL_NOT_SERVED,
});
const echo = new WorkerError(ErrorCode.REMOTE_OP_FAILED, 'Op "run-plan" failed on server1: server0 aborted "r"', {
  worker: "server1",
  cause: ErrorCode.PROTOCOL_ABORTED,
});

function later<T>(ms: number, outcome: { value: T } | { error: unknown }): Promise<T> {
  return new Promise((resolve, reject) =>
    setTimeout(() => ("error" in outcome ? reject(outcome.error) : resolve(outcome.value)), ms),
  );
}

describe("allParties: the cause of a failed run, not its echo", () => {
  it("resolves with every value in order", async () => {
    await expect(allParties([later(20, { value: 1 }), later(5, { value: 2 })])).resolves.toEqual([1, 2]);
    await expect(allParties([])).resolves.toEqual([]);
  });

  it("an abort's echo that arrives first gives way to the refusal that caused it", async () => {
    await expect(allParties([later(30, { error: refusal }), later(1, { error: echo })])).rejects.toBe(refusal);
  });

  it("a failure that is not an echo rejects at once, without waiting for the others", async () => {
    const never = new Promise<number>(() => undefined);
    await expect(allParties([never, later(1, { error: refusal })])).rejects.toBe(refusal);
  });

  it("only echoes: the first echo, once every party has answered", async () => {
    const first = new TsyftError(ErrorCode.PROTOCOL_ABORTED, "dan aborted");
    await expect(
      allParties([later(1, { error: first }), later(10, { error: echo }), later(5, { value: 3 })]),
    ).rejects.toBe(first);
  });

  it("tells an echo from a cause", () => {
    expect(isAbortEcho(echo)).toBe(true);
    expect(isAbortEcho(new TsyftError(ErrorCode.PROTOCOL_ABORTED, "x"))).toBe(true);
    expect(isAbortEcho(refusal)).toBe(false);
    expect(isAbortEcho(new Error("plain"))).toBe(false);
    expect(isAbortEcho(undefined)).toBe(false);
  });
});
