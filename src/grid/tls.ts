/**
 * TLS for the grid: nodes and the gateway serve wss/https on their one port
 * when given a certificate and key; clients verify the server's certificate
 * (Node's default trust store, plus a `ca` for self-signed grids).
 *
 * Certificates, keys and CAs are given as PEM text or as a file path; a
 * client without a `ca` option uses the file named by TSYFT_CA_FILE when it
 * is set. A failed verification is TSYFT_ERR_TLS, saying to pass `ca`.
 *
 * @example
 * ```ts
 * const bob = await sy.grid.startNode({ id: "bob", tls: { cert: "bob.crt", key: "bob.key" } });
 * bob.url;   // wss://127.0.0.1:...
 * const client = new sy.grid.WebsocketGridClient(hook, bob.url, { id: "bob", ca: "grid-ca.crt" });
 * ```
 */
import * as fs from "node:fs";
import * as tls from "node:tls";
import { ErrorCode, TsyftError } from "../core/errors";

/** A server's certificate and private key: PEM text or file paths. */
export interface TlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
}

/** A server's certificate and key, read and checked. */
export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

/** The environment variable naming a CA file that clients trust besides the system's. */
export const CA_FILE_ENV = "TSYFT_CA_FILE";

/** Node's codes for a certificate that does not verify (as opposed to a network failure). */
const VERIFY_CODES = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/**
 * PEM bytes from PEM text, a Buffer, or a file path (`what` names it in errors).
 *
 * @example
 * ```ts
 * const pem = readPem("out/tls/ca.crt", "ca");
 * ```
 */
export function readPem(value: string | Buffer, what: string): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value !== "string" || value.length === 0) {
    throw new TsyftError(ErrorCode.TLS, `${what}: expected PEM text or a file path, got ${JSON.stringify(value)}.`);
  }
  if (value.includes("-----BEGIN ")) return Buffer.from(value);
  try {
    return fs.readFileSync(value);
  } catch (error) {
    throw new TsyftError(
      ErrorCode.TLS,
      `${what}: cannot read ${value} (${(error as Error).message}). Pass PEM text or the path of a PEM file.`,
      { file: value },
      { cause: error },
    );
  }
}

/**
 * Reads a server's certificate and key and checks that they make a TLS
 * context (a key that does not match the certificate fails here, at start).
 *
 * @example
 * ```ts
 * const files = loadTlsFiles({ cert: "node.crt", key: "node.key" });
 * https.createServer(files, handler);
 * ```
 */
export function loadTlsFiles(options: TlsOptions): TlsFiles {
  const files = { cert: readPem(options.cert, "tls.cert"), key: readPem(options.key, "tls.key") };
  try {
    tls.createSecureContext(files);
  } catch (error) {
    throw new TsyftError(
      ErrorCode.TLS,
      `tls: the certificate and key do not make a TLS context (${(error as Error).message}). Expected a PEM certificate and its PEM private key.`,
      {},
      { cause: error },
    );
  }
  return files;
}

/**
 * The CA a client trusts besides the system's: the `ca` option, else the file
 * named by TSYFT_CA_FILE, else none.
 *
 * @example
 * ```ts
 * new WebSocket(url, { ca: resolveCa(options.ca) });
 * ```
 */
export function resolveCa(ca?: string | Buffer): Buffer | undefined {
  if (ca !== undefined) return readPem(ca, "ca");
  const file = process.env[CA_FILE_ENV];
  return file ? readPem(file, CA_FILE_ENV) : undefined;
}

/**
 * The typed error of a TLS verification failure on a connection to `url`,
 * or undefined when `error` is another kind of failure.
 *
 * @example
 * ```ts
 * socket.on("error", (e) => reject(tlsFailure(e, url) ?? connectionError(e)));
 * ```
 */
export function tlsFailure(error: unknown, url: string, details: Record<string, unknown> = {}): TsyftError | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== "string" || !VERIFY_CODES.has(code)) return undefined;
  return new TsyftError(
    ErrorCode.TLS,
    `The TLS certificate of ${url} could not be verified (${code}: ${(error as Error).message}). ` +
      `For a grid with its own (self-signed) CA, pass { ca: "<PEM text or file>" } or set ${CA_FILE_ENV}; ` +
      `check that the certificate names the host you connect to.`,
    { ...details, tls: code },
    { cause: error },
  );
}

/**
 * The CLI flags that give a child process the grid's TLS files: file paths
 * only (a child cannot be handed PEM text on its command line).
 *
 * @example
 * ```ts
 * tlsArgs({ tls: { cert: "grid.crt", key: "grid.key" }, ca: "ca.crt" });   // ["--tls-cert", "grid.crt", ...]
 * ```
 */
export function tlsArgs(secure: { tls?: TlsOptions; ca?: string | Buffer }): string[] {
  const file = (value: string | Buffer, what: string) => {
    if (typeof value !== "string" || value.includes("-----BEGIN ")) {
      throw new TsyftError(
        ErrorCode.TLS,
        `${what}: child processes take TLS files by path; got PEM text. Write it to a file (mode 0600 for a key) and pass the path.`,
      );
    }
    return value;
  };
  return [
    ...(secure.tls
      ? ["--tls-cert", file(secure.tls.cert, "tls.cert"), "--tls-key", file(secure.tls.key, "tls.key")]
      : []),
    ...(secure.ca !== undefined ? ["--ca", file(secure.ca, "ca")] : []),
  ];
}
