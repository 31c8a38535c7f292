/**
 * Gaussian noise for differential privacy, drawn from the operating system's cryptographic random source
 * (node:crypto), never from Math.random or a seedable generator: a DP guarantee assumes the noise cannot be
 * predicted or replayed by whoever sees the result.
 *
 * Normal deviates come from the Box-Muller transform over uniform doubles built from 53 random bits each.
 * (Like Opacus's and TF Privacy's samplers this is textbook floating-point sampling; it does not defend against
 * the floating-point attacks of Mironov 2012 on the low bits of the output.)
 */
import { randomBytes } from "node:crypto";
import * as tf from "@tensorflow/tfjs";
import { ErrorCode, TsyftError } from "../core/errors";

// Random bytes are fetched in blocks: one system call per 8,192 uniforms instead of one per uniform.
const POOL_BYTES = 64 * 1024;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** A uniform double in (0, 1], from 53 cryptographically random bits (never 0, so its log is finite). */
function uniformOpenZero(): number {
  if (poolOffset + 8 > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolOffset = 0;
  }
  const high = pool.readUInt32LE(poolOffset) >>> 11; // 21 bits
  const low = pool.readUInt32LE(poolOffset + 4); // 32 bits
  poolOffset += 8;
  return (high * 2 ** 32 + low + 1) / 2 ** 53;
}

/**
 * `n` independent standard normal deviates N(0, 1), cryptographically random.
 *
 * @example
 * ```ts
 * const z = sy.dp.standardNormal(1000);   // Float64Array(1000), mean about 0, std about 1
 * ```
 */
export function standardNormal(n: number): Float64Array {
  if (!(Number.isInteger(n) && n >= 0)) {
    throw new TsyftError(ErrorCode.INVALID_ARGUMENT, `standardNormal: n must be an integer >= 0, got ${n}.`, { n });
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    // Box-Muller: for U1, U2 uniform, R = sqrt(-2 ln U1) and Theta = 2 pi U2 give two independent N(0, 1).
    const radius = Math.sqrt(-2 * Math.log(uniformOpenZero()));
    const angle = 2 * Math.PI * uniformOpenZero();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < n) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}

/**
 * Gaussian noise with standard deviation `std`, as numbers (`shape` a count) or a float32 tensor (`shape` an
 * array).
 *
 * @example
 * ```ts
 * sy.dp.gaussianNoise(3, 0.5);        // Float64Array(3), N(0, 0.25) each
 * sy.dp.gaussianNoise([2, 2], 0.5);   // tf.Tensor [2, 2]
 * ```
 */
export function gaussianNoise(shape: number, std: number): Float64Array;
export function gaussianNoise(shape: readonly number[], std: number): tf.Tensor;
export function gaussianNoise(shape: number | readonly number[], std: number): Float64Array | tf.Tensor {
  if (!(std >= 0 && Number.isFinite(std))) {
    throw new TsyftError(ErrorCode.INVALID_ARGUMENT, `gaussianNoise: std must be a finite number >= 0, got ${std}.`, {
      std,
    });
  }
  const count = typeof shape === "number" ? shape : shape.reduce((a, b) => a * b, 1);
  const noise = standardNormal(count).map((z) => z * std);
  return typeof shape === "number" ? noise : tf.tensor(Float32Array.from(noise), [...shape], "float32");
}

/** What a query's noise is calibrated from. */
export interface GaussianMechanismOptions {
  /** L2 sensitivity of the query: how far (in L2 norm) one data subject can move its result. */
  readonly sensitivity: number;
  /** Noise std / sensitivity (sigma); the accountant charges by it. */
  readonly noiseMultiplier: number;
}

/**
 * The Gaussian mechanism: adds N(0, (noiseMultiplier * sensitivity)^2) to each coordinate of a query's result.
 * Released once over the whole data (sample rate 1), it is what `RDPAccountant.step({ noiseMultiplier,
 * sampleRate: 1 })` charges.
 *
 * @example
 * ```ts
 * const mechanism = new sy.dp.GaussianMechanism({ sensitivity: 1, noiseMultiplier: 2 });
 * mechanism.std;                          // 2
 * mechanism.release(42);                  // 42 + N(0, 4)
 * mechanism.release(tf.tensor([1, 2]));   // tensor + noise of the same shape
 * ```
 */
export class GaussianMechanism {
  readonly sensitivity: number;
  readonly noiseMultiplier: number;

  constructor(options: GaussianMechanismOptions) {
    for (const key of ["sensitivity", "noiseMultiplier"] as const) {
      const value = options[key];
      if (!(value >= 0 && Number.isFinite(value))) {
        throw new TsyftError(
          ErrorCode.INVALID_ARGUMENT,
          `GaussianMechanism: ${key} must be a finite number >= 0, got ${value}.`,
          {
            [key]: value,
          },
        );
      }
    }
    this.sensitivity = options.sensitivity;
    this.noiseMultiplier = options.noiseMultiplier;
  }

  /** The noise standard deviation, noiseMultiplier * sensitivity. */
  get std(): number {
    return this.noiseMultiplier * this.sensitivity;
  }

  /** The value plus fresh noise (a new tensor for a tensor; the input is left as it is). */
  release(value: number): number;
  release(value: readonly number[]): number[];
  release(value: tf.Tensor): tf.Tensor;
  release(value: number | readonly number[] | tf.Tensor): number | number[] | tf.Tensor {
    if (typeof value === "number") return value + gaussianNoise(1, this.std)[0]!;
    if (value instanceof tf.Tensor) {
      return tf.tidy(() => tf.add(tf.cast(value, "float32"), gaussianNoise(value.shape, this.std)));
    }
    const noise = gaussianNoise(value.length, this.std);
    return value.map((v, i) => v + noise[i]!);
  }
}
