/**
 * VirtualWorker: a worker in this process (PySyft's VirtualWorker).
 *
 * It is both the executing worker and the client's handle on it; every
 * message still goes through the binary encoding and the in-process network,
 * so code written against VirtualWorkers runs unchanged against grid nodes.
 *
 * @example
 * ```ts
 * const hook = sy.hook(tf);
 * const bob = new sy.VirtualWorker(hook, { id: "bob" });
 * const p = tf.tensor([1, 2]).send(bob);
 * bob.objects.count;   // 1
 * ```
 */
import { checkWorkerId } from "../core/worker-id";
import { fetchPlan, type FetchPlanOptions } from "../plans/fetch";
import type { PlanHost } from "../plans/host";
import type { Plan } from "../plans/plan";
import type { Command, StoredValue, WorkerHandle } from "../tensors/handle";
import type { Hook } from "../tensors/hook";
import { WorkerClient, type ObjectsApi } from "./client";
import { networkOf, type InProcessNetwork } from "./in-process";
import { Worker } from "./worker";

export interface VirtualWorkerOptions {
  id: string;
}

export class VirtualWorker extends Worker implements WorkerHandle, ObjectsApi, PlanHost {
  readonly network: InProcessNetwork;
  readonly client: WorkerClient;

  constructor(
    readonly hook: Hook,
    options: VirtualWorkerOptions,
  ) {
    checkWorkerId(options?.id, "VirtualWorker");
    const network = networkOf(hook);
    super(options.id, hook.tf, network.transportFor(options.id));
    this.network = network;
    this.client = new WorkerClient(this.id, (bytes) => {
      network.request("client", this.id, bytes).then(
        (reply) => reply && this.client.receiveReply(reply),
        (error: Error) => this.client.failAll(error.message),
      );
    });
    network.register(this);
    hook.registerWorker(this);
  }

  submit(command: Command): void {
    this.client.submit(command);
  }

  store(id: string, value: StoredValue): void {
    this.client.store(id, value);
  }

  fetch(id: string, options: { remove: boolean }): Promise<StoredValue> {
    return this.client.fetch(id, options);
  }

  release(ids: readonly string[]): void {
    this.client.release(ids);
  }

  storePlan(id: string, bytes: Uint8Array, options: { token?: string } = {}): Promise<void> {
    return this.client.storePlan(id, bytes, options);
  }

  fetchPlanBytes(id: string, options: { copy: boolean; token?: string }): Promise<Uint8Array> {
    return this.client.fetchPlanBytes(id, options);
  }

  /**
   * Fetches a plan from its host (PySyft's `me.fetch_plan`). Without `copy` a
   * plan can be fetched once; an encrypted plan comes back holding references
   * to the shares of its weights, never the weights.
   *
   * @example
   * ```ts
   * const fetched = await me.fetchPlan("convnet", alice, { copy: true });
   * const y = fetched(xSh);
   * ```
   */
  fetchPlan(id: string, location: PlanHost, options: FetchPlanOptions = {}): Promise<Plan> {
    return fetchPlan(this.hook, id, location, options);
  }

  listObjects(): Promise<string[]> {
    return this.client.listObjects();
  }

  objectCount(): Promise<number> {
    return this.client.objectCount();
  }

  clearObjects(): Promise<void> {
    return this.client.clearObjects();
  }

  override toString(): string {
    return `VirtualWorker(${this.id}, ${this.objects.count} objects)`;
  }
}
