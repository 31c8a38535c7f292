/**
 * The unit of data that flows from a dataset through transforms into a batch.
 */

/** An image's shape, height x width x channels (HWC, as TensorFlow.js). */
export type ImageShape = [height: number, width: number, channels: number];

/**
 * One example: an HWC float image and its integer label.
 *
 * @example
 * ```ts
 * const sample: Sample = { image: new Float32Array(32 * 32 * 3), shape: [32, 32, 3], label: 1 };
 * ```
 */
export interface Sample {
  /** Pixels in HWC order, row-major; RGB in [0, 1] before normalization. */
  readonly image: Float32Array;
  readonly shape: ImageShape;
  /** The class (for HAM10000: 0 = bkl, 1 = mel). */
  readonly label: number;
}

/**
 * The number of values an image of this shape holds.
 *
 * @example
 * ```ts
 * shapeSize([32, 32, 3]);   // 3072
 * ```
 */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
