/**
 * Password guessing against a real domain over plain HTTP, as an outsider would try it: a burst of wrong
 * passwords is answered 429 with Retry-After once the free failures are spent, the right password too while
 * the account must wait, other accounts still log in, and after the wait the right password works again. The
 * throttle's clock is the real one plus a skew the test moves forward, so waits do not depend on how fast scrypt
 * runs on a loaded machine.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/core/errors";
import { login, startDomain, type Domain } from "../../src/domain";
import { failure } from "./helpers";

const OWNER = { email: "info@openmined.org", password: "changethis" };

describe("login attempts are limited on the domain", () => {
  let dataDir: string;
  let domain: Domain;
  let skewMs = 0;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-login-limits-"));
    domain = await startDomain({
      name: "Hospital L",
      dataDir,
      port: 0,
      loginThrottle: { freeFailuresPerAccount: 3, baseDelayMs: 60_000, now: () => Date.now() + skewMs },
    });
    const owner = await login({ ...OWNER, url: domain.url, log: false });
    await owner.createUser({ name: "Ada", email: "ada@example.org", password: "ada-secret", budget: 1 });
  });

  afterAll(async () => {
    await domain?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const attempt = (email: string, password: string) =>
    fetch(`${domain.url}/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password }),
    });

  it("answers 429 with Retry-After after the free failures, also to the right password, then lets it in", async () => {
    const burst = await Promise.all(Array.from({ length: 12 }, () => attempt("ada@example.org", "guess")));
    const statuses = burst.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(9);
    const limited = burst.find((r) => r.status === 429)!;
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const body = (await limited.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe(ErrorCode.LIMIT);
    expect(body.error.message).toMatch(/Too many failed logins.*wait \d+ s/);

    // The right password waits too (else guessing could go on), through the client as a typed error.
    const held = await failure(
      login({ email: "ada@example.org", password: "ada-secret", url: domain.url, log: false }),
    );
    expect(held.code).toBe(ErrorCode.LIMIT);
    // Another account is not locked by Ada's failures.
    await login({ ...OWNER, url: domain.url, log: false });

    skewMs += 60_000;
    const ada = await login({ email: "ada@example.org", password: "ada-secret", url: domain.url, log: false });
    expect(await ada.privacyBudget).toBe(1);
    // Success cleared the account: a typo now is an ordinary 401.
    expect((await attempt("ada@example.org", "typo")).status).toBe(401);
  });

  it("limits guessing the current password through a session's password change", async () => {
    const ada = await login({ email: "ada@example.org", password: "ada-secret", url: domain.url, log: false });
    const codes: string[] = [];
    for (let i = 0; i < 5; i++)
      codes.push((await failure(ada.changePassword({ oldPassword: `guess-${i}`, newPassword: "new-secret-1" }))).code);
    expect(codes.slice(0, 2)).toEqual([ErrorCode.AUTH, ErrorCode.AUTH]);
    expect(codes.at(-1)).toBe(ErrorCode.LIMIT);
  });
});
