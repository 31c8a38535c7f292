/**
 * A grid's credentials: the admin token (whose public key is the grid key),
 * certificates the admin signs for nodes and users, and the tokens clients
 * pass as `{ token }`. See docs/security.md for the whole scheme.
 *
 * 1. `createGridCredentials()` makes the admin key pair; `adminToken` is its
 *    seed as `tsyft-admin.<seed>`, `gridKey` its public key. Servers need only
 *    the grid key.
 * 2. The admin signs certificates `{ role, sub, key, grid, iat, exp? }`: a node
 *    certificate binds a node id to that node's own key; a user certificate
 *    binds a user name to a user's key (`issueUserToken`).
 * 3. Clients never send a token: they sign each hello with the token's key
 *    (handshake.ts), so a server that sees the proof cannot replay it to
 *    another server.
 *
 * @example
 * ```ts
 * const { adminToken, gridKey } = sy.grid.createGridCredentials();
 * const token = sy.grid.issueUserToken(adminToken, { subject: "ada" });
 * const grid = new sy.PublicGridNetwork(hook, gatewayUrl, { token });
 * ```
 */
import { randomBytes } from "node:crypto";
import { decodeMessage, encodeMessage } from "../../core/codec";
import { AuthError, ErrorCode } from "../../core/errors";
import { fingerprint, generateKeyPair, keyPairFromSeed, seedOf, signBytes, verifyBytes, type KeyPair } from "./keys";

const ADMIN_PREFIX = "tsyft-admin.";
const USER_PREFIX = "tsyft-user.";
const OWNER_PREFIX = "tsyft-owner.";

/** What a certificate says. */
export interface CertificateBody {
  v: 1;
  role: "node" | "user";
  /** The node id or user name. */
  sub: string;
  /** The holder's public key (base64url). */
  key: string;
  /** The grid key that signed it. */
  grid: string;
  /** Issued at, ms since the epoch. */
  iat: number;
  /** Expires at, ms since the epoch (none: never). */
  exp?: number;
}

/** A grid's admin credential. */
export interface GridCredentials {
  /** `tsyft-admin.<seed>`: keep it secret; whoever has it administers the grid. */
  adminToken: string;
  /** The admin's public key: what nodes and the gateway trust. */
  gridKey: string;
}

/** What a client's `{ token }` amounts to. */
export type ClientKey =
  | { kind: "admin"; pair: KeyPair }
  | { kind: "user"; pair: KeyPair; cert: Uint8Array; body: CertificateBody }
  | { kind: "anonymous"; pair: KeyPair };

/**
 * A new grid: an admin key pair.
 *
 * @example
 * ```ts
 * const { adminToken, gridKey } = createGridCredentials();
 * ```
 */
export function createGridCredentials(): GridCredentials {
  const pair = generateKeyPair();
  return { adminToken: ADMIN_PREFIX + seedOf(pair.privateKey), gridKey: pair.publicKey };
}

/**
 * The admin key pair of an admin token; a malformed one throws TSYFT_ERR_AUTH.
 *
 * @example
 * ```ts
 * adminKeyPair(adminToken).publicKey === gridKey;   // true
 * ```
 */
export function adminKeyPair(adminToken: string): KeyPair {
  if (typeof adminToken !== "string" || !adminToken.startsWith(ADMIN_PREFIX)) {
    throw new AuthError(
      ErrorCode.AUTH,
      `Expected an admin token ("${ADMIN_PREFIX}..."), got ${describeSecret(adminToken)}. ` +
        "startLocalGrid() returns it as grid.adminToken; `npx tsyft grid up` prints it and keeps it in credentials.json.",
    );
  }
  return keyPairFromSeed(adminToken.slice(ADMIN_PREFIX.length), "admin token");
}

/**
 * Signs a certificate with the admin key.
 *
 * @example
 * ```ts
 * const cert = issueCertificate(adminToken, { role: "node", sub: "bob", key: bobKey.publicKey });
 * ```
 */
export function issueCertificate(
  adminToken: string,
  fields: { role: CertificateBody["role"]; sub: string; key: string; expiresInMs?: number },
): Uint8Array {
  const admin = adminKeyPair(adminToken);
  const iat = Date.now();
  const body: CertificateBody = {
    v: 1,
    role: fields.role,
    sub: fields.sub,
    key: fields.key,
    grid: admin.publicKey,
    iat,
  };
  if (fields.expiresInMs !== undefined) body.exp = iat + fields.expiresInMs;
  const bytes = encodeMessage(body);
  return encodeMessage({ body: bytes, sig: signBytes(admin, bytes) });
}

/**
 * Checks a certificate against the grid key and what it must say; returns its
 * body or throws TSYFT_ERR_AUTH saying what is wrong.
 *
 * @example
 * ```ts
 * const body = verifyCertificate(cert, gridKey, { role: "node", sub: "bob" });
 * ```
 */
export function verifyCertificate(
  cert: unknown,
  gridKey: string,
  expect: { role: CertificateBody["role"]; sub?: string; key?: string },
): CertificateBody {
  const refuse = (why: string, details: Record<string, unknown> = {}) =>
    new AuthError(ErrorCode.AUTH, `Certificate refused: ${why}.`, details);
  if (!(cert instanceof Uint8Array)) throw refuse("expected certificate bytes");
  let outer: { body?: unknown; sig?: unknown };
  let body: Partial<CertificateBody>;
  try {
    outer = decodeMessage(cert) as { body?: unknown; sig?: unknown };
    if (!(outer?.body instanceof Uint8Array)) throw new Error("no body");
    body = decodeMessage(outer.body) as Partial<CertificateBody>;
  } catch {
    throw refuse("it is not a tsyft certificate");
  }
  if (!verifyBytes(gridKey, outer.body, outer.sig)) throw refuse("it is not signed by this grid's admin key");
  if (body.v !== 1 || body.grid !== gridKey || typeof body.sub !== "string" || typeof body.key !== "string") {
    throw refuse("its fields are malformed");
  }
  if (body.role !== expect.role) throw refuse(`it is a ${body.role} certificate, a ${expect.role} one was needed`);
  if (expect.sub !== undefined && body.sub !== expect.sub) {
    throw refuse(`it names ${JSON.stringify(body.sub)}, not ${JSON.stringify(expect.sub)}`);
  }
  if (expect.key !== undefined && body.key !== expect.key) throw refuse("it was issued for another key");
  if (body.exp !== undefined && body.exp < Date.now()) {
    // details.expired: a server that issues short-lived tokens (the domain's sessions) says "log in again".
    throw refuse(`it expired at ${new Date(body.exp).toISOString()}; ask the grid's admin for a new one`, {
      expired: true,
      exp: body.exp,
    });
  }
  return body as CertificateBody;
}

/**
 * A user token signed by the admin: a key of the user's own and its
 * certificate. Pass it as `{ token }` to clients.
 *
 * @example
 * ```ts
 * const token = issueUserToken(grid.adminToken, { subject: "ada", expiresInMs: 24 * 3600_000 });
 * ```
 */
export function issueUserToken(adminToken: string, options: { subject: string; expiresInMs?: number }): string {
  const user = generateKeyPair();
  const cert = issueCertificate(adminToken, {
    role: "user",
    sub: options.subject,
    key: user.publicKey,
    expiresInMs: options.expiresInMs,
  });
  return `${USER_PREFIX}${seedOf(user.privateKey)}.${Buffer.from(cert).toString("base64url")}`;
}

/**
 * What a client's token amounts to: the admin's key, a user's key and
 * certificate, or (no token) a fresh anonymous key.
 *
 * @example
 * ```ts
 * clientKey(undefined).kind;   // "anonymous"
 * ```
 */
export function clientKey(token: string | undefined): ClientKey {
  if (token === undefined) return { kind: "anonymous", pair: generateKeyPair() };
  if (typeof token === "string" && token.startsWith(ADMIN_PREFIX)) return { kind: "admin", pair: adminKeyPair(token) };
  if (typeof token === "string" && token.startsWith(USER_PREFIX)) {
    const [seed, cert] = token.slice(USER_PREFIX.length).split(".");
    const pair = keyPairFromSeed(seed ?? "", "user token");
    const certBytes = new Uint8Array(Buffer.from(cert ?? "", "base64url"));
    const outer = safeDecode(certBytes) as { body?: unknown } | undefined;
    const body =
      outer?.body instanceof Uint8Array ? (safeDecode(outer.body) as CertificateBody | undefined) : undefined;
    if (!body || body.key !== pair.publicKey) {
      throw new AuthError(ErrorCode.AUTH, "Malformed user token: its certificate does not match its key.");
    }
    return { kind: "user", pair, cert: certBytes, body };
  }
  throw new AuthError(
    ErrorCode.AUTH,
    `Expected a tsyft token ("${ADMIN_PREFIX}..." or "${USER_PREFIX}..."), got ${describeSecret(token)}. ` +
      "Leave token out to connect anonymously.",
  );
}

/**
 * A model owner's credential: a random secret that servers keep only a hash of.
 *
 * @example
 * ```ts
 * const ownerToken = createOwnerToken();   // "tsyft-owner.…"
 * ```
 */
export function createOwnerToken(): string {
  return OWNER_PREFIX + randomBytes(32).toString("base64url");
}

/** The grid key a client can take from its own token (admin and user tokens carry it). */
export function gridKeyOf(key: ClientKey): string | undefined {
  return key.kind === "admin" ? key.pair.publicKey : key.kind === "user" ? key.body.grid : undefined;
}

/** The principal id a server gives a client key without a certificate. */
export function anonymousId(publicKey: string): string {
  return `anon:${fingerprint(publicKey)}`;
}

function safeDecode(bytes: Uint8Array): unknown {
  try {
    return decodeMessage(bytes);
  } catch {
    return undefined;
  }
}

/** Names what came without echoing a secret. */
function describeSecret(value: unknown): string {
  if (typeof value !== "string") return typeof value;
  return `a string of ${value.length} characters starting "${value.slice(0, 6)}"`;
}
