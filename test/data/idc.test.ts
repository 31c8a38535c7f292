import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import sharp from "sharp";
import { afterEach, describe, expect, it } from "vitest";
import { DataError, ErrorCode } from "../../src/core/errors";
import { loadImageWithShape } from "../../src/data/image";
import { IDC_CLASSES, loadIdc, locateIdcDataset, padPatch, readIdcIndex, splitIdc, type IdcData, type IdcRow } from "../../src/data/idc";
import { IDC_EMBEDDED_SIZE } from "../../src/data/idc-embedded";
import { resize } from "../../src/data/transforms";
import { copyDataFile, tempDir, testDataDir } from "./helpers";

const hasIdc = ["idc/index.csv", "idc/patches/SHA256SUMS"].every((f) => fs.existsSync(path.join(testDataDir, f)));
if (!hasIdc) console.warn(`[tsyft data tests] skipping the full IDC tests: no idc/ under ${testDataDir} (set TSYFT_DATA_DIR).`);

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

function dispose(data: IdcData): void {
  tf.dispose([data.images, data.labels]);
}

async function rejection(promise: Promise<unknown>): Promise<DataError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DataError);
  return error as DataError;
}

function countBy<T>(values: readonly T[]): Map<T, number> {
  const counts = new Map<T, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

describe("the embedded IDC subset", () => {
  it("is picked when the data directory has no idc/ folder, and says so", () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const previous = process.env.TSYFT_DATA_DIR;
    process.env.TSYFT_DATA_DIR = dir;
    cleanups.push(() => {
      if (previous === undefined) delete process.env.TSYFT_DATA_DIR;
      else process.env.TSYFT_DATA_DIR = previous;
    });
    const where = locateIdcDataset();
    expect(where.kind).toBe("embedded");
    expect(where.patchSize).toBe(IDC_EMBEDDED_SIZE);
    expect(where.folder.split(path.sep).slice(-3)).toEqual(["data", "embedded", "idc-400-32px"]);
    expect(where.description).toContain("400 of the 8,988 patches");
    expect(where.description).toContain("derived at 32x32");
    expect(where.description).toContain(`because ${dir} (from TSYFT_DATA_DIR="${dir}") has no idc/ folder`);
  });

  it("has an index with the full copy's columns, each path naming its tile in the one PNG", async () => {
    const table = await readIdcIndex(undefined, { source: "embedded" });
    expect(table.columnNames()).toEqual(["file", "patient_id", "x", "y", "label", "width", "height", "path"]);
    expect(table.numRows()).toBe(400);
    const sprite = path.join(locateIdcDataset(undefined, { source: "embedded" }).folder, "patches.png");
    expect(table.array("path")).toEqual(Array.from({ length: 400 }, (_, i) => `${sprite}#${i}`));
    const files = table.array("file") as string[];
    const labels = table.array("label") as number[];
    // Sorted by the original path, patches/<label>/<file> (as make-embedded-idc.mjs sorts it).
    const original = files.map((file, i) => `patches/${labels[i]}/${file}`);
    expect(original).toEqual([...original].sort((a, b) => a.localeCompare(b)));
  });

  it("loads 400 patches, 200 per class, from all 19 patients, as [400, 32, 32, 3] in [0, 1]", async () => {
    const idc = await loadIdc({ source: "embedded" });
    expect(idc.source.kind).toBe("embedded");
    expect(idc.images.shape).toEqual([400, 32, 32, 3]);
    expect(idc.images.dtype).toBe("float32");
    expect(idc.labels.dtype).toBe("int32");
    const labels = Array.from(idc.labels.dataSync());
    expect(countBy(labels)).toEqual(new Map([[0, 200], [1, 200]]));
    expect(labels).toEqual(idc.table.array("label"));
    expect(new Set(idc.patientIds).size).toBe(19);
    expect(new Set(idc.patientIds.filter((_, i) => labels[i] === 0))).toEqual(new Set(["8863", "8864", "8865", "8867", "8913"]));
    const [low, high] = [idc.images.min().dataSync()[0]!, idc.images.max().dataSync()[0]!];
    expect(low).toBeGreaterThanOrEqual(0);
    expect(high).toBeLessThanOrEqual(1);
    expect(IDC_CLASSES[labels[0]!]).toBe("non-IDC");
    dispose(idc);
  });

  it("holds a 12x50 edge patch padded with white: the columns past its tissue are 1", async () => {
    const idc = await loadIdc({ source: "embedded", filter: (row) => row.width < 50 || row.height < 50 });
    const rows = idc.table.objects() as IdcRow[];
    expect(rows.length).toBeGreaterThanOrEqual(9); // one of each edge size and patient, see make-embedded-idc.mjs
    const narrow = rows.findIndex((row) => row.width === 12 && row.height === 50);
    expect(narrow).toBeGreaterThanOrEqual(0);
    const tile = idc.images.slice([narrow, 0, 0, 0], [1, 32, 32, 3]).dataSync();
    // The tissue ends at column 12 * 32/50 = 7.7; the resize's filter reaches 1.6 columns past it.
    const clearlyPast = Math.ceil((12 * 32) / 50) + 2;
    let white = 0;
    for (let y = 0; y < 32; y++) {
      for (let x = clearlyPast; x < 32; x++) {
        for (let c = 0; c < 3; c++) {
          expect(tile[(y * 32 + x) * 3 + c]).toBe(1);
          white++;
        }
      }
    }
    expect(white).toBe(32 * 22 * 3);
    const tissue = Array.from({ length: 32 }, (_, y) => tile[(y * 32 + 2) * 3]!);
    expect(Math.min(...tissue)).toBeLessThan(0.9); // stained tissue, not glass
    dispose(idc);
  });

  it.skipIf(!hasIdc)("is the full copy's loadIdc({ size: 32 }) of the same patches, within 8-bit rounding", async () => {
    const embedded = await loadIdc({ source: "embedded" });
    const files = embedded.table.array("file") as string[];
    const wanted = new Set(files);
    const full = await loadIdc({ source: "full", size: 32, filter: (row) => wanted.has(row.file) });
    // The full index is in byte order of the path, the embedded one in localeCompare order: match by file.
    const fullAt = new Map((full.table.array("file") as string[]).map((file, i) => [file, i]));
    const order = files.map((file) => fullAt.get(file)!);
    expect(order.every((i) => i !== undefined)).toBe(true);
    const columns = ["file", "patient_id", "x", "y", "label", "width", "height"];
    expect(order.map((i) => full.table.select(...columns).objects()[i])).toEqual(embedded.table.select(...columns).objects());
    const fullValues = full.images.dataSync();
    const tileValues = 32 * 32 * 3;
    const tile = (i: number): Float32Array => fullValues.subarray(order[i]! * tileValues, (order[i]! + 1) * tileValues) as Float32Array;
    const mine = embedded.images.dataSync();
    let worst = 0;
    for (let i = 0; i < files.length; i++) {
      const theirs = tile(i);
      for (let k = 0; k < tileValues; k++) worst = Math.max(worst, Math.abs(mine[i * tileValues + k]! - theirs[k]!));
    }
    expect(worst).toBeLessThanOrEqual(1 / 255 + 1e-6);
    // Named, because it is the one the padding matters most for: the 12x50 edge patch, tissue and padding alike.
    const narrow = (embedded.table.objects() as IdcRow[]).findIndex((row) => row.width === 12 && row.height === 50);
    const narrowTile = mine.subarray(narrow * tileValues, (narrow + 1) * tileValues);
    const narrowFull = tile(narrow);
    for (let k = 0; k < tileValues; k++) expect(Math.abs(narrowTile[k]! - narrowFull[k]!)).toBeLessThanOrEqual(1 / 255 + 1e-6);
    dispose(embedded);
    dispose(full);
  });

  it("resizes to a smaller side with the resize transform", async () => {
    const idc = await loadIdc({ source: "embedded", size: 16, filter: (row) => row.patient_id === "8867" });
    expect(idc.images.shape).toEqual([idc.table.numRows(), 16, 16, 3]);
    expect(idc.table.numRows()).toBe(51); // 40 non-IDC + 11 IDC
    const at32 = await loadIdc({ source: "embedded", filter: (row) => row.patient_id === "8867" });
    const first = at32.images.slice([0], [1]).dataSync() as Float32Array;
    const expected = resize(16)({ image: first, shape: [32, 32, 3], label: 0 }).image;
    expect(Array.from(idc.images.slice([0], [1]).dataSync())).toEqual(Array.from(expected));
    dispose(idc);
    dispose(at32);
  });

  it("refuses a size above 32, saying where larger patches are", async () => {
    for (const size of [33, 50]) {
      const error = await rejection(loadIdc({ source: "embedded", size }));
      expect(error.code).toBe(ErrorCode.INVALID_ARGUMENT);
      expect(error.message).toContain("the embedded IDC subset (data/embedded/idc-400-32px) is 32x32");
      expect(error.message).toContain(`cannot give ${size}x${size} patches`);
      expect(error.message).toContain("set TSYFT_DATA_DIR to a data directory with idc/ (the full subset");
    }
  });

  it("splits by patch, stratified by label, seeded", async () => {
    const idc = await loadIdc({ source: "embedded", size: 8 });
    const { train, valid, test } = splitIdc(idc, { seed: 42 });
    expect([train, valid, test].map((s) => s.images.shape[0])).toEqual([280, 40, 80]);
    for (const split of [train, valid, test]) {
      const labels = Array.from(split.labels.dataSync());
      expect(labels).toEqual(split.table.array("label"));
      expect(labels.filter((l) => l === 1).length * 2).toBe(labels.length); // balanced input stays balanced
      expect(split.patientIds).toEqual(split.table.array("patient_id"));
    }
    const files = [train, valid, test].flatMap((s) => s.table.array("file") as string[]);
    expect(new Set(files).size).toBe(400);
    // The images travel with their rows.
    const first = test.table.array("file")[0];
    const at = (idc.table.array("file") as string[]).indexOf(first as string);
    expect(Array.from(test.images.slice([0], [1]).dataSync())).toEqual(Array.from(idc.images.slice([at], [1]).dataSync()));
    const again = splitIdc(idc, { seed: 42 });
    expect(again.test.table.array("file")).toEqual(test.table.array("file"));
    [idc, train, valid, test, again.train, again.valid, again.test].forEach(dispose);
  });
});

describe("padPatch", () => {
  it("leaves a 50x50 patch as it is and refuses one whose size differs from its index row", () => {
    const full = { image: new Float32Array(50 * 50 * 3).fill(0.5), shape: [50, 50, 3] };
    expect(padPatch(full, "a.png", 50, 50)).toBe(full.image);
    const small = { image: new Float32Array(2 * 3 * 3).fill(0.25), shape: [2, 3, 3] };
    const padded = padPatch(small, "b.png", 3, 2);
    expect(padded[0]).toBe(0.25);
    expect(padded[3 * 3]).toBe(1); // row 0, column 3: padding
    expect(padded[50 * 3]).toBe(0.25); // row 1, column 0
    expect(padded[2 * 50 * 3]).toBe(1); // row 2: padding
    expect(() => padPatch(small, "b.png", 50, 50)).toThrow(/b.png is 3x2 pixels; its index row says 50x50/);
  });
});

describe("loadIdc errors", () => {
  it("names the missing index, the directory searched and where to get the data", async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const error = await rejection(loadIdc({ dir }));
    expect(error.code).toBe(ErrorCode.DATA_MISSING);
    expect(error.message).toContain("idc/index.csv");
    expect(error.message).toContain(`${dir} (passed as an argument)`);
    expect(error.message).toContain("TSYFT_DATA_DIR");
    expect(error.message).toContain("Get the files: The full dataset is IDC_regular_ps50_idx5");
    await expect(loadIdc({ source: "embedded", size: 0 })).rejects.toThrow(/size must be a positive integer/);
  });
});

describe("loadIdc on a small stand-in for the full copy", () => {
  // Runs without the full data, so a fresh clone tests the full copy's code path (padding, missing files, sums).
  // The stand-in has the full copy's layout (index.csv with paths, patches/{0,1}/*.png, patches/SHA256SUMS) and 24 of
  // the embedded rows, the 15 edge patches among them; its PNGs are made from the embedded tiles (enlarged to 50x50,
  // cropped to the patch's width x height), not the published files. Its index is not the pinned one, so it is read
  // with checksums: false; the patches are still checked against its own patches/SHA256SUMS.
  async function standIn(): Promise<{ dir: string; rows: IdcRow[] }> {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const embedded = await loadIdc({ source: "embedded" });
    const all = embedded.table.objects() as IdcRow[];
    const picked = all.flatMap((row, i) => (row.width < 50 || row.height < 50 || i % 40 === 0 ? [i] : []));
    const tiles = embedded.images.dataSync();
    dispose(embedded);
    const lines = ["file,patient_id,x,y,label,width,height,path"];
    const sums: string[] = [];
    for (const i of picked) {
      const row = all[i]!;
      const bytes = Buffer.from(Uint8Array.from(tiles.subarray(i * 32 * 32 * 3, (i + 1) * 32 * 32 * 3), (v) => Math.round(v * 255)));
      const enlarged = await sharp(bytes, { raw: { width: 32, height: 32, channels: 3 } }).resize(50, 50).raw().toBuffer();
      const png = await sharp(enlarged, { raw: { width: 50, height: 50, channels: 3 } })
        .extract({ left: 0, top: 0, width: row.width, height: row.height })
        .png()
        .toBuffer();
      const relative = `${row.label}/${row.file}`;
      fs.mkdirSync(path.join(dir, "idc", "patches", String(row.label)), { recursive: true });
      fs.writeFileSync(path.join(dir, "idc", "patches", relative), png);
      sums.push(`${createHash("sha256").update(png).digest("hex")}  ${relative}`);
      lines.push([row.file, row.patient_id, row.x, row.y, row.label, row.width, row.height, `patches/${relative}`].join(","));
    }
    fs.writeFileSync(path.join(dir, "idc", "index.csv"), `${lines.join("\n")}\n`);
    fs.writeFileSync(path.join(dir, "idc", "patches", "SHA256SUMS"), `${sums.join("\n")}\n`);
    return { dir, rows: (await readIdcIndex(dir, { checksums: false })).objects() as IdcRow[] };
  }

  it("reads it as the full copy when told the index is not the pinned one, padding a 12x50 patch with white", async () => {
    const { dir, rows } = await standIn();
    expect(rows).toHaveLength(24);
    expect(rows.filter((row) => row.width < 50 || row.height < 50)).toHaveLength(15);
    const pinned = await rejection(readIdcIndex(dir));
    expect(pinned.code).toBe(ErrorCode.DATA_CHECKSUM);
    const small = await loadIdc({ dir, checksums: false, size: 4 });
    expect(small.source.kind).toBe("full");
    expect(small.images.shape).toEqual([rows.length, 4, 4, 3]);
    dispose(small);
    const large = await loadIdc({ dir, checksums: false, size: 64 }); // only the embedded copy has a largest size
    expect(large.images.shape).toEqual([rows.length, 64, 64, 3]);
    dispose(large);

    const idc = await loadIdc({ dir, checksums: false });
    expect(idc.images.shape).toEqual([rows.length, 50, 50, 3]);
    const narrow = (idc.table.objects() as IdcRow[]).findIndex((row) => row.width === 12 && row.height === 50);
    const decoded = await loadImageWithShape((idc.table.objects() as IdcRow[])[narrow]!.path, { cache: false });
    expect(decoded.shape).toEqual([50, 12, 3]);
    const padded = idc.images.slice([narrow, 0, 0, 0], [1, 50, 50, 3]).dataSync();
    for (let y = 0; y < 50; y++) {
      for (let x = 0; x < 50; x++) {
        for (let c = 0; c < 3; c++) {
          const expected = x < 12 ? decoded.image[(y * 12 + x) * 3 + c]! : 1;
          expect(padded[(y * 50 + x) * 3 + c]).toBe(expected);
        }
      }
    }
    dispose(idc);
  });

  it("fails with TSYFT_ERR_DATA_CHECKSUM naming a patch whose bytes changed", async () => {
    const { dir } = await standIn();
    const victim = path.join(dir, "idc", "patches", "1", fs.readdirSync(path.join(dir, "idc", "patches", "1")).sort()[0]!);
    const bytes = fs.readFileSync(victim);
    bytes[bytes.length - 20] ^= 0xff;
    fs.writeFileSync(victim, bytes);
    const error = await rejection(loadIdc({ dir, checksums: false }));
    expect(error.code).toBe(ErrorCode.DATA_CHECKSUM);
    expect(error.message).toContain(`1 Breast cancer IDC histopathology patches (`);
    expect(error.message).toContain(`idc/patches/1/${path.basename(victim)}: sha256`);
    expect(error.details).toMatchObject({ corrupt: [`idc/patches/1/${path.basename(victim)}`] });
  });

  it("fails with TSYFT_ERR_DATA_MISSING naming an absent patch", async () => {
    const { dir, rows } = await standIn();
    fs.rmSync(rows[0]!.path);
    const error = await rejection(loadIdc({ dir, checksums: false }));
    expect(error.code).toBe(ErrorCode.DATA_MISSING);
    expect(error.message).toMatch(new RegExp(`1 of the ${rows.length} IDC patches listed in .*index.csv are missing`));
    expect(error.message).toContain(rows[0]!.path);
    expect(error.details).toMatchObject({ dataset: "idc", missing: [rows[0]!.path] });
  });
});

describe.skipIf(!hasIdc)("the full IDC subset", () => {
  it("has 8,988 patches: 4,587 non-IDC from 5 patients, 4,401 IDC from 18, 84 smaller than 50x50", async () => {
    expect(locateIdcDataset().kind).toBe("full");
    const table = await readIdcIndex();
    expect(table.numRows()).toBe(8988);
    const labels = table.array("label") as number[];
    const patients = table.array("patient_id") as string[];
    expect(countBy(labels)).toEqual(new Map([[0, 4587], [1, 4401]]));
    expect(new Set(patients.filter((_, i) => labels[i] === 0)).size).toBe(5);
    expect(new Set(patients.filter((_, i) => labels[i] === 1)).size).toBe(18);
    expect(new Set(patients).size).toBe(19);
    const width = table.array("width") as number[];
    const height = table.array("height") as number[];
    expect(width.filter((w, i) => w < 50 || height[i]! < 50)).toHaveLength(84);
  });

  it("loads one patient's patches, verified against SHA256SUMS, edge patches padded", async () => {
    const idc = await loadIdc({ filter: (row) => row.patient_id === "8867" });
    expect(idc.source.kind).toBe("full");
    expect(idc.images.shape).toEqual([1642, 50, 50, 3]);
    expect(countBy(Array.from(idc.labels.dataSync()))).toEqual(new Map([[0, 1480], [1, 162]]));
    dispose(idc);
  });

  function partialCopy(files: readonly string[]): string {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    for (const file of ["idc/index.csv", "idc/patches/SHA256SUMS", ...files]) copyDataFile(file, dir);
    return dir;
  }
  const some = ["idc/patches/0/8863_idx5_x1001_y1001_class0.png", "idc/patches/1/8957_idx5_x1351_y601_class1.png"];
  const inSome = (row: { path: string }): boolean => some.some((f) => row.path.endsWith(path.basename(f)));

  it("fails with TSYFT_ERR_DATA_CHECKSUM naming a patch that was changed", async () => {
    const dir = partialCopy(some);
    const rows = (await readIdcIndex(dir)).objects().filter((row) => inSome(row as { path: string }));
    expect(rows).toHaveLength(2);
    const victim = (rows[0] as { path: string }).path;
    const bytes = fs.readFileSync(victim);
    bytes[bytes.length - 20] ^= 0xff;
    fs.writeFileSync(victim, bytes);
    const error = await rejection(loadIdc({ dir, filter: inSome }));
    expect(error.code).toBe(ErrorCode.DATA_CHECKSUM);
    expect(error.message).toContain(`idc/patches/${path.relative(path.join(dir, "idc", "patches"), victim)}: sha256`);
  });

  it("fails with TSYFT_ERR_DATA_CHECKSUM when index.csv was changed, and TSYFT_ERR_DATA_MISSING for absent patches", async () => {
    const dir = partialCopy([]);
    const missing = await rejection(loadIdc({ dir, filter: inSome }));
    expect(missing.code).toBe(ErrorCode.DATA_MISSING);
    expect(missing.message).toMatch(/IDC patches listed in .*index.csv are missing/);
    fs.appendFileSync(path.join(dir, "idc", "index.csv"), "x.png,1,1,1,1,50,50,patches/1/x.png\n");
    const corrupt = await rejection(readIdcIndex(dir));
    expect(corrupt.code).toBe(ErrorCode.DATA_CHECKSUM);
    expect(corrupt.message).toContain("idc/index.csv: sha256");
  });
});
