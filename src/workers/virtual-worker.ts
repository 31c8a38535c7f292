/**
 * VirtualWorker: a worker in this process (PySyft's VirtualWorker).
 *
 * It is both the executing worker and the client's handle on it; every
 * message still goes through the binary encoding and the in-process network,
 * so code written against VirtualWorkers runs unchanged against grid nodes.
 * It stays a Worker by inheritance (tests and notebooks read its objects,
 * stats and dealer directly), and takes the client's calls from ClientHandle,
 * the same forwarding to a WorkerClient as the grid's clients.
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
import type { WorkerHandle } from "../tensors/handle";
import type { Hook } from "../tensors/hook";
import { ClientHandle, WorkerClient, type ObjectsApi } from "./client";
import { networkOf, type InProcessNetwork } from "./in-process";
import { Worker } from "./worker";

export interface VirtualWorkerOptions {
  id: string;
}

export class VirtualWorker extends ClientHandle(Worker) implements WorkerHandle, ObjectsApi, PlanHost {
  readonly network: InProcessNetwork;
  readonly rpc: WorkerClient;

  constructor(
    readonly hook: Hook,
    options: VirtualWorkerOptions,
  ) {
    checkWorkerId(options?.id, "VirtualWorker");
    const network = networkOf(hook);
    super(options.id, hook.tf, network.transportFor(options.id));
    this.network = network;
    this.rpc = new WorkerClient(this.id, (bytes) => {
      network.request("client", this.id, bytes).then(
        (reply) => reply && this.rpc.receiveReply(reply),
        (error: Error) => this.rpc.failAll(error.message),
      );
    });
    network.register(this);
    hook.registerWorker(this);
  }

  /** The request layer (the same object as `rpc`, under the name VirtualWorker first gave it). */
  get client(): WorkerClient {
    return this.rpc;
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

  override toString(): string {
    return `VirtualWorker(${this.id}, ${this.objects.count} objects)`;
  }
}
