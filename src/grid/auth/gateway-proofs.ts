/**
 * Proofs for the gateway's two kinds of writes:
 *
 * 1. Membership (join, heartbeat, leave, over HTTP or WebSocket): the node
 *    signs ["tsyft-join-v1", type, id, address ?? ""] with its own key and
 *    sends its node certificate; the body is JSON, binary fields base64url:
 *    `{ id, address?, key, cert, time, nonce, sig }`.
 * 2. Model registry writes: `Authorization: Tsyft <base64url(msgpack(proof))>`,
 *    the proof over ["tsyft-http-v1", method, path+query, sha256(body) hex]
 *    by the admin's key or a user's (with its certificate).
 *
 * @example
 * ```ts
 * const body = signMembership(node.key, "join", "bob", "ws://10.0.0.2:3000");
 * const member = checkMembership(body, "join", { gridKey, guard });   // { id: "bob", address, key, iat }
 * ```
 */
import { createHash } from "node:crypto";
import { decodeMessage, encodeMessage } from "../../core/codec";
import { AuthError, ErrorCode } from "../../core/errors";
import type { Principal } from "../../workers/caller";
import { anonymousId, verifyCertificate, type CertificateBody } from "./credentials";
import type { DialerKey, NodeKey } from "./handshake";
import { checkProof, prove, type Proof, type ReplayGuard } from "./proofs";

export type MembershipType = "join" | "heartbeat" | "leave";

/** A signed membership request as JSON (what the node POSTs). */
export interface SignedMembership {
  id: string;
  address?: string;
  key: string;
  cert: string;
  time: number;
  nonce: string;
  sig: string;
}

/** What the gateway learns from a valid membership request. */
export interface Member {
  id: string;
  address?: string;
  /** The node's public key. */
  key: string;
  /** When its certificate was issued (a newer one may replace a pinned key). */
  iat: number;
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
const bytesOf = (text: unknown) =>
  typeof text === "string" ? new Uint8Array(Buffer.from(text, "base64url")) : undefined;
const joinContext = (type: string, id: unknown, address: unknown) => ["tsyft-join-v1", type, id, address ?? ""];

/**
 * A node's signed join, heartbeat or leave.
 *
 * @example
 * ```ts
 * await httpJson("POST", `${gateway}/heartbeat`, signMembership(identity, "heartbeat", "bob"));
 * ```
 */
export function signMembership(key: NodeKey, type: MembershipType, id: string, address?: string): SignedMembership {
  const proof = prove(key.pair, joinContext(type, id, address));
  return {
    id,
    ...(address !== undefined && { address }),
    key: proof.key,
    cert: b64(key.cert),
    time: proof.time,
    nonce: b64(proof.nonce),
    sig: b64(proof.sig),
  };
}

/**
 * Checks a membership request: the proof over this request, and a node
 * certificate of this grid for its `id` and key. Throws TSYFT_ERR_AUTH.
 *
 * @example
 * ```ts
 * const { id, address, key } = checkMembership(parseJsonObject(await readTextBody(req)), "join", { gridKey, guard });
 * ```
 */
export function checkMembership(
  body: unknown,
  type: MembershipType,
  gateway: { gridKey: string; guard: ReplayGuard },
): Member {
  const b = (typeof body === "object" && body !== null ? body : {}) as Partial<SignedMembership>;
  const proof = { key: b.key, time: b.time, nonce: bytesOf(b.nonce), sig: bytesOf(b.sig) };
  const key = checkProof(proof, joinContext(type, b.id, b.address), gateway.guard);
  let cert: CertificateBody;
  try {
    cert = verifyCertificate(bytesOf(b.cert), gateway.gridKey, { role: "node", sub: String(b.id), key });
  } catch (error) {
    throw new AuthError(
      ErrorCode.AUTH,
      `A ${type} for node ${JSON.stringify(b.id)} without a node certificate of this grid: ${(error as Error).message}`,
    );
  }
  return { id: cert.sub, ...(typeof b.address === "string" && { address: b.address }), key, iat: cert.iat };
}

const bodyHash = (body: string | Uint8Array) => createHash("sha256").update(body).digest("hex");
const httpContext = (method: string, path: string, body: string | Uint8Array) => [
  "tsyft-http-v1",
  method.toUpperCase(),
  path,
  bodyHash(body),
];

/**
 * The `Authorization` header of an HTTP request to the gateway, signed by `key`.
 *
 * @example
 * ```ts
 * const headers = { authorization: httpProof(clientKey(token), "POST", "/models", text) };
 * ```
 */
export function httpProof(key: DialerKey, method: string, path: string, body: string | Uint8Array): string {
  return `Tsyft ${b64(encodeMessage(prove(key.pair, httpContext(method, path, body), key.cert)))}`;
}

/**
 * Checks an `Authorization: Tsyft ...` header for this request; returns the
 * principal (admin, user, anonymous) or throws TSYFT_ERR_AUTH.
 *
 * @example
 * ```ts
 * const principal = checkHttpProof(req.headers.authorization, "POST", "/models", text, { gridKey, guard });
 * ```
 */
export function checkHttpProof(
  header: unknown,
  method: string,
  path: string,
  body: string | Uint8Array,
  server: { gridKey: string; guard: ReplayGuard },
): Principal {
  const match = typeof header === "string" ? /^Tsyft ([A-Za-z0-9_-]+)$/.exec(header.trim()) : null;
  if (!match) {
    throw new AuthError(
      ErrorCode.AUTH,
      "This request needs an `Authorization: Tsyft <proof>` header from the admin or a user; " +
        "GatewayClient and PublicGridNetwork send it when given { token }.",
    );
  }
  let proof: Partial<Proof>;
  try {
    proof = decodeMessage(bytesOf(match[1])!) as Partial<Proof>;
  } catch {
    throw new AuthError(ErrorCode.AUTH, "Malformed Authorization header: expected base64url MessagePack of a proof.");
  }
  const key = checkProof(proof, httpContext(method, path, body), server.guard);
  if (key === server.gridKey) return { kind: "admin" };
  if (proof?.cert !== undefined) {
    const cert = verifyCertificate(proof.cert, server.gridKey, { role: "user", key });
    return { kind: "user", id: `user:${cert.sub}` };
  }
  return { kind: "anonymous", id: anonymousId(key) };
}
