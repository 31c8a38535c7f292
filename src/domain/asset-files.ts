/**
 * Asset values on disk: one file per asset under `<dataDir>/assets/`, the
 * values' bytes, and beside it the data subject of each row (JSON). The
 * database keeps only metadata and the file's name; a PostgreSQL-backed domain
 * keeps its files in its data dir as well.
 *
 * Loaded assets are cached (a few, by size) since queries on the same asset
 * tend to come in runs.
 *
 * @example
 * ```ts
 * const files = new AssetFiles(dataDir);
 * await files.write("a1", { dtype: "float32", shape: [2], values: new Float32Array([0, 1]) }, ["p1", "p2"]);
 * (await files.read("a1")).subjects;   // ["p1", "p2"]
 * ```
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ErrorCode, TsyftError } from "../core/errors";
import type { DataSubject } from "../dp/private";
import { valuesOf, type PayloadDtype, type TensorValues } from "./tensor-payload";

export interface StoredAsset {
  dtype: PayloadDtype;
  shape: number[];
  values: TensorValues;
}

/** An asset's values and the data subject of each of its rows. */
export type LoadedAsset = StoredAsset & { subjects: DataSubject[] };

/** Bytes of assets kept in memory between queries. */
const CACHE_BYTES = 256 * 1024 * 1024;

/**
 * The asset files of a domain.
 *
 * @example
 * ```ts
 * const asset = await new AssetFiles(dataDir).read(record.objectKey);
 * ```
 */
export class AssetFiles {
  readonly dir: string;
  private readonly cache = new Map<string, LoadedAsset>();

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, "assets");
    fs.mkdirSync(this.dir, { recursive: true });
  }

  /** Writes an asset's values and subjects (atomically: a crash leaves no half file under the name). */
  async write(key: string, asset: StoredAsset, subjects: readonly DataSubject[]): Promise<void> {
    const file = this.file(key);
    const bytes = Buffer.from(asset.values.buffer, asset.values.byteOffset, asset.values.byteLength);
    await fs.promises.writeFile(`${file}.tmp`, bytes);
    await fs.promises.writeFile(`${file}.json`, JSON.stringify({ dtype: asset.dtype, shape: asset.shape, subjects }));
    await fs.promises.rename(`${file}.tmp`, file);
  }

  async read(key: string): Promise<LoadedAsset> {
    const cached = this.cache.get(key);
    if (cached) {
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    const file = this.file(key);
    let bytes: Buffer;
    let meta: { dtype: PayloadDtype; shape: number[]; subjects: DataSubject[] };
    try {
      [bytes, meta] = await Promise.all([
        fs.promises.readFile(file),
        fs.promises.readFile(`${file}.json`, "utf8").then((t) => JSON.parse(t) as typeof meta),
      ]);
    } catch (error) {
      throw new TsyftError(
        ErrorCode.DATA_MISSING,
        `The values of asset ${key} are missing from ${this.dir} (${(error as Error).message}); ` +
          "the data dir was moved or cleaned. Upload the dataset again.",
      );
    }
    const loaded = { ...meta, values: valuesOf(bytes, meta.dtype) };
    this.remember(key, loaded);
    return loaded;
  }

  private remember(key: string, asset: LoadedAsset): void {
    this.cache.set(key, asset);
    let total = 0;
    for (const a of this.cache.values()) total += a.values.byteLength;
    for (const [k, a] of this.cache) {
      if (total <= CACHE_BYTES || this.cache.size === 1) break;
      this.cache.delete(k);
      total -= a.values.byteLength;
    }
  }

  private file(key: string): string {
    if (!/^[A-Za-z0-9_-]+\.bin$/.test(key)) {
      throw new TsyftError(ErrorCode.INVALID_ID, `Not an asset file name: ${JSON.stringify(key)}.`);
    }
    return path.join(this.dir, key);
  }
}
