/**
 * sha256 checks of dataset files against the manifest in `data/checksums.json`.
 *
 * Loaders call {@link verifyFiles} before reading anything, so a missing or corrupt file fails
 * with one {@link DataError} that names every bad file, the directory searched, the environment
 * variable that sets it, and where to get the files.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import * as zlib from "node:zlib";
import { DataError, ErrorCode } from "../core/errors";
import manifestJson from "../../data/checksums.json";
import { DATA_DIR_ENV, dataDir, describeDataDir } from "./paths";

/** What the manifest knows about one file. */
export interface ManifestEntry {
  /** Size in bytes (of the decompressed content when `gzip`). */
  readonly bytes?: number;
  /** Lower-case hex sha256 (of the decompressed content when `gzip`). */
  readonly sha256?: string;
  /** The file may be stored gzipped as `<name>.gz`; the checksum is of its content. */
  readonly gzip?: boolean;
}

/** One dataset of the manifest. */
export interface DatasetManifest {
  readonly title: string;
  readonly licence: string;
  /** Where to get the files (printed in error messages). */
  readonly obtain: string;
  /** Entries by path relative to the data directory, with `/` separators. */
  readonly files: Readonly<Record<string, ManifestEntry>>;
}

/** The datasets tsyft knows. */
export type DatasetName = "ham10000" | "ham10000_embedded" | "mnist" | "idc" | "idc_embedded";

/**
 * The checksum manifest, `data/checksums.json`.
 *
 * @example
 * ```ts
 * manifest.mnist.files["mnist/t10k-labels-idx1-ubyte"].sha256;   // "ff7bcfd4..."
 * manifest.ham10000.licence;                                      // "CC BY-NC 4.0 (...)"
 * ```
 */
export const manifest: Readonly<Record<DatasetName, DatasetManifest>> = manifestJson.datasets;

/** A file that passed {@link verifyFiles}. */
export interface VerifiedFile {
  /** The name asked for, relative to the data directory. */
  readonly name: string;
  /** The absolute path found (ending in `.gz` when the gzipped form was found). */
  readonly path: string;
  /** Whether the file found is gzipped. */
  readonly gzip: boolean;
  /** Its sha256 (of the content when gzipped) when it was checked. */
  readonly sha256?: string;
}

/** Options of {@link verifyFiles}. */
export interface VerifyFilesOptions {
  /** The data directory; default {@link dataDir}(). */
  readonly dir?: string;
  /** The dataset the files belong to, for the message; default: the first folder of the first name. */
  readonly dataset?: DatasetName;
  /** Compare sha256 where the manifest has one (default true); false only checks presence. */
  readonly checksums?: boolean;
  /** Entries to use instead of the manifest's, by name. */
  readonly expected?: Readonly<Record<string, ManifestEntry>>;
}

/**
 * The sha256 of a file, as lower-case hex, streamed. With `{ gunzip: true }` it is the sha256
 * of the decompressed content.
 *
 * @example
 * ```ts
 * await sha256File("data/mnist/t10k-labels-idx1-ubyte.gz");                    // "fc607395..."
 * await sha256File("data/mnist/t10k-labels-idx1-ubyte.gz", { gunzip: true });  // "ff7bcfd4..."
 * ```
 */
export async function sha256File(file: string, options: { gunzip?: boolean } = {}): Promise<string> {
  const hash = createHash("sha256");
  if (options.gunzip) await pipeline(fs.createReadStream(file), zlib.createGunzip(), hash);
  else await pipeline(fs.createReadStream(file), hash);
  return hash.digest("hex");
}

/**
 * Checks that dataset files are present and match their sha256 in the manifest, and returns
 * where each one is. Names are relative to the data directory (`"mnist/t10k-images-idx3-ubyte"`);
 * a name whose manifest entry has `gzip` is also found as `<name>.gz`.
 *
 * Throws a {@link DataError}: `TSYFT_ERR_DATA_MISSING` when any file is absent,
 * `TSYFT_ERR_DATA_CHECKSUM` when any has the wrong sha256. The message lists the files, the
 * directory searched, `TSYFT_DATA_DIR`, and where to get the dataset; `details` carries
 * `dir`, `missing` and `corrupt`.
 *
 * @example
 * ```ts
 * const [images, labels] = await verifyFiles(
 *   ["mnist/t10k-images-idx3-ubyte", "mnist/t10k-labels-idx1-ubyte"], { dataset: "mnist" });
 * images.path;   // "/data/tsyft/mnist/t10k-images-idx3-ubyte.gz"
 * ```
 */
export async function verifyFiles(names: readonly string[], options: VerifyFilesOptions = {}): Promise<VerifiedFile[]> {
  const dir = dataDir(options.dir);
  const dataset = options.dataset ?? datasetOf(names[0]);
  const checkSums = options.checksums ?? true;
  const missing: string[] = [];
  const corrupt: { name: string; problem: string }[] = [];
  const found: VerifiedFile[] = [];

  for (const name of names) {
    const entry = options.expected?.[name] ?? (dataset ? manifest[dataset].files[name] : undefined);
    const plain = path.join(dir, ...name.split("/"));
    const candidates = entry?.gzip ? [plain, `${plain}.gz`] : [plain];
    const file = candidates.find((candidate) => isFile(candidate));
    if (file === undefined) {
      missing.push(entry?.gzip ? `${name}[.gz]` : name);
      continue;
    }
    const gzip = file.endsWith(".gz") && file !== plain;
    if (!checkSums || entry?.sha256 === undefined) {
      found.push({ name, path: file, gzip });
      continue;
    }
    let digest: string;
    try {
      digest = await sha256File(file, { gunzip: gzip });
    } catch (error) {
      corrupt.push({ name, problem: `cannot be read${gzip ? " as gzip" : ""} (${(error as Error).message})` });
      continue;
    }
    if (digest !== entry.sha256) {
      corrupt.push({ name, problem: `sha256 ${digest}, expected ${entry.sha256}` });
      continue;
    }
    found.push({ name, path: file, gzip, sha256: digest });
  }

  if (missing.length === 0 && corrupt.length === 0) return found;
  throw dataFilesError({ dir: options.dir, dataset, missing, corrupt });
}

/**
 * Checks files against a `sha256sum`-style list (`<hex>  ./relative/path` per line), such as
 * `ham10000/images_224/SHA256SUMS`. Only the paths in `only` are checked when it is given
 * (paths relative to the list's folder, `/` separators). Throws a `TSYFT_ERR_DATA_CHECKSUM`
 * {@link DataError} naming the files that differ or are missing.
 *
 * @example
 * ```ts
 * await verifySha256Sums("/data/tsyft/ham10000/images_224/SHA256SUMS");   // 1074 files checked
 * ```
 */
export async function verifySha256Sums(
  sumsFile: string,
  options: { only?: Iterable<string>; concurrency?: number; dataset?: DatasetName; dir?: string } = {},
): Promise<number> {
  const base = path.dirname(sumsFile);
  const listed = parseSha256Sums(fs.readFileSync(sumsFile, "utf8"));
  const only = options.only === undefined ? undefined : new Set(Array.from(options.only, normalizeRelative));
  const todo = [...listed].filter(([name]) => only === undefined || only.has(name));
  if (only !== undefined) {
    const unlisted = [...only].filter((name) => !listed.has(name));
    if (unlisted.length > 0) {
      throw new DataError(
        ErrorCode.DATA_CHECKSUM,
        `${unlisted.length} file(s) are not listed in ${sumsFile}, so they cannot be verified: ${preview(unlisted)}.`,
        { sumsFile, unlisted },
      );
    }
  }
  const corrupt: { name: string; problem: string }[] = [];
  const missing: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const [name, expected] = todo[next++]!;
      const file = path.join(base, ...name.split("/"));
      if (!isFile(file)) {
        missing.push(name);
        continue;
      }
      const digest = createHash("sha256").update(await fs.promises.readFile(file)).digest("hex");
      if (digest !== expected) corrupt.push({ name, problem: `sha256 ${digest}, expected ${expected}` });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 16) }, worker));
  if (missing.length === 0 && corrupt.length === 0) return todo.length;
  // Name files relative to the data directory when the list lies inside it.
  const relative = path.relative(dataDir(options.dir), base);
  const prefix = relative.startsWith("..") || path.isAbsolute(relative) ? base : relative.split(path.sep).join("/");
  const qualify = (name: string): string => (prefix === "" ? name : `${prefix}/${name}`);
  throw dataFilesError({
    dir: options.dir,
    dataset: options.dataset,
    missing: missing.sort().map(qualify),
    corrupt: corrupt.sort((a, b) => a.name.localeCompare(b.name)).map((c) => ({ ...c, name: qualify(c.name) })),
    code: ErrorCode.DATA_CHECKSUM,
  });
}

/**
 * Parses a `sha256sum` listing into a map from relative path (no leading `./`) to hex digest.
 *
 * @example
 * ```ts
 * parseSha256Sums("caf6...f0  ./bkl/ISIC_0024336.jpg\n").get("bkl/ISIC_0024336.jpg");   // "caf6...f0"
 * ```
 */
export function parseSha256Sums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const match = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line.trim());
    if (match) out.set(normalizeRelative(match[2]!), match[1]!.toLowerCase());
  }
  return out;
}

/** Builds the one error message for missing or corrupt dataset files. */
function dataFilesError(problem: {
  dir: string | undefined;
  dataset: DatasetName | undefined;
  missing: readonly string[];
  corrupt: readonly { name: string; problem: string }[];
  code?: ErrorCode;
}): DataError {
  const { missing, corrupt, dataset } = problem;
  const resolved = dataDir(problem.dir);
  const info = dataset ? manifest[dataset] : undefined;
  const title = info ? info.title : "dataset";
  const lines: string[] = [];
  if (missing.length > 0) lines.push(`${missing.length} ${title} file(s) missing:`, ...missing.slice(0, 20).map((m) => `  - ${m}`));
  if (missing.length > 20) lines.push(`  ... and ${missing.length - 20} more`);
  if (corrupt.length > 0) {
    lines.push(`${corrupt.length} ${title} file(s) corrupt (sha256 mismatch):`, ...corrupt.slice(0, 20).map((c) => `  - ${c.name}: ${c.problem}`));
  }
  if (corrupt.length > 20) lines.push(`  ... and ${corrupt.length - 20} more`);
  lines.push(
    `Searched the data directory ${describeDataDir(problem.dir)}.`,
    `Set ${DATA_DIR_ENV} to the folder that holds ${dataset ? `${dataset}/` : "the dataset folders"} ` +
      `(the default is data/ in the tsyft repository; CI uses ${DATA_DIR_ENV}=../shared/data).`,
  );
  if (info) lines.push(`Get the files: ${info.obtain}`);
  lines.push("See data/README.md for the expected layout and data/checksums.json for the sha256 of each file.");
  const code = problem.code ?? (missing.length > 0 ? ErrorCode.DATA_MISSING : ErrorCode.DATA_CHECKSUM);
  return new DataError(code, lines.join("\n"), {
    dir: resolved,
    envVar: DATA_DIR_ENV,
    dataset: dataset ?? null,
    missing: [...missing],
    corrupt: corrupt.map((c) => c.name),
  });
}

function datasetOf(name: string | undefined): DatasetName | undefined {
  const first = name?.split("/")[0];
  return first === "ham10000" || first === "mnist" || first === "idc" ? first : undefined;
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function normalizeRelative(name: string): string {
  return name.replace(/\\/g, "/").replace(/^\.\//, "");
}

function preview(names: readonly string[]): string {
  return names.length <= 5 ? names.join(", ") : `${names.slice(0, 5).join(", ")} and ${names.length - 5} more`;
}
