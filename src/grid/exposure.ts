/**
 * Where a server started by the CLI may listen. A node or gateway holds
 * secrets (shares, plans, the registry), so the CLI listens on 127.0.0.1
 * unless `--host` says otherwise, and it refuses an address other machines
 * can reach unless credentials are configured (a grid key, a node identity);
 * listening there without TLS is allowed, with a warning.
 *
 * @example
 * ```ts
 * checkExposure({ role: "node", host: "0.0.0.0", credentials: undefined, tls: false });   // throws TSYFT_ERR_AUTH
 * ```
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { AuthError, ErrorCode } from "../core/errors";
import { CREDENTIALS_FILE } from "./auth/credentials-file";
import { IDENTITY_FILE } from "./auth/identity";

/**
 * True for addresses only this machine reaches: 127.0.0.0/8, ::1, localhost.
 * The wildcards 0.0.0.0 and :: are not loopback: they listen on every interface.
 *
 * @example
 * ```ts
 * isLoopbackHost("127.0.0.1");   // true
 * isLoopbackHost("0.0.0.0");     // false
 * ```
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === "::ffff:127.0.0.1";
}

/** What the CLI was given that counts as configured credentials. */
export interface CredentialFlags {
  adminKey?: string;
  identity?: string;
  dataDir?: string;
}

/**
 * Which credentials are configured, in words ("--admin-key", "identity.json
 * in out/bob"), or undefined when there are none.
 *
 * @example
 * ```ts
 * configuredCredentials({ dataDir: "out/bob" });   // "out/bob/identity.json" when it exists
 * ```
 */
export function configuredCredentials(flags: CredentialFlags): string | undefined {
  if (flags.adminKey) return "--admin-key";
  if (flags.identity) return "--identity";
  if (flags.dataDir) {
    for (const file of [IDENTITY_FILE, CREDENTIALS_FILE]) {
      const candidate = path.join(flags.dataDir, file);
      if (fs.existsSync(candidate)) return candidate;
    }
  }
  return undefined;
}

/**
 * Refuses (TSYFT_ERR_AUTH) to listen on a non-loopback `host` without
 * credentials; warns (through `warn`) when listening there without TLS.
 *
 * @example
 * ```ts
 * checkExposure({ role: "gateway", host: "0.0.0.0", credentials: "--admin-key", tls: false, warn: console.error });
 * ```
 */
export function checkExposure(options: {
  role: "node" | "gateway" | "grid";
  host: string;
  credentials: string | undefined;
  tls: boolean;
  warn?: (message: string) => void;
}): void {
  const { role, host } = options;
  if (isLoopbackHost(host)) return;
  if (options.credentials === undefined) {
    throw new AuthError(
      ErrorCode.AUTH,
      `tsyft ${role}: refusing to listen on ${host}, which other machines can reach, without credentials: ` +
        `anyone reaching the port could read and change what it holds. Configure credentials ` +
        `(--admin-key <grid key>, --identity <file>, or a --data-dir with ${IDENTITY_FILE} or ${CREDENTIALS_FILE}), ` +
        `or listen on 127.0.0.1 (the default).`,
      { host },
    );
  }
  if (!options.tls) {
    options.warn?.(
      `tsyft ${role}: warning: listening on ${host} without TLS; shares and credentials cross the network in the clear. ` +
        `Pass --tls-cert and --tls-key.`,
    );
  }
}
