import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/core/errors";
import { checkWorkerId } from "../../src/core/worker-id";

describe("checkWorkerId", () => {
  it("accepts a plain name, and a reserved character only where it is not reserved", () => {
    expect(() => checkWorkerId("bob", "VirtualWorker")).not.toThrow();
    expect(() => checkWorkerId("a|b", "VirtualWorker")).not.toThrow();
  });

  it("refuses empty ids, non-strings, spaces, / and NUL with WORKER_ID, naming the caller", () => {
    for (const id of ["", undefined, 7, "a b", "a\tb", "a/b", "a\0b"]) {
      expect(() => checkWorkerId(id, "VirtualWorker")).toThrow(
        expect.objectContaining({ code: ErrorCode.WORKER_ID, message: expect.stringMatching(/^VirtualWorker: /) }),
      );
    }
  });

  it("lists the reserved characters in the message", () => {
    expect(() => checkWorkerId("a|b", "startNode", ["|"])).toThrow(
      'startNode: expected { id: "a name without spaces, / or |" }, got "a|b".',
    );
    expect(() => checkWorkerId("a/b", "VirtualWorker")).toThrow(
      'VirtualWorker: expected { id: "a name without spaces or /" }, got "a/b".',
    );
  });
});
