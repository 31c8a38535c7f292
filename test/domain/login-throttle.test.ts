/** The login throttle on a fake clock: free failures, doubling waits, per account and per address, bounded memory. */
import { describe, expect, it } from "vitest";
import { ErrorCode, LimitError } from "../../src/core/errors";
import { LoginThrottle } from "../../src/domain/login-throttle";

function clock() {
  const c = { t: 1_000_000, now: () => c.t };
  return c;
}

function refusal(fn: () => unknown): LimitError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(LimitError);
    return error as LimitError;
  }
  throw new Error("expected the attempt to be refused");
}

describe("LoginThrottle", () => {
  it("lets a few failures through, then doubles the wait after each one", () => {
    const c = clock();
    const throttle = new LoginThrottle({ freeFailuresPerAccount: 3, baseDelayMs: 1000, now: c.now });
    for (let i = 0; i < 3; i++) throttle.begin("ada@example.org", "10.0.0.1");
    const first = refusal(() => throttle.begin("ada@example.org", "10.0.0.1"));
    expect(first.code).toBe(ErrorCode.LIMIT);
    expect(first.details).toMatchObject({ limit: "loginAttempts", retryAfterMs: 1000, status: 429 });
    expect(first.message).toMatch(/wait 1 s/);
    c.t += 1000;
    throttle.begin("ada@example.org", "10.0.0.1"); // admitted after the wait, and fails again
    expect(refusal(() => throttle.begin("ada@example.org", "10.0.0.1")).details.retryAfterMs).toBe(2000);
    c.t += 2000;
    throttle.begin("ADA@example.org ", "10.0.0.2"); // the same account, however written, from anywhere
    expect(refusal(() => throttle.begin("ada@example.org", "10.0.0.3")).details.retryAfterMs).toBe(4000);
    // Another account is not held up by this one's failures.
    throttle.begin("bob@example.org", "10.0.0.3").succeeded();
  });

  it("counts attempts in flight, so a parallel burst is held up before any password check ends", () => {
    const throttle = new LoginThrottle({ freeFailuresPerAccount: 5, now: clock().now });
    const admitted = [];
    for (let i = 0; i < 50; i++) {
      try {
        admitted.push(throttle.begin("ada@example.org", "10.0.0.1"));
      } catch (error) {
        expect((error as LimitError).code).toBe(ErrorCode.LIMIT);
      }
    }
    expect(admitted).toHaveLength(5);
  });

  it("clears an account on success, but an address only fades with time", () => {
    const c = clock();
    const throttle = new LoginThrottle({ freeFailuresPerAccount: 2, freeFailuresPerAddress: 4, now: c.now });
    throttle.begin("ada@example.org", "10.0.0.9");
    throttle.begin("ada@example.org", "10.0.0.9").succeeded();
    throttle.begin("ada@example.org", "10.0.0.9"); // the account's count was cleared
    // An attacker with an account of their own cannot reset the address between guesses.
    throttle.begin("mallory@example.org", "10.0.0.9").succeeded();
    throttle.begin("victim@example.org", "10.0.0.9");
    throttle.begin("other@example.org", "10.0.0.9");
    expect(refusal(() => throttle.begin("third@example.org", "10.0.0.9")).details.limit).toBe("loginAttempts");
    c.t += 15 * 60_000;
    throttle.begin("third@example.org", "10.0.0.9"); // forgotten after the window
  });

  it("caps every wait at the window, and keeps at most maxKeys keys", () => {
    const c = clock();
    const throttle = new LoginThrottle({ freeFailuresPerAccount: 1, windowMs: 60_000, maxKeys: 4, now: c.now });
    for (let i = 0; i < 40; i++) {
      c.t += 60_000 - 1;
      try {
        throttle.begin("ada@example.org", `10.0.1.${i}`);
      } catch (error) {
        expect((error as LimitError).details.retryAfterMs).toBeLessThanOrEqual(60_000);
      }
    }
    // Random emails push old keys out instead of growing the table.
    for (let i = 0; i < 100; i++) throttle.begin(`x${i}@example.org`, `10.0.2.${i % 9}`);
    expect(() => throttle.begin("ada@example.org", "10.0.3.1")).not.toThrow();
  });
});
