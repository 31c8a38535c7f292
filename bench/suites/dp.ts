/**
 * DP-SGD against ordinary training on the same model and batch (issue 13's target: one DP-SGD step at most 4x one
 * ordinary step), its parts (per-example gradients; clipping and noise), the per-example tf.grad loop that the
 * per-example method replaces, and fit throughput in examples per second, ordinary and DP-SGD. The model is a
 * small CNN on IDC patches (the embedded subset, 32x32; `--quick`: 16x16, smaller batch, fewer runs), wasm backend.
 */
import * as tf from "@tensorflow/tfjs";
import * as sy from "../../src";
import { clipAndNoise } from "../../src/dp/clip";
import { perExampleGradients } from "../../src/nn/per-example";
import { perExampleLoss } from "../../src/nn/objectives";
import { Trainer } from "../../src/nn/trainer";
import { time, timeAsync, type BenchRow, type TimeOptions } from "../harness";

const nn = sy.nn;

export async function runDpSuite(options: { quick?: boolean } = {}): Promise<BenchRow[]> {
  const quick = options.quick ?? false;
  const [size, batch, fitExamples] = quick ? [16, 8, 64] : [32, 64, 320];
  const timing: TimeOptions = quick ? { warmup: 1, minRuns: 2, minMs: 0 } : { warmup: 2, minRuns: 10, minMs: 2000 };
  await sy.useWasmBackend(tf);
  const idc = await sy.data.loadIdc({ size, source: "embedded" });
  const spec = new nn.Model()
    .add(nn.Convolution(16, 3, { inputShape: [null, size, size, 3], padding: 1, activation: "relu" }))
    .add(nn.MaxPool(2))
    .add(nn.Convolution(32, 3, { padding: 1, activation: "relu" }))
    .add(nn.MaxPool(2))
    .add(nn.Flatten())
    .add(nn.Linear(64, { activation: "relu" }))
    .add(nn.Linear(1, { activation: "sigmoid" }))
    .compile({ loss: nn.BinaryCrossEntropy(), optimizer: nn.Adam() })
    .toSpec();
  const trainer = Trainer.create(tf, spec);
  const xb = tf.slice(idc.images, [0], [batch]);
  const tb = trainer.targets(tf.slice(idc.labels, [0], [batch]));
  const dp = { noiseMultiplier: 1.1, clipNorm: 1 };
  const params = trainer.model.countParams();
  const base = { suite: "dp", batch, image: `${size}x${size}x3`, params };

  const ordinary = time(() => trainer.step(xb, tb), timing);
  const private_ = time(() => trainer.dpStep(xb, tb, dp, batch), timing);
  const grads = time(() => {
    const { gradients, losses } = perExampleGradients(tf, trainer.model, spec.loss, xb, tb);
    tf.dispose([...gradients, losses]);
  }, timing);
  const { gradients, losses } = perExampleGradients(tf, trainer.model, spec.loss, xb, tb);
  const clip = time(() => tf.dispose(clipAndNoise(gradients, { ...dp, batchSize: batch }).gradients), timing);
  tf.dispose([...gradients, losses]);
  const loop = time(() => loopGradients(trainer, xb, tb), { ...timing, minRuns: quick ? 1 : 3, minMs: 0 });
  const ratio = (ms: number) => `${(ms / ordinary.median).toFixed(2)}x`;
  const rows: BenchRow[] = [
    { ...base, name: "ordinary step (tf gradient of the mean loss)", median_ms: ordinary.median, vs_ordinary: "1.00x" },
    {
      ...base,
      name: "DP-SGD step (per-example grads, clip, noise)",
      median_ms: private_.median,
      vs_ordinary: ratio(private_.median),
    },
    { ...base, name: "  of which per-example gradients", median_ms: grads.median, vs_ordinary: ratio(grads.median) },
    { ...base, name: "  of which clip + noise + sum", median_ms: clip.median, vs_ordinary: ratio(clip.median) },
    {
      ...base,
      name: "per-example tf.grad loop (gradients only)",
      median_ms: loop.median,
      vs_ordinary: ratio(loop.median),
    },
  ];
  tf.dispose([xb, tb]);
  trainer.dispose();

  // fit throughput: one epoch over fitExamples patches, ordinary and DP-SGD (Poisson batches of expected size batch).
  const x = tf.slice(idc.images, [0], [fitExamples]);
  const y = tf.slice(idc.labels, [0], [fitExamples]);
  for (const [name, dpOption] of [
    ["fit, ordinary", undefined],
    ["fit, DP-SGD", dp],
  ] as const) {
    const run = await timeAsync(
      async () =>
        tf.dispose((await nn.trainModel(tf, spec, x, y, { epochs: 1, batchSize: batch, dp: dpOption })).weights),
      { warmup: 1, minRuns: quick ? 1 : 3, minMs: 0 },
    );
    rows.push({ ...base, name, median_ms: run.median, examples_per_s: Math.round((fitExamples / run.median) * 1000) });
  }
  tf.dispose([x, y, idc.images, idc.labels]);
  return rows;
}

/** The baseline the per-example method replaces: one tf.variableGrads per example. */
function loopGradients(trainer: Trainer, x: tf.Tensor, targets: tf.Tensor): void {
  const variables = trainer.model.trainableWeights.map((w) => w.read() as tf.Variable);
  for (let i = 0; i < x.shape[0]!; i++) {
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () =>
          tf.sum(
            perExampleLoss(
              tf,
              trainer.spec.loss,
              trainer.model.apply(tf.slice(x, [i], [1])) as tf.Tensor,
              tf.slice(targets, [i], [1]),
            ),
          ),
        variables,
      );
      return [value, ...Object.values(grads)];
    });
  }
}
