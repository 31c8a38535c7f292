/**
 * Adamax (Kingma and Ba 2015, section 7.1) with its state readable and writable.
 *
 * TensorFlow.js's `tf.train.adamax` computes the same update but throws on
 * `getWeights()`/`setWeights()`, so a model trained step by step on a domain
 * (the design's flow III) could not keep its optimizer across a restart. This
 * is the same rule as TF.js's, on the same TF.js ops (the gradients still come
 * from TF.js), with the state exported like `tf.train.adam`'s: the iteration
 * count, then each variable's first moment, then each one's weighted infinity
 * norm, in the order of the variables given to `applyGradients`.
 *
 *   m_t = beta1 m + (1 - beta1) g,   u_t = max(beta2 u, |g|),
 *   w  -= lr / (1 - beta1^t) * m_t / (u_t + epsilon)
 *
 * @example
 * ```ts
 * const optimizer = adamax(tf, 0.002, 0.9, 0.999, 1e-8);
 * const state = await optimizer.getWeights();   // [iter, m..., u...]
 * ```
 */
import type * as tfjs from "@tensorflow/tfjs";

type TF = typeof tfjs;

/** What TF.js optimizers exchange state as (tfjs-core's NamedTensor, which the tfjs package does not re-export). */
type NamedTensor = { name: string; tensor: tfjs.Tensor };

/**
 * An Adamax optimizer whose `getWeights()`/`setWeights()` work (see the header).
 *
 * @example
 * ```ts
 * const optimizer = adamax(tf, 0.002, 0.9, 0.999, 1e-8);
 * optimizer.minimize(() => loss(), false, variables);
 * ```
 */
export function adamax(tf: TF, learningRate: number, beta1: number, beta2: number, epsilon: number): tfjs.Optimizer {
  class Adamax extends tf.Optimizer {
    static get className(): string {
      return "Adamax";
    }
    private firstMoments: tfjs.Variable[] = [];
    private infNorms: tfjs.Variable[] = [];

    override applyGradients(gradients: tfjs.NamedTensorMap | NamedTensor[]): void {
      const list = Array.isArray(gradients)
        ? gradients
        : Object.keys(gradients).map((name) => ({ name, tensor: gradients[name]! }));
      const scale = -learningRate / (1 - beta1 ** (this.iterations + 1));
      tf.tidy(() => {
        list.forEach(({ name, tensor: g }, i) => {
          const value = tf.engine().registeredVariables[name]!;
          const m = (this.firstMoments[i] ??= tf.zerosLike(value).variable(false));
          const u = (this.infNorms[i] ??= tf.zerosLike(value).variable(false));
          m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
          u.assign(tf.maximum(tf.mul(u, beta2), tf.abs(g)));
          value.assign(tf.add(value, tf.mul(scale, tf.div(m, tf.add(u, epsilon)))));
        });
      });
      this.incrementIterations();
    }

    override async getWeights(): Promise<NamedTensor[]> {
      const named = (kind: string) => (v: tfjs.Variable, i: number) => ({ name: `${kind}/${i}`, tensor: v });
      return [await this.saveIterations(), ...this.firstMoments.map(named("m")), ...this.infNorms.map(named("u"))];
    }

    override async setWeights(weights: NamedTensor[]): Promise<void> {
      const moments = await this.extractIterations(weights);
      if (moments.length % 2 !== 0)
        throw new Error(`Adamax.setWeights: expected pairs of moments, got ${moments.length}.`);
      tf.dispose([...this.firstMoments, ...this.infNorms]);
      const half = moments.length / 2;
      this.firstMoments = moments.slice(0, half).map((w) => w.tensor.variable(false));
      this.infNorms = moments.slice(half).map((w) => w.tensor.variable(false));
    }

    override dispose(): void {
      tf.dispose([...this.firstMoments, ...this.infNorms]);
      this.firstMoments = [];
      this.infNorms = [];
    }

    override getConfig(): tfjs.serialization.ConfigDict {
      return { learningRate, beta1, beta2, epsilon, decay: 0 };
    }
  }
  return new Adamax();
}
