/**
 * Where the CLI finds a grid's credentials, so that commands typed on one
 * machine need no extra step:
 *
 * - the admin token: `TSYFT_ADMIN_TOKEN`, else the grid's credentials.json
 *   (in --state-dir, else --data-dir, else out/grid: where `grid up` keeps it);
 * - `tsyft gateway`: --admin-key, else the credentials.json of its --data-dir,
 *   else the grid's (made there, and its admin token printed once, when there
 *   is none);
 * - `tsyft node`: its identity file when it holds a certificate; else it
 *   enrolls itself with the admin token found as above; else (a node on its
 *   own) a one-node grid.
 *
 * @example
 * ```ts
 * const token = findAdminToken({ stateDir: "out/grid" });   // from TSYFT_ADMIN_TOKEN or out/grid/credentials.json
 * ```
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { AuthError, ErrorCode } from "../core/errors";
import { adminKeyPair, issueUserToken } from "./auth/credentials";
import { CREDENTIALS_FILE, loadOrCreateGridCredentials, readGridCredentials } from "./auth/credentials-file";
import { IDENTITY_FILE, loadOrCreateIdentity } from "./auth/identity";
import { gridStateDir } from "./local-grid";

export interface GridDirs {
  stateDir?: string;
  dataDir?: string;
}

/** The admin token: TSYFT_ADMIN_TOKEN, else the grid's credentials.json; undefined when neither. */
export function findAdminToken(dirs: GridDirs = {}): string | undefined {
  const fromEnv = process.env.TSYFT_ADMIN_TOKEN;
  if (fromEnv) return fromEnv;
  return readGridCredentials(gridStateDir(dirs))?.adminToken;
}

function requireAdminToken(dirs: GridDirs, what: string): string {
  const token = findAdminToken(dirs);
  if (token === undefined) {
    throw new AuthError(
      ErrorCode.AUTH,
      `${what} needs the grid's admin token: set TSYFT_ADMIN_TOKEN, or pass --state-dir with the grid's ` +
        `${CREDENTIALS_FILE} (looked in ${path.join(gridStateDir(dirs), CREDENTIALS_FILE)}).`,
    );
  }
  return token;
}

/**
 * The grid key a CLI gateway is started with, and a message to print once
 * when credentials were made for it.
 *
 * @example
 * ```ts
 * const { gridKey, notice } = gatewayGridKey({ adminKey: flags["admin-key"], dataDir: flags["data-dir"] });
 * ```
 */
export function gatewayGridKey(options: { adminKey?: string; dataDir?: string }): {
  gridKey: string;
  notice?: string;
} {
  if (options.adminKey !== undefined) return { gridKey: options.adminKey };
  if (process.env.TSYFT_ADMIN_TOKEN) return { gridKey: adminKeyPair(process.env.TSYFT_ADMIN_TOKEN).publicKey };
  const own = options.dataDir === undefined ? undefined : readGridCredentials(options.dataDir);
  if (own) return { gridKey: own.gridKey };
  const made = loadOrCreateGridCredentials(gridStateDir({}));
  return {
    gridKey: made.gridKey,
    notice: made.created
      ? `New grid credentials in ${made.file} (mode 0600). Admin token, shown once: ${made.adminToken}`
      : `Grid credentials from ${made.file}.`,
  };
}

/**
 * The credentials a CLI node starts with: its identity file's certificate, or
 * the admin token found for it (to enroll itself), or none (a one-node grid).
 *
 * @example
 * ```ts
 * await startNode({ id, dataDir, ...nodeCredentials({ id, dataDir, gridKey: flags["admin-key"] }) });
 * ```
 */
export function nodeCredentials(options: { gridKey?: string; identityFile?: string; dataDir?: string }): {
  adminToken?: string;
  gridKey?: string;
} {
  if (options.gridKey !== undefined) return { gridKey: options.gridKey };
  const file =
    options.identityFile ?? (options.dataDir === undefined ? undefined : path.join(options.dataDir, IDENTITY_FILE));
  if (file !== undefined && hasCertificate(file)) return {}; // enrolled: its own file says which grid
  const token = findAdminToken();
  return token === undefined ? {} : { adminToken: token };
}

function hasCertificate(file: string): boolean {
  try {
    const stored = JSON.parse(fs.readFileSync(file, "utf8")) as { cert?: unknown; grid?: unknown };
    return typeof stored.cert === "string" && typeof stored.grid === "string";
  } catch {
    return false;
  }
}

/**
 * `tsyft grid enroll`: issues node `id`'s identity and certificate in its data
 * dir (or identity file); returns the file and the grid key.
 *
 * @example
 * ```ts
 * enrollNode({ id: "bob", dataDir: "data/nodes/bob" });   // { file: "data/nodes/bob/identity.json", gridKey }
 * ```
 */
export function enrollNode(options: GridDirs & { id: string; identityFile?: string }): {
  file: string;
  gridKey: string;
} {
  const file =
    options.identityFile ?? (options.dataDir === undefined ? undefined : path.join(options.dataDir, IDENTITY_FILE));
  if (file === undefined) throw new RangeError("tsyft grid enroll: pass --data-dir (or --identity <file>).");
  const adminToken = requireAdminToken({ stateDir: options.stateDir }, "tsyft grid enroll");
  const identity = loadOrCreateIdentity({ id: options.id, file, adminToken });
  return { file, gridKey: identity.gridKey };
}

/**
 * `tsyft grid token`: a user token for `subject`, signed with the admin token.
 *
 * @example
 * ```ts
 * console.log(userToken({ subject: "ada", expiresInMs: 24 * 3600_000 }));
 * ```
 */
export function userToken(options: GridDirs & { subject: string; expiresInMs?: number }): string {
  const adminToken = requireAdminToken(options, "tsyft grid token");
  return issueUserToken(adminToken, { subject: options.subject, expiresInMs: options.expiresInMs });
}
