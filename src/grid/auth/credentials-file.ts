/**
 * A grid's credentials.json: `{ adminToken, gridKey }`, mode 0600, in the
 * grid's data or state dir. `grid up` / `startLocalGrid` make it once and
 * reuse it, so a grid keeps its admin token and its nodes their
 * certificates across restarts; `grid status`, `grid down` and
 * `grid enroll` read it.
 *
 * @example
 * ```ts
 * const { adminToken, gridKey, created } = loadOrCreateGridCredentials("out/grid");
 * ```
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { AuthError, ErrorCode } from "../../core/errors";
import { adminKeyPair, createGridCredentials, type GridCredentials } from "./credentials";
import { readSecretJson } from "./files";

/** The file name of a grid's credentials inside its data or state dir. */
export const CREDENTIALS_FILE = "credentials.json";

/**
 * The credentials in `dir`/credentials.json; undefined when there are none.
 *
 * @example
 * ```ts
 * readGridCredentials("out/grid")?.gridKey;
 * ```
 */
export function readGridCredentials(dir: string): GridCredentials | undefined {
  const file = path.join(dir, CREDENTIALS_FILE);
  const parsed = readSecretJson<GridCredentials>(file, "{ adminToken, gridKey }");
  if (parsed === undefined) return undefined;
  if (typeof parsed.adminToken !== "string" || adminKeyPair(parsed.adminToken).publicKey !== parsed.gridKey) {
    throw new AuthError(ErrorCode.AUTH, `${file}: its adminToken and gridKey do not belong together.`);
  }
  return { adminToken: parsed.adminToken, gridKey: parsed.gridKey };
}

/**
 * The credentials in `dir`/credentials.json, made (mode 0600) when there are none.
 *
 * @example
 * ```ts
 * const { adminToken, created } = loadOrCreateGridCredentials(stateDir);
 * if (created) console.log(`admin token: ${adminToken}`);
 * ```
 */
export function loadOrCreateGridCredentials(dir: string): GridCredentials & { created: boolean; file: string } {
  const file = path.join(dir, CREDENTIALS_FILE);
  const existing = readGridCredentials(dir);
  if (existing) return { ...existing, created: false, file };
  const credentials = createGridCredentials();
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(credentials, null, 2) + "\n", { mode: 0o600, flag: "wx" });
  return { ...credentials, created: true, file };
}
