/**
 * The HAM10000 skin-lesion dataset, benign keratosis (bkl) vs melanoma (mel), as an arquero table.
 *
 * Two copies, the same 1,074 lesions (one image per lesion) with the same metadata:
 * - **full**, under `<data dir>/ham10000/` (see data/README.md): `HAM10000_metadata.csv` (the Kaggle
 *   metadata of all 10015 images), `images_224_index.csv` (the 224x224 jpgs present) and
 *   `images_224/<dx>/<image_id>.jpg` with `images_224/SHA256SUMS`;
 * - **embedded**, in the repository under `data/embedded/ham10000-64px/`: the same images at 64x64 (twice
 *   the tutorial's 32x32 input) with their metadata rows, so the tutorials run on a fresh clone.
 *   `scripts/make-embedded-ham10000.mjs` makes it from the full copy.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as aq from "arquero";
import { DataError, ErrorCode } from "../core/errors";
import { verifyFiles, verifySha256Sums } from "./checksums";
import { dataDir, describeDataDir, packageRoot, DATA_DIR_ENV } from "./paths";

/**
 * Class names by label: 0 = bkl (benign keratosis), 1 = mel (melanoma).
 *
 * @example
 * ```ts
 * SKIN_CANCER_CLASSES[sample.label];   // "mel"
 * ```
 */
export const SKIN_CANCER_CLASSES: readonly ["bkl", "mel"] = ["bkl", "mel"];

const METADATA = "ham10000/HAM10000_metadata.csv";
const INDEX = "ham10000/images_224_index.csv";
const SUMS = "ham10000/images_224/SHA256SUMS";
const EMBEDDED = "embedded/ham10000-64px";
const COLUMNS = ["image_id", "lesion_id", "dx", "label", "dx_type", "age", "sex", "localization", "path"] as const;

/** Which copy of the dataset a loader reads, and why. */
export interface SkinCancerSource {
  /** `full`: the 224x224 jpgs of the data directory; `embedded`: the 64x64 copy in the repository. */
  readonly kind: "full" | "embedded";
  /** The folder the files' names are relative to (the data directory, or the package's `data/`). */
  readonly root: string;
  /** Side of the square images, in pixels. */
  readonly imageSize: number;
  /** One sentence for people: what is read from where, and what differs from the full copy. */
  readonly description: string;
}

/**
 * Finds the copy {@link readSkinCancerDataset} reads: the full one in the data directory when its two CSVs and
 * image folder are there, else the embedded copy (unless `dir` was given: then that directory must hold it).
 *
 * @example
 * ```ts
 * const where = locateSkinCancerDataset();
 * where.kind;          // "embedded" on a fresh clone, "full" with TSYFT_DATA_DIR set
 * where.description;   // "the embedded copy: the same 1,074 lesions at 64x64 ..."
 * ```
 */
export function locateSkinCancerDataset(dir?: string, options: Pick<ReadSkinCancerOptions, "source"> = {}): SkinCancerSource {
  const root = dataDir(dir);
  const wanted = options.source ?? (dir === undefined ? "auto" : "full");
  const fullThere = [METADATA, INDEX, "ham10000/images_224"].every((name) => fs.existsSync(path.join(root, ...name.split("/"))));
  if (wanted === "full" || (wanted === "auto" && fullThere)) {
    return {
      kind: "full",
      root,
      imageSize: 224,
      description: `the full copy: 224x224 jpgs from ${describeDataDir(dir)}`,
    };
  }
  return {
    kind: "embedded",
    root: path.join(packageRoot(), "data"),
    imageSize: 64,
    description:
      `the embedded copy (data/${EMBEDDED} in the repository): the same 1,074 lesions and metadata with images at 64x64 ` +
      `instead of 224x224${fullThere ? "" : `, because ${describeDataDir(dir)} has no ham10000/ folder`}; ` +
      `the tutorial resizes to 32x32 either way, so only the resampling differs. Set ${DATA_DIR_ENV} to use the full copy.`,
  };
}

/** Options of {@link readSkinCancerDataset}. */
export interface ReadSkinCancerOptions {
  /**
   * Also check every image against `images_224/SHA256SUMS` (about 17 MB of sha256; default false).
   * The two CSVs are always checked against data/checksums.json unless `checksums` is false.
   */
  readonly verify?: boolean;
  /** Check the CSVs' sha256 (default true). Set false to read a differently built copy of the dataset. */
  readonly checksums?: boolean;
  /** What to do with index rows whose image file is absent: drop them (default) or fail. */
  readonly missingImages?: "drop" | "error";
  /**
   * Which copy to read: `"auto"` (default without `dir`: the full copy when the data directory has it, else the
   * embedded one), `"full"` (default with `dir`) or `"embedded"`. See {@link locateSkinCancerDataset}.
   */
  readonly source?: "auto" | "full" | "embedded";
}

/**
 * Reads the HAM10000 bkl-vs-mel subset: `HAM10000_metadata.csv` joined on `image_id` with
 * `images_224_index.csv`, restricted to rows whose image file is present, sorted by `image_id`; or, without
 * the full copy, the embedded one ({@link locateSkinCancerDataset} says which).
 *
 * Columns: `image_id`, `lesion_id`, `dx` ("bkl" | "mel"), `label` (0 = bkl, 1 = mel), `dx_type`,
 * `age` (years, null where unknown), `sex`, `localization`, `path` (absolute path of the 224x224 jpg).
 * Either copy gives 1074 rows: 583 bkl and 491 mel, one image per lesion (224x224 or 64x64 jpgs).
 *
 * Throws a {@link DataError} (`TSYFT_ERR_DATA_MISSING` or `TSYFT_ERR_DATA_CHECKSUM`) naming the
 * files, the directory searched and where to get them.
 *
 * @example
 * ```ts
 * const table = await readSkinCancerDataset();             // from $TSYFT_DATA_DIR
 * table.numRows();                                         // 1074
 * table.groupby("dx").count().objects();                   // [{ dx: "bkl", count: 583 }, { dx: "mel", count: 491 }]
 * await readSkinCancerDataset(undefined, { verify: true }); // also sha256 of every image
 * ```
 */
export async function readSkinCancerDataset(dir?: string, options: ReadSkinCancerOptions = {}): Promise<aq.ColumnTable> {
  const where = locateSkinCancerDataset(dir, options);
  return where.kind === "full" ? readFull(dir, options) : readEmbedded(where.root, options);
}

/** The embedded copy: its index already holds every metadata column. */
async function readEmbedded(root: string, options: ReadSkinCancerOptions): Promise<aq.ColumnTable> {
  const checks = { dir: root, dataset: "ham10000_embedded" as const, checksums: options.checksums ?? true };
  const [indexFile] = await verifyFiles([`${EMBEDDED}/index.csv`], checks);
  const index = readCsv(indexFile!.path, ["image_id", "lesion_id", "dx", "dx_type", "age", "sex", "localization", "path"]);
  const folder = path.join(root, ...EMBEDDED.split("/"));
  const relative = index.array("path") as string[];
  const table = index
    .assign({
      path: relative.map((rel) => path.join(folder, ...rel.split("/"))),
      label: (index.array("dx") as string[]).map((d) => (d === "mel" ? 1 : 0)),
    })
    .orderby("image_id")
    .select(...COLUMNS);
  if (options.verify) {
    const [sums] = await verifyFiles([`${EMBEDDED}/SHA256SUMS`], checks);
    await verifySha256Sums(sums!.path, { only: relative, dataset: "ham10000_embedded", dir: root });
  }
  return table;
}

/** The full copy of the data directory. */
async function readFull(dir: string | undefined, options: ReadSkinCancerOptions): Promise<aq.ColumnTable> {
  const root = dataDir(dir);
  const [metadataFile, indexFile] = await verifyFiles([METADATA, INDEX], {
    dir: root,
    dataset: "ham10000",
    checksums: options.checksums ?? true,
  });
  const metadata = readCsv(metadataFile!.path, ["lesion_id", "image_id", "dx", "dx_type", "age", "sex", "localization"]);
  const index = readCsv(indexFile!.path, ["image_id", "dx", "path"]);

  const classes = aq.escape((d: { dx: string }) => d.dx === "bkl" || d.dx === "mel");
  const joined = metadata
    .filter(classes)
    .join(index.select({ image_id: "image_id", dx: "index_dx", path: "relative_path" }), "image_id")
    .orderby("image_id")
    .reify();

  const imageIds = joined.array("image_id") as string[];
  const dx = joined.array("dx") as string[];
  const indexDx = joined.array("index_dx") as string[];
  const disagree = imageIds.filter((_, i) => dx[i] !== indexDx[i]);
  if (disagree.length > 0) {
    throw new DataError(
      ErrorCode.DATA_CHECKSUM,
      `${INDEX} and ${METADATA} disagree on the diagnosis of ${disagree.length} image(s) (${disagree.slice(0, 5).join(", ")}); ` +
        `the two files do not belong together. Data directory: ${describeDataDir(dir)}.`,
      { dir: root, images: disagree.slice(0, 20) },
    );
  }

  const relative = joined.array("relative_path") as string[];
  const absolute = relative.map((rel) => path.join(root, "ham10000", ...rel.split("/")));
  const present = absolute.map((file) => fs.existsSync(file));
  const missing = relative.filter((_, i) => !present[i]);
  if (missing.length === relative.length || (missing.length > 0 && options.missingImages === "error")) {
    throw new DataError(
      ErrorCode.DATA_MISSING,
      `${missing.length} of the ${relative.length} HAM10000 images listed in ${INDEX} are missing ` +
        `(e.g. ham10000/${missing.slice(0, 3).join(", ham10000/")}). Searched the data directory ${describeDataDir(dir)}. ` +
        `Set ${DATA_DIR_ENV} to the folder that holds ham10000/, or get the images as data/README.md explains.`,
      { dir: root, envVar: DATA_DIR_ENV, missing: missing.slice(0, 50).map((m) => `ham10000/${m}`) },
    );
  }

  const keep = present.flatMap((ok, i) => (ok ? [i] : []));
  const table = joined
    .assign({ path: absolute, label: dx.map((d) => (d === "mel" ? 1 : 0)) })
    .reify(keep)
    .select(...COLUMNS);

  if (options.verify) {
    const [sums] = await verifyFiles([SUMS], { dir: root, dataset: "ham10000", checksums: options.checksums ?? true });
    const listedRoot = path.dirname(sums!.path);
    const only = keep.map((i) => path.relative(listedRoot, absolute[i]!).split(path.sep).join("/"));
    await verifySha256Sums(sums!.path, { only, dataset: "ham10000", dir: root });
  }
  return table;
}

/** Parses a CSV file, failing with a DataError when a needed column is absent. */
function readCsv(file: string, required: readonly string[]): aq.ColumnTable {
  const table = aq.fromCSV(fs.readFileSync(file, "utf8"), {
    parse: { age: (value: string) => (value === "" ? null : Number(value)) },
  });
  const absent = required.filter((name) => !table.columnNames().includes(name));
  if (absent.length > 0) {
    throw new DataError(
      ErrorCode.DATA_CHECKSUM,
      `${file} lacks the column(s) ${absent.join(", ")}; it has ${table.columnNames().join(", ")}. Is it the HAM10000 metadata file?`,
      { path: file, absent },
    );
  }
  return table;
}
