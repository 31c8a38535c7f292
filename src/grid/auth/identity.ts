/**
 * A node's identity: its own key pair, created in its data dir on first start,
 * and the certificate by which the grid's admin vouches that this key is node
 * `id`. Peers and the gateway accept a node only with both (see proofs.ts).
 *
 * identity.json (mode 0600): `{ v: 1, id, seed, grid, cert }`, cert in base64url.
 *
 * @example
 * ```ts
 * const identity = loadOrCreateIdentity({ id: "bob", file: "out/bob/identity.json", adminToken });
 * identity.gridKey;   // the grid key the node trusts
 * ```
 */
import * as path from "node:path";
import { AuthError, ErrorCode } from "../../core/errors";
import { createGridCredentials, issueCertificate, verifyCertificate, adminKeyPair } from "./credentials";
import { readSecretJson, writeSecretJson } from "./files";
import { generateKeyPair, keyPairFromSeed, seedOf, type KeyPair } from "./keys";

/** The file name of a node's identity inside its data dir. */
export const IDENTITY_FILE = "identity.json";

export interface NodeIdentity {
  id: string;
  pair: KeyPair;
  /** The admin-signed node certificate. */
  cert: Uint8Array;
  /** The grid key: the admin's public key, which every certificate this node accepts is signed by. */
  gridKey: string;
  /** Set when the node made its own one-node grid (no credentials were given): its admin token. */
  adminToken?: string;
}

export interface IdentityOptions {
  id: string;
  /** Where the identity is kept; none: in memory only. */
  file?: string;
  /** The grid's admin token: issues (or renews) the node's certificate, then is forgotten. */
  adminToken?: string;
  /** The grid key, when the certificate comes with the identity file. */
  gridKey?: string;
}

interface IdentityFile {
  v: 1;
  id: string;
  seed: string;
  grid?: string;
  cert?: string;
}

/**
 * The node's identity: read from `file` when it is there, else a new key
 * pair (written to `file`). A certificate is issued with `adminToken` when
 * the file has none for this grid; with neither a certificate nor an admin
 * token nor a grid key, the node makes a one-node grid of its own.
 *
 * @example
 * ```ts
 * const identity = loadOrCreateIdentity({ id: "bob" });   // a one-node grid: identity.adminToken
 * ```
 */
export function loadOrCreateIdentity(options: IdentityOptions): NodeIdentity {
  const stored = options.file ? readIdentityFile(options.file, options.id) : undefined;
  const pair = stored ? keyPairFromSeed(stored.seed, `node key in ${options.file}`) : generateKeyPair();
  let adminToken = options.adminToken;
  let ownGrid: string | undefined;
  const gridKey = adminToken ? adminKeyPair(adminToken).publicKey : (options.gridKey ?? stored?.grid);
  if (!gridKey) {
    ownGrid = createGridCredentials().adminToken;
    adminToken = ownGrid;
  }
  const grid = gridKey ?? adminKeyPair(adminToken!).publicKey;
  let cert = stored?.cert && stored.grid === grid ? new Uint8Array(Buffer.from(stored.cert, "base64url")) : undefined;
  if (cert && !certificateHolds(cert, grid, options.id, pair.publicKey)) cert = undefined;
  if (!cert) {
    if (!adminToken) {
      throw new AuthError(
        ErrorCode.AUTH,
        `Node ${options.id} has no certificate from the grid ${grid.slice(0, 8)}…: enroll it with the admin token ` +
          `(npx tsyft grid enroll --id ${options.id}${options.file ? ` --data-dir ${path.dirname(options.file)}` : ""}), ` +
          "or start it with { adminToken }.",
      );
    }
    cert = issueCertificate(adminToken, { role: "node", sub: options.id, key: pair.publicKey });
  }
  if (options.file) {
    writeSecretJson(options.file, {
      v: 1,
      id: options.id,
      seed: seedOf(pair.privateKey),
      grid,
      cert: Buffer.from(cert).toString("base64url"),
    });
  }
  return { id: options.id, pair, cert, gridKey: grid, ...(ownGrid && { adminToken: ownGrid }) };
}

function certificateHolds(cert: Uint8Array, gridKey: string, id: string, key: string): boolean {
  try {
    verifyCertificate(cert, gridKey, { role: "node", sub: id, key });
    return true;
  } catch {
    return false;
  }
}

function readIdentityFile(file: string, id: string): IdentityFile | undefined {
  const parsed = readSecretJson<IdentityFile>(file, "a node identity { v: 1, id, seed }");
  if (parsed === undefined) return undefined;
  if (parsed.v !== 1 || typeof parsed.seed !== "string") {
    throw new AuthError(ErrorCode.AUTH, `${file} is not a node identity (no v: 1 and seed).`);
  }
  if (parsed.id !== id) {
    throw new AuthError(
      ErrorCode.AUTH,
      `${file} is the identity of node ${JSON.stringify(parsed.id)}, not ${JSON.stringify(id)}: ` +
        "give each node its own data dir.",
    );
  }
  return parsed as IdentityFile;
}
