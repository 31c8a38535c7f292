import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterEach, describe, expect, it } from "vitest";
import { DataError, ErrorCode } from "../../src/core/errors";
import { loadImageWithShape } from "../../src/data/image";
import { IDC_CLASSES, loadIdc, locateIdcDataset, padPatch, readIdcIndex, splitIdc, type IdcData } from "../../src/data/idc";
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
    expect(where.folder.split(path.sep).slice(-3)).toEqual(["data", "embedded", "idc-400"]);
    expect(where.description).toContain("400 of the 8,988 patches");
    expect(where.description).toContain(`because ${dir} (from TSYFT_DATA_DIR="${dir}") has no idc/ folder`);
  });

  it("loads 400 patches, 200 per class, from all 19 patients, as [400, 50, 50, 3] in [0, 1]", async () => {
    const idc = await loadIdc({ source: "embedded" });
    expect(idc.source.kind).toBe("embedded");
    expect(idc.images.shape).toEqual([400, 50, 50, 3]);
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

  it("pads a 12x50 edge patch with white at the right, keeping its pixels as decoded", async () => {
    const idc = await loadIdc({ source: "embedded", filter: (row) => row.width < 50 || row.height < 50 });
    const rows = idc.table.objects() as { width: number; height: number; path: string }[];
    expect(rows.length).toBeGreaterThanOrEqual(9); // one of each edge size and patient, see make-embedded-idc.mjs
    const narrow = rows.findIndex((row) => row.width === 12 && row.height === 50);
    expect(narrow).toBeGreaterThanOrEqual(0);
    const decoded = await loadImageWithShape(rows[narrow]!.path, { cache: false });
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

  it("resizes to a smaller side after padding", async () => {
    const idc = await loadIdc({ source: "embedded", size: 32, filter: (row) => row.patient_id === "8867" });
    expect(idc.images.shape).toEqual([idc.table.numRows(), 32, 32, 3]);
    expect(idc.table.numRows()).toBe(51); // 40 non-IDC + 11 IDC
    dispose(idc);
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

describe("loadIdc on a copy of the embedded subset laid out as a data directory", () => {
  // Runs without the full data: the copy's index is not the full one pinned in checksums.json, so the index check
  // is turned off (checksums: false); the patches are still checked against the copy's own patches/SHA256SUMS.
  function copyOfEmbedded(): string {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    fs.cpSync(locateIdcDataset(undefined, { source: "embedded" }).folder, path.join(dir, "idc"), { recursive: true });
    return dir;
  }

  it("reads it as the full copy when told the index is not the pinned one", async () => {
    const dir = copyOfEmbedded();
    const pinned = await rejection(readIdcIndex(dir));
    expect(pinned.code).toBe(ErrorCode.DATA_CHECKSUM);
    const idc = await loadIdc({ dir, checksums: false, size: 4 });
    expect(idc.source.kind).toBe("full");
    expect(idc.images.shape).toEqual([400, 4, 4, 3]);
    dispose(idc);
  });

  it("fails with TSYFT_ERR_DATA_CHECKSUM naming a patch whose bytes changed", async () => {
    const dir = copyOfEmbedded();
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
