/**
 * Who is calling a domain. Built from the grid's machinery rather than a second
 * mechanism (DESIGN.md section 8, "Trust"):
 *
 * 1. The domain keeps an admin credential of its own (credentials.json in its
 *    data dir). A login checks the email and scrypt hash, opens a session row,
 *    and answers with a user token (`issueUserToken`) whose subject is the
 *    session id and whose certificate expires with the session.
 * 2. The client never sends the token: it signs each request
 *    (`Authorization: Tsyft <proof>`, auth/gateway-proofs.ts) over the method,
 *    path and body hash, with a nonce the server admits once.
 * 3. On every request the server checks the proof and the certificate, then
 *    reads the session and its user from the database: a logout, a password
 *    change, a role change or a deleted user takes effect on the next request.
 * 4. Without an Authorization header the caller is a guest.
 *
 * A wrong password and an unknown email get the same answer, after the same
 * scrypt work (PySyft's "Incorrect email or password"). Guesses are slowed
 * down per account and per address (login-throttle.ts).
 *
 * @example
 * ```ts
 * const auth = new SessionAuth(store, adminToken);
 * const { token } = await auth.login("info@openmined.org", "changethis");
 * const caller = await auth.caller(request);   // { kind: "user", user, sessionId }
 * ```
 */
import { adminKeyPair, issueUserToken } from "../grid/auth/credentials";
import { checkHttpProof } from "../grid/auth/gateway-proofs";
import { ReplayGuard } from "../grid/auth/proofs";
import type { RouteRequest } from "../grid/http-router";
import { AuthError, ErrorCode, TsyftError } from "../core/errors";
import { LoginThrottle, type LoginThrottleOptions } from "./login-throttle";
import { decoyHash, verifyPassword } from "./passwords";
import type { DomainStore, UserRecord } from "./storage";

/** A logged-in user, or a guest. */
export type DomainCaller = { kind: "guest" } | { kind: "user"; user: UserRecord; sessionId: string };

/** What a login answers. */
export interface LoginAnswer {
  token: string;
  expiresAt: string;
  user: PublicUser;
}

/** A user as clients see them (no hash). */
export type PublicUser = Omit<UserRecord, "passwordHash">;

export function publicUser(user: UserRecord): PublicUser {
  const { passwordHash: _hash, ...rest } = user;
  return rest;
}

/** How long a session lasts unless the domain says otherwise: a working day. */
export const DEFAULT_SESSION_MS = 12 * 3600_000;

const SUBJECT_PREFIX = "session:";

/**
 * Logins and per-request callers of a domain.
 *
 * @example
 * ```ts
 * const auth = new SessionAuth(store, adminToken, { sessionMs: 3600_000 });
 * ```
 */
export class SessionAuth {
  private readonly guard = new ReplayGuard();
  private readonly domainKey: string;
  private readonly throttle: LoginThrottle;
  readonly sessionMs: number;

  constructor(
    private readonly store: DomainStore,
    private readonly adminToken: string,
    options: { sessionMs?: number; loginThrottle?: LoginThrottleOptions } = {},
  ) {
    this.domainKey = adminKeyPair(adminToken).publicKey;
    this.sessionMs = options.sessionMs ?? DEFAULT_SESSION_MS;
    this.throttle = new LoginThrottle(options.loginThrottle);
  }

  /**
   * Checks the password; opens a session. The same AuthError for an unknown email and a wrong password; a
   * LimitError (429) while the account or the `address` must wait after failed attempts.
   */
  async login(email: unknown, password: unknown, address?: string): Promise<LoginAnswer> {
    if (typeof email !== "string" || typeof password !== "string") {
      throw new TsyftError(ErrorCode.INVALID_ARGUMENT, "A login needs { email, password }, both strings.");
    }
    const attempt = this.throttle.begin(email, address);
    const user = await this.store.users.byEmail(email);
    const ok = await verifyPassword(password, user?.passwordHash ?? (await decoyHash()));
    if (ok && user) attempt.succeeded();
    if (!user || !ok) {
      throw new AuthError(
        ErrorCode.AUTH,
        "Incorrect email or password. Check both (the domain does not say which was wrong), " +
          "or ask the domain's owner to reset your password.",
        { status: 401, login: true },
      );
    }
    const expires = new Date(Date.now() + this.sessionMs);
    const session = await this.store.sessions.create(user.id, expires);
    const token = issueUserToken(this.adminToken, {
      subject: SUBJECT_PREFIX + session.id,
      expiresInMs: this.sessionMs,
    });
    return { token, expiresAt: session.expiresAt, user: publicUser(user) };
  }

  /**
   * Whether `password` is `user`'s current one (a password change asks for it), throttled like a login: a
   * stolen session must not become a way to guess the password.
   */
  async confirmPassword(user: UserRecord, password: unknown, address?: string): Promise<boolean> {
    if (typeof password !== "string") return false;
    const attempt = this.throttle.begin(user.email, address);
    const ok = await verifyPassword(password, user.passwordHash);
    if (ok) attempt.succeeded();
    return ok;
  }

  /** Who sent this request: a guest (no Authorization), or a user with a live session; AuthErrors otherwise. */
  async caller(request: RouteRequest): Promise<DomainCaller> {
    const header = request.req.headers.authorization;
    if (header === undefined) return { kind: "guest" };
    const pathAndQuery = request.req.url ?? request.path;
    let principal;
    try {
      principal = checkHttpProof(header, request.method, pathAndQuery, await request.text(), {
        gridKey: this.domainKey,
        guard: this.guard,
      });
    } catch (error) {
      if (error instanceof AuthError && error.details.expired === true) {
        throw sessionEnded(`expired at ${new Date(Number(error.details.exp)).toISOString()}`);
      }
      throw error;
    }
    const sessionId = principal.kind === "user" ? principal.id.replace(/^user:/, "") : "";
    if (!sessionId.startsWith(SUBJECT_PREFIX)) {
      throw new AuthError(ErrorCode.AUTH, "This domain takes session tokens from sy.login(); log in to get one.", {
        status: 401,
      });
    }
    const found = await this.store.sessions.get(sessionId.slice(SUBJECT_PREFIX.length));
    if (!found) throw sessionEnded("ended (the user was removed)");
    if (found.session.revoked) throw sessionEnded("ended (logged out, or the password changed)");
    if (Date.parse(found.session.expiresAt) < Date.now()) throw sessionEnded(`expired at ${found.session.expiresAt}`);
    return { kind: "user", user: found.user, sessionId: found.session.id };
  }

  /** Ends a session (logout). */
  logout(sessionId: string): Promise<void> {
    return this.store.sessions.revoke(sessionId);
  }
}

/**
 * The logged-in user of a caller; a guest gets TSYFT_ERR_AUTH (401) saying to log in.
 *
 * @example
 * ```ts
 * const user = requireUser(await auth.caller(request), "list users");
 * ```
 */
export function requireUser(caller: DomainCaller, action: string): UserRecord {
  if (caller.kind === "user") return caller.user;
  throw new AuthError(
    ErrorCode.AUTH,
    `Guests may not ${action}; log in first: await sy.login({ email, password, url }).`,
    { status: 401 },
  );
}

function sessionEnded(why: string): AuthError {
  return new AuthError(
    ErrorCode.SESSION_EXPIRED,
    `Your session ${why}; log in again: await sy.login({ email, password, url }).`,
    { status: 401 },
  );
}
