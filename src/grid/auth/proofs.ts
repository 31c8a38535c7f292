/**
 * Proofs of possession: how a client, a node or the admin shows a server it
 * holds a key, without sending anything the server could replay elsewhere.
 *
 * A proof is `{ key, cert?, time, nonce, sig }`: a signature by `key` over a
 * context label and the fields that bind it to one use (the server's id, the
 * request), a time within `PROOF_WINDOW_MS` of the server's clock, and a
 * 16-byte nonce the server has not seen in that window.
 *
 *   hello    ["tsyft-hello-v1", role, expect, from, time, nonce]   client/peer -> node
 *   welcome  ["tsyft-welcome-v1", id, boot, hello nonce]           node -> dialer
 *   join     ["tsyft-join-v1", type, id, address, time, nonce]     node -> gateway
 *   http     ["tsyft-http-v1", method, path, sha256(body), time, nonce]   client -> gateway
 *
 * @example
 * ```ts
 * const proof = prove(pair, ["tsyft-hello-v1", "client", "bob", ""]);
 * checkProof(proof, ["tsyft-hello-v1", "client", "bob", ""], replayGuard);   // the verified key
 * ```
 */
import { randomBytes } from "node:crypto";
import { encodeMessage } from "../../core/codec";
import { AuthError, ErrorCode } from "../../core/errors";
import { signBytes, verifyBytes, type KeyPair } from "./keys";

/** How far a proof's time may be from the verifier's clock. */
export const PROOF_WINDOW_MS = 5 * 60_000;

/** A signed statement that the sender holds `key`. */
export interface Proof {
  key: string;
  cert?: Uint8Array;
  time: number;
  nonce: Uint8Array;
  sig: Uint8Array;
}

/**
 * Signs `context` (with a time and a fresh nonce appended).
 *
 * @example
 * ```ts
 * const auth = prove(pair, ["tsyft-hello-v1", "peer", "charlie", "bob"], cert);
 * ```
 */
export function prove(pair: KeyPair, context: readonly unknown[], cert?: Uint8Array): Proof {
  const time = Date.now();
  const nonce = new Uint8Array(randomBytes(16));
  const sig = signBytes(pair, encodeMessage([...context, time, nonce]));
  return cert ? { key: pair.publicKey, cert, time, nonce, sig } : { key: pair.publicKey, time, nonce, sig };
}

/**
 * Remembers the nonces of the last window so that a proof is accepted once.
 * Bounded: beyond `max` remembered nonces the oldest go (their proofs are
 * then refused by time before long).
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(private readonly max = 100_000) {}

  /** True the first time a nonce is seen within the window. */
  admit(nonce: Uint8Array, time: number): boolean {
    const now = Date.now();
    if (this.seen.size >= this.max) this.prune(now);
    const id = Buffer.from(nonce).toString("base64url");
    if (this.seen.has(id)) return false;
    this.seen.set(id, time);
    return true;
  }

  private prune(now: number): void {
    for (const [id, time] of this.seen) {
      if (Math.abs(now - time) > PROOF_WINDOW_MS || this.seen.size >= this.max) this.seen.delete(id);
      else break;
    }
  }
}

/**
 * Checks a proof over `context`; returns the key it proves, or throws
 * TSYFT_ERR_AUTH saying what is wrong. A guard makes each proof usable once.
 *
 * @example
 * ```ts
 * const key = checkProof(hello.auth, ["tsyft-hello-v1", hello.role, hello.expect, hello.from ?? ""], guard);
 * ```
 */
export function checkProof(proof: unknown, context: readonly unknown[], guard?: ReplayGuard): string {
  const refuse = (why: string) => new AuthError(ErrorCode.AUTH, `Authentication refused: ${why}.`);
  const p = proof as Partial<Proof> | undefined;
  if (
    typeof p !== "object" ||
    p === null ||
    typeof p.key !== "string" ||
    typeof p.time !== "number" ||
    !(p.nonce instanceof Uint8Array) ||
    p.nonce.length !== 16 ||
    !(p.sig instanceof Uint8Array)
  ) {
    throw refuse("expected a proof { key, time, nonce, sig } (update the client library)");
  }
  const skew = Math.abs(Date.now() - p.time);
  if (skew > PROOF_WINDOW_MS) {
    throw refuse(`the proof's time is ${Math.round(skew / 1000)} s from this server's clock (allowed: 300 s)`);
  }
  if (!verifyBytes(p.key, encodeMessage([...context, p.time, p.nonce]), p.sig)) {
    throw refuse("the signature does not match the key and the request");
  }
  if (guard && !guard.admit(p.nonce, p.time)) throw refuse("this proof was already used (a replay)");
  return p.key;
}
