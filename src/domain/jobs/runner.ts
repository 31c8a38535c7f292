/**
 * Training jobs on a domain. A job trains a model spec on what two pointers
 * stand for (inputs and labels, assets or slices of them) by calling the
 * domain's `trainModel` in the background: it goes on when the client
 * disconnects, and stops when cancelled.
 *
 * 1. POST /jobs: the job row (queued), then the run starts; the answer does not wait for it.
 * 2. Each step: a progress row (loss), and for DP-SGD its noise multiplier and sampling rate
 *    added to the job's tally in the ledger (ledger_steps) as it happens.
 * 3. Each epoch: a progress row (loss, validation loss and accuracy).
 * 4. Done: the weights saved under <dataDir>/jobs/<id>.json; failed or cancelled: the status says so.
 * 5. publish (the job's owner, DP jobs only): epsilon from the tally by the RDP accountant at the
 *    domain's delta, charged once (ledger kind "weights"); publishing again is post-processing and
 *    costs nothing. Only after the charge commits are the weights answered.
 *
 * 6. Single steps (the design's flow III, `modelPtr.step(xBatch, yBatch)`): the first step makes a job from a
 *    model spec, or from a finished job's weights and ledger tally (`from`), and keeps its Trainer in this
 *    process (steppers.ts); each step is one step on the whole batch given (DP-SGD with `dp`: tallied with
 *    sampleRate 1, since the batch was chosen, not sampled), after which the weights and the optimizer's state are
 *    saved and the job is done, so it can be published; steps after a publish are refused, since the charge was
 *    for the steps before it.
 *
 * A domain that restarts marks the jobs it was running as failed (their run is gone; their steps stay
 * in the ledger); a stepped model continues from its saved weights and optimizer state on its next step.
 *
 * @example
 * ```ts
 * const runner = new JobRunner(store, data, dataDir, { trainModel, delta: 1e-5 });
 * const job = await runner.start(user, { model, x: xId, y: yId, options: { batchSize: 32, epochs: 1, dp } });
 * ```
 */
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { ErrorCode, TsyftError } from "../../core/errors";
import { RDPAccountant } from "../../dp/accountant";
import type { DataService } from "../data-service";
import type { Evaluated } from "../remote-eval";
import { can } from "../roles";
import { checkModelSpec } from "../../nn/spec";
import { checkDpOptions, type DpOptions, type Trainer } from "../../nn/trainer";
import type { DomainStore, JobRecord, UserRecord } from "../storage";
import type { TensorPayload } from "../tensor-payload";
import { JobFiles } from "./job-files";
import { Steppers } from "./steppers";
import type { ModelSpec, TrainModelFn, TrainOptions } from "./train-interface";

/** What a job is asked to do (kept as the job's spec). */
export interface JobSpec {
  model: ModelSpec;
  /** Pointer ids of the inputs and the labels. */
  x: string;
  y: string;
  options: Omit<TrainOptions, "signal" | "onStep" | "onEpoch">;
}

/** A published job's weights and what they cost. */
export interface WeightsRelease {
  weights: TensorPayload[];
  epsilon: number;
  delta: number;
  /** False when these weights were published before (no charge). */
  charged: boolean;
  privacyBudget: number;
}

const invalid = (message: string) => new TsyftError(ErrorCode.INVALID_ARGUMENT, message);

/** Runs and publishes a domain's training jobs. */
export class JobRunner {
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private readonly files: JobFiles;
  /** Flow III models held between steps. */
  private readonly steppers: Steppers;

  constructor(
    private readonly store: DomainStore,
    private readonly data: DataService,
    dataDir: string,
    private readonly options: { trainModel: TrainModelFn; delta: number },
  ) {
    this.files = new JobFiles(path.join(dataDir, "jobs"));
    this.steppers = new Steppers(store, this.files);
  }

  /** Marks jobs left queued or running by an earlier process as failed. */
  async recover(): Promise<void> {
    for (const job of await this.store.jobs.list()) {
      if (job.status === "queued" || job.status === "running") {
        await this.store.jobs.setStatus(job.id, "failed", "the domain restarted while this job ran; start it again");
      }
    }
  }

  /** Creates a job and starts it in the background. */
  async start(user: UserRecord, body: Record<string, unknown>): Promise<JobRecord> {
    const trainModel = this.options.trainModel;
    const spec = checkJobSpec(body);
    await Promise.all([this.data.resolve(spec.x), this.data.resolve(spec.y)]);
    const job = await this.store.jobs.create(user.id, { ...spec });
    const abort = new AbortController();
    const done = this.run(job.id, spec, trainModel, abort.signal).finally(() => this.running.delete(job.id));
    this.running.set(job.id, { abort, done });
    return job;
  }

  /** Stops a running job (its owner, or whoever may manage the domain's users). */
  async cancel(user: UserRecord, id: string): Promise<JobRecord> {
    const job = await this.owned(user, id, true);
    this.running.get(id)?.abort.abort();
    await this.running.get(id)?.done;
    if (isStepped(job) && job.status !== "cancelled" && job.status !== "failed") {
      await this.steppers.drop(id);
      await this.store.jobs.setStatus(id, "cancelled", "cancelled");
    }
    return (await this.store.jobs.get(job.id))!;
  }

  /** A job with its progress rows (its owner's, or any for who manages users). */
  async status(user: UserRecord, id: string) {
    const job = await this.owned(user, id, true);
    return { job, progress: await this.store.jobs.progress(id), steps: await this.store.jobs.steps(id) };
  }

  /** Releases a finished DP job's weights, charging its epsilon the first time (see the header). */
  async publish(user: UserRecord, id: string): Promise<WeightsRelease> {
    const job = await this.finished(user, id);
    const options = job.spec.options as JobSpec["options"] | undefined;
    if (!options?.dp) {
      throw new TsyftError(
        ErrorCode.PERMISSION,
        "Only weights trained with DP-SGD can be published: start the job with dp: { noiseMultiplier, clipNorm }.",
        { status: 403 },
      );
    }
    const weights = await this.files.readWeights(id);
    const delta = this.options.delta;
    const epsilon = new RDPAccountant(await this.store.jobs.steps(id)).getEpsilon(delta);
    const charge = await this.store.ledger.charge({ userId: user.id, epsilon, delta, kind: "weights", subject: id });
    return {
      weights,
      epsilon: charge.charge.epsilon,
      delta,
      charged: charge.charged,
      privacyBudget: charge.budget - charge.spent,
    };
  }

  /** The weights as trained, for data owners only (no noise beyond DP-SGD's, no charge). */
  async rawWeights(user: UserRecord, id: string): Promise<TensorPayload[]> {
    if (!can(user.role, "uploadData")) {
      throw new TsyftError(ErrorCode.PERMISSION, "Only data owners may take weights unpublished; use publish().", {
        status: 403,
      });
    }
    return this.files.readWeights(id);
  }

  /**
   * One training step on the batch `x`, `y` point at (see the header, 6): on the job `id` made by an earlier step,
   * or, without `id`, on a new job for `body.model`. Answers the job and the batch's loss.
   */
  async step(user: UserRecord, id: string | undefined, body: Record<string, unknown>) {
    if (typeof body.x !== "string" || typeof body.y !== "string") throw invalid("A step needs x and y: pointer ids.");
    let dp = body.dp as DpOptions | undefined;
    if (dp !== undefined) checkDpOptions(dp, "step");
    const [x, y] = await Promise.all([this.data.values(body.x), this.data.values(body.y)]);
    let job: JobRecord;
    if (id === undefined) {
      const from = typeof body.from === "string" ? await this.finished(user, body.from) : undefined;
      if (body.model === undefined) throw invalid("A first step needs model: a ModelSpec from sy.nn (net.toSpec()).");
      checkModelSpec(body.model);
      const model = from ? (from.spec.model as ModelSpec) : (body.model as ModelSpec);
      const options = { batchSize: x.shape[0] ?? 0, ...(dp && { dp }) };
      const spec = { model, x: body.x, y: body.y, steps: true, options, ...(from && { from: from.id }) };
      job = await this.store.jobs.create(user.id, spec);
      this.steppers.create(job.id, model, from && (await this.files.readWeights(from.id)));
      // Weights continued from a job carry its steps' privacy cost: its tally is this model's too.
      for (const steps of from ? await this.store.jobs.steps(from.id) : [])
        await this.store.jobs.addSteps(job.id, steps);
    } else {
      job = await this.owned(user, id, false);
      if ((await this.store.ledger.charges(user.id)).some((c) => c.kind === "weights" && c.subject === id)) {
        throw new TsyftError(
          ErrorCode.INVALID_ARGUMENT,
          `Job ${id}'s weights were published; its charge covered the steps before. Compile the model again for more steps.`,
          { conflict: true },
        );
      }
      // A DP model stays DP: a step without dp takes the model's first (a plain step would void the guarantee).
      dp ??= (job.spec.options as JobSpec["options"] | undefined)?.dp;
    }
    const taken = await this.steppers.step(
      job,
      (trainer) => this.takeStep(job.id, trainer, x, y, dp),
      () => this.store.jobs.setStatus(job.id, "done"),
    );
    if (!taken) {
      throw new TsyftError(ErrorCode.INVALID_ARGUMENT, `Job ${job.id} takes no single steps here (${job.status}).`, {
        conflict: true,
      });
    }
    return { job: (await this.store.jobs.get(job.id))!, loss: taken.result };
  }

  /** Cancels every running job and waits for them (the domain closing). */
  async close(): Promise<void> {
    const all = [...this.running.values()];
    for (const r of all) r.abort.abort();
    await Promise.all(all.map((r) => r.done));
    await this.steppers.close();
  }

  private async takeStep(id: string, trainer: Trainer, x: Evaluated, y: Evaluated, dp?: DpOptions) {
    const xs = tf.tensor(x.values, x.shape, x.dtype);
    trainer.checkInput(xs, "step");
    const ys = tf.tensor(y.values, y.shape, y.dtype);
    const targets = trainer.targets(ys);
    try {
      const loss = dp ? trainer.dpStep(xs, targets, dp, xs.shape[0]!).loss : trainer.step(xs, targets);
      await this.store.jobs.addProgress(id, { epoch: 1, step: trainer.steps, loss });
      if (dp) await this.store.jobs.addSteps(id, { noiseMultiplier: dp.noiseMultiplier, sampleRate: 1, steps: 1 });
      return loss;
    } finally {
      tf.dispose([xs, ys, targets]);
    }
  }

  private async run(id: string, spec: JobSpec, trainModel: TrainModelFn, signal: AbortSignal): Promise<void> {
    const tensors: tf.Tensor[] = [];
    try {
      await this.store.jobs.setStatus(id, "running");
      const [x, y] = await Promise.all([this.data.values(spec.x), this.data.values(spec.y)]);
      tensors.push(tf.tensor(x.values, x.shape, x.dtype), tf.tensor(y.values, y.shape, y.dtype));
      const { weights } = await trainModel(tf, spec.model, tensors[0]!, tensors[1]!, {
        ...spec.options,
        signal,
        onStep: async (s) => {
          await this.store.jobs.addProgress(id, { epoch: s.epoch, step: s.step, loss: s.loss });
          if (s.noiseMultiplier !== undefined) {
            await this.store.jobs.addSteps(id, {
              noiseMultiplier: s.noiseMultiplier,
              sampleRate: s.sampleRate,
              steps: 1,
            });
          }
        },
        onEpoch: (e) => this.store.jobs.addProgress(id, e),
      });
      if (signal.aborted) {
        tf.dispose(weights);
        throw signal.reason;
      }
      await this.files.saveWeights(id, weights);
      await this.store.jobs.setStatus(id, "done");
    } catch (error) {
      const cancelled = signal.aborted;
      await this.store.jobs
        .setStatus(
          id,
          cancelled ? "cancelled" : "failed",
          cancelled ? "cancelled" : ((error as Error)?.message ?? String(error)),
        )
        .catch(() => undefined);
    } finally {
      for (const t of tensors) t.dispose();
    }
  }

  /** The caller's job `id`, done (its weights saved). */
  private async finished(user: UserRecord, id: string): Promise<JobRecord> {
    const job = await this.owned(user, id, false);
    if (job.status !== "done") {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `Job ${id} is ${job.status}; its weights are published once it is done, and continued from then too.`,
        {
          conflict: true,
        },
      );
    }
    return job;
  }

  private async owned(user: UserRecord, id: string, managersToo: boolean): Promise<JobRecord> {
    const job = await this.store.jobs.get(id);
    if (!job) throw new TsyftError(ErrorCode.NOT_FOUND, `No job ${JSON.stringify(id)} on this domain.`);
    if (job.userId !== user.id && !(managersToo && can(user.role, "manageUsers"))) {
      throw new TsyftError(ErrorCode.PERMISSION, `Job ${id} is another user's.`, { status: 403 });
    }
    return job;
  }
}

/** Whether `job` is a model trained by single steps (flow III). */
function isStepped(job: JobRecord): boolean {
  return (job.spec as { steps?: unknown }).steps === true;
}

function checkJobSpec(body: Record<string, unknown>): JobSpec {
  if (body.model === undefined) throw invalid("A job needs model: a ModelSpec from sy.nn (net.toSpec()).");
  // Throws TSYFT_ERR_MODEL_SPEC naming the first bad layer.
  checkModelSpec(body.model);
  const model = body.model as ModelSpec;
  if (typeof body.x !== "string" || typeof body.y !== "string") throw invalid("A job needs x and y: pointer ids.");
  const options = (typeof body.options === "object" && body.options !== null ? body.options : {}) as TrainOptions;
  if (!(Number.isInteger(options.batchSize) && options.batchSize > 0))
    throw invalid("options.batchSize: a positive integer.");
  for (const key of ["epochs", "maxIter"] as const) {
    const v = options[key];
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw invalid(`options.${key}: a positive integer.`);
  }
  const dp = options.dp;
  if (dp !== undefined && !(dp.noiseMultiplier > 0 && dp.clipNorm > 0)) {
    throw invalid("options.dp needs noiseMultiplier > 0 and clipNorm > 0.");
  }
  const { epochs, maxIter, batchSize, validationSplit } = options;
  return {
    model,
    x: body.x,
    y: body.y,
    options: {
      epochs,
      maxIter,
      batchSize,
      validationSplit,
      ...(dp && { dp: { noiseMultiplier: dp.noiseMultiplier, clipNorm: dp.clipNorm } }),
    },
  };
}
