/**
 * What the scripts that make the embedded dataset copies (make-embedded-*.mjs) share: where the repository is,
 * where the full copy they read lies, and sha256.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The full copy's folder `<data dir>/<folder>` (data dir: the first argument, else $TSYFT_DATA_DIR) and its index
 * file; exits with a message when the index is not there.
 */
export function fullCopy(folder, indexName) {
  const source = path.resolve(process.argv[2] ?? process.env.TSYFT_DATA_DIR ?? "", folder);
  const indexFile = path.join(source, indexName);
  if (!fs.existsSync(indexFile)) {
    console.error(`No ${indexFile}: pass the data directory that holds ${folder}/ (see data/README.md).`);
    process.exit(1);
  }
  return { source, indexFile };
}

/** Lower-case hex sha256 of a string or bytes. */
export function sha256(data) {
  return createHash("sha256").update(data).digest("hex");
}
