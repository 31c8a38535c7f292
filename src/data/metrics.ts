/**
 * Classification metrics over plain label arrays.
 */
import { DataError, ErrorCode } from "../core/errors";

/**
 * The confusion matrix: `matrix[t][p]` counts the samples of true class `t` predicted as `p`.
 *
 * @example
 * ```ts
 * confusionMatrix([0, 0, 1, 1], [0, 1, 1, 1], 2);   // [[1, 1], [0, 2]]
 * ```
 */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numClasses: number): number[][] {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new DataError(ErrorCode.INVALID_ARGUMENT, `confusionMatrix: numClasses must be a positive integer, got ${numClasses}.`);
  }
  if (yTrue.length !== yPred.length) {
    throw new DataError(ErrorCode.SHAPE_MISMATCH, `confusionMatrix: yTrue has ${yTrue.length} labels but yPred has ${yPred.length}.`);
  }
  const matrix = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i]!;
    const p = yPred[i]!;
    for (const [name, value] of [["yTrue", t], ["yPred", p]] as const) {
      if (!Number.isInteger(value) || value < 0 || value >= numClasses) {
        throw new DataError(ErrorCode.INVALID_ARGUMENT, `confusionMatrix: ${name}[${i}] = ${value} is not a class in 0..${numClasses - 1}.`);
      }
    }
    matrix[t]![p] += 1;
  }
  return matrix;
}

/**
 * Accuracy, per-class precision and recall from a confusion matrix (`matrix[true][pred]`).
 * A class never predicted (or never present) gets precision (or recall) NaN.
 *
 * @example
 * ```ts
 * classificationReport([[1, 1], [0, 2]]);
 * // { accuracy: 0.75, precision: [1, 0.667], recall: [0.5, 1], support: [2, 2] }
 * ```
 */
export function classificationReport(matrix: readonly (readonly number[])[]): {
  accuracy: number;
  precision: number[];
  recall: number[];
  support: number[];
} {
  const k = matrix.length;
  if (matrix.some((row) => row.length !== k)) {
    throw new DataError(ErrorCode.SHAPE_MISMATCH, `classificationReport expects a square matrix, got rows of lengths ${matrix.map((r) => r.length).join(", ")}.`);
  }
  let correct = 0;
  let total = 0;
  const support = matrix.map((row) => row.reduce((a, b) => a + b, 0));
  const predicted = Array.from({ length: k }, (_, p) => matrix.reduce((sum, row) => sum + row[p]!, 0));
  for (let t = 0; t < k; t++) {
    correct += matrix[t]![t]!;
    total += support[t]!;
  }
  return {
    accuracy: total === 0 ? NaN : correct / total,
    precision: predicted.map((count, c) => (count === 0 ? NaN : matrix[c]![c]! / count)),
    recall: support.map((count, c) => (count === 0 ? NaN : matrix[c]![c]! / count)),
    support,
  };
}
