/**
 * Datasets: indexable collections of samples, as torch.utils.data.Dataset.
 */
import type * as aq from "arquero";
import { DataError, ErrorCode, fmtShape } from "../core/errors";
import { imageLoader, type ImageLoader } from "./image";
import { Rng, type Seed } from "./random";
import type { ImageShape, Sample } from "./sample";
import { shapeSize } from "./sample";
import type { Transform } from "./transforms";

/**
 * What a `DataLoader` reads from: a length and an async `get`. `rng` feeds random transforms;
 * a `DataLoader` passes one derived from (seed, epoch, index).
 *
 * @example
 * ```ts
 * const ones: SampleSource = {
 *   length: 4,
 *   get: async (i) => ({ image: new Float32Array(3).fill(1), shape: [1, 1, 3], label: i % 2 }),
 * };
 * new DataLoader(ones, { batchSize: 2 });
 * ```
 */
export interface SampleSource {
  readonly length: number;
  get(index: number, rng?: Rng): Promise<Sample>;
}

/** Options of {@link Dataset}. */
export interface DatasetOptions {
  /** Loads a row's image; default `imageLoader({ size })`. */
  readonly loader?: ImageLoader;
  /** Image size for the default loader (default 32). */
  readonly size?: number;
  /** Applied to each sample after loading. */
  readonly transform?: Transform;
  /** Column with the image path (default "path"). */
  readonly pathColumn?: string;
  /** Column with the integer label (default "label"). */
  readonly labelColumn?: string;
  /** Seed of the stream `get` uses when called without an rng (default 0). */
  readonly seed?: Seed;
}

/**
 * Images named in an arquero table, loaded on demand, transformed, with their labels.
 *
 * @example
 * ```ts
 * const { train } = splitData(await readSkinCancerDataset(), { groupBy: "lesion_id", seed: 0 });
 * const ds = new Dataset(train, {
 *   size: 32,
 *   transform: compose(randomHorizontalFlip(), randomVerticalFlip(), normalize(HAM10000_MEAN, HAM10000_STD)),
 * });
 * ds.length;                     // 752
 * const { image, shape, label } = await ds.get(0);   // shape [32, 32, 3]
 * ```
 */
export class Dataset implements SampleSource {
  readonly table: aq.ColumnTable;
  private readonly loader: ImageLoader;
  private readonly transform: Transform | undefined;
  private readonly paths: readonly string[];
  private readonly labels: readonly number[];
  private readonly rng: Rng;

  constructor(table: aq.ColumnTable, options: DatasetOptions = {}) {
    const pathColumn = options.pathColumn ?? "path";
    const labelColumn = options.labelColumn ?? "label";
    const columns = table.columnNames();
    for (const column of [pathColumn, labelColumn]) {
      if (!columns.includes(column)) {
        throw new DataError(ErrorCode.INVALID_ARGUMENT, `Dataset: the table has no column "${column}"; it has ${columns.join(", ")}.`);
      }
    }
    this.table = table;
    this.paths = Array.from(table.array(pathColumn), String);
    this.labels = Array.from(table.array(labelColumn), Number);
    const badLabel = this.labels.findIndex((label) => !Number.isInteger(label));
    if (badLabel >= 0) {
      throw new DataError(
        ErrorCode.INVALID_ARGUMENT,
        `Dataset: column "${labelColumn}" must hold integer labels; row ${badLabel} has ${String(table.get(labelColumn, badLabel))}.`,
      );
    }
    this.loader = options.loader ?? imageLoader({ size: options.size ?? 32 });
    this.transform = options.transform;
    this.rng = new Rng(options.seed ?? 0);
  }

  /** The number of samples (rows). */
  get length(): number {
    return this.paths.length;
  }

  /**
   * Loads sample `index` (0-based) and applies the transform with `rng` (default: the
   * dataset's own seeded stream, which advances with each call).
   */
  async get(index: number, rng?: Rng): Promise<Sample> {
    checkIndex(index, this.length);
    const { image, shape } = await this.loader(this.paths[index]!);
    const sample: Sample = { image, shape, label: this.labels[index]! };
    return this.transform ? this.transform(sample, rng ?? this.rng) : sample;
  }
}

/**
 * Samples already in memory: `n` images of one shape in a single Float32Array, with labels
 * (e.g. MNIST from `loadMnist`).
 *
 * @example
 * ```ts
 * const mnist = await loadMnist({ limit: 1000 });
 * const ds = new ArrayDataset(mnist.images, [28, 28, 1], mnist.labels);
 * (await ds.get(0)).label;   // 7
 * ```
 */
export class ArrayDataset implements SampleSource {
  readonly shape: ImageShape;
  private readonly images: Float32Array;
  private readonly labels: ArrayLike<number>;
  private readonly transform: Transform | undefined;
  private readonly rng: Rng;

  constructor(images: Float32Array, shape: ImageShape, labels: ArrayLike<number>, options: { transform?: Transform; seed?: Seed } = {}) {
    const size = shapeSize(shape);
    if (shape.length !== 3 || size === 0 || images.length !== size * labels.length) {
      throw new DataError(
        ErrorCode.SHAPE_MISMATCH,
        `ArrayDataset: ${labels.length} labels and sample shape ${fmtShape(shape)} need ${size * labels.length} values, got ${images.length}.`,
      );
    }
    this.images = images;
    this.shape = [shape[0], shape[1], shape[2]];
    this.labels = labels;
    this.transform = options.transform;
    this.rng = new Rng(options.seed ?? 0);
  }

  /** The number of samples. */
  get length(): number {
    return this.labels.length;
  }

  /** Sample `index` (a copy of its pixels), transformed with `rng` (default: the dataset's own stream). */
  async get(index: number, rng?: Rng): Promise<Sample> {
    checkIndex(index, this.length);
    const size = shapeSize(this.shape);
    const sample: Sample = {
      image: this.images.slice(index * size, (index + 1) * size),
      shape: [...this.shape],
      label: this.labels[index]!,
    };
    return this.transform ? this.transform(sample, rng ?? this.rng) : sample;
  }
}

function checkIndex(index: number, length: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new DataError(ErrorCode.INVALID_ARGUMENT, `Sample index ${index} is out of range: the dataset has ${length} samples (0..${length - 1}).`);
  }
}
