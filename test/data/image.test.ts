import * as fs from "node:fs";
import * as path from "node:path";
import sharp from "sharp";
import { beforeEach, describe, expect, it } from "vitest";
import { DataError, ErrorCode } from "../../src/core/errors";
import { clearImageCache, imageCacheInfo, imageLoader, loadImage, loadImageWithShape, toPngDataUrl } from "../../src/data/image";
import { hasHam10000, tempDir, testDataDir } from "./helpers";

const bkl = path.join(testDataDir, "ham10000/images_224/bkl/ISIC_0024336.jpg");

describe.skipIf(!hasHam10000)("loadImage on a HAM10000 jpg", () => {
  beforeEach(() => clearImageCache());

  it("gives a [32, 32, 3] Float32Array in [0, 1]", async () => {
    const { image, shape } = await loadImageWithShape(bkl, { size: 32 });
    expect(shape).toEqual([32, 32, 3]);
    expect(image).toBeInstanceOf(Float32Array);
    expect(image.length).toBe(32 * 32 * 3);
    let min = Infinity;
    let max = -Infinity;
    for (const v of image) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThanOrEqual(1);
    expect(max - min).toBeGreaterThan(0.1); // a real picture, not a flat one
    expect((await loadImage(bkl, { size: 32 })).length).toBe(3072);
  });

  it("keeps the native size without `size` and agrees with it on average colour", async () => {
    const full = await loadImageWithShape(bkl);
    expect(full.shape).toEqual([224, 224, 3]);
    const small = await loadImage(bkl, { size: 32 });
    for (let c = 0; c < 3; c++) {
      const mean = (a: Float32Array) => a.filter((_, i) => i % 3 === c).reduce((s, v) => s + v, 0) / (a.length / 3);
      expect(Math.abs(mean(full.image) - mean(small))).toBeLessThan(0.01);
    }
    expect((await loadImageWithShape(bkl, { size: [16, 24] })).shape).toEqual([16, 24, 3]);
  });

  it("caches by (path, size) and hands out copies", async () => {
    const a = await loadImage(bkl, { size: 32 });
    expect(imageCacheInfo().entries).toBe(1);
    a.fill(0);
    const b = await loadImage(bkl, { size: 32 });
    expect(imageCacheInfo().entries).toBe(1);
    expect(b.some((v) => v > 0)).toBe(true);
    await loadImage(bkl, { size: 16 });
    expect(imageCacheInfo().entries).toBe(2);
    expect(imageCacheInfo().bytes).toBe((32 * 32 * 3 + 16 * 16 * 3) * 4);
    imageCacheInfo({ limitBytes: 16 * 16 * 3 * 4 });
    expect(imageCacheInfo().entries).toBe(1);
    imageCacheInfo({ limitBytes: 256 * 1024 * 1024 });
    const load = imageLoader({ size: 8 });
    expect((await load(bkl)).shape).toEqual([8, 8, 3]);
  });
});

describe("loadImage errors", () => {
  it("fails with DATA_MISSING on a missing file and DATA_CHECKSUM on a broken one", async () => {
    const t = tempDir();
    try {
      const missing = path.join(t.dir, "nope.jpg");
      await expect(loadImage(missing)).rejects.toMatchObject({ code: ErrorCode.DATA_MISSING });
      const broken = path.join(t.dir, "broken.jpg");
      fs.writeFileSync(broken, Buffer.from([0xff, 0xd8, 0xff, 0x00, 1, 2, 3]));
      const error = await loadImage(broken).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataError);
      expect((error as DataError).code).toBe(ErrorCode.DATA_CHECKSUM);
      expect((error as DataError).message).toContain(broken);
      await expect(loadImage(missing, { size: 0 })).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
    } finally {
      t.cleanup();
    }
  });
});

describe("toPngDataUrl", () => {
  it("encodes an RGB float image losslessly at 8 bits, enlarged by `scale`", async () => {
    const image = Float32Array.from([0, 0.5, 1, 1, 0, 0, 0.2, 0.4, 0.6, 2, -1, 0.25]); // 2x2 RGB; out-of-range values clip
    const url = await toPngDataUrl(image, [2, 2, 3], { scale: 3 });
    expect(url.startsWith("data:image/png;base64,")).toBe(true);
    const { data, info } = await sharp(Buffer.from(url.split(",")[1]!, "base64")).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([6, 6, 3]);
    expect([...data.subarray(0, 3)]).toEqual([0, 128, 255]);
    const last = (5 * 6 + 5) * 3;
    expect([...data.subarray(last, last + 3)]).toEqual([255, 0, 64]);
  });

  it("encodes greyscale [H, W] images and rejects wrong shapes", async () => {
    const url = await toPngDataUrl(new Float32Array(28 * 28).fill(0.5), [28, 28]);
    const meta = await sharp(Buffer.from(url.split(",")[1]!, "base64")).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([28, 28, 1]);
    await expect(toPngDataUrl(new Float32Array(5), [2, 2, 3])).rejects.toMatchObject({ code: ErrorCode.SHAPE_MISMATCH });
  });
});
