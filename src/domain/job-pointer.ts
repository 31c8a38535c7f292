/**
 * A training job on a domain, from the client: its status and progress rows
 * (polled), cancel, and its weights, which `publish()` releases once, charged
 * with the epsilon the job's DP-SGD steps spent (again: free, post-processing).
 *
 * @example
 * ```ts
 * const job = await ds.train({ model, x: images, y: labels, batchSize: 32, epochs: 1, dp: { noiseMultiplier: 1.1, clipNorm: 1 } });
 * await job.wait();
 * const published = await job.weights().publish();
 * published.epsilon;   // the accountant's epsilon for the job's steps
 * ```
 */
import * as tf from "@tensorflow/tfjs";
import { DISPLAY, type MimeBundle } from "../core/display-protocol";
import { CommunicationError, ErrorCode, TsyftError } from "../core/errors";
import type { DomainHttp } from "./client-http";
import type { ModelSpec, TrainOptions } from "./jobs/train-interface";
import type { JobRecord, LedgerSteps, ProgressRow } from "./storage/types";
import { tensorsOfPayloads, type TensorPayload } from "./tensor-payload";

export interface JobState {
  job: JobRecord;
  progress: ProgressRow[];
  /** The job's DP-SGD steps as tallied in the ledger. */
  steps: LedgerSteps[];
}

/** Released weights and their cost. */
export class PublishedWeights {
  constructor(
    private readonly payloads: TensorPayload[],
    readonly epsilon: number,
    readonly delta: number,
    /** False when these weights had been published before (no new charge). */
    readonly charged: boolean,
    readonly privacyBudget: number,
  ) {}

  /** The weights as TF.js tensors (e.g. for `model.setWeights`). */
  get(): tf.Tensor[] {
    return tensorsOfPayloads(this.payloads);
  }

  [DISPLAY](): MimeBundle {
    return {
      "text/plain": `PublishedWeights (${this.payloads.length} tensors): epsilon ${this.epsilon.toPrecision(4)} ${this.charged ? "charged" : "(already paid)"}, ${this.privacyBudget.toPrecision(4)} left`,
    };
  }
}

/** A pointer to a job's trained weights. */
export class WeightsPointer {
  constructor(
    private readonly http: DomainHttp,
    readonly jobId: string,
  ) {}

  /** Releases the weights (the job must be done and trained with dp), charging its epsilon the first time. */
  async publish(): Promise<PublishedWeights> {
    const answer = await this.http.request<{
      weights: TensorPayload[];
      epsilon: number;
      delta: number;
      charged: boolean;
      privacyBudget: number;
    }>("POST", `/jobs/${encodeURIComponent(this.jobId)}/publish`);
    return new PublishedWeights(answer.weights, answer.epsilon, answer.delta, answer.charged, answer.privacyBudget);
  }

  /**
   * The weights as trained, without a charge: for the domain's data owners only (a data scientist gets a typed
   * permission error that says to publish()), as PySyft's `get()` of an object one owns.
   */
  async get(): Promise<tf.Tensor[]> {
    const answer = await this.http.request<{ weights: TensorPayload[] }>(
      "GET",
      `/jobs/${encodeURIComponent(this.jobId)}/weights`,
    );
    return tensorsOfPayloads(answer.weights);
  }
}

/** How {@link JobPointer.wait} polls: every `pollMs` (default 250), for at most `timeoutMs` (default an hour). */
export interface WaitOptions {
  pollMs?: number;
  timeoutMs?: number;
}

/** A job's training options as sent (no callbacks: progress is polled). */
export type JobOptions = Omit<TrainOptions, "signal" | "onStep" | "onEpoch" | "weights">;

/**
 * Starts a training job: `model` trained on what `x` and `y` point at, in the background on the domain.
 *
 * @example
 * ```ts
 * const job = await startJob(http, { model: net.toSpec(), x: images, y: labels, batchSize: 32, maxIter: 2 });
 * ```
 */
export async function startJob(
  http: DomainHttp,
  job: { model: ModelSpec; x: { id: string }; y: { id: string } } & JobOptions,
): Promise<JobPointer> {
  const { model, x, y, ...options } = job;
  const answer = await http.request<{ job: { id: string } }>("POST", "/jobs", { model, x: x.id, y: y.id, options });
  return new JobPointer(http, answer.job.id);
}

/** A training job running on a domain. */
export class JobPointer {
  constructor(
    private readonly http: DomainHttp,
    readonly id: string,
  ) {}

  /** The job, its progress rows and its DP steps, now. */
  state(): Promise<JobState> {
    return this.http.request<JobState>("GET", `/jobs/${encodeURIComponent(this.id)}`);
  }

  /** The progress rows so far ({ epoch, step?, loss, valLoss?, valAccuracy? }). */
  async progress(): Promise<ProgressRow[]> {
    return (await this.state()).progress;
  }

  /**
   * Resolves when the job is done; rejects when it failed or was cancelled, or after `timeoutMs`. `onState` sees
   * every state polled (the last one included), e.g. to draw a progress bar while the job runs.
   */
  async wait(options: WaitOptions & { onState?: (state: JobState) => void | Promise<void> } = {}): Promise<JobState> {
    const deadline = Date.now() + (options.timeoutMs ?? 3600_000);
    for (;;) {
      const state = await this.state();
      await options.onState?.(state);
      if (state.job.status === "done") return state;
      if (state.job.status === "failed" || state.job.status === "cancelled") {
        throw new TsyftError(
          ErrorCode.REMOTE_OP_FAILED,
          `Job ${this.id} ${state.job.status}: ${state.job.error ?? ""}`,
          {
            job: this.id,
            status: state.job.status,
          },
        );
      }
      if (Date.now() > deadline) {
        throw new CommunicationError(
          ErrorCode.TIMEOUT,
          `Job ${this.id} still ${state.job.status} after the wait; it goes on.`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
    }
  }

  async cancel(): Promise<JobRecord> {
    return (await this.http.request<{ job: JobRecord }>("POST", `/jobs/${encodeURIComponent(this.id)}/cancel`)).job;
  }

  /** A pointer to the trained weights. */
  weights(): WeightsPointer {
    return new WeightsPointer(this.http, this.id);
  }
}
