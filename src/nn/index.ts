/**
 * The remote-training model API (the design's "User Flows for Remote Model Training"): `sy.nn.Model` with
 * PySyft 0.7's layers, losses and optimizers, JSON model specs a domain node accepts, and the training core it
 * runs, `trainModel`, ordinary or DP-SGD (per-example gradients by Opacus's method, clipping and Gaussian noise
 * from src/dp, every step reported for the privacy ledger).
 *
 * @example
 * ```ts
 * const net = new sy.nn.Model();
 * net.add(sy.nn.Convolution(8, 3, { inputShape: [null, 32, 32, 3], activation: "relu" }));
 * net.add(sy.nn.MaxPool(2)).add(sy.nn.Flatten()).add(sy.nn.Linear(1, { activation: "sigmoid" }));
 * net.compile({ loss: sy.nn.BinaryCrossEntropy(), optimizer: sy.nn.Adamax() });
 * await net.fit(images, labels, { maxIter: 3, batchSize: 32, dp: { noiseMultiplier: 1.1, clipNorm: 1 } });
 * ```
 */
export {
  Convolution,
  MaxPool,
  AvgPool,
  Linear,
  BatchNorm,
  Flatten,
  leakyReLU,
  BinaryCrossEntropy,
  CrossEntropy,
  Adamax,
  Adam,
  SGD,
  type ActivationLike,
  type Size2,
} from "./layers";
export {
  checkModelSpec,
  MODEL_SPEC_FORMAT,
  LAYER_TYPES,
  LOSS_NAMES,
  OPTIMIZER_NAMES,
  type ActivationSpec,
  type LayerSpec,
  type LayerShapes,
  type LossName,
  type ModelSpec,
  type OptimizerSpec,
} from "./spec";
export { buildModel, setWeights, PER_EXAMPLE_LAYERS } from "./build";
export { Model, type ModelHost, type CompileOptions, type LayerSummary } from "./model";
export { perExampleGradients, checkPerExampleSupport, type PerExampleGradients } from "./per-example";
export { poissonSample } from "./sampling";
export { Trainer, type DpOptions, type DpStepResult, type Evaluation } from "./trainer";
export {
  trainModel,
  runTraining,
  type TrainOptions,
  type TrainResult,
  type StepEvent,
  type EpochRecord,
} from "./train";
export { prepareTargets, perExampleLoss, countCorrect, createOptimizer } from "./objectives";
