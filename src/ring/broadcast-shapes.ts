/**
 * Shapes of ops that combine two operands: numpy broadcasting for elementwise
 * ops, and matmul's (batched) product shape.
 */
import { fmtShape } from "../core/errors";
import { checkShape, shapeError, type Shape } from "./shape-basics";

/**
 * Result shape of numpy-style broadcasting between two operands.
 *
 * @example
 * ```ts
 * shapes.broadcast([4, 1, 3], [2, 1]); // [4, 2, 3]
 * ```
 */
export function broadcast(a: Shape, b: Shape, op = "broadcast"): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 1; i <= rank; i++) {
    const da = i <= a.length ? a[a.length - i] : 1;
    const db = i <= b.length ? b[b.length - i] : 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw shapeError(
        `${op}: cannot broadcast ${fmtShape(a)} with ${fmtShape(b)}: expected equal dimensions or 1 at axis -${i}, ` +
          `got ${da} and ${db}. Reshape one operand or use broadcastTo first.`,
        { op, a: [...a], b: [...b] },
      );
    }
    out[rank - i] = da === 1 ? db : da;
  }
  return out;
}

/** Checks that `from` broadcasts to exactly `to` (numpy's broadcast_to rule). */
export function broadcastTo(from: Shape, to: Shape, op = "broadcastTo"): number[] {
  const target = [...checkShape(to, op)];
  const ok =
    from.length <= target.length && from.every((d, i) => d === 1 || d === target[target.length - from.length + i]);
  if (!ok) {
    throw shapeError(
      `${op}: cannot broadcast ${fmtShape(from)} to ${fmtShape(target)}: expected each dimension to equal the ` +
        `target's (aligned from the right) or be 1. Reshape the operand first.`,
      { op, from: [...from], to: target },
    );
  }
  return target;
}

/**
 * Result shape of `matmul`: [m,k]x[k,n] -> [m,n]; rank 3 is batched, and a rank-2
 * operand (or a batch of 1) is used for every batch item.
 *
 * @example
 * ```ts
 * shapes.matmul([8, 2, 3], [3, 5]); // [8, 2, 5]
 * ```
 */
export function matmul(a: Shape, b: Shape): number[] {
  const explain = `expected [m, k] or [batch, m, k] times [k, n] or [batch, k, n]`;
  if (a.length < 2 || a.length > 3 || b.length < 2 || b.length > 3) {
    throw shapeError(`matmul: ${explain}, got ${fmtShape(a)} and ${fmtShape(b)}. Reshape operands to rank 2 or 3.`, {
      op: "matmul",
      a: [...a],
      b: [...b],
    });
  }
  const [m, k] = a.slice(-2);
  const [k2, n] = b.slice(-2);
  if (k !== k2) {
    throw shapeError(
      `matmul: inner dimensions differ in ${fmtShape(a)} x ${fmtShape(b)}: ${explain} with equal k, ` +
        `got ${k} and ${k2}. Transpose an operand if it is the wrong way round.`,
      { op: "matmul", a: [...a], b: [...b] },
    );
  }
  if (a.length === 2 && b.length === 2) return [m, n];
  const batchA = a.length === 3 ? a[0] : 1;
  const batchB = b.length === 3 ? b[0] : 1;
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) {
    throw shapeError(
      `matmul: batch dimensions differ in ${fmtShape(a)} x ${fmtShape(b)}: expected equal batches or a batch of 1, ` +
        `got ${batchA} and ${batchB}.`,
      { op: "matmul", a: [...a], b: [...b] },
    );
  }
  return [Math.max(batchA, batchB), m, n];
}
