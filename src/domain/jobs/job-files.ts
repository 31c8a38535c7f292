/**
 * What a domain keeps of a job on disk, beside its database rows: the trained
 * weights (`<dataDir>/jobs/<id>.json`, what publish reads) and, for a model
 * trained step by step, its optimizer's state (`<id>.optimizer.json`), so a
 * restarted domain continues it where it was.
 *
 * @example
 * ```ts
 * const files = new JobFiles(path.join(dataDir, "jobs"));
 * await files.saveWeights(id, trainer.getWeights());
 * const payloads = await files.readWeights(id);
 * ```
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type * as tfjs from "@tensorflow/tfjs";
import type { OptimizerSlot } from "../../nn/trainer";
import { readTensorPayload, tensorPayload, type TensorPayload } from "../tensor-payload";

/** A job's files under one directory. */
export class JobFiles {
  constructor(private readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  /** Writes a job's weights, then disposes them. */
  async saveWeights(id: string, weights: tfjs.Tensor[]): Promise<void> {
    const payloads = weights.map((w) => tensorPayload(w));
    for (const w of weights) w.dispose();
    await this.write(`${id}.json`, payloads);
  }

  async readWeights(id: string): Promise<TensorPayload[]> {
    const text = await fs.promises.readFile(path.join(this.dir, `${id}.json`), "utf8");
    return (JSON.parse(text) as unknown[]).map((p) => {
      readTensorPayload(p);
      return p as TensorPayload;
    });
  }

  async saveOptimizer(id: string, slots: OptimizerSlot[]): Promise<void> {
    await this.write(`${id}.optimizer.json`, slots);
  }

  /** The optimizer state saved for `id`, or undefined when there is none (a job trained by fit). */
  async readOptimizer(id: string): Promise<OptimizerSlot[] | undefined> {
    const file = path.join(this.dir, `${id}.optimizer.json`);
    if (!fs.existsSync(file)) return undefined;
    return JSON.parse(await fs.promises.readFile(file, "utf8")) as OptimizerSlot[];
  }

  /** Writes through a temporary file and a rename, so a crash mid-write leaves the previous file whole. */
  private async write(name: string, value: unknown): Promise<void> {
    const file = path.join(this.dir, name);
    await fs.promises.writeFile(`${file}.tmp`, JSON.stringify(value));
    await fs.promises.rename(`${file}.tmp`, file);
  }
}
