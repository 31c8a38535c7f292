/**
 * The sy.nn model API: each layer builds the TensorFlow.js layers it says (output shapes and parameter counts as
 * the spec infers them, and as the built model has them), a spec survives JSON and rebuilds the same model, bad
 * specs fail with typed errors that name the layer and what was expected, a local model compiles, fits (maxIter,
 * validationSplit, history), steps and predicts, and compile({ to }) hands the spec to a ModelHost.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import * as sy from "../../src";
import { thrown } from "../dp/helpers";

const nn = sy.nn;

beforeAll(async () => {
  await tf.setBackend("cpu");
});

function cnn(): sy.nn.Model {
  return new nn.Model()
    .add(nn.Convolution(4, [3, 3], { inputShape: [null, 12, 12, 3], padding: 1, activation: "leaky_relu" }))
    .add(nn.MaxPool([2, 2]))
    .add(nn.Convolution(6, 3, { stride: 2, padding: "same", activation: "relu" }))
    .add(nn.AvgPool(3, { stride: 1 }))
    .add(nn.BatchNorm())
    .add(nn.Flatten())
    .add(nn.Linear(5, { activation: nn.leakyReLU(0.2) }))
    .add(nn.leakyReLU())
    .add(nn.Linear(2, { activation: "softmax" }));
}

describe("layers build what they say", () => {
  it("the spec's shapes and parameter counts are the built model's", () => {
    const net = cnn().compile({ loss: nn.CrossEntropy(), optimizer: nn.Adam() });
    const summary = net.summary();
    expect(summary.map((l) => [l.type, l.output, l.params])).toEqual([
      ["Convolution", [12, 12, 4], 3 * 3 * 3 * 4 + 4],
      ["MaxPool", [6, 6, 4], 0],
      ["Convolution", [3, 3, 6], 3 * 3 * 4 * 6 + 6],
      ["AvgPool", [1, 1, 6], 0],
      ["BatchNorm", [1, 1, 6], 12],
      ["Flatten", [6], 0],
      ["Linear", [5], 6 * 5 + 5],
      ["LeakyReLU", [5], 0],
      ["Linear", [2], 5 * 2 + 2],
    ]);
    const model = nn.buildModel(tf, net.toSpec());
    expect(model.countParams()).toBe(summary.reduce((sum, l) => sum + l.params, 0) + 12); // + BatchNorm's moving mean, variance
    const trainable = model.trainableWeights.reduce((sum, w) => sum + w.shape.reduce((a, b) => a! * b!, 1)!, 0);
    expect(trainable).toBe(summary.reduce((sum, l) => sum + l.params, 0));
    expect((model.predict(tf.zeros([2, 12, 12, 3])) as tf.Tensor).shape).toEqual([2, 2]);
    // PySyft's padding becomes ZeroPadding2D + a valid Conv2D; activations are layers of their own.
    expect(model.layers.map((l) => l.getClassName()).slice(0, 4)).toEqual([
      "ZeroPadding2D",
      "Conv2D",
      "LeakyReLU",
      "MaxPooling2D",
    ]);
    model.dispose();
  });

  it("shows itself in a notebook as a table of its layers", () => {
    const bundle = new nn.Model()
      .add(nn.Linear(3, { inputShape: [4], activation: "relu" }))
      .add(nn.Linear(1))
      [sy.DISPLAY]();
    expect(bundle["text/plain"].split("\n")).toEqual([
      "Model: 2 layers, 19 parameters, BinaryCrossEntropy, Adamax (local, not compiled)",
      "#  Layer   Output shape  Params",
      "0  Linear  [3]           15",
      "1  Linear  [1]           4",
    ]);
    expect(bundle["text/html"]).toContain("<tr><td>0</td><td>Linear</td><td>[3]</td><td>15</td></tr>");
  });

  it("PySyft's spellings: (None, ...) input shapes, int sizes, leaky_relu, default strides of the pool size", () => {
    expect(nn.Convolution(8, 3, { inputShape: [null, 28, 28, 1], activation: "leaky_relu" })).toEqual({
      type: "Convolution",
      nbFilter: 8,
      filterSize: [3, 3],
      stride: [1, 1],
      padding: 0,
      activation: { name: "leakyReLU", slope: 0.01 },
      inputShape: [28, 28, 1],
    });
    expect(nn.MaxPool(2)).toEqual({ type: "MaxPool", poolSize: [2, 2], stride: [2, 2] });
    expect(nn.Linear(10, { nIn: 4 })).toMatchObject({ units: 10, inputShape: [4], activation: "linear" });
    expect(nn.Adamax()).toEqual({ name: "Adamax", learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
  });
});

describe("spec round trip", () => {
  it("JSON -> Model.fromSpec -> toSpec is the same spec, and the same weights give the same outputs", () => {
    const spec = cnn()
      .compile({ loss: nn.CrossEntropy(), optimizer: nn.SGD({ learningRate: 0.1, momentum: 0.9 }) })
      .toSpec();
    const wire = JSON.parse(JSON.stringify(spec)) as sy.nn.ModelSpec;
    expect(nn.Model.fromSpec(wire).toSpec()).toEqual(spec);
    const first = nn.buildModel(tf, spec);
    const second = nn.buildModel(tf, wire, first.getWeights());
    const x = tf.randomNormal([3, 12, 12, 3], 0, 1, "float32", 4);
    const diff = tf.max(tf.abs(tf.sub(first.predict(x) as tf.Tensor, second.predict(x) as tf.Tensor))).dataSync()[0]!;
    expect(diff).toBe(0);
  });
});

describe("bad specs: typed errors naming the layer", () => {
  it("the first layer without an input shape", () => {
    const error = thrown(() => new nn.Model().add(nn.Convolution(4, 3)));
    expect(error.code).toBe("TSYFT_ERR_MODEL_SPEC");
    expect(error.message).toMatch(/layer 0 \(Convolution\): the first layer needs inputShape/);
  });

  it("Linear on an image says to add Flatten, and the layer is not added", () => {
    const net = new nn.Model().add(nn.Convolution(4, 3, { inputShape: [8, 8, 1] })).add(nn.MaxPool(2));
    const error = thrown(() => net.add(nn.Linear(3)));
    expect(error.code).toBe("TSYFT_ERR_MODEL_SPEC");
    expect(error.details).toEqual({ layer: 2, type: "Linear" });
    expect(error.message).toBe(
      "Model spec, layer 2 (Linear): expects a flat input [features], got [3, 3, 4]; add sy.nn.Flatten() before it (as PySyft requires).",
    );
    expect(net.layers.length).toBe(2);
  });

  it("a filter larger than its input, an unknown layer type, loss, optimizer, activation, format", () => {
    const base = new nn.Model().add(nn.Linear(2, { inputShape: [4] })).toSpec();
    const cases: Array<[unknown, RegExp]> = [
      [
        { ...base, inputShape: [4, 4, 1], layers: [nn.Convolution(1, 5)] },
        /layer 0 \(Convolution\): filter 5x5 is larger than its \(padded\) input 4x4/,
      ],
      [
        { ...base, layers: [{ type: "Dropout", rate: 0.5 }] },
        /layer 0 \(Dropout\): unknown layer type; expected one of Convolution, MaxPool/,
      ],
      [{ ...base, loss: "MSE" }, /loss must be one of BinaryCrossEntropy, CrossEntropy, got "MSE"/],
      [{ ...base, optimizer: { name: "RMSprop" } }, /optimizer must be \{ name: Adamax \| Adam \| SGD/],
      [
        { ...base, layers: [{ ...nn.Linear(2), activation: "gelu" }] },
        /layer 0 \(Linear\): activation must be one of linear, relu/,
      ],
      [{ ...base, format: "keras" }, /expected format "tsyft.nn\/1", got "keras"/],
    ];
    for (const [spec, message] of cases) {
      const error = thrown(() => nn.checkModelSpec(spec));
      expect(error.code).toBe("TSYFT_ERR_MODEL_SPEC");
      expect(error.message).toMatch(message);
    }
    expect(thrown(() => nn.Linear(2, { activation: "gelu" as "relu" })).code).toBe("TSYFT_ERR_INVALID_ARGUMENT");
  });

  it("weights that do not fit the spec", () => {
    const spec = new nn.Model().add(nn.Linear(2, { inputShape: [4] })).toSpec();
    const error = thrown(() => nn.buildModel(tf, spec, [tf.zeros([3, 2]), tf.zeros([2])]));
    expect(error.code).toBe("TSYFT_ERR_MODEL_SPEC");
    expect(error.message).toMatch(/expected 2 tensors of shapes \[4, 2\], \[2\], got 2 of shapes \[3, 2\], \[2\]/);
  });
});

describe("a local model", () => {
  const data = () => {
    // Two Gaussian blobs: class 1 has mean +1 on every feature, class 0 mean -1.
    const labels = tf.tensor1d(
      Array.from({ length: 80 }, (_, i) => i % 2),
      "int32",
    );
    const x = tf.add(
      tf.randomNormal([80, 4], 0, 0.5, "float32", 9),
      tf.sub(tf.mul(labels.toFloat().reshape([80, 1]), 2), 1),
    );
    return { x, labels };
  };

  it("compile, fit (maxIter, validationSplit), step, predict, weights", async () => {
    const { x, labels } = data();
    const net = new nn.Model().add(nn.Linear(1, { inputShape: [4], activation: "sigmoid" }));
    expect(thrown(() => net.step(x, labels)).message).toMatch(/compile the model first/);
    // PySyft's default loss: BinaryCrossEntropy. The rate reaches the blobs from any initial weights in 20 steps (at
    // 0.05 an unlucky glorot draw left validation accuracy at 0.2 after them: 150 of 150 runs pass at 0.3).
    net.compile({ optimizer: nn.Adamax({ learningRate: 0.3 }) });
    const epochs: number[] = [];
    const history = await net.fit(x, labels, {
      maxIter: 5,
      batchSize: 16,
      validationSplit: 0.25,
      onEpoch: (e) => void epochs.push(e.epoch),
    });
    expect(epochs).toEqual([1, 2, 3, 4, 5]);
    expect(history[4]!.loss).toBeLessThan(history[0]!.loss);
    expect(history[4]!.valAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(net.step(x, labels)).toBeLessThan(history[0]!.loss);
    expect(net.predict(x).shape).toEqual([80, 1]);
    const wrong = thrown(() => net.predict(tf.zeros([2, 5])));
    expect(wrong.code).toBe("TSYFT_ERR_SHAPE_MISMATCH");
    expect(wrong.message).toMatch(
      /Model.predict: the model takes a batch of examples of shape \[4\], i.e. \[n, 4\], got \[2, 5\]/,
    );
    expect(net.weights().map((w) => w.shape)).toEqual([[4, 1], [1]]);
    await expect(net.fit(x, labels, { epochs: 2, maxIter: 3, batchSize: 8 })).rejects.toMatchObject({
      code: "TSYFT_ERR_INVALID_ARGUMENT",
    });
    net.dispose();
  });

  it("compile({ to }) hands the JSON spec to the host and returns its handle; the host can train it with trainModel", async () => {
    const { x, labels } = data();
    class InProcessHost implements sy.nn.ModelHost<{ id: string; spec: sy.nn.ModelSpec }> {
      async compileModel(spec: sy.nn.ModelSpec) {
        return { id: "model-1", spec: JSON.parse(JSON.stringify(spec)) as sy.nn.ModelSpec };
      }
    }
    const host = new InProcessHost();
    const flowTwo = new nn.Model().add(nn.Linear(1, { inputShape: [4], activation: "sigmoid" }));
    const handle = await flowTwo.compile({
      to: host,
      loss: nn.BinaryCrossEntropy(),
      optimizer: nn.Adamax({ learningRate: 0.05 }),
    });
    expect(handle.spec).toEqual(flowTwo.toSpec());
    const { weights, history } = await nn.trainModel(tf, handle.spec, x, labels, { maxIter: 3, batchSize: 16 });
    expect(history.length).toBe(3);
    expect(weights.map((w) => w.shape)).toEqual([[4, 1], [1]]);

    const flowOne = new nn.Model({ to: host }).add(nn.Linear(1, { inputShape: [4], activation: "sigmoid" }));
    expect((await flowOne.compile()).spec.optimizer.name).toBe("Adamax");
    expect(thrown(() => flowOne.predict(x)).message).toMatch(/lives on its host/);
  });
});
