/**
 * The breast cancer IDC histopathology patches (Janowczyk & Madabhushi 2016; the dataset behind PySyft's
 * `BreastCancerDataset`): 50x50 RGB patches of breast tissue, label 1 where they show invasive ductal carcinoma.
 *
 * Two copies with one layout (`index.csv`, `patches/{0,1}/*.png`, `patches/SHA256SUMS`):
 * - **full**, under `<data dir>/idc/` (see data/README.md): a real subset of 8,988 patches, 4,587 non-IDC and
 *   4,401 IDC, from 19 patients;
 * - **embedded**, in the repository under `data/embedded/idc-400/`: 400 of those patches, unchanged (200 per
 *   class, every patient), so the domain tutorials run on a fresh clone. `scripts/make-embedded-idc.mjs` makes it.
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
import { verifyFiles, verifySha256Sums, type DatasetName } from "./checksums";
import { loadImageWithShape } from "./image";
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
const EMBEDDED = "embedded/idc-400";
const COLUMNS = ["file", "patient_id", "x", "y", "label", "width", "height", "path"] as const;
// Padding value: white, the colour of the empty glass around the tissue.
const PAD_VALUE = 1;

/** Which copy of the dataset a loader reads, and why. */
export interface IdcSource {
  /** `full`: the 8,988 patches of the data directory; `embedded`: the 400 in the repository. */
  readonly kind: "full" | "embedded";
  /** The folder that holds `index.csv` and `patches/`. */
  readonly folder: string;
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
 * where.description;   // "the embedded subset (data/embedded/idc-400 in the repository): 400 of the 8,988 patches ..."
 * ```
 */
export function locateIdcDataset(dir?: string, options: Pick<IdcOptions, "source"> = {}): IdcSource {
  const root = dataDir(dir);
  const wanted = options.source ?? (dir === undefined ? "auto" : "full");
  const fullThere = fs.existsSync(path.join(root, FULL, "index.csv"));
  if (wanted === "full" || (wanted === "auto" && fullThere)) {
    return { kind: "full", folder: path.join(root, FULL), description: `the full subset: 8,988 patches from ${describeDataDir(dir)}` };
  }
  return {
    kind: "embedded",
    folder: path.join(packageRoot(), "data", ...EMBEDDED.split("/")),
    description:
      `the embedded subset (data/${EMBEDDED} in the repository): 400 of the 8,988 patches, 200 per class, from all 19 patients` +
      `${fullThere ? "" : `, because ${describeDataDir(dir)} has no idc/ folder`}. Set ${DATA_DIR_ENV} to use the full subset.`,
  };
}

/**
 * Reads the index of the copy {@link locateIdcDataset} picks, after checking its sha256: one row per patch with
 * `file`, `patient_id` (a string, e.g. "8863"), `x`, `y` (the patch's place on its slide), `label` (0 non-IDC,
 * 1 IDC), `width`, `height` (before padding) and `path` (absolute). Rows keep the index's order (by path).
 *
 * @example
 * ```ts
 * const table = await sy.data.readIdcIndex();
 * table.groupby("label").count().objects();   // [{ label: 0, count: 200 }, { label: 1, count: 200 }] (embedded)
 * ```
 */
export async function readIdcIndex(dir?: string, options: IdcOptions = {}): Promise<aq.ColumnTable> {
  const where = locateIdcDataset(dir, options);
  const [prefix, dataset] = where.kind === "full" ? [FULL, "idc" as const] : [EMBEDDED, "idc_embedded" as const];
  const root = where.kind === "full" ? dataDir(dir) : path.join(packageRoot(), "data");
  const [indexFile] = await verifyFiles([`${prefix}/index.csv`], { dir: root, dataset, checksums: options.checksums ?? true });
  const index = aq.fromCSV(fs.readFileSync(indexFile!.path, "utf8"), { parse: { patient_id: (value: string) => value } });
  const absent = COLUMNS.filter((name) => !index.columnNames().includes(name));
  if (absent.length > 0) {
    throw new DataError(
      ErrorCode.DATA_CHECKSUM,
      `${indexFile!.path} lacks the column(s) ${absent.join(", ")}; it has ${index.columnNames().join(", ")}. Is it the IDC index.csv?`,
      { path: indexFile!.path, absent: [...absent] },
    );
  }
  const relative = index.array("path") as string[];
  return index.assign({ path: relative.map((rel) => path.join(where.folder, ...rel.split("/"))) }).select(...COLUMNS).reify();
}

/** Options of {@link loadIdc}. */
export interface LoadIdcOptions extends IdcOptions {
  /** The data directory (holding `idc/`); default {@link dataDir}(). Given, the full subset must be there. */
  readonly dir?: string;
  /** Side of the output images (default 50; e.g. 32 for speed): padded patches are resized with lanczos3. */
  readonly size?: number;
  /**
   * Check every patch read against `patches/SHA256SUMS` (default true: about 8 KB per patch, so the full subset's
   * 71 MB take under a second).
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
 * `<data dir>/idc/` when it is there, else the embedded one ({@link locateIdcDataset}).
 *
 * Throws a {@link DataError}: `TSYFT_ERR_DATA_MISSING` naming absent files, the directory searched and where to get
 * them; `TSYFT_ERR_DATA_CHECKSUM` when the index, the list of sums or a patch has the wrong sha256.
 *
 * @example
 * ```ts
 * const idc = await sy.data.loadIdc({ size: 32 });
 * idc.images.shape;       // [400, 32, 32, 3] on a fresh clone; [8988, 32, 32, 3] with the full subset
 * idc.source.kind;        // "embedded"
 * sy.dp.private(idc.images, { min: 0, max: 1, dataSubjects: idc.patientIds });
 * ```
 */
export async function loadIdc(options: LoadIdcOptions = {}): Promise<IdcData> {
  const dir = options.dir;
  const size = options.size ?? IDC_PATCH_SIZE;
  if (!(Number.isInteger(size) && size >= 1)) {
    throw new DataError(ErrorCode.INVALID_ARGUMENT, `loadIdc: size must be a positive integer (the side of the output images), got ${size}.`, { size });
  }
  const source = locateIdcDataset(dir, options);
  let table = await readIdcIndex(dir, options);
  if (options.filter) {
    const keep = (table.objects() as IdcRow[]).flatMap((row, i) => (options.filter!(row) ? [i] : []));
    table = table.reify(keep);
  }
  const paths = table.array("path") as string[];
  const missing = paths.filter((file) => !fs.existsSync(file));
  if (missing.length > 0) {
    const dataset: DatasetName = source.kind === "full" ? "idc" : "idc_embedded";
    throw new DataError(
      ErrorCode.DATA_MISSING,
      `${missing.length} of the ${paths.length} IDC patches listed in ${path.join(source.folder, "index.csv")} are missing ` +
        `(e.g. ${missing.slice(0, 3).join(", ")}). Searched ${source.description}. ` +
        `Set ${DATA_DIR_ENV} to the folder that holds idc/, or get the patches as data/README.md explains.`,
      { dir: source.folder, envVar: DATA_DIR_ENV, dataset, missing: missing.slice(0, 50) },
    );
  }
  if (options.verify ?? true) await verifyPatches(source, paths, dir, options.checksums ?? true);

  const values = new Float32Array(paths.length * size * size * 3);
  const declared = { width: table.array("width") as number[], height: table.array("height") as number[] };
  await forEachConcurrently(paths.length, 16, async (i) => {
    const patch = padPatch(await loadImageWithShape(paths[i]!, { cache: false }), paths[i]!, declared.width[i]!, declared.height[i]!);
    const image = size === IDC_PATCH_SIZE ? patch : resize(size)({ image: patch, shape: [IDC_PATCH_SIZE, IDC_PATCH_SIZE, 3], label: 0 }).image;
    values.set(image, i * size * size * 3);
  });
  const labels = Int32Array.from(table.array("label") as number[]);
  return {
    images: tf.tensor4d(values, [paths.length, size, size, 3], "float32"),
    labels: tf.tensor1d(labels, "int32"),
    patientIds: table.array("patient_id") as string[],
    table,
    source,
  };
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

/** Checks the patches read against the copy's `patches/SHA256SUMS` (itself pinned in data/checksums.json). */
async function verifyPatches(source: IdcSource, paths: readonly string[], dir: string | undefined, checksums: boolean): Promise<void> {
  const [prefix, dataset, root] =
    source.kind === "full" ? [FULL, "idc" as const, dataDir(dir)] : [EMBEDDED, "idc_embedded" as const, path.join(packageRoot(), "data")];
  const [sums] = await verifyFiles([`${prefix}/patches/SHA256SUMS`], { dir: root, dataset, checksums });
  const listedRoot = path.dirname(sums!.path);
  const only = paths.map((file) => path.relative(listedRoot, file).split(path.sep).join("/"));
  await verifySha256Sums(sums!.path, { only, dataset, dir: root });
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
