/**
 * A model on a domain, as `sy.nn` hands it back from `compile({ to: ds })`
 * (the design's flows I and II) or `new sy.nn.Model({ to: ds })`: the client
 * keeps the spec; the domain trains it. `fit` starts a job (job-pointer.ts)
 * on data pointers, `step` takes one step there on a batch (flow III), and
 * `progress`, `weights` and `cancel` act on the latest of the two.
 *
 * @example
 * ```ts
 * const modelPtr = await net.compile({ to: ds, loss: sy.nn.BinaryCrossEntropy(), optimizer: sy.nn.Adamax() });
 * const job = await modelPtr.fit(images, labels, { maxIter: 2, batchSize: 8, dp: { noiseMultiplier: 1.1, clipNorm: 1 } });
 * (await modelPtr.progress()).epochs;       // [{ epoch: 1, loss, ... }, ...] as the domain records them
 * await job.wait();
 * const published = await modelPtr.weights().publish();
 * ```
 */
import { DISPLAY, type MimeBundle } from "../core/display-protocol";
import { ErrorCode, TsyftError } from "../core/errors";
import type { DpOptions } from "../nn/trainer";
import type { DomainHttp } from "./client-http";
import {
  JobPointer,
  startJob,
  type JobOptions,
  type JobState,
  type WaitOptions,
  type WeightsPointer,
} from "./job-pointer";
import type { ModelSpec } from "./jobs/train-interface";
import type { JobRecord, JobStatus, ProgressRow } from "./storage/types";

/** What `progress()` answers: the job's status and its rows. */
export interface ModelProgress {
  job: string;
  status: JobStatus;
  /** Why it failed or stopped. */
  error: string | null;
  /** One row per finished epoch: { epoch, loss, valLoss?, valAccuracy? }. */
  epochs: ProgressRow[];
  /** Steps taken so far. */
  steps: number;
  /** One row per step taken, oldest first: { epoch, step, loss } (a loss chart's points). */
  stepRows: ProgressRow[];
  /** The latest step's batch loss. */
  loss: number | undefined;
}

type StepAnswer = { job: JobRecord; loss: number };

/** A pointer to a model on a domain. */
export class ModelPointer {
  private job: JobPointer | undefined;
  /** Whether the latest job is a stepped model (flow III), which further steps continue. */
  private stepping = false;
  /** The DP-SGD settings of the latest `fit`, which `step` uses when given none. */
  private dp: DpOptions | undefined;

  constructor(
    private readonly http: DomainHttp,
    /** The model as sent. */
    readonly spec: ModelSpec,
  ) {}

  /** The latest job (a fit, or the steps), once there is one. */
  get jobId(): string | undefined {
    return this.job?.id;
  }

  /**
   * Trains on what `x` and `y` point at (assets or their slices) as a job on the domain: `maxIter` epochs of
   * batches of `batchSize`, holding out `validationSplit`; DP-SGD with `dp`. Answers the job at once (`wait()`
   * on it, or poll `progress()`); it goes on if this client goes away.
   */
  async fit(x: { id: string }, y: { id: string }, options: JobOptions): Promise<JobPointer> {
    this.job = await startJob(this.http, { model: this.spec, x, y, ...options });
    this.stepping = false;
    this.dp = options.dp;
    return this.job;
  }

  /**
   * One training step on the whole batch `x`, `y` point at (flow III), by DP-SGD with `dp` (default the latest
   * fit's; steps on a DP model stay DP). The first step makes a model on the domain: from the latest fit's weights
   * (the fit must be done; its privacy tally comes along, so a publish charges both), else fresh from the spec.
   * Later steps continue it. Answers the batch's loss.
   */
  async step(x: { id: string }, y: { id: string }, options: { dp?: DpOptions } = {}): Promise<number> {
    const dp = options.dp ?? this.dp;
    const stepped = this.stepping ? this.job : undefined;
    const batch = { x: x.id, y: y.id, ...(dp && { dp }) };
    const answer = stepped
      ? await this.http.request<StepAnswer>("POST", `/jobs/${enc(stepped.id)}/step`, batch)
      : await this.http.request<StepAnswer>("POST", "/jobs/step", { model: this.spec, from: this.job?.id, ...batch });
    if (!stepped) {
      this.job = new JobPointer(this.http, answer.job.id);
      this.stepping = true;
    }
    return answer.loss;
  }

  /** The latest job's status and rows, as the domain has them now. */
  async progress(): Promise<ModelProgress> {
    return progressOf(await this.current("progress").state());
  }

  /**
   * Polls `progress()` until the latest job is done, calling `onProgress` with each poll (the last one included):
   * what a notebook's live progress bar and loss chart draw from. Answers the final progress; rejects with
   * TSYFT_ERR_REMOTE_OP_FAILED when the job failed or was cancelled, TSYFT_ERR_TIMEOUT after `timeoutMs` (the job
   * goes on).
   *
   * @example
   * ```ts
   * const bar = sy.progress(totalSteps, { label: "fit" });
   * await modelPtr.watch((p) => bar.set(p.steps, `loss ${p.loss?.toFixed(3)}`), { pollMs: 200 });
   * ```
   */
  async watch(
    onProgress: (progress: ModelProgress) => void | Promise<void>,
    options: WaitOptions = {},
  ): Promise<ModelProgress> {
    const state = await this.current("watch").wait({ ...options, onState: (s) => onProgress(progressOf(s)) });
    return progressOf(state);
  }

  /** A pointer to the latest job's weights; its `publish()` charges the job's epsilon once. */
  weights(): WeightsPointer {
    return this.current("weights").weights();
  }

  /** Stops the latest job (a fit running, or the stepped model, which then takes no more steps). */
  async cancel(): Promise<JobRecord> {
    return this.current("cancel").cancel();
  }

  toString(): string {
    const where = this.job ? `job ${this.job.id}` : "not trained yet";
    return `ModelPointer: ${this.spec.layers.length} layers, ${this.spec.loss}, ${this.spec.optimizer.name} (${where})`;
  }

  [DISPLAY](): MimeBundle {
    return { "text/plain": this.toString() };
  }

  private current(method: string): JobPointer {
    if (this.job === undefined) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `ModelPointer.${method}: the model has not trained yet; call fit(x, y, { ... }) or step(x, y) first.`,
      );
    }
    return this.job;
  }
}

/** A job's state as `progress()` answers it: step rows counted, epoch rows kept. */
function progressOf({ job, progress }: JobState): ModelProgress {
  const steps = progress.filter((r) => r.step !== undefined);
  return {
    job: job.id,
    status: job.status,
    error: job.error,
    epochs: progress.filter((r) => r.step === undefined),
    steps: steps.length,
    stepRows: steps,
    loss: steps.at(-1)?.loss,
  };
}

const enc = encodeURIComponent;
