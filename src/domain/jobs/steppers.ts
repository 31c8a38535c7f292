/**
 * Models trained step by step (the design's flow III), held between steps.
 *
 * Each is a Trainer in this process with the step in progress (steps on one
 * model queue behind each other). After every step its weights and optimizer
 * state are written (job-files.ts), so a domain that restarts revives the
 * model on its next step: same weights, same optimizer moments, same step
 * count, and the step taken is the one the model would have taken before.
 *
 * @example
 * ```ts
 * const steppers = new Steppers(store, files);
 * const stepper = steppers.create(job.id, model);
 * const loss = await steppers.step(job, (trainer) => trainer.step(x, targets));
 * ```
 */
import * as tf from "@tensorflow/tfjs";
import { Trainer } from "../../nn/trainer";
import type { DomainStore, JobRecord } from "../storage";
import { tensorsOfPayloads, type TensorPayload } from "../tensor-payload";
import type { JobFiles } from "./job-files";
import type { ModelSpec } from "./train-interface";

interface Stepper {
  trainer: Trainer;
  busy: Promise<unknown>;
}

/** A domain's stepped models. */
export class Steppers {
  /** By job id; a promise while a model is being revived, so two first steps after a restart revive it once. */
  private readonly held = new Map<string, Promise<Stepper | undefined>>();

  constructor(
    private readonly store: DomainStore,
    private readonly files: JobFiles,
  ) {}

  /** Holds a new model for job `id`: `model` fresh, or from `weights` (a finished job's). */
  create(id: string, model: ModelSpec, weights?: readonly TensorPayload[]): void {
    const tensors = weights ? tensorsOfPayloads(weights) : undefined;
    try {
      this.held.set(
        id,
        Promise.resolve({ trainer: Trainer.create(tf, model, { weights: tensors }), busy: Promise.resolve() }),
      );
    } finally {
      tf.dispose(tensors ?? []);
    }
  }

  /**
   * Takes one step on `job`'s model with `run` after the steps before it, saves its weights and optimizer state,
   * then calls `saved` (still before the next step). Undefined when the job takes no steps here (not a stepped
   * model, cancelled, or never finished a step).
   */
  async step<T>(
    job: JobRecord,
    run: (trainer: Trainer) => Promise<T>,
    saved: () => Promise<unknown>,
  ): Promise<{ result: T } | undefined> {
    const stepper = await this.get(job);
    if (!stepper) return undefined;
    const taken = stepper.busy.then(async () => {
      const result = await run(stepper.trainer);
      await this.files.saveWeights(job.id, stepper.trainer.getWeights());
      await this.files.saveOptimizer(job.id, await stepper.trainer.optimizerState());
      await saved();
      return result;
    });
    stepper.busy = taken.catch(() => undefined);
    return { result: await taken };
  }

  /** Drops a model (its job was cancelled): it takes no more steps. */
  async drop(id: string): Promise<void> {
    const stepper = await this.held.get(id);
    this.held.delete(id);
    if (!stepper) return;
    await stepper.busy;
    stepper.trainer.dispose();
  }

  /** Frees every model (the domain closing); their files stay. */
  async close(): Promise<void> {
    for (const id of [...this.held.keys()]) await this.drop(id);
  }

  private get(job: JobRecord): Promise<Stepper | undefined> {
    let stepper = this.held.get(job.id);
    if (!stepper) {
      stepper = this.revive(job);
      this.held.set(job.id, stepper);
      void stepper.then((s) => s === undefined && this.held.delete(job.id));
    }
    return stepper;
  }

  /** A stepped model left by an earlier process, from its files; undefined when there is none to continue. */
  private async revive(job: JobRecord): Promise<Stepper | undefined> {
    if (job.status !== "done") return undefined;
    const optimizer = await this.files.readOptimizer(job.id);
    if (!optimizer) return undefined;
    const weights = tensorsOfPayloads(await this.files.readWeights(job.id));
    const steps = (await this.store.jobs.progress(job.id)).filter((r) => r.step !== undefined).length;
    try {
      const model = job.spec.model as ModelSpec;
      return { trainer: await Trainer.restore(tf, model, { weights, optimizer, steps }), busy: Promise.resolve() };
    } finally {
      tf.dispose(weights);
    }
  }
}
