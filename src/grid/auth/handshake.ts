/**
 * The signed handshake on a node's control channel: who is on the other end
 * of a socket, proved in the one hello the dialer sends anyway (no extra
 * round trip), and a welcome by which the node proves it is the node the
 * dialer expected.
 *
 * 1. The dialer signs ["tsyft-hello-v1", role, expect, from ?? ""] (+ time,
 *    nonce) with its key: the admin's, a user's (with its certificate), a
 *    node's (with its node certificate), or an anonymous client's own.
 * 2. The node checks the proof (its id is `expect`, time within 5 min, nonce
 *    not seen, signature) and gives the socket a principal: admin, user,
 *    anonymous, or the peer link of node `from` (a node certificate for
 *    `from` is required).
 * 3. The node answers with its proof over ["tsyft-welcome-v1", id, boot,
 *    the hello's nonce] and its node certificate; the dialer checks the
 *    certificate names `expect` under the grid key it knows.
 *
 * @example
 * ```ts
 * const auth = signHello(pair, { role: "client", expect: "bob" });
 * const who = authenticateHello({ t: "hello", role: "client", expect: "bob", auth }, { id: "bob", gridKey, guard });
 * who.kind;   // "client"
 * ```
 */
import { AuthError, ErrorCode } from "../../core/errors";
import type { Principal } from "../../workers/caller";
import { anonymousId, verifyCertificate } from "./credentials";
import { checkProof, prove, type Proof, type ReplayGuard } from "./proofs";
import type { KeyPair } from "./keys";

/** What a hello's signature covers besides its time and nonce. */
export interface HelloFields {
  role: "client" | "peer";
  expect: string;
  from?: string;
}

/** Who said hello: a client with its principal, or node `from` on its peer link. */
export type HelloIdentity = { kind: "client"; principal: Principal } | { kind: "peer"; from: string };

/** The key and certificate a dialer proves itself with. */
export interface DialerKey {
  pair: KeyPair;
  cert?: Uint8Array;
}

/** The node's side of a welcome: its key and node certificate. */
export interface NodeKey {
  pair: KeyPair;
  cert: Uint8Array;
}

const helloContext = (f: HelloFields) => ["tsyft-hello-v1", f.role, f.expect, f.from ?? ""];
const welcomeContext = (id: string, boot: string, nonce: Uint8Array) => ["tsyft-welcome-v1", id, boot, nonce];

/**
 * The `auth` of a hello: a proof by `key` over the hello's role, expected node and sender.
 *
 * @example
 * ```ts
 * const hello = { t: "hello", role: "peer", expect: "charlie", from: "bob", url, boot, auth: signHello(bob, fields) };
 * ```
 */
export function signHello(key: DialerKey, fields: HelloFields): Proof {
  return prove(key.pair, helloContext(fields), key.cert);
}

/**
 * Checks a hello's proof at node `id`; returns who said it or throws
 * TSYFT_ERR_AUTH. A peer needs a node certificate for `from` from this grid.
 *
 * @example
 * ```ts
 * const who = authenticateHello(hello, { id: "charlie", gridKey, guard });
 * if (who.kind === "peer") links.accept(who.from, socket, hello.boot);
 * ```
 */
export function authenticateHello(
  hello: HelloFields & { auth?: unknown },
  node: { id: string; gridKey: string; guard: ReplayGuard },
): HelloIdentity {
  if (hello.role === "peer" && typeof hello.from !== "string") {
    throw new AuthError(ErrorCode.AUTH, "A peer hello must say which node it is from.");
  }
  const key = checkProof(hello.auth, helloContext(hello), node.guard);
  const cert = (hello.auth as Partial<Proof>).cert;
  if (hello.role === "peer") {
    try {
      verifyCertificate(cert, node.gridKey, { role: "node", sub: hello.from, key });
    } catch (error) {
      throw new AuthError(
        ErrorCode.AUTH,
        `Node ${node.id} refused a peer link claiming to be ${JSON.stringify(hello.from)}: ${(error as Error).message} ` +
          "Peers need a node certificate from this grid's admin (npx tsyft grid enroll).",
      );
    }
    return { kind: "peer", from: hello.from! };
  }
  if (key === node.gridKey) return { kind: "client", principal: { kind: "admin" } };
  if (cert !== undefined) {
    const body = verifyCertificate(cert, node.gridKey, { role: "user", key });
    return { kind: "client", principal: { kind: "user", id: `user:${body.sub}` } };
  }
  return { kind: "client", principal: { kind: "anonymous", id: anonymousId(key) } };
}

/**
 * The `auth` of a welcome: the node's proof over its id, boot and the hello's nonce, with its certificate.
 *
 * @example
 * ```ts
 * socket.send(welcome({ t: "welcome", id, boot, auth: signWelcome(identity, id, boot, hello.auth.nonce) }));
 * ```
 */
export function signWelcome(key: NodeKey, id: string, boot: string, helloNonce: Uint8Array): Proof {
  return prove(key.pair, welcomeContext(id, boot, helloNonce), key.cert);
}

/**
 * Checks that a welcome comes from node `expect` of the grid `gridKey`, in
 * answer to the hello with `helloNonce`; throws TSYFT_ERR_AUTH naming the
 * node and url otherwise.
 *
 * @example
 * ```ts
 * verifyWelcome(welcome, { expect: "bob", url, gridKey, helloNonce: hello.auth.nonce });
 * ```
 */
export function verifyWelcome(
  welcome: { id: string; boot: string; auth?: unknown },
  dialer: { expect: string; url: string; gridKey: string; helloNonce: Uint8Array },
): void {
  const { expect, url } = dialer;
  try {
    const key = checkProof(welcome.auth, welcomeContext(welcome.id, welcome.boot, dialer.helloNonce));
    verifyCertificate((welcome.auth as Partial<Proof>).cert, dialer.gridKey, { role: "node", sub: expect, key });
  } catch (error) {
    throw new AuthError(
      ErrorCode.AUTH,
      `The node at ${url} could not prove it is node ${expect} of this grid: ${(error as Error).message} ` +
        "Check the url, and that the node was enrolled in this grid (npx tsyft grid enroll).",
      { worker: expect, url },
    );
  }
}
