// How far a model converted by Plan.fromModel may be from model.predict under encryption: a bound for every
// output element, derived layer by layer from the fixed-point encoding (2 parties + a dealer, base 2, 16
// fractional bits, the default), so that from-model-layers.test.ts checks a bound rather than a guess.
//
// It is interval arithmetic on the errors. Beside each plaintext activation A the walk keeps E, a bound on each
// element's error (what the secure value and TF.js's float32 value may each differ from the exact one, summed).
// ULP = 2^-16, u = 2^-24 (float32's unit roundoff).
// - Inputs and the test's weights are multiples of 2^-8: encoded exactly (E = 0). Values computed in float64
//   (folded kernels and biases, BatchNormalization's scale and shift) are encoded within ew = ULP/2.
// - A product layer (Dense, Conv2D, DepthwiseConv2D), k terms x·w per output: the ring sum of the encoded terms
//   is exact; an input error E reaches an output through |w|, encoded weights add ew·(|A| + E) per term; then
//   one local truncation (<= 1 ULP) and the bias's encoding (ULP/2); TF.js's float32 sum of the k terms may be
//   off by k·u·Σ|x·w| and its result by one rounding more (1 ULP while |y| < 2^8). So, with ⊛ the layer's op:
//   E' = E ⊛ |W| + ew·((|A| + E) ⊛ 1) + k·u·(|A| ⊛ |W|) + 2.5·ULP.
// - A BatchNormalization folded into the product layer before it: W is the folded kernel, ew = ULP/2. Applied on
//   its own, a product with the encoded scale S, a truncation and the encoded shift:
//   E' = |S|·E + (|A| + E)·ULP/2 + u·|A|·|S| + 2.5·ULP.
// - Average pooling and the global mean: the mean of E, then a public division's truncation: + 2·ULP.
// - Max pooling: the max of E over the window (a max moves by at most its inputs' largest error).
// - ReLU: where the plaintext input is at most -E the secure input is <= 0 too and both outputs are exactly 0,
//   so E' = 0 there; elsewhere E' = E. Flatten, Reshape, Dropout: E' = E, reshaped.
import type * as tfjs from "@tensorflow/tfjs";

const ULP = 2 ** -16;
const U = 2 ** -24;

type Tensor = tfjs.Tensor;
type Config = Record<string, unknown>;

const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [Number(v), Number(v)]);

/** A BatchNormalization layer's scale and shift per channel, in float32 (its error is in the bound's ew). */
function bnAffine(tf: typeof tfjs, layer: tfjs.layers.Layer): { scale: Tensor; shift: Tensor } {
  const config = layer.getConfig() as { epsilon: number; scale: boolean; center: boolean };
  const named = (n: string) => layer.getWeights()[layer.weights.findIndex((w) => w.originalName.endsWith(`/${n}`))]!;
  const variance = named("moving_variance");
  const gamma = config.scale ? named("gamma") : tf.onesLike(variance);
  const scale = gamma.div(variance.add(config.epsilon).sqrt());
  const beta = config.center ? named("beta") : tf.zerosLike(variance);
  return { scale, shift: beta.sub(named("moving_mean").mul(scale)) };
}

/** The layer's linear map (without bias or activation) as a function, its terms per output, and its kernel. */
function linearMap(tf: typeof tfjs, layer: tfjs.layers.Layer): { apply: (x: Tensor, k: Tensor) => Tensor; k: number } {
  const config = layer.getConfig() as Config;
  const kernel = layer.getWeights()[0]!;
  const [a, b, c] = kernel.shape as number[];
  const strides = pair(config.strides ?? 1);
  const padding = config.padding as "same" | "valid";
  switch (layer.getClassName()) {
    case "Dense":
      return { apply: (x, k) => tf.matMul(x as tfjs.Tensor2D, k as tfjs.Tensor2D), k: a! };
    case "Conv2D": {
      const dilations = pair(config.dilationRate ?? 1);
      const apply = (x: Tensor, k: Tensor) =>
        tf.conv2d(x as tfjs.Tensor4D, k as tfjs.Tensor4D, strides, padding, "NHWC", dilations);
      return { apply, k: a! * b! * c! };
    }
    default:
      return {
        apply: (x, k) => tf.depthwiseConv2d(x as tfjs.Tensor4D, k as tfjs.Tensor4D, strides, padding),
        k: a! * b!,
      };
  }
}

const products = new Set(["Dense", "Conv2D", "DepthwiseConv2D"]);

/**
 * The bound on each element of the model's output on `x` (a tensor of the output's shape), from the rules in the
 * header; plaintext activations are computed with TF.js as the layers do.
 */
export function errorBound(tf: typeof tfjs, model: tfjs.LayersModel, x: Tensor): Tensor {
  return tf.tidy(() => {
    let A = x;
    let E = tf.zerosLike(x);
    const relu = () => {
      E = tf.where(A.lessEqual(E.neg()), tf.zerosLike(E), E);
      A = tf.relu(A);
    };
    const layers = model.layers;
    for (let i = 0; i < layers.length; i++) {
      const layer = layers[i]!;
      const className = layer.getClassName();
      const config = layer.getConfig() as Config;
      if (products.has(className)) {
        const { apply, k } = linearMap(tf, layer);
        const weights = layer.getWeights();
        let kernel = weights[0]!;
        let bias: Tensor | undefined = weights[1];
        const next = layers[i + 1];
        const folds = next?.getClassName() === "BatchNormalization" && (config.activation ?? "linear") === "linear";
        let ew = 0;
        if (folds) {
          const { scale, shift } = bnAffine(tf, next!);
          // Output channels: the kernel's last axis, or its last two ([C, M]) for DepthwiseConv2D.
          kernel = kernel.mul(scale.reshape(kernel.shape.slice(className === "DepthwiseConv2D" ? 2 : -1)));
          bias = bias ? bias.mul(scale).add(shift) : shift;
          ew = ULP / 2;
          i++;
        }
        const abs = kernel.abs();
        E = apply(E, abs)
          .add(apply(A.abs().add(E), tf.onesLike(kernel)).mul(ew))
          .add(apply(A.abs(), abs).mul(k * U))
          .add(2.5 * ULP);
        const product = apply(A, kernel);
        A = bias ? product.add(bias) : product;
        if (config.activation === "relu") relu();
        continue;
      }
      switch (className) {
        case "BatchNormalization": {
          const { scale, shift } = bnAffine(tf, layer);
          E = E.mul(scale.abs())
            .add(
              A.abs()
                .add(E)
                .mul(ULP / 2),
            )
            .add(A.abs().mul(scale.abs()).mul(U))
            .add(2.5 * ULP);
          A = A.mul(scale).add(shift);
          break;
        }
        case "AveragePooling2D":
        case "MaxPooling2D": {
          const size = pair(config.poolSize);
          const strides = config.strides === null || config.strides === undefined ? size : pair(config.strides);
          const padding = config.padding as "same" | "valid";
          const pool = className === "MaxPooling2D" ? tf.maxPool : tf.avgPool;
          E = pool(E as tfjs.Tensor4D, size, strides, padding).add(className === "MaxPooling2D" ? 0 : 2 * ULP);
          A = pool(A as tfjs.Tensor4D, size, strides, padding);
          break;
        }
        case "GlobalAveragePooling2D":
          E = E.mean([1, 2]).add(2 * ULP);
          A = A.mean([1, 2]);
          break;
        case "GlobalMaxPooling2D":
          E = E.max([1, 2]);
          A = A.max([1, 2]);
          break;
        case "ReLU":
          relu();
          break;
        case "Activation":
          if (config.activation === "relu") relu();
          break;
        case "Flatten":
        case "Reshape":
          A = layer.apply(A) as Tensor;
          E = E.reshape(A.shape);
          break;
      }
    }
    return E;
  });
}
