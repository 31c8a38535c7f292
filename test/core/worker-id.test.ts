import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/core/errors";
import { checkId } from "../../src/core/ids";
import { checkWorkerId } from "../../src/core/worker-id";

describe("checkWorkerId", () => {
  it("accepts a plain name", () => {
    expect(checkWorkerId("bob", "VirtualWorker")).toBe("bob");
    expect(checkWorkerId("node-1.eu:a_b", "VirtualWorker")).toBe("node-1.eu:a_b");
  });

  it("refuses empty ids, non-strings, spaces, /, NUL and whatever the id rule refuses with WORKER_ID, naming the caller", () => {
    for (const id of ["", undefined, 7, "a b", "a\tb", "a/b", "a\0b", "a|b", "..", "__proto__", "x".repeat(129)]) {
      expect(() => checkWorkerId(id, "VirtualWorker")).toThrow(
        expect.objectContaining({
          code: ErrorCode.WORKER_ID,
          message: expect.stringMatching(/worker id for VirtualWorker/),
        }),
      );
    }
  });

  it("is the id rule of core/ids.ts: the same ids pass and fail", () => {
    for (const id of ["bob", "a b", "a|b", "a.b", "..", "constructor", "é", "x".repeat(128), "x".repeat(129)]) {
      const asId = (() => {
        try {
          return checkId(id, "id");
        } catch {
          return "refused";
        }
      })();
      const asWorker = (() => {
        try {
          return checkWorkerId(id, "VirtualWorker");
        } catch {
          return "refused";
        }
      })();
      expect(asWorker, JSON.stringify(id)).toBe(asId);
    }
  });

  it("says what was expected and what came", () => {
    expect(() => checkWorkerId("a/b", "VirtualWorker")).toThrow(
      'Expected a worker id for VirtualWorker of 1-128 characters among A-Z a-z 0-9 . _ : - (no "..", not __proto__, constructor or prototype); got "a/b", which has characters outside A-Z a-z 0-9 . _ : -.',
    );
  });
});
