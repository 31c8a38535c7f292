/**
 * The client side of a worker connection: turns WorkerHandle calls into
 * encoded requests and matches replies to them (rpc.ts keeps the calls
 * waiting, with their timeouts and the failure of all of them when the link
 * drops). `ClientHandle` gives a class the worker API by forwarding it to a
 * WorkerClient: VirtualWorker (in process) and the grid's WebSocket clients
 * are both built on it, so they cannot drift apart.
 */
import { getConfig } from "../core/config";
import { CommunicationError, ErrorCode, deserializeError } from "../core/errors";
import type { PlanHost, StorePlanOptions } from "../plans/host";
import type { Command, StoredValue, WorkerHandle } from "../tensors/handle";
import type { GrantUsage, UseGrant } from "./grants";
import { decodeReply, encodeRequest, type Reply, type Request } from "./messages";
import { PendingCalls, type LinkDropCode } from "./rpc";

type WithoutRid<R> = R extends { rid: number } ? Omit<R, "rid"> : never;
export type CallRequest = WithoutRid<Request>;
export type PostRequest = Exclude<Request, { rid: number }>;

/** What every client-side worker offers besides WorkerHandle (PySyft's worker API). */
export interface ObjectsApi {
  /** Ids of the objects the worker holds. */
  listObjects(): Promise<string[]>;
  objectCount(): Promise<number>;
  clearObjects(): Promise<void>;
}

/**
 * Requests to one worker, sent through `deliver`, and the replies to them.
 *
 * @example
 * ```ts
 * const rpc = new WorkerClient("bob", (bytes) => socket.send(bytes));
 * socket.on("message", (bytes) => rpc.receiveReply(bytes));
 * await rpc.ping();   // "bob"
 * ```
 */
export class WorkerClient implements WorkerHandle, ObjectsApi, PlanHost {
  private readonly calls: PendingCalls;
  /** Replies that matched no request (errors about malformed messages). */
  readonly unsolicited: Error[] = [];

  constructor(
    readonly id: string,
    /** Sends an encoded request; replies come back through `receiveReply`. */
    private readonly deliver: (bytes: Uint8Array) => void,
  ) {
    this.calls = new PendingCalls(id);
  }

  submit(command: Command): void {
    this.post({ t: "submit", command });
  }

  store(id: string, value: StoredValue): void {
    this.post({ t: "store", id, value });
  }

  async fetch(id: string, options: { remove: boolean }): Promise<StoredValue> {
    // A fetch waits for the command making the value, whose own waits on its peers time out first and name
    // the peer that did not answer; the fetch's timeout must not fire first and blame this worker instead.
    return (await this.call({ t: "fetch", id, remove: options.remove }, 2 * getConfig().timeoutMs)) as StoredValue;
  }

  release(ids: readonly string[], options: { ownerToken?: string } = {}): void {
    if (ids.length > 0)
      this.post({
        t: "release",
        ids: [...ids],
        ...(options.ownerToken !== undefined && { ownerToken: options.ownerToken }),
      });
  }

  /** Lets plans of one IR use these objects of the caller as their state (see workers/grants.ts). */
  async grant(grant: UseGrant): Promise<void> {
    await this.call({ t: "grant", grant });
  }

  /** How the grant over exactly this IR and state that lets the caller run it is used (null: none does). */
  async grantUsage(key: Pick<UseGrant, "irHash" | "stateIds">): Promise<GrantUsage | null> {
    return (await this.call({
      t: "grant-usage",
      irHash: key.irHash,
      stateIds: [...key.stateIds],
    })) as GrantUsage | null;
  }

  async listObjects(): Promise<string[]> {
    return (await this.call({ t: "objects" })) as string[];
  }

  async objectCount(): Promise<number> {
    return (await this.listObjects()).length;
  }

  async clearObjects(): Promise<void> {
    await this.call({ t: "clear" });
  }

  /** Stores a plan's bytes on the worker (PlanHost). */
  async storePlan(id: string, bytes: Uint8Array, options: StorePlanOptions = {}): Promise<void> {
    await this.call({
      t: "store-plan",
      id,
      plan: bytes,
      token: options.token,
      ...(options.policy && { policy: options.policy }),
      ...(options.ownerToken !== undefined && { ownerToken: options.ownerToken }),
    });
  }

  /** A hosted plan's bytes (PlanHost). */
  async fetchPlanBytes(id: string, options: { copy: boolean; token?: string }): Promise<Uint8Array> {
    const bytes = await this.call({ t: "fetch-plan", id, copy: options.copy, token: options.token });
    if (!(bytes instanceof Uint8Array))
      throw new CommunicationError(ErrorCode.MALFORMED_MESSAGE, `${this.id} answered a plan fetch without plan bytes.`);
    return bytes;
  }

  async ping(): Promise<string> {
    return (await this.call({ t: "ping" })) as string;
  }

  /** Sends a request that expects no reply. */
  post(request: PostRequest): void {
    this.deliver(encodeRequest(request));
  }

  /** Sends a request and resolves with its reply's value. */
  call(request: CallRequest, timeoutMs = getConfig().timeoutMs): Promise<unknown> {
    const what = request.t === "fetch" ? `fetch of "${request.id}"` : request.t;
    const { rid, promise } = this.calls.open(what, timeoutMs);
    try {
      this.deliver(encodeRequest({ ...request, rid } as Request));
    } catch (error) {
      this.calls.fail(rid, error as Error);
    }
    return promise;
  }

  /** Hands an encoded reply to the request waiting for it. */
  receiveReply(bytes: Uint8Array): void {
    let reply: Reply;
    try {
      reply = decodeReply(bytes);
    } catch (error) {
      this.unsolicited.push(error as Error);
      return;
    }
    // A late reply (its request timed out) is dropped; an error nobody asked for is kept.
    if (!this.calls.settle(reply.rid, reply) && !reply.ok) this.unsolicited.push(deserializeError(reply.error));
  }

  /** The link is gone: every wait fails now, naming the worker. */
  failAll(reason: string, code: LinkDropCode = ErrorCode.CONNECTION): void {
    this.calls.failAll(reason, code);
  }

  /** How many requests wait for their replies. */
  get waiting(): number {
    return this.calls.waiting;
  }
}

/**
 * What a mixin can extend. TypeScript's mixin rule (TS2545) accepts exactly
 * `any[]` as the constructor's arguments, so the linter is told once, here.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Constructor = abstract new (...args: any[]) => object;

/**
 * `Base` plus the worker API (WorkerHandle's calls, ObjectsApi, PlanHost,
 * ping), each forwarded to the subclass's `rpc`. A mixin rather than a base
 * class because VirtualWorker is also the executing Worker, while the grid's
 * client is only a client (it extends `ClientHandle(Object)`).
 *
 * @example
 * ```ts
 * class LoopbackWorker extends ClientHandle(Object) implements WorkerHandle {
 *   readonly id = "bob";
 *   readonly rpc = new WorkerClient("bob", (bytes) => link.send(bytes));
 * }
 * ```
 */
export function ClientHandle<TBase extends Constructor>(Base: TBase) {
  abstract class Forwarding extends Base implements ObjectsApi, PlanHost {
    /** The requests and replies the calls below go through. */
    abstract readonly rpc: WorkerClient;

    /** Sends a command; returns at once (WorkerHandle). */
    submit(command: Command): void {
      this.rpc.submit(command);
    }

    /** Stores a value under `id`, pipelined like `submit` (WorkerHandle). */
    store(id: string, value: StoredValue): void {
      this.rpc.store(id, value);
    }

    /** The object `id` once everything sent before has run (WorkerHandle). */
    fetch(id: string, options: { remove: boolean }): Promise<StoredValue> {
      return this.rpc.fetch(id, options);
    }

    /** Frees objects, pipelined (WorkerHandle); with a model's owner token also that model's plan and weight shares. */
    release(ids: readonly string[], options: { ownerToken?: string } = {}): void {
      this.rpc.release(ids, options);
    }

    /** Lets plans of one IR use these objects of the caller as their state (workers/grants.ts); resolves once recorded. */
    grant(grant: UseGrant): Promise<void> {
      return this.rpc.grant(grant);
    }

    /** How the grant over exactly this IR and state that lets the caller run it is used (null: none does). */
    grantUsage(key: Pick<UseGrant, "irHash" | "stateIds">): Promise<GrantUsage | null> {
      return this.rpc.grantUsage(key);
    }

    /** Ids of the objects the worker holds. */
    listObjects(): Promise<string[]> {
      return this.rpc.listObjects();
    }

    objectCount(): Promise<number> {
      return this.rpc.objectCount();
    }

    clearObjects(): Promise<void> {
      return this.rpc.clearObjects();
    }

    /** Stores a plan on the worker (PlanHost: `plan.send(worker)`); resolves once stored. */
    storePlan(id: string, bytes: Uint8Array, options: StorePlanOptions = {}): Promise<void> {
      return this.rpc.storePlan(id, bytes, options);
    }

    /** A hosted plan's bytes (PlanHost: `me.fetchPlan(id, worker)`); without `copy` once only. */
    fetchPlanBytes(id: string, options: { copy: boolean; token?: string }): Promise<Uint8Array> {
      return this.rpc.fetchPlanBytes(id, options);
    }

    /** Resolves with the worker's id once it answered. */
    ping(): Promise<string> {
      return this.rpc.ping();
    }
  }
  return Forwarding;
}
