/**
 * A pointer to an asset on a domain, or to the result of remote ops on one:
 * its shape and dtype are visible, its values are not. Ops run on the domain
 * and answer new pointers; `get()` needs the data owner's consent
 * (`request({ reason })`); `publish({ sigma })` releases a noisy copy charged
 * to the caller's privacy budget.
 *
 * @example
 * ```ts
 * const images = (await domain.datasets)[0]!["train_images"];
 * const mean = await (await images.slice([0], [100])).mean(0);
 * const released = await mean.publish({ sigma: 0.05 });
 * released.epsilon;             // what it cost
 * (await released.get()).print();
 * ```
 */
import type * as tf from "@tensorflow/tfjs";
import { DISPLAY, type MimeBundle } from "../core/display-protocol";
import { fmtShape } from "../core/errors";
import type { DomainHttp } from "./client-http";
import type { RemoteOp } from "./remote-ops";
import { tensorsOfPayloads, type TensorPayload } from "./tensor-payload";
import { RequestView, type RequestInfo } from "./request-views";

/** What the domain says of a pointer. */
export interface PointerInfo {
  id: string;
  shape: number[];
  dtype: string;
  asset: { id: string; key: string; dtype: string; shape: number[]; min: number; max: number; subjectCount: number };
  ops: RemoteOp[];
}

/** A released (noisy) result and what it cost. */
export class Published {
  constructor(
    private readonly tensor: TensorPayload,
    /** The epsilon this release was charged. */
    readonly epsilon: number,
    readonly delta: number,
    /** The query's L2 sensitivity the noise was calibrated to. */
    readonly sensitivity: number,
    readonly sigma: number,
    /** What is left of the budget after it. */
    readonly privacyBudget: number,
  ) {}

  /** The released values as a TF.js tensor (public now: no further cost). */
  async get(): Promise<tf.Tensor> {
    return tensorsOfPayloads([this.tensor])[0]!;
  }

  [DISPLAY](): MimeBundle {
    return {
      "text/plain": `Published ${fmtShape(this.tensor.shape)}: epsilon ${this.epsilon.toPrecision(4)} spent (delta ${this.delta}), ${this.privacyBudget.toPrecision(4)} left`,
    };
  }
}

/** A pointer to private data on a domain. */
export class AssetPointer {
  readonly id: string;
  readonly shape: number[];
  readonly dtype: string;
  /** The asset's key in its dataset ("train_images"). */
  readonly key: string;
  /** The ops from the asset to this result (none: the asset itself). */
  readonly ops: readonly RemoteOp[];
  /** The asset's declared value bounds. */
  readonly bounds: { min: number; max: number };

  constructor(
    private readonly http: DomainHttp,
    info: PointerInfo,
  ) {
    this.id = info.id;
    this.shape = info.shape;
    this.dtype = info.dtype;
    this.key = info.asset.key;
    this.ops = info.ops;
    this.bounds = { min: info.asset.min, max: info.asset.max };
  }

  /** A pointer to `size` entries from `begin` along the first axes (size -1: to the end), cut on the domain. */
  slice(begin: number | number[], size: number | number[]): Promise<AssetPointer> {
    return this.op({ op: "slice", begin: [begin].flat(), size: [size].flat() });
  }

  /** A pointer to the sum over `axis` (all axes when omitted), computed on the domain. */
  sum(axis?: number | number[]): Promise<AssetPointer> {
    return this.op({ op: "sum", ...(axis !== undefined && { axis: [axis].flat() }) });
  }

  /** A pointer to the mean over `axis` (all axes when omitted), computed on the domain. */
  mean(axis?: number | number[]): Promise<AssetPointer> {
    return this.op({ op: "mean", ...(axis !== undefined && { axis: [axis].flat() }) });
  }

  /**
   * The values. Only data owners may, or a user whose request for this pointer (or its asset) was accepted;
   * others get TSYFT_ERR_PERMISSION saying how to ask.
   */
  async get(): Promise<tf.Tensor> {
    const { tensor } = await this.http.request<{ tensor: TensorPayload }>("GET", `/objects/${enc(this.id)}/value`);
    return tensorsOfPayloads([tensor])[0]!;
  }

  /** Asks the data owner for access to these values; it appears in their `domain.requests`. */
  async request(options: { reason: string }): Promise<RequestView> {
    const { request } = await this.http.request<{ request: RequestInfo }>("POST", "/requests", {
      kind: "data_access",
      objectId: this.id,
      reason: options.reason,
    });
    return new RequestView(this.http, request);
  }

  /**
   * Releases these values with Gaussian noise of standard deviation `sigma`, charging the epsilon that gives for
   * this query's sensitivity to your budget; over budget, TSYFT_ERR_PRIVACY_BUDGET and nothing is released.
   */
  async publish(options: { sigma: number }): Promise<Published> {
    const answer = await this.http.request<{
      tensor: TensorPayload;
      epsilon: number;
      delta: number;
      sensitivity: number;
      sigma: number;
      privacyBudget: number;
    }>("POST", `/objects/${enc(this.id)}/publish`, { sigma: options.sigma });
    return new Published(
      answer.tensor,
      answer.epsilon,
      answer.delta,
      answer.sensitivity,
      answer.sigma,
      answer.privacyBudget,
    );
  }

  toString(): string {
    const steps = this.ops.map((op) => op.op).join(".");
    return `AssetPointer ${this.key}${steps ? `.${steps}` : ""}: ${this.dtype} ${fmtShape(this.shape)} (values private)`;
  }

  [DISPLAY](): MimeBundle {
    return { "text/plain": this.toString() };
  }

  private async op(op: Record<string, unknown>): Promise<AssetPointer> {
    return new AssetPointer(
      this.http,
      await this.http.request<PointerInfo>("POST", `/objects/${enc(this.id)}/ops`, op),
    );
  }
}

const enc = encodeURIComponent;
