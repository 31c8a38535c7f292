/**
 * Runs a recipe of remote ops (remote-ops.ts) on an asset's values, in plain
 * loops over the row-major arrays: TF.js's CPU backend reduces an axis other
 * than the last by transposing first, which for a 400x50x50x3 asset took over a
 * second per query; these loops take milliseconds and leave the process's
 * TF.js backend alone. Sums accumulate in float64.
 *
 * @example
 * ```ts
 * applyOps({ values: new Float32Array([1, 2, 3, 4]), shape: [2, 2], dtype: "float32" }, [{ op: "mean", axis: [0] }]);
 * // { values: Float32Array [2, 3], shape: [2], dtype: "float32" }
 * ```
 */
import type { RemoteOp } from "./remote-ops";
import type { PayloadDtype, TensorValues } from "./tensor-payload";

export interface Evaluated {
  values: Float32Array | Int32Array;
  shape: number[];
  dtype: "float32" | "int32";
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Row-major strides of a shape. */
function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i]!;
  }
  return strides;
}

/**
 * The result of `ops` on the values (bool becomes int32, as TF.js sums it).
 *
 * @example
 * ```ts
 * applyOps(asset, [{ op: "slice", begin: [0], size: [10] }, { op: "sum" }]).shape;   // []
 * ```
 */
export function applyOps(
  input: { values: TensorValues; shape: readonly number[]; dtype: PayloadDtype },
  ops: readonly RemoteOp[],
): Evaluated {
  let current: Evaluated = {
    values: input.values instanceof Uint8Array ? Int32Array.from(input.values) : input.values,
    shape: [...input.shape],
    dtype: input.dtype === "float32" ? "float32" : "int32",
  };
  for (const op of ops) {
    if (op.op === "slice") current = slice(current, op.begin, op.size);
    else current = reduce(current, op.axis ?? current.shape.map((_, i) => i), op.op === "mean");
  }
  return current;
}

function slice(input: Evaluated, begin: readonly number[], size: readonly number[]): Evaluated {
  const shape = input.shape.map((n, i) => (i < size.length ? size[i]! : n));
  const start = input.shape.map((_, i) => begin[i] ?? 0);
  const inStrides = stridesOf(input.shape);
  const out = input.dtype === "float32" ? new Float32Array(sizeOf(shape)) : new Int32Array(sizeOf(shape));
  const rank = shape.length;
  if (out.length === 0 || rank === 0) return { ...input, values: out.length ? input.values.slice() : out, shape };
  // Copy whole innermost runs; an odometer over the outer axes.
  const run = shape[rank - 1]!;
  const index = new Array<number>(rank - 1).fill(0);
  for (let o = 0; o < out.length; o += run) {
    let offset = start[rank - 1]!;
    for (let d = 0; d < rank - 1; d++) offset += (start[d]! + index[d]!) * inStrides[d]!;
    out.set(input.values.subarray(offset, offset + run), o);
    for (let d = rank - 2; d >= 0; d--) {
      if (++index[d]! < shape[d]!) break;
      index[d] = 0;
    }
  }
  return { ...input, values: out, shape };
}

function reduce(input: Evaluated, axes: readonly number[], mean: boolean): Evaluated {
  const kept = input.shape.map((_, i) => !axes.includes(i));
  const shape = input.shape.filter((_, i) => kept[i]);
  const outStrides = stridesOf(shape);
  // The output stride of each input axis (0 for a reduced one).
  const step: number[] = [];
  let k = 0;
  input.shape.forEach((_, i) => step.push(kept[i] ? outStrides[k++]! : 0));
  const acc = new Float64Array(sizeOf(shape));
  const rank = input.shape.length;
  const index = new Array<number>(rank).fill(0);
  let o = 0;
  const values = input.values;
  for (let i = 0; i < values.length; i++) {
    acc[o] += values[i]!;
    for (let d = rank - 1; d >= 0; d--) {
      o += step[d]!;
      if (++index[d]! < input.shape[d]!) break;
      o -= step[d]! * input.shape[d]!;
      index[d] = 0;
    }
  }
  const count = sizeOf(input.shape) / Math.max(1, acc.length);
  if (mean) return { values: Float32Array.from(acc, (v) => (count ? v / count : NaN)), shape, dtype: "float32" };
  return {
    values: input.dtype === "float32" ? Float32Array.from(acc) : Int32Array.from(acc),
    shape,
    dtype: input.dtype,
  };
}
