import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DataError, ErrorCode } from "../../src/core/errors";
import { locateSkinCancerDataset, readSkinCancerDataset, SKIN_CANCER_CLASSES } from "../../src/data/ham10000";
import { copyDataFile, hasHam10000, repoRoot, tempDir, testDataDir } from "./helpers";

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

describe.skipIf(!hasHam10000)("readSkinCancerDataset on the real files", () => {
  it("reads 1074 rows, 583 bkl and 491 mel, one image per lesion", async () => {
    const table = await readSkinCancerDataset();
    expect(table.numRows()).toBe(1074);
    expect(table.columnNames()).toEqual(["image_id", "lesion_id", "dx", "label", "dx_type", "age", "sex", "localization", "path"]);
    const counts = Object.fromEntries(table.groupby("dx").count().objects().map((o) => [(o as { dx: string }).dx, (o as { count: number }).count]));
    expect(counts).toEqual({ bkl: 583, mel: 491 });
    const labels = table.array("label") as number[];
    const dx = table.array("dx") as string[];
    expect(labels.every((l, i) => SKIN_CANCER_CLASSES[l] === dx[i])).toBe(true);
    expect(labels.filter((l) => l === 1)).toHaveLength(491);
    expect(new Set(table.array("lesion_id")).size).toBe(1074);
    expect(new Set(table.array("image_id")).size).toBe(1074);
  });

  it("matches the index file row by row (sorted by image_id, absolute paths that exist)", async () => {
    const table = await readSkinCancerDataset(testDataDir);
    const first = table.object(0) as Record<string, unknown>;
    expect(first).toEqual({
      image_id: "ISIC_0024336",
      lesion_id: "HAM_0006732",
      dx: "bkl",
      label: 0,
      dx_type: "histo",
      age: 50,
      sex: "female",
      localization: "lower extremity",
      path: path.join(testDataDir, "ham10000/images_224/bkl/ISIC_0024336.jpg"),
    });
    const ids = table.array("image_id") as string[];
    expect([...ids].sort()).toEqual(ids);
    const paths = table.array("path") as string[];
    expect(paths.every((p) => path.isAbsolute(p) && fs.existsSync(p))).toBe(true);
    const ages = table.array("age") as (number | null)[];
    expect(ages.filter((a) => a === null)).toHaveLength(5);
    expect(ages.every((a) => a === null || (typeof a === "number" && a >= 0 && a <= 100))).toBe(true);
  });

  it("verifies every image against SHA256SUMS when asked", async () => {
    const table = await readSkinCancerDataset(undefined, { verify: true });
    expect(table.numRows()).toBe(1074);
  });

  it("keeps only rows whose image is present, and checks those with verify", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    for (const f of ["ham10000/HAM10000_metadata.csv", "ham10000/images_224_index.csv", "ham10000/images_224/SHA256SUMS"]) copyDataFile(f, t.dir);
    const kept = ["ham10000/images_224/bkl/ISIC_0024336.jpg", "ham10000/images_224/mel/ISIC_0024400.jpg", "ham10000/images_224/bkl/ISIC_0024337.jpg"];
    for (const f of kept) copyDataFile(f, t.dir);
    const table = await readSkinCancerDataset(t.dir, { verify: true });
    expect(table.array("image_id")).toEqual(["ISIC_0024336", "ISIC_0024337", "ISIC_0024400"]);
    expect(table.array("label")).toEqual([0, 0, 1]);

    await expect(readSkinCancerDataset(t.dir, { missingImages: "error" })).rejects.toMatchObject({ code: ErrorCode.DATA_MISSING });

    const image = path.join(t.dir, kept[1]!); // the mel image
    const bytes = fs.readFileSync(image);
    bytes[bytes.length - 20] ^= 0x55;
    fs.writeFileSync(image, bytes);
    await expect(readSkinCancerDataset(t.dir)).resolves.toBeDefined(); // cheap by default
    const error = await readSkinCancerDataset(t.dir, { verify: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).code).toBe(ErrorCode.DATA_CHECKSUM);
    expect((error as DataError).message).toContain("ham10000/images_224/mel/ISIC_0024400.jpg");
  });

  it("fails with DATA_MISSING when no image is present", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    copyDataFile("ham10000/HAM10000_metadata.csv", t.dir);
    copyDataFile("ham10000/images_224_index.csv", t.dir);
    const error = (await readSkinCancerDataset(t.dir).catch((e: unknown) => e)) as DataError;
    expect(error).toBeInstanceOf(DataError);
    expect(error.code).toBe(ErrorCode.DATA_MISSING);
    expect(error.message).toContain("1074 of the 1074");
    expect(error.message).toContain("TSYFT_DATA_DIR");
  });

  it("fails with DATA_CHECKSUM on an altered metadata file", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const meta = copyDataFile("ham10000/HAM10000_metadata.csv", t.dir);
    copyDataFile("ham10000/images_224_index.csv", t.dir);
    fs.writeFileSync(meta, fs.readFileSync(meta, "utf8").replace("bkl,histo,80.0", "mel,histo,80.0"));
    const error = (await readSkinCancerDataset(t.dir).catch((e: unknown) => e)) as DataError;
    expect(error.code).toBe(ErrorCode.DATA_CHECKSUM);
    expect(error.message).toContain("ham10000/HAM10000_metadata.csv");
  });
});

describe("readSkinCancerDataset without data", () => {
  it("fails with DATA_MISSING naming both CSVs and the directory", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const error = (await readSkinCancerDataset(t.dir).catch((e: unknown) => e)) as DataError;
    expect(error).toBeInstanceOf(DataError);
    expect(error.code).toBe(ErrorCode.DATA_MISSING);
    expect(error.message).toContain("ham10000/HAM10000_metadata.csv");
    expect(error.message).toContain("ham10000/images_224_index.csv");
    expect(error.message).toContain(t.dir);
    expect(error.message).toContain("TSYFT_DATA_DIR");
    expect(error.message).toMatch(/Dataverse|Kaggle/);
  });
});

describe("readSkinCancerDataset with an empty data directory: the embedded copy", () => {
  const withDataDir = async <T>(dir: string, fn: () => Promise<T>): Promise<T> => {
    const before = process.env.TSYFT_DATA_DIR;
    process.env.TSYFT_DATA_DIR = dir;
    try {
      return await fn();
    } finally {
      process.env.TSYFT_DATA_DIR = before;
    }
  };

  it("reads the same 1074 lesions at 64x64, every image checked, and says so", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const where = locateSkinCancerDataset();
    const table = await withDataDir(t.dir, async () => {
      const located = locateSkinCancerDataset();
      expect(located.kind).toBe("embedded");
      expect(located.imageSize).toBe(64);
      expect(located.description).toContain("has no ham10000/ folder");
      expect(located.description).toContain(t.dir);
      return readSkinCancerDataset(undefined, { verify: true });
    });
    expect(table.numRows()).toBe(1074);
    expect(table.columnNames()).toEqual(["image_id", "lesion_id", "dx", "label", "dx_type", "age", "sex", "localization", "path"]);
    const dx = table.array("dx") as string[];
    expect(dx.filter((d) => d === "mel")).toHaveLength(491);
    expect((table.array("label") as number[]).every((l, i) => SKIN_CANCER_CLASSES[l] === dx[i])).toBe(true);
    expect(new Set(table.array("lesion_id")).size).toBe(1074);
    const paths = table.array("path") as string[];
    expect(paths.every((p) => path.isAbsolute(p) && p.includes(path.join("embedded", "ham10000-64px")) && fs.existsSync(p))).toBe(true);
    // The full copy, when the data directory has it, lists the same lesions with the same metadata.
    if (where.kind === "full") {
      const full = await readSkinCancerDataset();
      const meta = ["image_id", "lesion_id", "dx", "label", "dx_type", "age", "sex", "localization"];
      expect(table.select(meta).objects()).toEqual(full.select(meta).objects());
    }
  });

  it("is never used in place of a directory passed explicitly", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    expect(locateSkinCancerDataset(t.dir).kind).toBe("full");
    const error = (await readSkinCancerDataset(t.dir).catch((e: unknown) => e)) as DataError;
    expect(error.code).toBe(ErrorCode.DATA_MISSING);
    expect(locateSkinCancerDataset(t.dir, { source: "embedded" }).kind).toBe("embedded");
  });

  it("can be asked for by name, and fails on a changed index", async () => {
    const table = await readSkinCancerDataset(undefined, { source: "embedded" });
    expect(table.numRows()).toBe(1074);
    const t = tempDir();
    cleanups.push(t.cleanup);
    const copy = path.join(t.dir, "embedded", "ham10000-64px");
    fs.mkdirSync(copy, { recursive: true });
    const original = path.join(repoRoot, "data", "embedded", "ham10000-64px", "index.csv");
    fs.writeFileSync(path.join(copy, "index.csv"), fs.readFileSync(original, "utf8").replace(",bkl,", ",mel,"));
    const { verifyFiles } = await import("../../src/data/checksums");
    const error = (await verifyFiles(["embedded/ham10000-64px/index.csv"], { dir: t.dir, dataset: "ham10000_embedded" }).catch(
      (e: unknown) => e,
    )) as DataError;
    expect(error.code).toBe(ErrorCode.DATA_CHECKSUM);
  });
});
