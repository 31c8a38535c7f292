import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { beforeAll, describe, expect, it } from "vitest";
import { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from "../../src/data/wasm-training";

type Pair = [number, number];

interface Config {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | Pair;
  pad: "valid" | "same" | number | [[number, number], [number, number], [number, number], [number, number]];
  dilations?: number | Pair;
  dataFormat?: "NHWC" | "NCHW";
}

/** Deterministic values in [-1, 1) (backend-independent, unlike tf.random*). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const pair = (v: number | Pair | undefined): Pair => (v === undefined ? [1, 1] : typeof v === "number" ? [v, v] : v);

/** The cpu backend's gradient of sum(conv2d(x, w) * g) with respect to w, which is Conv2DBackpropFilter(x, g). */
async function cpuFilterGradient(c: Config, x: Float32Array, w: Float32Array, g: (outShape: number[]) => Float32Array): Promise<{ dw: Float32Array; dyShape: number[]; dy: Float32Array }> {
  await tf.setBackend("cpu");
  const xt = tf.tensor4d(x, c.x);
  const wt = tf.tensor4d(w, c.filter);
  const outShape = tf.conv2d(xt, wt, c.strides, c.pad).shape;
  const dy = g(outShape);
  const gt = tf.tensor(dy, outShape);
  const dw = tf.grad((w: tf.Tensor) => tf.conv2d(xt, w as tf.Tensor4D, c.strides, c.pad).mul(gt).sum())(wt);
  const result = { dw: dw.dataSync() as Float32Array, dyShape: outShape, dy };
  tf.dispose([xt, wt, gt, dw]);
  await tf.setBackend("wasm");
  return result;
}

/** Conv2DBackpropFilter by its definition, for what tf.grad cannot check (dilations, NCHW). */
function naiveFilterGradient(c: Config, x: Float32Array, dy: Float32Array, dyShape: number[]): Float32Array {
  const nchw = c.dataFormat === "NCHW";
  const [n, h, w, ci] = nchw ? [c.x[0], c.x[2], c.x[3], c.x[1]] : c.x;
  const [oh, ow, co] = nchw ? [dyShape[2]!, dyShape[3]!, dyShape[1]!] : [dyShape[1]!, dyShape[2]!, dyShape[3]!];
  const [kh, kw] = c.filter;
  const [sh, sw] = pair(c.strides);
  const [dh, dw] = pair(c.dilations);
  const info = tf.backend_util.computeConv2DInfo([n, h, w, ci], c.filter, [sh, sw], [dh, dw], c.pad as "valid");
  const xAt = (b: number, y: number, xx: number, ch: number) => (nchw ? x[((b * ci + ch) * h + y) * w + xx]! : x[((b * h + y) * w + xx) * ci + ch]!);
  const dyAt = (b: number, y: number, xx: number, ch: number) => (nchw ? dy[((b * co + ch) * oh + y) * ow + xx]! : dy[((b * oh + y) * ow + xx) * co + ch]!);
  const out = new Float32Array(kh * kw * ci * co);
  for (let a = 0; a < kh; a++)
    for (let b = 0; b < kw; b++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) {
          let sum = 0;
          for (let bn = 0; bn < n; bn++)
            for (let y = 0; y < oh; y++)
              for (let xx = 0; xx < ow; xx++) {
                const iy = y * sh + a * dh - info.padInfo.top;
                const ix = xx * sw + b * dw - info.padInfo.left;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                sum += xAt(bn, iy, ix, i) * dyAt(bn, y, xx, o);
              }
          out[((a * kw + b) * ci + i) * co + o] = sum;
        }
  return out;
}

function wasmFilterGradient(c: Config, x: Float32Array, dy: Float32Array, dyShape: number[]): Float32Array {
  const xt = tf.tensor4d(x, c.x);
  const dyt = tf.tensor(dy, dyShape);
  const dw = tf.engine().runKernel("Conv2DBackpropFilter", { x: xt, dy: dyt }, {
    strides: c.strides,
    pad: c.pad,
    dataFormat: c.dataFormat ?? "NHWC",
    filterShape: c.filter,
    ...(c.dilations === undefined ? {} : { dilations: c.dilations }),
  } as never) as tf.Tensor;
  expect(dw.shape).toEqual(c.filter);
  const out = dw.dataSync() as Float32Array;
  tf.dispose([xt, dyt, dw]);
  return out;
}

function expectClose(got: Float32Array, want: Float32Array, tolerance = 1e-4): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  let scale = 1;
  for (let i = 0; i < want.length; i++) {
    worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  expect(worst / scale).toBeLessThan(tolerance);
}

describe("registerWasmTrainingKernels", () => {
  beforeAll(async () => {
    registerWasmTrainingKernels(tf);
    await tf.setBackend("wasm");
    await tf.ready();
  });

  it("is idempotent and registers Conv2DBackpropFilter for wasm", () => {
    expect(registerWasmTrainingKernels(tf)).toEqual([]);
    for (const name of WASM_TRAINING_KERNELS) expect(tf.getKernel(name, "wasm")).toBeDefined();
    expect(tf.getBackend()).toBe("wasm");
  });

  // Against the cpu backend's own gradient (tf.grad of a conv2d loss).
  const gradConfigs: Config[] = [
    { name: "valid, stride 1 (the tutorial's layers)", x: [3, 12, 12, 3], filter: [5, 5, 3, 4], strides: 1, pad: "valid" },
    { name: "same, stride 1", x: [2, 9, 7, 2], filter: [3, 3, 2, 3], strides: 1, pad: "same" },
    { name: "same, even kernel (asymmetric padding)", x: [2, 8, 8, 3], filter: [4, 2, 3, 2], strides: 1, pad: "same" },
    { name: "valid, stride 2 (rows left over)", x: [2, 11, 10, 2], filter: [3, 3, 2, 3], strides: 2, pad: "valid" },
    { name: "same, strides [2, 3]", x: [2, 10, 11, 3], filter: [3, 4, 3, 2], strides: [2, 3], pad: "same" },
    { name: "numeric padding 1, stride 2", x: [1, 9, 9, 2], filter: [3, 3, 2, 2], strides: 2, pad: 1 },
    { name: "explicit padding", x: [2, 7, 8, 2], filter: [3, 2, 2, 3], strides: 1, pad: [[0, 0], [2, 0], [1, 3], [0, 0]] },
    { name: "1x1 kernel, batch 1", x: [1, 5, 5, 4], filter: [1, 1, 4, 6], strides: 1, pad: "valid" },
  ];
  for (const c of gradConfigs) {
    it(`matches the cpu backend's gradient: ${c.name}`, async () => {
      const x = values(size(c.x), 1);
      const w = values(size(c.filter), 2);
      const { dw: want, dy, dyShape } = await cpuFilterGradient(c, x, w, (shape) => values(size(shape), 3));
      expect(tf.getBackend()).toBe("wasm");
      expectClose(wasmFilterGradient(c, x, dy, dyShape), want);
      // and the reference used below agrees with the cpu backend
      expectClose(naiveFilterGradient(c, x, dy, dyShape), want);
    });
  }

  // tf.grad of conv2d refuses dilations > 1 and the wasm Conv2D refuses NCHW: check the kernel by its definition.
  const kernelConfigs: Config[] = [
    { name: "dilations 2, valid", x: [2, 11, 11, 2], filter: [3, 3, 2, 3], strides: 1, pad: "valid", dilations: 2 },
    { name: "dilations [2, 3], same", x: [2, 10, 12, 2], filter: [3, 2, 2, 2], strides: 1, pad: "same", dilations: [2, 3] },
    { name: "NCHW, stride 2, same", x: [2, 3, 9, 8], filter: [3, 3, 3, 2], strides: 2, pad: "same", dataFormat: "NCHW" },
  ];
  for (const c of kernelConfigs) {
    it(`matches its definition: ${c.name}`, () => {
      const nchw = c.dataFormat === "NCHW";
      const nhwcX: [number, number, number, number] = nchw ? [c.x[0], c.x[2], c.x[3], c.x[1]] : c.x;
      const info = tf.backend_util.computeConv2DInfo(nhwcX, c.filter, c.strides, c.dilations ?? 1, c.pad as "valid");
      const dyShape = nchw ? [info.batchSize, info.outChannels, info.outHeight, info.outWidth] : info.outShape;
      const x = values(size(c.x), 4);
      const dy = values(size(dyShape), 5);
      expectClose(wasmFilterGradient(c, x, dy, dyShape), naiveFilterGradient(c, x, dy, dyShape));
    });
  }

  it("frees what it allocates and leaves its inputs alive", () => {
    const x = tf.tensor4d(values(2 * 8 * 8 * 3, 6), [2, 8, 8, 3]);
    const dy = tf.tensor4d(values(2 * 4 * 4 * 4, 7), [2, 4, 4, 4]);
    const before = tf.memory();
    for (let i = 0; i < 3; i++) {
      const dw = tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, { strides: 2, pad: "same", dataFormat: "NHWC", filterShape: [3, 3, 3, 4] } as never) as tf.Tensor;
      dw.dispose();
    }
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    expect(Array.from(x.dataSync().slice(0, 3))).toEqual(Array.from(values(3, 6)));
    tf.dispose([x, dy]);
  });

  it("lets a small CNN of the tutorial's kind train on wasm (conv, relu, dense, Adam, softmax cross-entropy)", async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [12, 12, 3], filters: 4, kernelSize: 5, activation: "relu" }),
        tf.layers.conv2d({ filters: 4, kernelSize: 5, activation: "relu" }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 8, activation: "relu" }),
        tf.layers.dense({ units: 2 }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(1e-2), loss: (y: tf.Tensor, p: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, p) });
    // A learnable task: class 1 images are brighter.
    const labels = Array.from({ length: 16 }, (_, i) => i % 2);
    const x = tf.tidy(() => tf.tensor4d(values(16 * 12 * 12 * 3, 8), [16, 12, 12, 3]).add(tf.tensor1d(labels).reshape([16, 1, 1, 1])));
    const y = tf.oneHot(tf.tensor1d(labels, "int32"), 2);
    const first = (await model.trainOnBatch(x, y)) as number;
    let last = first;
    for (let i = 0; i < 15; i++) last = (await model.trainOnBatch(x, y)) as number;
    expect(Number.isFinite(last)).toBe(true);
    expect(last).toBeLessThan(first);
    tf.dispose([x, y]);
    model.dispose();
  });
});
