import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { DataError, ErrorCode } from "../../src/core/errors";
import { manifest, parseSha256Sums, sha256File, verifyFiles, verifySha256Sums } from "../../src/data/checksums";
import { dataDir, DATA_DIR_ENV, packageRoot } from "../../src/data/paths";
import { copyDataFile, hasHam10000, hasMnistIdx, repoRoot, tempDir, testDataDir } from "./helpers";

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});
function temp(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

async function caught(promise: Promise<unknown>): Promise<DataError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DataError);
    return error as DataError;
  }
  throw new Error("expected a DataError, got none");
}

describe("dataDir", () => {
  it("finds the package root and defaults to data/ in it", () => {
    expect(packageRoot()).toBe(repoRoot);
    const saved = process.env[DATA_DIR_ENV];
    try {
      delete process.env[DATA_DIR_ENV];
      expect(dataDir()).toBe(path.join(repoRoot, "data"));
      process.env[DATA_DIR_ENV] = "/some/where";
      expect(dataDir()).toBe("/some/where");
      process.env[DATA_DIR_ENV] = "../shared/data";
      const expected = fs.existsSync(path.resolve("../shared/data")) ? path.resolve("../shared/data") : path.resolve(repoRoot, "../shared/data");
      expect(dataDir()).toBe(expected);
      expect(dataDir("/explicit")).toBe("/explicit");
    } finally {
      process.env[DATA_DIR_ENV] = saved;
    }
  });
});

describe("sha256File", () => {
  it("hashes a file, and its gunzipped content on request", async () => {
    const dir = temp();
    const file = path.join(dir, "abc.txt");
    fs.writeFileSync(file, "abc");
    expect(await sha256File(file)).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    fs.writeFileSync(`${file}.gz`, zlib.gzipSync("abc"));
    expect(await sha256File(`${file}.gz`, { gunzip: true })).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("parses sha256sum listings", () => {
    const sums = parseSha256Sums(`${"a".repeat(64)}  ./bkl/x.jpg\n${"B".repeat(64)} *mel/y.jpg\n\n`);
    expect([...sums]).toEqual([
      ["bkl/x.jpg", "a".repeat(64)],
      ["mel/y.jpg", "b".repeat(64)],
    ]);
  });
});

describe("manifest", () => {
  it("matches the sha256 listed in shared/data's SOURCES.md files", () => {
    expect(manifest.ham10000.files["ham10000/HAM10000_metadata.csv"]!.sha256).toBe("06aee5e603d313ba69de38263053c792a1dff030eb9c44a96ceb477ceefb99a5");
    expect(manifest.ham10000.files["ham10000/images_224_index.csv"]!.sha256).toBe("5a6c129093379308b1b1188a4ac3ee75be856aa61bcd8d20f01eae7f2481d97e");
    expect(manifest.ham10000.files["ham10000/images_224/SHA256SUMS"]!.sha256).toBe("000b720480ab8e7ba68f30ae2899ec7691972849113b5f10ec01fb64337d5a23");
    expect(manifest.mnist.files["mnist/t10k-images-idx3-ubyte"]!.sha256).toBe("0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7");
    expect(manifest.mnist.files["mnist/t10k-labels-idx1-ubyte"]!.sha256).toBe("ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2");
  });
});

describe("verifyFiles", () => {
  it("fails with DATA_MISSING naming the files, the directory, the env var and where to get them", async () => {
    const dir = temp();
    const error = await caught(verifyFiles(["ham10000/HAM10000_metadata.csv", "ham10000/images_224_index.csv"], { dir }));
    expect(error.code).toBe(ErrorCode.DATA_MISSING);
    expect(error.message).toContain("ham10000/HAM10000_metadata.csv");
    expect(error.message).toContain("ham10000/images_224_index.csv");
    expect(error.message).toContain(dir);
    expect(error.message).toContain("TSYFT_DATA_DIR");
    expect(error.message).toContain("doi:10.7910/DVN/DBW86T");
    expect(error.details.missing).toEqual(["ham10000/HAM10000_metadata.csv", "ham10000/images_224_index.csv"]);
    expect(error.details.dir).toBe(dir);
  });

  it("names the env var's value when the directory came from it", async () => {
    const saved = process.env[DATA_DIR_ENV];
    const dir = temp();
    try {
      process.env[DATA_DIR_ENV] = dir;
      const error = await caught(verifyFiles(["mnist/t10k-images-idx3-ubyte"]));
      expect(error.code).toBe(ErrorCode.DATA_MISSING);
      expect(error.message).toContain(`TSYFT_DATA_DIR="${dir}"`);
      expect(error.message).toContain("mnist/t10k-images-idx3-ubyte[.gz]");
      expect(error.message).toContain("yann.lecun.com");
    } finally {
      process.env[DATA_DIR_ENV] = saved;
    }
  });

  describe.skipIf(!hasHam10000)("on the real HAM10000 files", () => {
    it("passes and returns the paths", async () => {
      const files = await verifyFiles(["ham10000/HAM10000_metadata.csv", "ham10000/images_224_index.csv"]);
      expect(files.map((f) => f.path)).toEqual([
        path.join(testDataDir, "ham10000/HAM10000_metadata.csv"),
        path.join(testDataDir, "ham10000/images_224_index.csv"),
      ]);
      expect(files[0]!.sha256).toBe(manifest.ham10000.files["ham10000/HAM10000_metadata.csv"]!.sha256);
    });

    it("detects an altered copy with DATA_CHECKSUM naming the file", async () => {
      const dir = temp();
      const copy = copyDataFile("ham10000/images_224_index.csv", dir);
      copyDataFile("ham10000/HAM10000_metadata.csv", dir);
      const bytes = fs.readFileSync(copy);
      bytes[100] ^= 0x01;
      fs.writeFileSync(copy, bytes);
      const error = await caught(verifyFiles(["ham10000/HAM10000_metadata.csv", "ham10000/images_224_index.csv"], { dir }));
      expect(error.code).toBe(ErrorCode.DATA_CHECKSUM);
      expect(error.message).toContain("ham10000/images_224_index.csv");
      expect(error.message).not.toContain("ham10000/HAM10000_metadata.csv:");
      expect(error.message).toContain(manifest.ham10000.files["ham10000/images_224_index.csv"]!.sha256!);
      expect(error.details.corrupt).toEqual(["ham10000/images_224_index.csv"]);
      // presence only:
      await expect(verifyFiles(["ham10000/images_224_index.csv"], { dir, checksums: false })).resolves.toHaveLength(1);
    });

    it("checks images against SHA256SUMS and names an altered one", async () => {
      const sums = path.join(testDataDir, "ham10000/images_224/SHA256SUMS");
      expect(await verifySha256Sums(sums, { only: ["bkl/ISIC_0024336.jpg", "./bkl/ISIC_0024337.jpg"] })).toBe(2);

      const dir = temp();
      copyDataFile("ham10000/images_224/SHA256SUMS", dir);
      const image = copyDataFile("ham10000/images_224/bkl/ISIC_0024336.jpg", dir);
      copyDataFile("ham10000/images_224/bkl/ISIC_0024337.jpg", dir);
      const copySums = path.join(dir, "ham10000/images_224/SHA256SUMS");
      const only = ["bkl/ISIC_0024336.jpg", "bkl/ISIC_0024337.jpg"];
      expect(await verifySha256Sums(copySums, { only, dir })).toBe(2);
      const bytes = fs.readFileSync(image);
      bytes[bytes.length - 10] ^= 0xff;
      fs.writeFileSync(image, bytes);
      const error = await caught(verifySha256Sums(copySums, { only, dir, dataset: "ham10000" }));
      expect(error.code).toBe(ErrorCode.DATA_CHECKSUM);
      expect(error.message).toContain("ham10000/images_224/bkl/ISIC_0024336.jpg");
      expect(error.message).not.toContain("ISIC_0024337");
      // a file the list does not know
      await expect(verifySha256Sums(copySums, { only: ["bkl/nope.jpg"] })).rejects.toThrow(/not listed/);
    });
  });

  describe.skipIf(!hasMnistIdx)("on the real MNIST files", () => {
    it("accepts the gzipped form and checks its content", async () => {
      const files = await verifyFiles(["mnist/t10k-images-idx3-ubyte", "mnist/t10k-labels-idx1-ubyte"]);
      expect(files.every((f) => f.path.startsWith(testDataDir))).toBe(true);
      expect(files[1]!.sha256).toBe("ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2");
    });

    it("accepts a re-gzipped or plain copy and rejects altered content", async () => {
      const dir = temp();
      const labels = zlib.gunzipSync(fs.readFileSync(path.join(testDataDir, "mnist/t10k-labels-idx1-ubyte.gz")));
      fs.mkdirSync(path.join(dir, "mnist"));
      fs.writeFileSync(path.join(dir, "mnist/t10k-labels-idx1-ubyte"), labels);
      const [plain] = await verifyFiles(["mnist/t10k-labels-idx1-ubyte"], { dir });
      expect(plain!.gzip).toBe(false);

      fs.rmSync(path.join(dir, "mnist/t10k-labels-idx1-ubyte"));
      fs.writeFileSync(path.join(dir, "mnist/t10k-labels-idx1-ubyte.gz"), zlib.gzipSync(labels, { level: 1 }));
      const [gz] = await verifyFiles(["mnist/t10k-labels-idx1-ubyte"], { dir });
      expect(gz!.gzip).toBe(true);

      labels[8] = (labels[8]! + 1) % 10;
      fs.writeFileSync(path.join(dir, "mnist/t10k-labels-idx1-ubyte.gz"), zlib.gzipSync(labels));
      const error = await caught(verifyFiles(["mnist/t10k-labels-idx1-ubyte"], { dir }));
      expect(error.code).toBe(ErrorCode.DATA_CHECKSUM);
      expect(error.message).toContain("mnist/t10k-labels-idx1-ubyte");

      fs.writeFileSync(path.join(dir, "mnist/t10k-labels-idx1-ubyte.gz"), Buffer.from("not gzip at all"));
      const garbled = await caught(verifyFiles(["mnist/t10k-labels-idx1-ubyte"], { dir }));
      expect(garbled.code).toBe(ErrorCode.DATA_CHECKSUM);
      expect(garbled.message).toMatch(/cannot be read as gzip/);
    });
  });
});
