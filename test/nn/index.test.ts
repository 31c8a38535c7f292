/**
 * The public surface of sy.nn, and the types of the interface the domain node builds on (trainModel, its options
 * and result, ModelHost), so that neither can change without this file noticing.
 */
import type * as tfjs from "@tensorflow/tfjs";
import { describe, expect, expectTypeOf, it } from "vitest";
import * as sy from "../../src";

describe("sy.nn public API", () => {
  it("exports the design's layers, losses, optimizers, the model, the spec and the training core", () => {
    // prettier-ignore
    const functions = [
      "Convolution", "MaxPool", "AvgPool", "Linear", "BatchNorm", "Flatten", "leakyReLU", "BinaryCrossEntropy",
      "CrossEntropy", "Adamax", "Adam", "SGD", "checkModelSpec", "buildModel", "setWeights", "perExampleGradients",
      "checkPerExampleSupport", "poissonSample", "trainModel", "runTraining", "prepareTargets", "perExampleLoss",
      "countCorrect", "createOptimizer",
    ] as const;
    for (const name of functions) expect(typeof sy.nn[name], name).toBe("function");
    for (const name of ["Model", "Trainer"] as const) expect(typeof sy.nn[name], name).toBe("function");
    expect(sy.nn.MODEL_SPEC_FORMAT).toBe("tsyft.nn/1");
    expect(sy.nn.PER_EXAMPLE_LAYERS).toEqual(["Dense", "Conv2D"]);
  });

  it("has the declared types of the domain's interface", async () => {
    expectTypeOf(sy.nn.trainModel).parameters.toEqualTypeOf<
      [typeof tfjs, sy.nn.ModelSpec, tfjs.Tensor, tfjs.Tensor, sy.nn.TrainOptions]
    >();
    expectTypeOf(sy.nn.trainModel).returns.resolves.toEqualTypeOf<sy.nn.TrainResult>();
    expectTypeOf<sy.nn.TrainResult["weights"]>().toEqualTypeOf<tfjs.Tensor[]>();
    expectTypeOf<sy.nn.StepEvent>().toMatchTypeOf<{
      step: number;
      epoch: number;
      loss: number;
      sampleRate: number;
      noiseMultiplier?: number;
    }>();
    expectTypeOf<sy.nn.TrainOptions["dp"]>().toEqualTypeOf<sy.nn.DpOptions | undefined>();
    expectTypeOf<sy.nn.ModelHost<string>["compileModel"]>().returns.toEqualTypeOf<Promise<string>>();
    expectTypeOf(new sy.nn.Model().compile()).toEqualTypeOf<sy.nn.Model>();
    const host: sy.nn.ModelHost<number> = { compileModel: async () => 1 };
    const net = new sy.nn.Model().add(sy.nn.Linear(1, { inputShape: [2] }));
    const handle = net.compile({ to: host });
    expectTypeOf(handle).toEqualTypeOf<Promise<number>>();
    expect(await handle).toBe(1);
  });
});
