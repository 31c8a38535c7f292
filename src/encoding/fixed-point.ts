/**
 * Fixed-point encoding of reals into Z_2^64: `round(x * base^f) mod 2^64`,
 * decoded as a signed integer divided by `base^f`.
 *
 * The default is CrypTen's (base 2, 16 fractional bits); `{ base: 10,
 * precisionFractional: 3 }` is PySyft 0.2's. With base 2 the truncation after a
 * product is a shift; with other bases it is a floor division by the scale.
 *
 * @example
 * ```ts
 * const enc = encoding({ base: 2, precisionFractional: 16 });
 * const r = encode([1.5, -2.25], [2], enc);   // ring values 98304, -147456
 * decode(r, enc);                              // Float64Array [1.5, -2.25]
 * ```
 */
import { getConfig } from "../core/config";
import { ErrorCode, ProtocolError, TsyftError } from "../core/errors";
import { timed } from "../core/profiler";
import * as ring from "../ring";

export interface FixedPointEncoding {
  readonly base: number;
  readonly precisionFractional: number;
}

/** Options a user passes to `fixPrecision()`. */
export interface FixedPointOptions {
  base?: number;
  precisionFractional?: number;
}

/**
 * Headroom kept above encoded values: a product of two encoded values must fit
 * in 63 bits before truncation, so inputs are limited to 2^62 / scale and each
 * secure product further to what the application needs.
 */
const ENCODED_MAGNITUDE_LIMIT = 2 ** 62;

/** The encoding in force: explicit options over the configuration. */
export function encoding(options: FixedPointOptions = {}): FixedPointEncoding {
  const config = getConfig();
  const base = options.base ?? config.base;
  const precisionFractional = options.precisionFractional ?? config.precisionFractional;
  if (!Number.isInteger(base) || base < 2) {
    throw new TsyftError(ErrorCode.INVALID_ARGUMENT, `fixPrecision: expected an integer base >= 2, got ${base}.`);
  }
  if (!Number.isInteger(precisionFractional) || precisionFractional < 0 || Math.log2(base) * precisionFractional > 40) {
    throw new TsyftError(
      ErrorCode.INVALID_ARGUMENT,
      `fixPrecision: expected precisionFractional an integer with base^precisionFractional <= 2^40, got base ${base}, precisionFractional ${precisionFractional}.`,
    );
  }
  return { base, precisionFractional };
}

/** `base^precisionFractional` as a number (exact: at most 2^40). */
export function scaleOf(enc: FixedPointEncoding): number {
  return enc.base ** enc.precisionFractional;
}

/** `base^precisionFractional` as a bigint. */
export function scaleBigInt(enc: FixedPointEncoding): bigint {
  return BigInt(enc.base) ** BigInt(enc.precisionFractional);
}

/** Largest magnitude that `encode` accepts under `enc`. */
export function encodingLimit(enc: FixedPointEncoding): number {
  return ENCODED_MAGNITUDE_LIMIT / scaleOf(enc);
}

export function sameEncoding(a: FixedPointEncoding, b: FixedPointEncoding): boolean {
  return a.base === b.base && a.precisionFractional === b.precisionFractional;
}

export function describeEncoding(enc: FixedPointEncoding): string {
  return enc.base === 2
    ? `base 2, ${enc.precisionFractional} fractional bits`
    : `base ${enc.base}, ${enc.precisionFractional} fractional digits`;
}

/**
 * Encodes reals. Refuses NaN, infinities and values beyond
 * {@link encodingLimit} with `TSYFT_ERR_ENCODE_OVERFLOW`.
 */
export function encode(values: ArrayLike<number>, shape: readonly number[], enc: FixedPointEncoding): ring.RingTensor {
  return timed("encoding", () => encodeNow(values, shape, enc));
}

function encodeNow(values: ArrayLike<number>, shape: readonly number[], enc: FixedPointEncoding): ring.RingTensor {
  const limit = encodingLimit(enc);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(Math.abs(v) < limit)) {
      throw new ProtocolError(
        ErrorCode.ENCODE_OVERFLOW,
        `Cannot encode ${v} (element ${i}) in fixed point with ${describeEncoding(enc)}: ` +
          `magnitudes must be below ${limit.toExponential(3)} (2^62 / scale, so that products fit in the 64-bit ring). ` +
          `Rescale the data or use fewer fractional digits.`,
        { index: i, value: v, limit },
      );
    }
  }
  return ring.fromFloat(values, shape, scaleOf(enc));
}

/** Decodes to reals. */
export function decode(t: ring.RingTensor, enc: FixedPointEncoding): Float64Array {
  return timed("encoding", () => ring.toFloat(t, scaleOf(enc)));
}

/**
 * Divides encoded values by the scale, rounding toward minus infinity:
 * the truncation after a fixed-point product on a plaintext value.
 */
export function truncate(t: ring.RingTensor, enc: FixedPointEncoding): ring.RingTensor {
  return enc.base === 2 ? ring.shr(t, enc.precisionFractional) : ring.divFloor(t, scaleBigInt(enc));
}
