/**
 * A tensor annotated for differential privacy, as PySyft 0.6's `tensor.private(min_val, max_val, entities)`:
 * the bounds every value lies in (they make sensitivities finite) and, where known, the data subject of each row
 * (a patient id), so that one person's several rows count as one person.
 */
import * as tf from "@tensorflow/tfjs";
import { ErrorCode, fmtShape, TsyftError } from "../core/errors";

/** A data subject: whose row it is (a patient id, a user id). */
export type DataSubject = string | number;

/** Options of {@link privateTensor}. */
export interface PrivateOptions {
  /** The smallest value any element may take (e.g. 0 for pixels in [0, 1]). */
  readonly min: number;
  /** The largest value any element may take. */
  readonly max: number;
  /**
   * The data subject of each row (along the first axis), one per row; rows of the same subject are one
   * person's. Default: every row is its own subject.
   */
  readonly dataSubjects?: readonly DataSubject[];
}

/**
 * A tensor with value bounds and per-row data subjects, checked against the data when made. The domain stores
 * it as an asset; queries on it get their sensitivity from the bounds.
 *
 * @example
 * ```ts
 * const images = sy.dp.private(x, { min: 0, max: 1, dataSubjects: patientIds });
 * images.shape;              // [400, 50, 50, 3]
 * images.subjectCount;       // 19
 * images.sumSensitivity();   // L2 sensitivity of images.tensor.sum(0)
 * ```
 */
export class PrivateTensor {
  readonly tensor: tf.Tensor;
  readonly min: number;
  readonly max: number;
  /** One per row: the data subject of that row. */
  readonly dataSubjects: readonly DataSubject[];

  constructor(tensor: tf.Tensor, options: PrivateOptions) {
    const { min, max } = options;
    if (!(Number.isFinite(min) && Number.isFinite(max) && min <= max)) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `private: min and max must be finite numbers with min <= max, got min ${min} and max ${max}.`,
        {
          min,
          max,
        },
      );
    }
    if (tensor.rank === 0) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        "private: expected a tensor with at least one axis (rows along the first), got a scalar.",
        {
          shape: [],
        },
      );
    }
    const rows = tensor.shape[0]!;
    const subjects = options.dataSubjects ?? Array.from({ length: rows }, (_, i) => i);
    if (subjects.length !== rows) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `private: expected one data subject per row, ${rows} for shape ${fmtShape(tensor.shape)}, got ${subjects.length}.`,
        { rows, dataSubjects: subjects.length },
      );
    }
    const [low, high] = tf.tidy(() => [tf.min(tensor).dataSync()[0]!, tf.max(tensor).dataSync()[0]!]);
    if (tensor.size > 0 && (!(low! >= min) || !(high! <= max))) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `private: the data lies in [${low}, ${high}], outside the declared bounds [${min}, ${max}]. ` +
          `Declare bounds that hold for every element (they set the noise), or clip the data first (tf.clipByValue).`,
        { min, max, dataMin: low ?? null, dataMax: high ?? null },
      );
    }
    this.tensor = tensor;
    this.min = min;
    this.max = max;
    this.dataSubjects = Object.freeze([...subjects]);
  }

  get shape(): number[] {
    return this.tensor.shape;
  }

  get dtype(): tf.DataType {
    return this.tensor.dtype;
  }

  /** How many distinct data subjects the rows belong to. */
  get subjectCount(): number {
    return new Set(this.dataSubjects).size;
  }

  /** The most rows any one data subject has. */
  get maxRowsPerSubject(): number {
    const counts = new Map<DataSubject, number>();
    for (const subject of this.dataSubjects) counts.set(subject, (counts.get(subject) ?? 0) + 1);
    return Math.max(0, ...counts.values());
  }

  /**
   * The L2 sensitivity of the sum over rows (axis 0) when one data subject is added or removed: that subject's
   * rows move each of the sum's d = (elements per row) coordinates by at most rows * max(|min|, |max|), so the L2
   * norm of the change is at most maxRowsPerSubject * sqrt(d) * max(|min|, |max|).
   */
  sumSensitivity(): number {
    const perRow = this.tensor.size / Math.max(1, this.tensor.shape[0]!);
    return this.maxRowsPerSubject * Math.sqrt(perRow) * Math.max(Math.abs(this.min), Math.abs(this.max));
  }
}

/**
 * Annotates a tensor as private data with value bounds and data subjects (PySyft 0.6's `.private(min_val,
 * max_val, entities)`); throws a `TSYFT_ERR_INVALID_ARGUMENT` TsyftError when the data leaves the bounds or the
 * subjects do not match the rows.
 *
 * @example
 * ```ts
 * const labels = sy.dp.private(tf.tensor1d([0, 1, 1]), { min: 0, max: 1, dataSubjects: ["8863", "8863", "9023"] });
 * ```
 */
export function privateTensor(tensor: tf.Tensor, options: PrivateOptions): PrivateTensor {
  return new PrivateTensor(tensor, options);
}
