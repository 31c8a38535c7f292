/**
 * How DP-SGD picks its batches: Poisson sampling, as Opacus's `DPDataLoader` does. Each example joins each batch
 * independently with probability q = batchSize / n, so batch sizes vary around batchSize. This is the sampling the
 * RDP accountant of the sampled Gaussian mechanism assumes (Mironov, Talwar & Zhang 2019): privacy amplification
 * by subsampling holds for it, which is why each step is recorded with sampleRate q. Shuffled fixed-size batches
 * would be sampling without replacement, for which that analysis (and its epsilon) does not hold as stated.
 *
 * The coins come from the operating system's cryptographic source: amplification also assumes that who is in a
 * batch cannot be predicted.
 */
import { randomBytes } from "node:crypto";

/**
 * The indices in [0, n) of one Poisson-sampled batch with sampling rate `q` (each kept with probability q).
 *
 * @example
 * ```ts
 * poissonSample(1000, 0.064);   // Int32Array of about 64 indices, increasing
 * ```
 */
export function poissonSample(n: number, q: number): Int32Array {
  const coins = randomBytes(4 * n);
  const threshold = q * 2 ** 32;
  const picked: number[] = [];
  for (let i = 0; i < n; i++) if (coins.readUInt32LE(4 * i) < threshold) picked.push(i);
  return Int32Array.from(picked);
}
