/**
 * The ring's value type: an immutable tensor over Z_2^64.
 */
import { fmtShape } from "../core/errors";
import { argumentError, checkShape, size, type Shape } from "./shape-basics";

/**
 * A tensor of integers mod 2^64, stored row-major as signed 64-bit values
 * (two's complement), so wrap-around arithmetic costs nothing.
 *
 * Treat it as a value: ops return new tensors and never write into their
 * inputs. Code above the ring module goes through the ring's functions rather
 * than indexing `data`.
 *
 * @example
 * ```ts
 * const t = new RingTensor(new BigInt64Array([1n, -2n, 3n, 4n]), [2, 2]);
 * t.size;  // 4
 * t.rank;  // 2
 * ```
 */
export class RingTensor {
  /** Dimensions, row-major; `[]` for a scalar. Frozen. */
  readonly shape: readonly number[];
  /** The elements, row-major, two's complement. Do not write into it. */
  readonly data: BigInt64Array;

  constructor(data: BigInt64Array, shape: Shape) {
    const checked = checkShape(shape, "RingTensor");
    if (!(data instanceof BigInt64Array)) {
      throw argumentError(`RingTensor: expected data as a BigInt64Array, got ${data === null ? "null" : typeof data}.`);
    }
    if (data.length !== size(checked)) {
      throw argumentError(
        `RingTensor: shape ${fmtShape(checked)} needs ${size(checked)} elements, got ${data.length}. ` +
          `Pass data of the shape's size or fix the shape.`,
        { shape: [...checked], length: data.length },
      );
    }
    this.shape = checked;
    this.data = data;
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  toString(): string {
    const preview = Array.from(this.data.subarray(0, 8), (v) => v.toString()).join(", ");
    return `RingTensor(shape=${fmtShape(this.shape)}, [${preview}${this.size > 8 ? ", ..." : ""}])`;
  }
}
