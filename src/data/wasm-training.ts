/**
 * Kernels that TensorFlow.js' WebAssembly backend lacks for training, built from ops it has.
 *
 * `@tensorflow/tfjs-backend-wasm` 4.22 runs a Conv2D forward pass and its input gradient
 * (`Conv2DBackpropInput`) but has no `Conv2DBackpropFilter`, so `model.fit` on a CNN fails with
 * "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'", and the pure-JS cpu backend
 * is about 10x slower. The filter gradient is itself a convolution, so it can run on the wasm
 * backend's own (XNNPACK) Conv2D.
 */
import type * as tfjs from "@tensorflow/tfjs";

type TF = typeof tfjs;
type Pair = [number, number];

/**
 * The kernels {@link registerWasmTrainingKernels} adds, by name.
 *
 * @example
 * ```ts
 * WASM_TRAINING_KERNELS.every((name) => tf.getKernel(name, "wasm") !== undefined);   // true after registering
 * ```
 */
export const WASM_TRAINING_KERNELS = ["Conv2DBackpropFilter"] as const;

const BACKEND = "wasm";

/**
 * Registers, for the "wasm" backend, the kernels that training a Conv2D network needs and that
 * the backend lacks (see {@link WASM_TRAINING_KERNELS}). Idempotent: a kernel already registered
 * (by an earlier call, or by a TensorFlow.js release that has it) is left alone. Returns the
 * names of the kernels this call registered. `sy.useWasmBackend(tf)` calls it for you.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-wasm";
 * registerWasmTrainingKernels(tf);   // ["Conv2DBackpropFilter"]
 * await tf.setBackend("wasm");
 * await model.fit(x, y);             // conv layers now train on wasm
 * ```
 */
export function registerWasmTrainingKernels(tf: TF): string[] {
  const registered: string[] = [];
  if (!hasKernel(tf, "Conv2DBackpropFilter")) {
    tf.registerKernel({
      kernelName: "Conv2DBackpropFilter",
      backendName: BACKEND,
      kernelFunc: ({ inputs, backend, attrs }) =>
        conv2dBackpropFilter(tf, inputs as { x: tfjs.TensorInfo; dy: tfjs.TensorInfo }, backend as unknown as WasmBackendLike, attrs as unknown as Conv2DBackpropFilterAttrs),
    });
    registered.push("Conv2DBackpropFilter");
  }
  return registered;
}

function hasKernel(tf: TF, name: string): boolean {
  try {
    return tf.getKernel(name, BACKEND) !== undefined;
  } catch {
    return false;
  }
}

/** The attributes TensorFlow.js' conv2d gradient passes (dilations: for callers that give them). */
interface Conv2DBackpropFilterAttrs {
  strides: number | Pair;
  pad: "valid" | "same" | number | tfjs.backend_util.ExplicitPadding;
  dataFormat?: "NHWC" | "NCHW";
  dimRoundingMode?: "floor" | "round" | "ceil";
  filterShape: [number, number, number, number];
  dilations?: number | Pair;
}

/** The part of the wasm backend this file uses. */
interface WasmBackendLike {
  incRef(dataId: tfjs.DataId): void;
  makeOutput(shape: number[], dtype: "float32", memoryOffset?: number, values?: Float32Array): tfjs.TensorInfo;
}

/**
 * A tensor over a kernel input's data. The backend counts references per data id and disposing
 * a tensor drops one, so take one first: disposing the borrowed tensor then leaves the input alive.
 */
function borrow(engine: ReturnType<TF["engine"]>, backend: WasmBackendLike, info: tfjs.TensorInfo): tfjs.Tensor {
  backend.incRef(info.dataId);
  return engine.makeTensorFromTensorInfo(info);
}

const pair = (v: number | readonly number[] | undefined): Pair =>
  v === undefined ? [1, 1] : typeof v === "number" ? [v, v] : [v[0]!, v[1] ?? v[0]!];

/**
 * dW[kh, kw, ci, co] = sum over n, oh, ow of xp[n, oh*sH + kh*dH, ow*sW + kw*dW, ci] * dy[n, oh, ow, co],
 * with xp the input padded as the forward conv padded it. Read with the batch and channel axes of
 * x swapped, that is a convolution:
 *
 * 1. pad (or crop) x to exactly the rows and columns the forward conv read: [N, Hp, Wp, C];
 * 2. xT = x as [C, Hp, Wp, N] (batch <-> channels), dyT = dy as [OH, OW, N, Co] (a filter);
 * 3. r = conv2d(xT, dyT) with strides = the forward dilations and dilations = the forward
 *    strides (a strided forward conv spreads dy out), valid padding: [C, KH, KW, Co];
 * 4. dW = r as [KH, KW, C, Co], written into an output the backend allocates, so the kernel
 *    returns memory no tensor owns; every intermediate is disposed.
 */
function conv2dBackpropFilter(
  tf: TF,
  inputs: { x: tfjs.TensorInfo; dy: tfjs.TensorInfo },
  backend: WasmBackendLike,
  attrs: Conv2DBackpropFilterAttrs,
): tfjs.TensorInfo {
  const engine = tf.engine();
  const channelsFirst = attrs.dataFormat === "NCHW";
  const filterShape = attrs.filterShape;
  const [kh, kw] = filterShape;
  const strides = pair(attrs.strides);
  const dilations = pair(attrs.dilations);

  const result = tf.tidy(() => {
    let x = borrow(engine, backend, inputs.x) as tfjs.Tensor4D;
    let dy = borrow(engine, backend, inputs.dy) as tfjs.Tensor4D;
    if (channelsFirst) {
      x = tf.transpose(x, [0, 2, 3, 1]);
      dy = tf.transpose(dy, [0, 2, 3, 1]);
    }
    const [, height, width] = x.shape;
    const [, outHeight, outWidth] = dy.shape;
    const info = tf.backend_util.computeConv2DInfo(
      x.shape,
      filterShape,
      strides,
      dilations,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      "channelsLast",
    );
    const { top, left } = info.padInfo;
    // 1. The rows the forward conv read run from -top to (OH-1)*sH + (KH-1)*dH - top.
    const needHeight = (outHeight - 1) * strides[0] + (kh - 1) * dilations[0] + 1;
    const needWidth = (outWidth - 1) * strides[1] + (kw - 1) * dilations[1] + 1;
    const keepHeight = Math.min(height, needHeight - top);
    const keepWidth = Math.min(width, needWidth - left);
    let xp: tfjs.Tensor4D = keepHeight < height || keepWidth < width ? tf.slice(x, [0, 0, 0, 0], [-1, keepHeight, keepWidth, -1]) : x;
    const bottom = needHeight - top - keepHeight;
    const right = needWidth - left - keepWidth;
    if (top > 0 || bottom > 0 || left > 0 || right > 0) {
      xp = tf.pad(xp, [[0, 0], [top, bottom], [left, right], [0, 0]]);
    }
    // 2-3.
    const xT = tf.transpose(xp, [3, 1, 2, 0]);
    const dyT = tf.transpose(dy, [1, 2, 0, 3]);
    const r = tf.conv2d(xT, dyT, dilations, "valid", "NHWC", strides);
    // 4.
    return tf.transpose(r, [1, 2, 0, 3]);
  });
  const values = result.dataSync() as Float32Array;
  result.dispose();
  return backend.makeOutput([...filterShape], "float32", undefined, values);
}
