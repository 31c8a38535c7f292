/**
 * Secret files of a grid (credentials.json, identity.json): read as JSON when
 * they are there, written so that only their owner can read them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { AuthError, ErrorCode } from "../../core/errors";

/**
 * The parsed JSON of `file`, or undefined when there is no such file; text
 * that is not JSON is a TSYFT_ERR_AUTH error that says what was expected.
 *
 * @example
 * ```ts
 * const stored = readSecretJson<{ seed?: string }>("out/bob/identity.json", "a node identity");
 * ```
 */
export function readSecretJson<T>(file: string, expected: string): Partial<T> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as Partial<T>;
  } catch {
    throw new AuthError(ErrorCode.AUTH, `${file} is not JSON; expected ${expected}. Move it away to make a new one.`);
  }
}

/**
 * Writes `content` as JSON to `file` with mode 0600, atomically (a reader
 * never sees half a file).
 *
 * @example
 * ```ts
 * writeSecretJson("out/bob/identity.json", { v: 1, id: "bob", seed });
 * ```
 */
export function writeSecretJson(file: string, content: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(content, null, 2) + "\n", { mode: 0o600 });
  fs.renameSync(tmp, file);
}
