/**
 * Secure serving of a Keras-style model on a TFECluster (PySyft 0.2's
 * `model.share(cluster)`, `model.serve(num_requests=3)`, `model.stop()`).
 *
 * 1. share: the model becomes a plan (`Plan.fromModel`; a layer without a
 *    secure version is refused, named), its weights are encoded in fixed
 *    point and secret-shared between server0 and server1 with server2 as
 *    crypto provider, and server0 hosts the plan with remote inference
 *    allowed. Each holder records a use grant for exactly that plan's IR over
 *    the weight shares; server0's admits no query yet (maxRuns 0).
 * 2. serve({ numRequests }): server0's grant is replaced by one that admits
 *    `numRequests` queries, counted on server0 (a query cannot complete without
 *    it); `serve` watches the count and resolves once the last is answered.
 *    A further query is refused by server0 at once (TSYFT_ERR_SERVING_LIMIT).
 * 3. stop(): server0 admits no more queries (TSYFT_ERR_MODEL_NOT_SERVED); the
 *    shares stay until the cluster stops or another model is shared on it.
 *
 * One model is shared per cluster at a time: a second `share` on the same
 * cluster replaces the first (its plan and weight shares are freed).
 *
 * @example
 * ```ts
 * await model.share(cluster);
 * await model.serve({ numRequests: 3 });   // "Served encrypted prediction 1 to client." ...
 * await model.stop();
 * ```
 */
import type * as tfjs from "@tensorflow/tfjs";
import { ErrorCode, TsyftError } from "../core/errors";
import { checkId } from "../core/ids";
import { DISPLAY, escapeHtml, kernelBridge, type MimeBundle } from "../core/display-protocol";
import { grantKeyOf, ownerTokenHash, type UseGrant } from "../plans/host";
import { Plan } from "../plans/plan";
import { createOwnerToken } from "../grid/auth/credentials";
import { sleep } from "../grid/processes";
import type { TFECluster } from "./cluster";

export interface KerasShareOptions {
  /** The name clients connect to (`connectToModel(..., { name })`). Default "model". */
  name?: string;
}

export interface ServeOptions {
  /** How many private predictions to serve before serving ends. */
  numRequests: number;
  /** Give up waiting for the requests after this long (TSYFT_ERR_TIMEOUT). Default 10 minutes. */
  timeoutMs?: number;
}

/** How a `serve` ended. */
export interface ServingReport {
  name: string;
  numRequests: number;
  served: number;
  /** True when `stop()` ended serving before the last request. */
  stopped: boolean;
}

/** A model shared on a cluster: what its owner needs to serve, stop and replace it. */
export class SharedKerasModel {
  /** Set while `serve` runs; `stop()` ends it. */
  serving?: { stop(): void };

  constructor(
    readonly name: string,
    readonly cluster: TFECluster,
    readonly plan: Plan,
    /** server0's grant over the weight shares, without its count (serve and stop set `maxRuns`). */
    readonly grant: UseGrant,
    readonly ownerToken: string,
  ) {}

  toString(): string {
    const ir = this.plan.serialize().ir;
    return `Model "${this.name}" shared on ${this.cluster.workers.map((w) => w.host).join(", ")} (${ir.ops.length} ops, ${ir.state.length} weight tensors in shares)`;
  }

  [DISPLAY](): MimeBundle {
    return { "text/plain": this.toString(), "text/html": `<b>${escapeHtml(this.toString())}</b>` };
  }
}

/** The model shared on each cluster, and the cluster each model is shared on. */
const byCluster = new WeakMap<TFECluster, SharedKerasModel>();
const byModel = new WeakMap<tfjs.LayersModel, SharedKerasModel>();

/** How often `serve` asks server0 for its count. */
const POLL_MS = 50;

/**
 * Shares `model` on `cluster` (started): see the file's header, step 1.
 *
 * @example
 * ```ts
 * await shareOnCluster(model, cluster, { name: "mnist" });   // model.share(cluster, { name: "mnist" })
 * ```
 */
export async function shareOnCluster(
  model: tfjs.LayersModel,
  cluster: TFECluster,
  options: KerasShareOptions = {},
): Promise<SharedKerasModel> {
  const name = options.name ?? "model";
  checkId(name, "model name");
  const [h0, h1, provider] = await cluster.ownerClients();
  // Converted before anything is sent: an unsupported layer is refused with nothing shared.
  const plan = Plan.fromModel(model, { id: name, name, build: true });
  await unshare(cluster);
  plan.fixPrecision().share(h0, h1, { cryptoProvider: provider });
  const ownerToken = createOwnerToken();
  const policy = { allowRemoteInference: true, allowDownload: false, ownerTokenHash: ownerTokenHash(ownerToken) };
  await plan.send(h0, { policy, maxRuns: 0, label: name }).ready();
  const grant: UseGrant = {
    ...grantKeyOf(plan.serialize()),
    anyone: true,
    ownerTokenHash: policy.ownerTokenHash,
    label: name,
  };
  const shared = new SharedKerasModel(name, cluster, plan, grant, ownerToken);
  byCluster.set(cluster, shared);
  byModel.set(model, shared);
  return shared;
}

/**
 * Serves `numRequests` private predictions of the model shared with
 * `model.share(cluster)`: see the file's header, step 2. Shows each request
 * as it is answered (PySyft's "Served encrypted prediction i to client.").
 *
 * @example
 * ```ts
 * const report = await serveShared(model, { numRequests: 3 });   // model.serve({ numRequests: 3 })
 * ```
 */
export async function serveShared(model: tfjs.LayersModel, options: ServeOptions): Promise<ServingReport> {
  const shared = sharedOf(model, "serve");
  const numRequests = options?.numRequests;
  if (!Number.isSafeInteger(numRequests) || numRequests < 1) {
    throw new TsyftError(
      ErrorCode.INVALID_ARGUMENT,
      `serve: expected { numRequests: a positive integer }, got ${JSON.stringify(numRequests)}.`,
    );
  }
  if (shared.serving) {
    throw new TsyftError(
      ErrorCode.INVALID_ARGUMENT,
      `Model "${shared.name}" is already being served; await that serve(), or call stop() first.`,
    );
  }
  const [h0] = await shared.cluster.ownerClients();
  let stopped = false;
  shared.serving = { stop: () => (stopped = true) };
  const progress = new ServingProgress(shared.name, numRequests);
  try {
    await h0.grant({ ...shared.grant, maxRuns: numRequests });
    const timeoutMs = options.timeoutMs ?? 600_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const usage = await h0.grantUsage(shared.grant);
      const served = usage?.served ?? 0;
      progress.update(served);
      if (served >= numRequests || stopped) return { name: shared.name, numRequests, served, stopped };
      if (Date.now() > deadline) {
        throw new TsyftError(
          ErrorCode.TIMEOUT,
          `Model "${shared.name}" served ${served} of ${numRequests} requests within ${timeoutMs} ms; ` +
            "is a client querying it (client.queryModel)? Serve again with a longer timeoutMs, or stop().",
          { served, numRequests },
        );
      }
      await sleep(POLL_MS);
    }
  } finally {
    shared.serving = undefined;
  }
}

/**
 * Ends serving (step 3 of the header): server0 admits no more queries; a
 * pending `serve` resolves with what was served.
 *
 * @example
 * ```ts
 * await stopServing(model);   // model.stop()
 * ```
 */
export async function stopServing(model: tfjs.LayersModel): Promise<void> {
  const shared = sharedOf(model, "stop");
  const [h0] = await shared.cluster.ownerClients();
  await h0.grant({ ...shared.grant, maxRuns: 0 });
  shared.serving?.stop();
}

/** The model shared on `cluster`, if any. */
export function sharedOnCluster(cluster: TFECluster): SharedKerasModel | undefined {
  return byCluster.get(cluster);
}

function sharedOf(model: tfjs.LayersModel, what: string): SharedKerasModel {
  const shared = byModel.get(model);
  if (!shared || byCluster.get(shared.cluster) !== shared || !shared.cluster.isStarted) {
    throw new TsyftError(
      ErrorCode.MODEL_NOT_SERVED,
      `${what}: this model is not shared on a started cluster; call await model.share(cluster) first` +
        (shared && byCluster.get(shared.cluster) !== shared
          ? " (another model was shared on its cluster since)."
          : "."),
    );
  }
  return shared;
}

/** Frees the plan and weight shares of the model shared on `cluster` before, if any. */
async function unshare(cluster: TFECluster): Promise<void> {
  const previous = byCluster.get(cluster);
  if (!previous) return;
  byCluster.delete(cluster);
  previous.serving?.stop();
  const [h0, h1] = await cluster.ownerClients();
  const shareIds = previous.grant.stateIds.filter((id): id is string => id !== null);
  h0.release([...shareIds, previous.name]);
  h1.release(shareIds);
}

/** What `serve` shows: the original's line per request, and a progress bar in notebooks. */
class ServingProgress {
  private shown = 0;
  private readonly displayId = `tsyft-serving-${Math.random().toString(36).slice(2)}`;
  private readonly lines: string[] = [];

  constructor(
    private readonly name: string,
    private readonly numRequests: number,
  ) {
    kernelBridge()?.display(this.bundle(), { displayId: this.displayId });
  }

  update(served: number): void {
    if (served <= this.shown) return;
    const bridge = kernelBridge();
    for (let i = this.shown + 1; i <= Math.min(served, this.numRequests); i++) {
      const line = `Served encrypted prediction ${i} to client.`;
      this.lines.push(line);
      if (!bridge) console.log(line);
    }
    this.shown = served;
    bridge?.updateDisplay(this.bundle(), { displayId: this.displayId });
  }

  private bundle(): MimeBundle {
    const head = `Serving "${this.name}": ${this.shown} of ${this.numRequests} private predictions`;
    return {
      "text/plain": [head, ...this.lines].join("\n"),
      "text/html":
        `<div><progress value="${this.shown}" max="${this.numRequests}"></progress> ${escapeHtml(head)}</div>` +
        (this.lines.length ? `<pre>${escapeHtml(this.lines.join("\n"))}</pre>` : ""),
    };
  }
}
