/**
 * The breast cancer IDC histopathology patches (Janowczyk & Madabhushi 2016; the dataset behind PySyft's
 * `BreastCancerDataset`): 50x50 RGB patches of breast tissue, label 1 where they show invasive ductal carcinoma.
 *
 * Two copies:
 * - **full**, under `<data dir>/idc/` (see data/README.md): a real subset of 8,988 patches, 4,587 non-IDC and
 *   4,401 IDC, from 19 patients, as published (`index.csv`, `patches/{0,1}/*.png`, `patches/SHA256SUMS`);
 * - **embedded**, in the repository under `data/embedded/idc-400-32px/`: 400 of those patches (200 per class, every
 *   patient), derived: padded and resized to 32x32 by this loader, 8 bits per channel, as the tiles of one PNG with
 *   its `index.csv`, so the domain tutorials run on a fresh clone. `scripts/make-embedded-idc.mjs` makes it from
 *   the full copy; idc-embedded.ts reads it. Loading it at 32x32 gives the full copy's 32x32 pixels within 1/255;
 *   at a smaller size it is resized from 32x32, not from 50x50, so pixels differ slightly from the full copy's.
 *
 * Patches cut at a slide's edge are smaller (84 of the 8,988, e.g. 50x42 or 12x50). They are **padded** to 50x50
 * with white at the right and bottom, not resized: a patch's top-left corner is its (x, y) on the slide and the
 * crop ran off the slide's right or bottom edge, so padding puts glass-coloured background where the slide ends
 * and keeps every pixel at the scanner's 40x scale (stretching a 12x50 patch fourfold would change the apparent
 * size of nuclei, which is what a classifier learns from).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as aq from "arquero";
import * as tf from "@tensorflow/tfjs";
import { DataError, ErrorCode } from "../core/errors";
import { verifyFiles, verifySha256Sums } from "./checksums";
import { loadImageWithShape } from "./image";
import { EMBEDDED, embeddedFolder, IDC_EMBEDDED_SIZE, readEmbeddedTiles, tilePath } from "./idc-embedded";
import { dataDir, describeDataDir, packageRoot, DATA_DIR_ENV } from "./paths";
import { splitData, type SplitOptions } from "./split";
import { resize } from "./transforms";

/**
 * Class names by label: 0 = non-IDC, 1 = IDC (invasive ductal carcinoma).
 *
 * @example
 * ```ts
 * IDC_CLASSES[1];   // "IDC"
 * ```
 */
export const IDC_CLASSES: readonly ["non-IDC", "IDC"] = ["non-IDC", "IDC"];

/** Side of a patch, in pixels; smaller edge patches are padded to it. */
export const IDC_PATCH_SIZE = 50;

const FULL = "idc";
const COLUMNS = ["file", "patient_id", "x", "y", "label", "width", "height", "path"] as const;
// Padding value: white, the colour of the empty glass around the tissue.
const PAD_VALUE = 1;

/** Which copy of the dataset a loader reads, and why. */
export interface IdcSource {
  /** `full`: the 8,988 patches of the data directory; `embedded`: the 400 in the repository. */
  readonly kind: "full" | "embedded";
  /** The folder that holds `index.csv` and the pixels (`patches/`, or `patches.png` for the embedded copy). */
  readonly folder: string;
  /** Side of the patches as stored, and {@link loadIdc}'s default size: 50 (full) or 32 (embedded, its largest). */
  readonly patchSize: number;
  /** One sentence for people: what is read from where. */
  readonly description: string;
}

/** Options shared by {@link locateIdcDataset}, {@link readIdcIndex} and {@link loadIdc}. */
export interface IdcOptions {
  /**
   * Which copy: `"auto"` (default without `dir`: the full copy when the data directory has `idc/index.csv`, else
   * the embedded one), `"full"` (default with `dir`) or `"embedded"`.
   */
  readonly source?: "auto" | "full" | "embedded";
  /** Check `index.csv` and `patches/SHA256SUMS` against data/checksums.json (default true). */
  readonly checksums?: boolean;
}

/**
 * Finds the copy the IDC loaders read: the full one when the data directory has `idc/index.csv`, else the
 * embedded one (unless `dir` was given: then that directory must hold it).
 *
 * @example
 * ```ts
 * const where = sy.data.locateIdcDataset();
 * where.kind;          // "embedded" on a fresh clone, "full" with TSYFT_DATA_DIR set
 * where.description;   // "the embedded subset (data/embedded/idc-400-32px in the repository): 400 of the 8,988 patches ..."
 * where.patchSize;     // 32 (embedded), 50 (full)
 * ```
 */
export function locateIdcDataset(dir?: string, options: Pick<IdcOptions, "source"> = {}): IdcSource {
  const root = dataDir(dir);
  const wanted = options.source ?? (dir === undefined ? "auto" : "full");
  const fullThere = fs.existsSync(path.join(root, FULL, "index.csv"));
  if (wanted === "full" || (wanted === "auto" && fullThere)) {
    return {
      kind: "full",
      folder: path.join(root, FULL),
      patchSize: IDC_PATCH_SIZE,
      description: `the full subset: 8,988 patches from ${describeDataDir(dir)}`,
    };
  }
  return {
    kind: "embedded",
    folder: embeddedFolder(),
    patchSize: IDC_EMBEDDED_SIZE,
    description:
      `the embedded subset (data/${EMBEDDED} in the repository): 400 of the 8,988 patches, 200 per class, from all 19 patients, ` +
      `derived at 32x32 (padded and resized as the loader does, 8 bits per channel)` +
      `${fullThere ? "" : `, because ${describeDataDir(dir)} has no idc/ folder`}. Set ${DATA_DIR_ENV} to use the full subset.`,
  };
}

/**
 * Reads the index of the copy {@link locateIdcDataset} picks, after checking its sha256: one row per patch with
 * `file`, `patient_id` (a string, e.g. "8863"), `x`, `y` (the patch's place on its slide), `label` (0 non-IDC,
 * 1 IDC), `width`, `height` (the patch's size before padding; in an embedded 32x32 tile the tissue fills the
 * top-left width x height pixels scaled by 32/50) and `path`, where the pixels are: the patch's PNG (absolute) in
 * the full copy, `<folder>/patches.png#<tile>` (the sprite, and the tile's number in it) in the embedded one. Rows
 * keep the index's order (by the original path).
 *
 * @example
 * ```ts
 * const table = await sy.data.readIdcIndex();
 * table.groupby("label").count().objects();   // [{ label: 0, count: 200 }, { label: 1, count: 200 }] (embedded)
 * table.get("path", 0);                       // ".../data/embedded/idc-400-32px/patches.png#0" (embedded)
 * ```
 */
export async function readIdcIndex(dir?: string, options: IdcOptions = {}): Promise<aq.ColumnTable> {
  const where = locateIdcDataset(dir, options);
  const [prefix, dataset] = where.kind === "full" ? [FULL, "idc" as const] : [EMBEDDED, "idc_embedded" as const];
  const root = where.kind === "full" ? dataDir(dir) : path.join(packageRoot(), "data");
  const [indexFile] = await verifyFiles([`${prefix}/index.csv`], { dir: root, dataset, checksums: options.checksums ?? true });
  const index = aq.fromCSV(fs.readFileSync(indexFile!.path, "utf8"), { parse: { patient_id: (value: string) => value } });
  // The embedded index has each patch's tile in the sprite where the full one has its file's path.
  const address = where.kind === "full" ? "path" : "tile";
  const absent = [...COLUMNS.filter((name) => name !== "path"), address].filter((name) => !index.columnNames().includes(name));
  if (absent.length > 0) {
    throw new DataError(
      ErrorCode.DATA_CHECKSUM,
      `${indexFile!.path} lacks the column(s) ${absent.join(", ")}; it has ${index.columnNames().join(", ")}. Is it the IDC index.csv?`,
      { path: indexFile!.path, absent: [...absent] },
    );
  }
  if (where.kind === "embedded") {
    const tiles = index.array("tile") as number[];
    return index.assign({ path: tiles.map((tile) => tilePath(where.folder, tile)) }).select(...COLUMNS).reify();
  }
  const relative = index.array("path") as string[];
  return index.assign({ path: relative.map((rel) => path.join(where.folder, ...rel.split("/"))) }).select(...COLUMNS).reify();
}

/** Options of {@link loadIdc}. */
export interface LoadIdcOptions extends IdcOptions {
  /** The data directory (holding `idc/`); default {@link dataDir}(). Given, the full subset must be there. */
  readonly dir?: string;
  /**
   * Side of the output images (default: the copy's {@link IdcSource.patchSize}, 50 for the full copy, 32 for the
   * embedded one; e.g. 16 for speed): padded patches are resized with the `resize` transform (an antialiased
   * triangle filter). The embedded copy is 32x32: a larger size on it is refused.
   */
  readonly size?: number;
  /**
   * Check every patch read against `patches/SHA256SUMS` (default true: about 8 KB per patch, so the full subset's
   * 71 MB take under a second). On the embedded copy: the sha256 of its one PNG against data/checksums.json (also
   * skipped with `checksums: false`).
   */
  readonly verify?: boolean;
  /** Keep only the index rows for which this returns true (e.g. some patients), before anything is read. */
  readonly filter?: (row: IdcRow) => boolean;
}

/** One row of the IDC index. */
export interface IdcRow {
  readonly file: string;
  readonly patient_id: string;
  readonly x: number;
  readonly y: number;
  readonly label: number;
  readonly width: number;
  readonly height: number;
  readonly path: string;
}

/** The patches as tensors, with their labels and patients. The caller disposes the tensors. */
export interface IdcData {
  /** `[n, size, size, 3]` float32 RGB in [0, 1]. */
  readonly images: tf.Tensor4D;
  /** `[n]` int32: 0 non-IDC, 1 IDC. */
  readonly labels: tf.Tensor1D;
  /** The patient of each patch (the data subject, for `sy.dp.private`). */
  readonly patientIds: readonly string[];
  /** The index rows of the patches, in the same order (see {@link readIdcIndex}). */
  readonly table: aq.ColumnTable;
  /** Which copy was read. */
  readonly source: IdcSource;
}

/**
 * Loads IDC patches as tensors: `images` `[n, size, size, 3]` in [0, 1] (edge patches padded to 50x50 with white,
 * then resized when `size` is not 50), `labels` `[n]` and the patient of each patch. Reads the full subset from
 * `<data dir>/idc/` when it is there, else the embedded one ({@link locateIdcDataset}): its 32x32 tiles, already
 * padded and resized, read from its one PNG and resized again when `size` is smaller than 32.
 *
 * Throws a {@link DataError}: `TSYFT_ERR_DATA_MISSING` naming absent files, the directory searched and where to get
 * them; `TSYFT_ERR_DATA_CHECKSUM` when the index, the list of sums, a patch or the embedded PNG has the wrong sha256;
 * `TSYFT_ERR_INVALID_ARGUMENT` for a size that is not a positive integer, or above 32 on the embedded copy.
 *
 * @example
 * ```ts
 * const idc = await sy.data.loadIdc({ size: 16 });
 * idc.images.shape;       // [400, 16, 16, 3] on a fresh clone; [8988, 16, 16, 3] with the full subset
 * idc.source.kind;        // "embedded"
 * sy.dp.private(idc.images, { min: 0, max: 1, dataSubjects: idc.patientIds });
 * (await sy.data.loadIdc()).images.shape;   // [400, 32, 32, 3] on a fresh clone; [8988, 50, 50, 3] with the full subset
 * ```
 */
export async function loadIdc(options: LoadIdcOptions = {}): Promise<IdcData> {
  const dir = options.dir;
  if (options.size !== undefined && !(Number.isInteger(options.size) && options.size >= 1)) {
    throw new DataError(
      ErrorCode.INVALID_ARGUMENT,
      `loadIdc: size must be a positive integer (the side of the output images), got ${options.size}.`,
      { size: options.size },
    );
  }
  const source = locateIdcDataset(dir, options);
  const size = options.size ?? source.patchSize;
  if (source.kind === "embedded" && size > IDC_EMBEDDED_SIZE) {
    throw new DataError(
      ErrorCode.INVALID_ARGUMENT,
      `loadIdc: the embedded IDC subset (data/${EMBEDDED}) is 32x32, so it cannot give ${size}x${size} patches. ` +
        `Ask for size 32 or less, or set ${DATA_DIR_ENV} to a data directory with idc/ (the full subset, 50x50 patches; ` +
        `see data/README.md) for larger patches.`,
      { size, patchSize: IDC_EMBEDDED_SIZE, envVar: DATA_DIR_ENV },
    );
  }
  let table = await readIdcIndex(dir, options);
  if (options.filter) {
    const keep = (table.objects() as IdcRow[]).flatMap((row, i) => (options.filter!(row) ? [i] : []));
    table = table.reify(keep);
  }
  const paths = table.array("path") as string[];
  const values =
    source.kind === "embedded"
      ? await readEmbeddedTiles(paths, size, (options.checksums ?? true) && (options.verify ?? true))
      : await readFullPatches(source, table, size, options);
  const labels = Int32Array.from(table.array("label") as number[]);
  return {
    images: tf.tensor4d(values, [paths.length, size, size, 3], "float32"),
    labels: tf.tensor1d(labels, "int32"),
    patientIds: table.array("patient_id") as string[],
    table,
    source,
  };
}

/** The full copy's patches of `table`'s rows, each checked, decoded, padded to 50x50 and resized to `size`. */
async function readFullPatches(source: IdcSource, table: aq.ColumnTable, size: number, options: LoadIdcOptions): Promise<Float32Array> {
  const paths = table.array("path") as string[];
  const missing = paths.filter((file) => !fs.existsSync(file));
  if (missing.length > 0) {
    throw new DataError(
      ErrorCode.DATA_MISSING,
      `${missing.length} of the ${paths.length} IDC patches listed in ${path.join(source.folder, "index.csv")} are missing ` +
        `(e.g. ${missing.slice(0, 3).join(", ")}). Searched ${source.description}. ` +
        `Set ${DATA_DIR_ENV} to the folder that holds idc/, or get the patches as data/README.md explains.`,
      { dir: source.folder, envVar: DATA_DIR_ENV, dataset: "idc", missing: missing.slice(0, 50) },
    );
  }
  if (options.verify ?? true) await verifyPatches(options.dir, paths, options.checksums ?? true);

  const values = new Float32Array(paths.length * size * size * 3);
  const declared = { width: table.array("width") as number[], height: table.array("height") as number[] };
  await forEachConcurrently(paths.length, 16, async (i) => {
    const patch = padPatch(await loadImageWithShape(paths[i]!, { cache: false }), paths[i]!, declared.width[i]!, declared.height[i]!);
    const image = size === IDC_PATCH_SIZE ? patch : resize(size)({ image: patch, shape: [IDC_PATCH_SIZE, IDC_PATCH_SIZE, 3], label: 0 }).image;
    values.set(image, i * size * size * 3);
  });
  return values;
}

/** The three splits of {@link splitIdc}; each holds its own tensors (the caller disposes them). */
export interface IdcSplits {
  readonly train: IdcData;
  readonly valid: IdcData;
  readonly test: IdcData;
}

/**
 * Splits loaded patches into train, validation and test sets **by patch, stratified by label**, with
 * {@link splitData}'s seeded procedure (default 70 / 10 / 20 %).
 *
 * Why not by patient, which would keep one person's patches out of two splits: non-IDC patches come from only 5 of
 * the 19 patients (IDC from 18), so any split by patient leaves some split with no or almost no non-IDC patch, or
 * tests on patients whose non-IDC tissue was never seen in training. A split by patch keeps both classes in every
 * split at the dataset's proportions; the price is that neighbouring patches of one slide can fall on both sides,
 * so test accuracy is optimistic for unseen patients. (The data subjects stay recorded in `patientIds`, which is
 * what differential privacy accounts by.)
 *
 * @example
 * ```ts
 * const { train, test } = sy.data.splitIdc(await sy.data.loadIdc({ size: 32 }), { seed: 42 });
 * train.images.shape;   // [280, 32, 32, 3] from the embedded 400
 * ```
 */
export function splitIdc(data: IdcData, options: Pick<SplitOptions, "testSize" | "validSize" | "seed"> = {}): IdcSplits {
  const rows = data.table.assign({ row: Array.from({ length: data.table.numRows() }, (_, i) => i) });
  const splits = splitData(rows, { testSize: options.testSize, validSize: options.validSize, seed: options.seed, stratify: "label" });
  const take = (part: aq.ColumnTable): IdcData => {
    const picked = part.array("row") as number[];
    const indices = tf.tensor1d(Int32Array.from(picked), "int32");
    const subset = {
      images: tf.gather(data.images, indices),
      labels: tf.gather(data.labels, indices),
      patientIds: picked.map((i) => data.patientIds[i]!),
      table: part.select(...COLUMNS),
      source: data.source,
    };
    indices.dispose();
    return subset;
  };
  return { train: take(splits.train), valid: take(splits.valid), test: take(splits.test) };
}

/** Checks the patches read against the full copy's `patches/SHA256SUMS` (itself pinned in data/checksums.json). */
async function verifyPatches(dir: string | undefined, paths: readonly string[], checksums: boolean): Promise<void> {
  const root = dataDir(dir);
  const [sums] = await verifyFiles([`${FULL}/patches/SHA256SUMS`], { dir: root, dataset: "idc", checksums });
  const listedRoot = path.dirname(sums!.path);
  const only = paths.map((file) => path.relative(listedRoot, file).split(path.sep).join("/"));
  await verifySha256Sums(sums!.path, { only, dataset: "idc", dir: root });
}

/**
 * Pads a decoded patch to 50x50 with white at the right and bottom (see the module comment for why not resize).
 * The decoded size must be the index's and at most 50x50.
 */
export function padPatch(loaded: { image: Float32Array; shape: readonly number[] }, file: string, width: number, height: number): Float32Array {
  const [h, w] = loaded.shape as [number, number, number];
  if (h !== height || w !== width || h > IDC_PATCH_SIZE || w > IDC_PATCH_SIZE) {
    throw new DataError(
      ErrorCode.DATA_CHECKSUM,
      `IDC patch ${file} is ${w}x${h} pixels; its index row says ${width}x${height}, and patches are at most ` +
        `${IDC_PATCH_SIZE}x${IDC_PATCH_SIZE}. The file or index.csv has been changed: check them against patches/SHA256SUMS.`,
      { path: file, width: w, height: h, indexWidth: width, indexHeight: height },
    );
  }
  if (h === IDC_PATCH_SIZE && w === IDC_PATCH_SIZE) return loaded.image;
  const out = new Float32Array(IDC_PATCH_SIZE * IDC_PATCH_SIZE * 3).fill(PAD_VALUE);
  for (let row = 0; row < h; row++) out.set(loaded.image.subarray(row * w * 3, (row + 1) * w * 3), row * IDC_PATCH_SIZE * 3);
  return out;
}

/** Runs `task(0..count-1)` with at most `limit` running at once (sharp decodes on its own threads). */
async function forEachConcurrently(count: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}
