/**
 * Building ring tensors and reading them back: constants, bigint and number
 * arrays, fixed-point floats, and raw bytes.
 *
 * The float paths never build a BigInt per element: they write and read the
 * two 32-bit words of each element through a Uint32Array/Int32Array view.
 */
import { ErrorCode, ProtocolError, fmtShape } from "../core/errors";
import { argumentError, checkShape, describe, size, type Shape } from "./shape-basics";
import { RingTensor } from "./tensor";

const TWO_32 = 4294967296;
const TWO_63 = 9223372036854775808;
/** Index of the low 32-bit word of an element within its pair (0 on little-endian hosts). */
const LO = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;
const HI = 1 - LO;

/** A Uint32Array over the same bytes as `data` (two words per element). */
export function wordsOf(data: BigInt64Array): Uint32Array {
  return new Uint32Array(data.buffer, data.byteOffset, data.length * 2);
}

/**
 * A tensor of zeros.
 *
 * @example
 * ```ts
 * zeros([2, 3]).size; // 6
 * ```
 */
export function zeros(shape: Shape): RingTensor {
  const s = checkShape(shape, "zeros");
  return new RingTensor(new BigInt64Array(size(s)), s);
}

/**
 * A tensor with every element `value` (reduced mod 2^64).
 *
 * @example
 * ```ts
 * toBigInts(fill([2], -1n)); // [-1n, -1n]
 * ```
 */
export function fill(shape: Shape, value: bigint): RingTensor {
  const s = checkShape(shape, "fill");
  checkBigint(value, "fill");
  return new RingTensor(new BigInt64Array(size(s)).fill(value), s);
}

/**
 * A rank-0 tensor (shape `[]`) holding `value` mod 2^64.
 *
 * @example
 * ```ts
 * scalar(5n).shape; // []
 * ```
 */
export function scalar(value: bigint): RingTensor {
  checkBigint(value, "scalar");
  return new RingTensor(BigInt64Array.of(value), []);
}

/**
 * A tensor from bigints, each reduced mod 2^64 (so 2n**64n - 1n becomes -1n).
 * A BigInt64Array is copied.
 *
 * @example
 * ```ts
 * fromBigInts([1n, -2n, 3n, 4n], [2, 2]);
 * ```
 */
export function fromBigInts(values: readonly bigint[] | BigInt64Array, shape: Shape): RingTensor {
  const s = checkShape(shape, "fromBigInts");
  if (values instanceof BigInt64Array) return new RingTensor(values.slice(), s);
  if (!Array.isArray(values) || !values.every((v) => typeof v === "bigint")) {
    throw argumentError(`fromBigInts: expected an array of bigints (such as [1n, -2n]), got ${describe(values)}.`);
  }
  checkLength(values.length, s, "fromBigInts");
  return new RingTensor(BigInt64Array.from(values), s);
}

/**
 * The elements as signed bigints in [-2^63, 2^63), row-major.
 *
 * @example
 * ```ts
 * toBigInts(fromInts([1, -2], [2])); // [1n, -2n]
 * ```
 */
export function toBigInts(t: RingTensor): bigint[] {
  return Array.from(t.data);
}

/**
 * A tensor from exact integers (|v| <= 2^53 - 1), negatives in two's complement.
 *
 * @example
 * ```ts
 * fromInts([1, -2, 3], [3]);
 * ```
 */
export function fromInts(values: ArrayLike<number>, shape: Shape): RingTensor {
  const s = checkShape(shape, "fromInts");
  checkLength(values.length, s, "fromInts");
  const data = new BigInt64Array(values.length);
  const words = wordsOf(data);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isSafeInteger(v)) {
      throw argumentError(
        `fromInts: expected integers with |v| < 2^53, got ${v} at index ${i}. ` +
          `Use fromFloat for fractional values or fromBigInts for larger ones.`,
        { index: i },
      );
    }
    writeInteger(words, i, v);
  }
  return new RingTensor(data, s);
}

/**
 * Fixed-point encoding: each element becomes round(v * multiplier) mod 2^64,
 * rounding halves to even (as tf.round and torch.round do). The caller keeps
 * |v * multiplier| < 2^63; a value outside that range (or NaN) throws
 * ENCODE_OVERFLOW. Products of 2^53 or more are integers already and are exact.
 *
 * @example
 * ```ts
 * fromFloat([1.5, -0.25], [2], 2 ** 16); // [98304n, -16384n]
 * ```
 */
export function fromFloat(values: ArrayLike<number>, shape: Shape, multiplier: number): RingTensor {
  const s = checkShape(shape, "fromFloat");
  checkLength(values.length, s, "fromFloat");
  if (!Number.isFinite(multiplier)) {
    throw argumentError(`fromFloat: expected a finite multiplier, got ${multiplier}.`);
  }
  const n = values.length;
  const data = new BigInt64Array(n);
  const words = wordsOf(data);
  for (let i = 0; i < n; i++) {
    const x = values[i] * multiplier;
    // NaN fails both tests; x < 2^63 also bounds round(x), since doubles near 2^63 are integers.
    if (!(x >= -TWO_63 && x < TWO_63)) throw overflow(values[i], multiplier, i);
    writeInteger(words, i, roundHalfEven(x));
  }
  return new RingTensor(data, s);
}

/**
 * Signed decode divided by `divisor`: element / divisor as a float. Exact when
 * |element| < 2^53; beyond that, one rounding.
 *
 * @example
 * ```ts
 * toFloat(fromFloat([1.5], [1], 65536), 65536); // Float64Array [1.5]
 * ```
 */
export function toFloat(t: RingTensor, divisor: number): Float64Array {
  const n = t.size;
  const out = new Float64Array(n);
  const u = wordsOf(t.data);
  const signed = new Int32Array(u.buffer, u.byteOffset, u.length);
  for (let i = 0; i < n; i++) out[i] = (signed[2 * i + HI] * TWO_32 + u[2 * i + LO]) / divisor;
  return out;
}

/**
 * The elements as little-endian bytes: a read-only view over the tensor's memory
 * (8 bytes per element), no copy. Copy it before writing into it.
 *
 * @example
 * ```ts
 * toBytes(scalar(1n)); // Uint8Array [1, 0, 0, 0, 0, 0, 0, 0]
 * ```
 */
export function toBytes(t: RingTensor): Uint8Array {
  if (LO !== 0) return bytesLittleEndian(t.data);
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/**
 * A tensor from little-endian bytes (8 per element). Aligned input is viewed in
 * place (the tensor shares `bytes`' memory: do not reuse the buffer); input at an
 * offset that is not a multiple of 8 is copied.
 *
 * @example
 * ```ts
 * const t = fromBytes(toBytes(x), x.shape); // equal(t, x)
 * ```
 */
export function fromBytes(bytes: Uint8Array, shape: Shape): RingTensor {
  const s = checkShape(shape, "fromBytes");
  if (!(bytes instanceof Uint8Array)) {
    throw argumentError(`fromBytes: expected a Uint8Array, got ${describe(bytes)}.`);
  }
  if (bytes.byteLength !== size(s) * 8) {
    throw new ProtocolError(
      ErrorCode.SHAPE_MISMATCH,
      `fromBytes: shape ${fmtShape(s)} needs ${size(s) * 8} bytes (8 per element), got ${bytes.byteLength}. ` +
        `Check that the shape travelled with the bytes.`,
      { shape: [...s], bytes: bytes.byteLength },
    );
  }
  const n = size(s);
  let data: BigInt64Array;
  if (bytes.byteOffset % 8 === 0) {
    data = new BigInt64Array(bytes.buffer, bytes.byteOffset, n);
  } else {
    data = new BigInt64Array(n);
    new Uint8Array(data.buffer).set(bytes);
  }
  if (LO !== 0) data = fromLittleEndian(data);
  return new RingTensor(data, s);
}

/**
 * True when both tensors have the same shape and the same elements.
 *
 * @example
 * ```ts
 * equal(fromInts([1, 2], [2]), fromBigInts([1n, 2n], [2])); // true
 * ```
 */
export function equal(a: RingTensor, b: RingTensor): boolean {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) return false;
  const x = Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const y = Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  return x.equals(y);
}

/** Round to nearest, halves to even; integers (all doubles >= 2^52) pass through. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f; // exact
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Writes the integer r (|r| <= 2^63, an exact double) as two's complement words. */
function writeInteger(words: Uint32Array, i: number, r: number): void {
  const magnitude = r < 0 ? -r : r;
  const hi = Math.floor(magnitude / TWO_32);
  const lo = magnitude - hi * TWO_32;
  if (r >= 0) {
    words[2 * i + LO] = lo;
    words[2 * i + HI] = hi;
  } else {
    // -(hi:lo) = ~(hi:lo) + 1, carrying into the high word when lo is 0.
    words[2 * i + LO] = -lo;
    words[2 * i + HI] = lo === 0 ? -hi : ~hi;
  }
}

function overflow(value: number, multiplier: number, index: number): ProtocolError {
  return new ProtocolError(
    ErrorCode.ENCODE_OVERFLOW,
    `fromFloat: value ${value} at index ${index} times ${multiplier} is ${value * multiplier}, outside the ring's ` +
      `signed range (|v * multiplier| < 2^63). Scale the input down or use fewer fractional bits.`,
    { index, value, multiplier },
  );
}

function checkLength(length: number, shape: Shape, op: string): void {
  if (length !== size(shape)) {
    throw new ProtocolError(
      ErrorCode.SHAPE_MISMATCH,
      `${op}: shape ${fmtShape(shape)} needs ${size(shape)} values, got ${length}. Pass as many values as the shape holds.`,
      { op, shape: [...shape], length },
    );
  }
}

function checkBigint(value: unknown, op: string): void {
  if (typeof value !== "bigint") {
    throw argumentError(`${op}: expected a bigint value (such as 3n), got ${describe(value)}.`, { op });
  }
}

function bytesLittleEndian(data: BigInt64Array): Uint8Array {
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setBigInt64(8 * i, data[i], true);
  return out;
}

function fromLittleEndian(data: BigInt64Array): BigInt64Array {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new BigInt64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = view.getBigInt64(8 * i, true);
  return out;
}
