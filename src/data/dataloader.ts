/**
 * Batches of samples as TensorFlow.js tensors, as torch.utils.data.DataLoader.
 */
import * as tf from "@tensorflow/tfjs";
import { DataError, ErrorCode, fmtShape } from "../core/errors";
import type { SampleSource } from "./dataset";
import { Rng, type Seed } from "./random";
import type { Sample } from "./sample";

/** Options of {@link DataLoader}. */
export interface DataLoaderOptions {
  /** Samples per batch (default 32). */
  readonly batchSize?: number;
  /** Visit the samples in a new seeded order each epoch (default false: in index order). */
  readonly shuffle?: boolean;
  /** Seed of the order and of the random transforms (default 0). */
  readonly seed?: Seed;
  /** Drop a last batch smaller than `batchSize` (default false). */
  readonly dropLast?: boolean;
  /** Samples loaded at once (default: `batchSize`). The next batch is loaded while one is in use. */
  readonly concurrency?: number;
}

/**
 * One batch: images `x` `[B, H, W, C]` (float32) and labels `y` `[B]` (int32), with the
 * dataset indices of its samples. The tensors belong to the caller: dispose them (or run the
 * loop body in `tf.tidy`).
 */
export interface Batch {
  readonly x: tf.Tensor4D;
  readonly y: tf.Tensor1D;
  readonly indices: readonly number[];
}

/**
 * Iterates a dataset in batches. Each `for await` over the loader is one epoch; epoch `e`
 * visits every sample once, in the order `Rng(seed).derive("order", e)` gives, and each sample's
 * random transforms draw from `Rng(seed).derive("sample", e, index)`, so a run is reproducible
 * whatever the load concurrency.
 *
 * @example
 * ```ts
 * const loader = new DataLoader(trainSet, { batchSize: 32, shuffle: true, seed: 1 });
 * loader.length;                       // batches per epoch: ceil(752 / 32) = 24
 * for (let epoch = 0; epoch < 10; epoch++) {
 *   for await (const { x, y } of loader) {   // x: [32, 32, 32, 3] float32, y: [32] int32
 *     // ... train on x, y ...
 *     tf.dispose([x, y]);
 *   }
 * }
 * for await (const batch of loader.epoch(3)) { ... }   // replay epoch 3 exactly
 * ```
 */
export class DataLoader implements AsyncIterable<Batch> {
  readonly dataset: SampleSource;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  /** The epoch the next `for await` runs (starts at 0, advances on each iteration). */
  nextEpoch = 0;
  private readonly rng: Rng;
  private readonly concurrency: number;

  constructor(dataset: SampleSource, options: DataLoaderOptions = {}) {
    const batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new DataError(ErrorCode.INVALID_ARGUMENT, `DataLoader: batchSize must be a positive integer, got ${batchSize}.`);
    }
    const concurrency = options.concurrency ?? batchSize;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new DataError(ErrorCode.INVALID_ARGUMENT, `DataLoader: concurrency must be a positive integer, got ${concurrency}.`);
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.rng = new Rng(options.seed ?? 0);
    this.concurrency = concurrency;
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The dataset indices of each batch of epoch `epoch`, in order. */
  batchIndices(epoch: number): number[][] {
    const n = this.dataset.length;
    const order = this.shuffle ? this.rng.derive("order", epoch).permutation(n) : Array.from({ length: n }, (_, i) => i);
    const batches: number[][] = [];
    for (let start = 0; start < n; start += this.batchSize) {
      const batch = order.slice(start, start + this.batchSize);
      if (batch.length < this.batchSize && this.dropLast) break;
      batches.push(batch);
    }
    return batches;
  }

  /** Runs the next epoch (`nextEpoch`, then advances it). */
  [Symbol.asyncIterator](): AsyncIterator<Batch> {
    return this.epoch(this.nextEpoch++);
  }

  /**
   * The batches of epoch `epoch`, without touching `nextEpoch`. While the caller holds a batch
   * the next one is being loaded; its tensors are made only when it is handed out, so stopping
   * early leaks nothing.
   */
  async *epoch(epoch: number): AsyncGenerator<Batch, void, undefined> {
    const batches = this.batchIndices(epoch);
    let pending = batches.length > 0 ? this.loadSamples(batches[0]!, epoch) : undefined;
    for (let b = 0; b < batches.length; b++) {
      const samples = await pending!;
      pending = b + 1 < batches.length ? this.loadSamples(batches[b + 1]!, epoch) : undefined;
      // A prefetch that fails while the caller is busy is reported at its own await, not as unhandled.
      pending?.catch(() => undefined);
      yield toBatch(samples, batches[b]!);
    }
  }

  private async loadSamples(indices: readonly number[], epoch: number): Promise<Sample[]> {
    const out = new Array<Sample>(indices.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < indices.length) {
        const k = next++;
        const index = indices[k]!;
        out[k] = await this.dataset.get(index, this.rng.derive("sample", epoch, index));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, indices.length) }, worker));
    return out;
  }
}

/** Stacks samples of one shape into a batch. */
function toBatch(samples: readonly Sample[], indices: readonly number[]): Batch {
  const shape = samples[0]!.shape;
  const size = samples[0]!.image.length;
  const x = new Float32Array(samples.length * size);
  const y = new Int32Array(samples.length);
  samples.forEach((sample, i) => {
    if (sample.shape[0] !== shape[0] || sample.shape[1] !== shape[1] || sample.shape[2] !== shape[2] || sample.image.length !== size) {
      throw new DataError(
        ErrorCode.SHAPE_MISMATCH,
        `DataLoader: samples of one batch must have one shape; sample ${indices[i]} has ${fmtShape(sample.shape)}, sample ${indices[0]} has ${fmtShape(shape)}. Add a resize transform.`,
      );
    }
    x.set(sample.image, i * size);
    y[i] = sample.label;
  });
  return {
    x: tf.tensor4d(x, [samples.length, shape[0], shape[1], shape[2]], "float32"),
    y: tf.tensor1d(y, "int32"),
    indices,
  };
}
