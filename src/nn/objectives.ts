/**
 * What training minimises and how it steps: the losses per example (DP-SGD differentiates each example's loss,
 * ordinary training their mean), the targets put in the shape the loss reads, accuracy, and the optimizers.
 */
import type * as tfjs from "@tensorflow/tfjs";
import { ErrorCode, fmtShape, TsyftError } from "../core/errors";
import { adamax } from "./adamax";
import type { LossName, OptimizerSpec } from "./spec";

type TF = typeof tfjs;

// Probabilities are clipped to [EPSILON, 1 - EPSILON] before the log, as Keras does: PySyft's 1e-11 rounds
// 1 - epsilon to 1 in float32, where log(1 - p) would be -Infinity.
const EPSILON = 1e-7;

/**
 * The targets as the loss reads them, float32 and shaped like the model's output `[n, ...outputShape]`:
 * BinaryCrossEntropy takes as many 0/1 values per example as there are outputs ([n] for one sigmoid unit);
 * CrossEntropy takes class ids `[n]` (made one-hot) or one-hot rows. Throws SHAPE_MISMATCH saying what fits.
 *
 * @example
 * ```ts
 * prepareTargets(tf, "BinaryCrossEntropy", idc.labels, [1]).shape;   // [400, 1]
 * ```
 */
export function prepareTargets(tf: TF, loss: LossName, y: tfjs.Tensor, outputShape: readonly number[]): tfjs.Tensor {
  const n = y.shape[0] ?? 0;
  const perExample = outputShape.reduce((a, b) => a * b, 1);
  const oneHot = loss === "CrossEntropy" && y.rank === 1 && outputShape.length === 1;
  if (oneHot) return tf.tidy(() => tf.oneHot(tf.cast(y, "int32"), outputShape[0]!).toFloat());
  if (y.rank === 0 || y.size !== n * perExample) {
    const fits =
      loss === "CrossEntropy"
        ? `[n] class ids or [n, ${perExample}] one-hot rows`
        : `[n] or [n, ${perExample}] 0/1 values`;
    throw new TsyftError(
      ErrorCode.SHAPE_MISMATCH,
      `${loss}: the model outputs ${fmtShape(outputShape)} per example, so targets must be ${fits}; got ${fmtShape(y.shape)}.`,
      { targets: fmtShape(y.shape), output: fmtShape(outputShape) },
    );
  }
  return tf.tidy(() => tf.reshape(tf.cast(y, "float32"), [n, ...outputShape]));
}

/**
 * Each example's loss, `[n]`, for outputs `[n, ...]` and targets from {@link prepareTargets}.
 *
 * @example
 * ```ts
 * perExampleLoss(tf, "CrossEntropy", model.predict(x), targets);   // [n]
 * ```
 */
export function perExampleLoss(tf: TF, loss: LossName, output: tfjs.Tensor, targets: tfjs.Tensor): tfjs.Tensor1D {
  return tf.tidy(() => {
    const n = output.shape[0]!;
    const p = tf.clipByValue(tf.reshape(output, [n, -1]), EPSILON, 1 - EPSILON);
    const t = tf.reshape(targets, [n, -1]);
    if (loss === "CrossEntropy") return tf.neg(tf.sum(tf.mul(t, tf.log(p)), 1)).as1D();
    const logLikelihood = tf.add(tf.mul(t, tf.log(p)), tf.mul(tf.sub(1, t), tf.log(tf.sub(1, p))));
    return tf.neg(tf.mean(logLikelihood, 1)).as1D();
  });
}

/**
 * How many predictions are right: a sigmoid output above 0.5 against a 0/1 target (per output), the argmax of a
 * softmax against the target's.
 *
 * @example
 * ```ts
 * countCorrect(tf, "BinaryCrossEntropy", output, targets);   // e.g. 173
 * ```
 */
export function countCorrect(tf: TF, loss: LossName, output: tfjs.Tensor, targets: tfjs.Tensor): number {
  const correct = tf.tidy(() => {
    const n = output.shape[0]!;
    const p = tf.reshape(output, [n, -1]);
    const t = tf.reshape(targets, [n, -1]);
    if (loss === "CrossEntropy") return tf.sum(tf.cast(tf.equal(tf.argMax(p, 1), tf.argMax(t, 1)), "float32"));
    return tf.div(tf.sum(tf.cast(tf.equal(tf.greater(p, 0.5), tf.greater(t, 0.5)), "float32")), p.shape[1]!);
  });
  const value = correct.dataSync()[0]!;
  correct.dispose();
  return value;
}

/**
 * The TensorFlow.js optimizer an {@link OptimizerSpec} names, with the spec's settings.
 *
 * @example
 * ```ts
 * const optimizer = createOptimizer(tf, sy.nn.Adamax());
 * ```
 */
export function createOptimizer(tf: TF, spec: OptimizerSpec): tfjs.Optimizer {
  const lr = spec.learningRate;
  switch (spec.name) {
    case "Adamax":
      // TF.js's rule with its state exportable (tf.train.adamax cannot getWeights()): see adamax.ts.
      return adamax(tf, lr ?? 0.001, spec.beta1 ?? 0.9, spec.beta2 ?? 0.999, spec.epsilon ?? 1e-8);
    case "Adam":
      return tf.train.adam(lr ?? 0.001, spec.beta1 ?? 0.9, spec.beta2 ?? 0.999, spec.epsilon ?? 1e-7);
    case "SGD":
      return spec.momentum ? tf.train.momentum(lr ?? 0.01, spec.momentum) : tf.train.sgd(lr ?? 0.01);
  }
}
