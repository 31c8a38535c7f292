/**
 * Composable sample transforms, as torchvision's: each is a function from a {@link Sample} to a
 * new sample (inputs are never modified). Random transforms draw from a seeded {@link Rng},
 * passed at call time (a `DataLoader` passes one per sample and epoch) or fixed at creation.
 */
import { DataError, ErrorCode, fmtShape } from "../core/errors";
import type { Rng } from "./random";
import type { Sample } from "./sample";
import { shapeSize } from "./sample";

/**
 * A sample transform. `rng` feeds the random ones; deterministic ones ignore it.
 *
 * @example
 * ```ts
 * const invert: Transform = (s) => ({ ...s, image: s.image.map((v) => 1 - v) });
 * const t = compose(invert, randomHorizontalFlip(0.5));
 * ```
 */
export type Transform = (sample: Sample, rng?: Rng) => Sample;

/**
 * Per-channel mean of the HAM10000 images (RGB, [0, 1] scale), as in the PySyft skin-cancer tutorial.
 *
 * @example
 * ```ts
 * const norm = normalize(HAM10000_MEAN, HAM10000_STD);
 * ```
 */
export const HAM10000_MEAN: readonly [number, number, number] = [0.6979, 0.5445, 0.5735];
/**
 * Per-channel standard deviation of the HAM10000 images, as in the PySyft skin-cancer tutorial.
 *
 * @example
 * ```ts
 * denormalize(HAM10000_MEAN, HAM10000_STD);   // to show a normalized image
 * ```
 */
export const HAM10000_STD: readonly [number, number, number] = [0.0959, 0.1187, 0.1365];

/**
 * Chains transforms left to right; they share the one `rng`.
 *
 * @example
 * ```ts
 * const train = compose(randomHorizontalFlip(0.5), randomVerticalFlip(0.5), normalize(HAM10000_MEAN, HAM10000_STD));
 * const out = train(sample, new Rng(1));
 * ```
 */
export function compose(...transforms: Transform[]): Transform {
  return (sample, rng) => transforms.reduce((current, transform) => transform(current, rng), sample);
}

/**
 * Resizes to `size` (n for n x n, or [height, width]) with a triangle (bilinear) filter whose
 * support widens when shrinking, so downsampling is antialiased (as PIL's BILINEAR).
 *
 * @example
 * ```ts
 * resize(16)(sample).shape;   // [16, 16, 3]
 * ```
 */
export function resize(size: number | readonly [height: number, width: number]): Transform {
  const [outH, outW] = typeof size === "number" ? [size, size] : size;
  if (!Number.isInteger(outH) || !Number.isInteger(outW) || outH < 1 || outW < 1) {
    throw new DataError(ErrorCode.INVALID_ARGUMENT, `resize expects a positive integer size or [height, width], got ${JSON.stringify(size)}.`);
  }
  return (sample) => {
    checkSample(sample, "resize");
    const [inH, inW, channels] = sample.shape;
    if (inH === outH && inW === outW) return { ...sample, image: sample.image.slice() };
    const cols = resampleWeights(inW, outW);
    const rows = resampleWeights(inH, outH);
    const tmp = new Float32Array(inH * outW * channels);
    for (let y = 0; y < inH; y++) {
      for (let x = 0; x < outW; x++) {
        const { start, weights } = cols[x]!;
        for (let c = 0; c < channels; c++) {
          let acc = 0;
          for (let k = 0; k < weights.length; k++) acc += weights[k]! * sample.image[(y * inW + start + k) * channels + c]!;
          tmp[(y * outW + x) * channels + c] = acc;
        }
      }
    }
    const image = new Float32Array(outH * outW * channels);
    for (let y = 0; y < outH; y++) {
      const { start, weights } = rows[y]!;
      for (let x = 0; x < outW; x++) {
        for (let c = 0; c < channels; c++) {
          let acc = 0;
          for (let k = 0; k < weights.length; k++) acc += weights[k]! * tmp[((start + k) * outW + x) * channels + c]!;
          image[(y * outW + x) * channels + c] = acc;
        }
      }
    }
    return { ...sample, image, shape: [outH, outW, channels] };
  };
}

/**
 * Mirrors the image left-right with probability `p` (default 0.5). One draw from the rng per
 * call, whatever the outcome, so streams stay aligned.
 *
 * @example
 * ```ts
 * const flip = randomHorizontalFlip(0.5);
 * flip(sample, new Rng(7));          // the same outcome for every run with seed 7
 * randomHorizontalFlip(1)(sample);   // p = 1 needs no rng: always flipped
 * ```
 */
export function randomHorizontalFlip(p = 0.5, rng?: Rng): Transform {
  checkProbability(p, "randomHorizontalFlip");
  return (sample, callRng) => (draw(p, callRng ?? rng, "randomHorizontalFlip") ? flipHorizontal(sample) : sample);
}

/**
 * Mirrors the image top-bottom with probability `p` (default 0.5).
 *
 * @example
 * ```ts
 * randomVerticalFlip(0.5)(sample, new Rng(7));
 * ```
 */
export function randomVerticalFlip(p = 0.5, rng?: Rng): Transform {
  checkProbability(p, "randomVerticalFlip");
  return (sample, callRng) => (draw(p, callRng ?? rng, "randomVerticalFlip") ? flipVertical(sample) : sample);
}

/**
 * Subtracts `mean` and divides by `std`, per channel: `(x - mean[c]) / std[c]`.
 *
 * @example
 * ```ts
 * const norm = normalize(HAM10000_MEAN, HAM10000_STD);
 * norm({ image: Float32Array.of(0.6979, 0.5445, 0.5735), shape: [1, 1, 3], label: 0 }).image;   // [0, 0, 0]
 * ```
 */
export function normalize(mean: readonly number[], std: readonly number[]): Transform {
  checkMeanStd(mean, std, "normalize");
  return (sample) => {
    checkChannels(sample, mean.length, "normalize");
    const channels = mean.length;
    const image = new Float32Array(sample.image.length);
    for (let i = 0; i < image.length; i++) {
      const c = i % channels;
      image[i] = (sample.image[i]! - mean[c]!) / std[c]!;
    }
    return { ...sample, image };
  };
}

/**
 * Undoes {@link normalize}: `x * std[c] + mean[c]`, e.g. to display a normalized image.
 *
 * @example
 * ```ts
 * denormalize(HAM10000_MEAN, HAM10000_STD)(normalize(HAM10000_MEAN, HAM10000_STD)(sample));   // ~ sample
 * ```
 */
export function denormalize(mean: readonly number[], std: readonly number[]): Transform {
  checkMeanStd(mean, std, "denormalize");
  return (sample) => {
    checkChannels(sample, mean.length, "denormalize");
    const channels = mean.length;
    const image = new Float32Array(sample.image.length);
    for (let i = 0; i < image.length; i++) {
      const c = i % channels;
      image[i] = sample.image[i]! * std[c]! + mean[c]!;
    }
    return { ...sample, image };
  };
}

/**
 * The sample mirrored left-right (a new array).
 *
 * @example
 * ```ts
 * flipHorizontal({ image: Float32Array.of(1, 2), shape: [1, 2, 1], label: 0 }).image;   // [2, 1]
 * ```
 */
export function flipHorizontal(sample: Sample): Sample {
  checkSample(sample, "flipHorizontal");
  const [height, width, channels] = sample.shape;
  const image = new Float32Array(sample.image.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (y * width + x) * channels;
      const to = (y * width + (width - 1 - x)) * channels;
      for (let c = 0; c < channels; c++) image[to + c] = sample.image[from + c]!;
    }
  }
  return { ...sample, image };
}

/**
 * The sample mirrored top-bottom (a new array).
 *
 * @example
 * ```ts
 * flipVertical({ image: Float32Array.of(1, 2), shape: [2, 1, 1], label: 0 }).image;   // [2, 1]
 * ```
 */
export function flipVertical(sample: Sample): Sample {
  checkSample(sample, "flipVertical");
  const [height, width, channels] = sample.shape;
  const row = width * channels;
  const image = new Float32Array(sample.image.length);
  for (let y = 0; y < height; y++) image.set(sample.image.subarray(y * row, (y + 1) * row), (height - 1 - y) * row);
  return { ...sample, image };
}

/** One tap list of the separable resampler: output pixel = sum of weights[k] * input[start + k]. */
interface Taps {
  readonly start: number;
  readonly weights: Float64Array;
}

/** Triangle-filter taps for `inSize -> outSize`, with support scaled by the shrink factor. */
function resampleWeights(inSize: number, outSize: number): Taps[] {
  const scale = inSize / outSize;
  const filterScale = Math.max(1, scale);
  const support = filterScale; // the triangle's radius is 1 input pixel, times the shrink factor
  const taps: Taps[] = [];
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const start = Math.max(0, Math.floor(center - support));
    const end = Math.min(inSize, Math.ceil(center + support));
    const weights = new Float64Array(end - start);
    let total = 0;
    for (let j = start; j < end; j++) {
      const w = Math.max(0, 1 - Math.abs((j + 0.5 - center) / filterScale));
      weights[j - start] = w;
      total += w;
    }
    for (let k = 0; k < weights.length; k++) weights[k] /= total;
    taps.push({ start, weights });
  }
  return taps;
}

function draw(p: number, rng: Rng | undefined, name: string): boolean {
  if (rng === undefined) {
    if (p === 0 || p === 1) return p === 1;
    throw new DataError(
      ErrorCode.INVALID_ARGUMENT,
      `${name}(${p}) needs a seeded Rng: call the transform as t(sample, rng), create it as ${name}(${p}, new Rng(seed)), or use it in a DataLoader (which passes one).`,
    );
  }
  return rng.next() < p;
}

function checkProbability(p: number, name: string): void {
  if (!(p >= 0 && p <= 1)) throw new DataError(ErrorCode.INVALID_ARGUMENT, `${name} expects a probability in [0, 1], got ${p}.`);
}

function checkMeanStd(mean: readonly number[], std: readonly number[], name: string): void {
  if (mean.length === 0 || mean.length !== std.length) {
    throw new DataError(ErrorCode.INVALID_ARGUMENT, `${name} expects mean and std of the same non-zero length (one per channel), got ${mean.length} and ${std.length}.`);
  }
  if (std.some((s) => !(s > 0))) throw new DataError(ErrorCode.INVALID_ARGUMENT, `${name} expects every std > 0, got [${std.join(", ")}].`);
}

function checkChannels(sample: Sample, channels: number, name: string): void {
  checkSample(sample, name);
  if (sample.shape[2] !== channels) {
    throw new DataError(
      ErrorCode.SHAPE_MISMATCH,
      `${name} was given ${channels} channel statistics but the image has shape ${fmtShape(sample.shape)} (${sample.shape[2]} channels).`,
    );
  }
}

function checkSample(sample: Sample, name: string): void {
  if (sample.shape.length !== 3 || shapeSize(sample.shape) !== sample.image.length) {
    throw new DataError(
      ErrorCode.SHAPE_MISMATCH,
      `${name} expects an HWC image whose shape matches its data; got shape ${fmtShape(sample.shape)} with ${sample.image.length} values.`,
    );
  }
}
