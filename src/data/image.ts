/**
 * Image files to float arrays and back, with sharp (libvips).
 *
 * Decoding and resizing run on libvips' threads; a small in-memory cache keyed by
 * (path, size, kernel) makes later epochs free.
 */
import * as fs from "node:fs";
import sharp from "sharp";
import type { KernelEnum, OutputInfo } from "sharp";
import { DataError, ErrorCode, fmtShape } from "../core/errors";
import type { ImageShape } from "./sample";
import { shapeSize } from "./sample";

/** A resampling kernel of sharp's `resize`. */
export type ResizeKernel = keyof KernelEnum;

/** Options of {@link loadImage}. */
export interface LoadImageOptions {
  /** Output size: `n` for n x n, or `[height, width]`; default: the file's own size. */
  readonly size?: number | readonly [height: number, width: number];
  /**
   * Resampling kernel (default `"lanczos3"`). libvips first shrinks by box-averaging and then
   * applies the kernel, so a 224 -> 32 reduction is antialiased.
   */
  readonly kernel?: ResizeKernel;
  /** Use the in-memory cache (default true). */
  readonly cache?: boolean;
}

/** A decoded image with its shape. */
export interface LoadedImage {
  readonly image: Float32Array;
  readonly shape: ImageShape;
}

/** Loads one image file; what a `Dataset` calls for each row's path. */
export type ImageLoader = (path: string) => Promise<LoadedImage>;

const DEFAULT_CACHE_BYTES = 256 * 1024 * 1024;

interface CacheEntry {
  readonly promise: Promise<LoadedImage>;
  bytes: number;
}

const cache = new Map<string, CacheEntry>();
let cacheBytes = 0;
let cacheLimitBytes = DEFAULT_CACHE_BYTES;

/**
 * Reads an image file as RGB floats in [0, 1], HWC order, resized to `size` when given.
 * Greyscale and RGBA files are converted to RGB (alpha dropped). Each call returns a fresh
 * array, so callers may modify it.
 *
 * Throws a {@link DataError}: `TSYFT_ERR_DATA_MISSING` when the file does not exist,
 * `TSYFT_ERR_DATA_CHECKSUM` when it cannot be decoded.
 *
 * @example
 * ```ts
 * const x = await loadImage("/data/tsyft/ham10000/images_224/mel/ISIC_0024400.jpg", { size: 32 });
 * x.length;   // 3072 = 32 * 32 * 3, values in [0, 1]
 * ```
 */
export async function loadImage(file: string, options: LoadImageOptions = {}): Promise<Float32Array> {
  return (await loadImageWithShape(file, options)).image;
}

/**
 * Like {@link loadImage}, and also returns the shape `[H, W, 3]`.
 *
 * @example
 * ```ts
 * const { image, shape } = await loadImageWithShape(path, { size: [32, 48] });
 * shape;   // [32, 48, 3]
 * ```
 */
export async function loadImageWithShape(file: string, options: LoadImageOptions = {}): Promise<LoadedImage> {
  const [height, width] = parseSize(options.size);
  const kernel = options.kernel ?? "lanczos3";
  if (options.cache === false) return decode(file, height, width, kernel);

  const key = `${file}\u0000${height}x${width}\u0000${kernel}`;
  let entry = cache.get(key);
  if (entry !== undefined) {
    cache.delete(key); // re-insert: the Map's order is the LRU order
    cache.set(key, entry);
  } else {
    const promise = decode(file, height, width, kernel);
    const created: CacheEntry = { promise, bytes: 0 };
    entry = created;
    cache.set(key, created);
    promise.then(
      (loaded) => {
        if (cache.get(key) !== created) return;
        created.bytes = loaded.image.byteLength;
        cacheBytes += created.bytes;
        evict();
      },
      () => {
        if (cache.get(key) === created) cache.delete(key);
      },
    );
  }
  const loaded = await entry.promise;
  return { image: loaded.image.slice(), shape: [...loaded.shape] };
}

/**
 * An {@link ImageLoader} with fixed options, for a `Dataset`.
 *
 * @example
 * ```ts
 * const load = imageLoader({ size: 32 });
 * const { image, shape } = await load(table.get("path", 0));   // shape [32, 32, 3]
 * ```
 */
export function imageLoader(options: LoadImageOptions = {}): ImageLoader {
  return (file) => loadImageWithShape(file, options);
}

/**
 * Empties the image cache.
 *
 * @example
 * ```ts
 * clearImageCache();
 * imageCacheInfo().entries;   // 0
 * ```
 */
export function clearImageCache(): void {
  cache.clear();
  cacheBytes = 0;
}

/**
 * The image cache's size and limit; `limitBytes` sets a new limit (default 256 MiB).
 *
 * @example
 * ```ts
 * imageCacheInfo();                        // { entries: 1074, bytes: 13197312, limitBytes: 268435456 }
 * imageCacheInfo({ limitBytes: 64 << 20 });
 * ```
 */
export function imageCacheInfo(options: { limitBytes?: number } = {}): { entries: number; bytes: number; limitBytes: number } {
  if (options.limitBytes !== undefined) {
    if (!(options.limitBytes >= 0)) {
      throw new DataError(ErrorCode.INVALID_ARGUMENT, `limitBytes must be >= 0, got ${options.limitBytes}.`);
    }
    cacheLimitBytes = options.limitBytes;
    evict();
  }
  return { entries: cache.size, bytes: cacheBytes, limitBytes: cacheLimitBytes };
}

/** Options of {@link toPngDataUrl}. */
export interface PngOptions {
  /** Enlarge by this integer factor with nearest-neighbour (default 1), so small images stay sharp. */
  readonly scale?: number;
}

/**
 * Encodes an HWC float image (values in [0, 1], clipped; 1 or 3 channels) as a PNG data URL,
 * e.g. for a vega-lite image mark or an `<img>` tag.
 *
 * @example
 * ```ts
 * const url = await toPngDataUrl(sample.image, sample.shape, { scale: 4 });
 * url.startsWith("data:image/png;base64,");   // true
 * ```
 */
export async function toPngDataUrl(image: Float32Array, shape: readonly number[], options: PngOptions = {}): Promise<string> {
  const [height, width, channels] = shape.length === 2 ? [shape[0]!, shape[1]!, 1] : [shape[0]!, shape[1]!, shape[2]!];
  if (shape.length < 2 || shape.length > 3 || ![1, 3, 4].includes(channels) || shapeSize(shape) !== image.length) {
    throw new DataError(
      ErrorCode.SHAPE_MISMATCH,
      `toPngDataUrl expects an [H, W] or [H, W, 1|3|4] image with H*W*C values; got shape ${fmtShape(shape)} and ${image.length} values.`,
    );
  }
  const scale = options.scale ?? 1;
  if (!Number.isInteger(scale) || scale < 1) {
    throw new DataError(ErrorCode.INVALID_ARGUMENT, `scale must be a positive integer, got ${scale}.`);
  }
  const bytes = Buffer.alloc(image.length);
  for (let i = 0; i < image.length; i++) {
    const v = image[i]!;
    bytes[i] = Number.isNaN(v) ? 0 : Math.round(Math.min(1, Math.max(0, v)) * 255);
  }
  let pipeline = sharp(bytes, { raw: { width, height, channels: channels as 1 | 3 | 4 } });
  if (scale > 1) pipeline = pipeline.resize(width * scale, height * scale, { kernel: "nearest" });
  if (channels === 1) pipeline = pipeline.toColourspace("b-w"); // else sharp writes a 3-band PNG
  const png = await pipeline.png().toBuffer();
  return `data:image/png;base64,${png.toString("base64")}`;
}

async function decode(file: string, height: number | undefined, width: number | undefined, kernel: ResizeKernel): Promise<LoadedImage> {
  if (!fs.existsSync(file)) {
    throw new DataError(ErrorCode.DATA_MISSING, `Image file not found: ${file}.`, { path: file });
  }
  let raw: { data: Buffer; info: OutputInfo };
  try {
    let pipeline = sharp(file).removeAlpha().toColourspace("srgb");
    if (height !== undefined && width !== undefined) pipeline = pipeline.resize(width, height, { kernel, fit: "fill" });
    raw = await pipeline.raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new DataError(
      ErrorCode.DATA_CHECKSUM,
      `Cannot decode image ${file}: ${(error as Error).message}. The file is probably corrupt; check it against its SHA256SUMS.`,
      { path: file },
      { cause: error },
    );
  }
  const { data, info } = raw;
  const channels = info.channels;
  const pixels = info.width * info.height;
  const image = new Float32Array(pixels * 3);
  if (channels === 3) {
    for (let i = 0; i < image.length; i++) image[i] = data[i]! / 255;
  } else {
    // Defensive: any other band count is read as greyscale (first band) or RGB (first three).
    for (let p = 0; p < pixels; p++) {
      const v = data[p * channels]! / 255;
      image[p * 3] = v;
      image[p * 3 + 1] = channels >= 3 ? data[p * channels + 1]! / 255 : v;
      image[p * 3 + 2] = channels >= 3 ? data[p * channels + 2]! / 255 : v;
    }
  }
  return { image, shape: [info.height, info.width, 3] };
}

function parseSize(size: LoadImageOptions["size"]): [number | undefined, number | undefined] {
  if (size === undefined) return [undefined, undefined];
  const [height, width] = typeof size === "number" ? [size, size] : size;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height! < 1 || width! < 1) {
    throw new DataError(ErrorCode.INVALID_ARGUMENT, `size must be a positive integer or [height, width] of them, got ${JSON.stringify(size)}.`);
  }
  return [height, width];
}

function evict(): void {
  for (const [key, entry] of cache) {
    if (cacheBytes <= cacheLimitBytes) break;
    if (entry.bytes === 0) continue; // still loading
    cache.delete(key);
    cacheBytes -= entry.bytes;
  }
}
