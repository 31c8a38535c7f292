/**
 * The ops a data scientist may run on an asset without seeing it, as data: a
 * pointer to a derived result is the asset plus the list of ops that made it,
 * kept by the domain and evaluated there (never on the client).
 *
 * @example
 * ```ts
 * const ops: RemoteOp[] = [{ op: "slice", begin: [0], size: [100] }, { op: "mean", axis: [0] }];
 * outputShape([400, 50, 50, 3], ops);   // [50, 50, 3]
 * ```
 */
import { ErrorCode, fmtShape, TsyftError } from "../core/errors";

export type RemoteOp =
  { op: "slice"; begin: number[]; size: number[] } | { op: "sum"; axis?: number[] } | { op: "mean"; axis?: number[] };

export const REMOTE_OP_NAMES = ["slice", "sum", "mean"] as const;

const bad = (message: string, details: Record<string, unknown> = {}) =>
  new TsyftError(ErrorCode.INVALID_ARGUMENT, message, details);

/**
 * Checks an op sent by a client against the shape it applies to; returns it normalised
 * (slice `size` -1 resolved, axes made non-negative and sorted) or throws INVALID_ARGUMENT.
 *
 * @example
 * ```ts
 * checkRemoteOp({ op: "sum", axis: [-1] }, [4, 3]);   // { op: "sum", axis: [1] }
 * ```
 */
export function checkRemoteOp(value: unknown, shape: readonly number[]): RemoteOp {
  const op = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  if (op.op === "slice") {
    const begin = intList(op.begin, "slice begin");
    const size = intList(op.size, "slice size");
    if (begin.length > shape.length || size.length !== begin.length) {
      throw bad(
        `slice: expected begin and size of equal length, at most the rank ${shape.length} of ${fmtShape(shape)}, ` +
          `got begin [${begin}] and size [${size}].`,
      );
    }
    const resolved = size.map((s, i) => (s === -1 ? shape[i]! - begin[i]! : s));
    resolved.forEach((s, i) => {
      if (begin[i]! < 0 || s < 0 || begin[i]! + s > shape[i]!) {
        throw bad(
          `slice: axis ${i} of ${fmtShape(shape)} has ${shape[i]} entries; begin ${begin[i]} with size ${size[i]} ` +
            "leaves it. Use begin >= 0 and begin + size <= the axis length (size -1: to the end).",
        );
      }
    });
    return { op: "slice", begin, size: resolved };
  }
  if (op.op === "sum" || op.op === "mean") {
    if (op.axis === undefined || op.axis === null) return { op: op.op };
    const axes = (typeof op.axis === "number" ? [op.axis] : intList(op.axis, `${op.op} axis`)).map((a) =>
      a < 0 ? a + shape.length : a,
    );
    if (axes.some((a) => a < 0 || a >= shape.length) || new Set(axes).size !== axes.length) {
      throw bad(`${op.op}: axes must be distinct and within the rank ${shape.length} of ${fmtShape(shape)}.`, {
        axis: op.axis,
      });
    }
    return { op: op.op, axis: axes.sort((a, b) => a - b) };
  }
  throw bad(`Unknown remote op ${JSON.stringify(op.op)}; the domain runs ${REMOTE_OP_NAMES.join(", ")}.`);
}

/**
 * The shape after applying `ops` to a tensor of `shape`.
 *
 * @example
 * ```ts
 * outputShape([10, 3], [{ op: "sum", axis: [0] }]);   // [3]
 * ```
 */
export function outputShape(shape: readonly number[], ops: readonly RemoteOp[]): number[] {
  let current = [...shape];
  for (const op of ops) {
    if (op.op === "slice") current = current.map((n, i) => (i < op.size.length ? op.size[i]! : n));
    else current = op.axis === undefined ? [] : current.filter((_, i) => !op.axis!.includes(i));
  }
  return current;
}

function intList(value: unknown, what: string): number[] {
  if (!Array.isArray(value) || !value.every((v) => Number.isInteger(v))) {
    throw bad(`${what}: expected a list of integers, got ${JSON.stringify(value)?.slice(0, 80)}.`);
  }
  return value as number[];
}
