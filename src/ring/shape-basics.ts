/**
 * What every shape rule of the ring builds on: the Shape type, its checks
 * (checkShape, normalizeAxis), sizes and strides, and the two errors a shape
 * rule throws. Every failure is a `ProtocolError` with code `SHAPE_MISMATCH`
 * (operands disagree) or `INVALID_ARGUMENT` (a bad axis, permutation,
 * stride...), naming what was expected, what came, and what to do.
 */
import { ErrorCode, ProtocolError } from "../core/errors";

/** A tensor shape: non-negative integer dimensions, row-major. */
export type Shape = readonly number[];

/** A SHAPE_MISMATCH ProtocolError (operands or data disagree with a shape). */
export function shapeError(message: string, details: Record<string, unknown> = {}): ProtocolError {
  return new ProtocolError(ErrorCode.SHAPE_MISMATCH, message, details);
}

/** An INVALID_ARGUMENT ProtocolError (a bad axis, option, type or value). */
export function argumentError(message: string, details: Record<string, unknown> = {}): ProtocolError {
  return new ProtocolError(ErrorCode.INVALID_ARGUMENT, message, details);
}

/**
 * Checks that `shape` is an array of non-negative integers; returns a frozen copy.
 *
 * @example
 * ```ts
 * checkShape([2, 3], "zeros"); // [2, 3]
 * checkShape([2, -1], "zeros"); // throws INVALID_ARGUMENT
 * ```
 */
export function checkShape(shape: Shape, op: string): Shape {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw argumentError(
      `${op}: expected a shape of non-negative integers, got ${describe(shape)}. Pass dimensions such as [2, 3].`,
      { op },
    );
  }
  return Object.freeze([...shape]);
}

/**
 * Number of elements of a shape (1 for a scalar `[]`).
 *
 * @example
 * ```ts
 * shapes.size([2, 3, 4]); // 24
 * ```
 */
export function size(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides, in elements. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** Resolves a possibly negative axis against `rank`; `extra` widens the range (expandDims). */
export function normalizeAxis(axis: number, rank: number, op: string, extra = 0): number {
  const hi = rank + extra;
  if (!Number.isInteger(axis) || axis < -hi || axis >= hi) {
    throw argumentError(
      `${op}: expected an integer axis in [${-hi}, ${hi - 1}] for rank ${rank}, got ${axis}. ` +
        `Count axes from 0 (or from the end with negatives).`,
      { op, axis, rank },
    );
  }
  return axis < 0 ? axis + hi : axis;
}

/** Short rendering of any argument for messages. */
export function describe(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => describe(v)).join(", ")}]`;
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}
