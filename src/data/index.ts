/**
 * tsyft's data helpers: datasets as arquero tables, seeded splits, image loading, transforms,
 * TensorFlow.js batches, MNIST, the IDC breast-cancer patches, and vega-lite charts for the tutorials.
 *
 * @example
 * ```ts
 * import * as data from "./data";
 * const table = await data.readSkinCancerDataset();
 * const { train, valid, test } = data.splitData(table, { seed: 42, groupBy: "lesion_id" });
 * const loader = new data.DataLoader(
 *   new data.Dataset(train, { size: 32, transform: data.normalize(data.HAM10000_MEAN, data.HAM10000_STD) }),
 *   { batchSize: 32, shuffle: true, seed: 42 });
 * ```
 */
export { DATA_DIR_ENV, dataDir, describeDataDir, packageRoot } from "./paths";
export {
  manifest,
  parseSha256Sums,
  sha256File,
  verifyFiles,
  verifySha256Sums,
  type DatasetManifest,
  type DatasetName,
  type ManifestEntry,
  type VerifiedFile,
  type VerifyFilesOptions,
} from "./checksums";
export { Rng, seedToUint32, type Seed } from "./random";
export { shapeSize, type ImageShape, type Sample } from "./sample";
export {
  locateSkinCancerDataset,
  readSkinCancerDataset,
  SKIN_CANCER_CLASSES,
  type ReadSkinCancerOptions,
  type SkinCancerSource,
} from "./ham10000";
export {
  IDC_CLASSES,
  IDC_PATCH_SIZE,
  loadIdc,
  locateIdcDataset,
  padPatch,
  readIdcIndex,
  splitIdc,
  type IdcData,
  type IdcOptions,
  type IdcRow,
  type IdcSource,
  type IdcSplits,
  type LoadIdcOptions,
} from "./idc";
export { IDC_EMBEDDED_SIZE } from "./idc-embedded";
export { splitData, type SplitOptions, type Splits } from "./split";
export {
  clearImageCache,
  imageCacheInfo,
  imageLoader,
  loadImage,
  loadImageWithShape,
  toPngDataUrl,
  type ImageLoader,
  type LoadedImage,
  type LoadImageOptions,
  type PngOptions,
  type ResizeKernel,
} from "./image";
export {
  compose,
  denormalize,
  flipHorizontal,
  flipVertical,
  HAM10000_MEAN,
  HAM10000_STD,
  normalize,
  randomHorizontalFlip,
  randomVerticalFlip,
  resize,
  type Transform,
} from "./transforms";
export { ArrayDataset, Dataset, type DatasetOptions, type SampleSource } from "./dataset";
export { DataLoader, type Batch, type DataLoaderOptions } from "./dataloader";
export { loadMnist, readIdx, type IdxArray, type IdxDtype, type LoadMnistOptions, type Mnist } from "./mnist";
export { classificationReport, confusionMatrix } from "./metrics";
export { loadModel, saveModel, type SavedModelInfo } from "./model-io";
export { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from "./wasm-training";
export {
  barChart,
  classBalanceChart,
  confusionMatrixChart,
  histogramChart,
  imageGridChart,
  trainingCurvesChart,
  VEGA_LITE_SCHEMA,
  type ChartOptions,
  type HistoryPoint,
  type ImageGridOptions,
  type ImageLike,
} from "./charts";
