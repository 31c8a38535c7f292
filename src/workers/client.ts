/**
 * The client side of a worker connection: turns WorkerHandle calls into
 * encoded requests, matches replies by request id, and fails every wait after
 * a timeout or when the link drops, naming the worker and what was asked.
 * Shared by VirtualWorker (in process) and the grid's WebSocket clients.
 */
import { getConfig } from "../core/config";
import { CommunicationError, ErrorCode, deserializeError } from "../core/errors";
import type { PlanHost } from "../plans/host";
import type { Command, StoredValue, WorkerHandle } from "../tensors/handle";
import { decodeReply, encodeRequest, type Reply, type Request } from "./messages";

type WithoutRid<R> = R extends { rid: number } ? Omit<R, "rid"> : never;
export type CallRequest = WithoutRid<Request>;
export type PostRequest = Exclude<Request, { rid: number }>;

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  what: string;
}

/** What every client-side worker offers besides WorkerHandle (PySyft's worker API). */
export interface ObjectsApi {
  /** Ids of the objects the worker holds. */
  listObjects(): Promise<string[]>;
  objectCount(): Promise<number>;
  clearObjects(): Promise<void>;
}

export class WorkerClient implements WorkerHandle, ObjectsApi, PlanHost {
  private nextRid = 1;
  private readonly pending = new Map<number, Pending>();
  /** Replies that matched no request (errors about malformed messages). */
  readonly unsolicited: Error[] = [];

  constructor(
    readonly id: string,
    /** Sends an encoded request; replies come back through `receiveReply`. */
    private readonly deliver: (bytes: Uint8Array) => void,
  ) {}

  submit(command: Command): void {
    this.post({ t: "submit", command });
  }

  store(id: string, value: StoredValue): void {
    this.post({ t: "store", id, value });
  }

  async fetch(id: string, options: { remove: boolean }): Promise<StoredValue> {
    return (await this.call({ t: "fetch", id, remove: options.remove })) as StoredValue;
  }

  release(ids: readonly string[]): void {
    if (ids.length > 0) this.post({ t: "release", ids: [...ids] });
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
  async storePlan(id: string, bytes: Uint8Array, options: { token?: string } = {}): Promise<void> {
    await this.call({ t: "store-plan", id, plan: bytes, token: options.token });
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
    const rid = this.nextRid++;
    const what = request.t === "fetch" ? `fetch of "${request.id}"` : request.t;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(rid);
        reject(
          new CommunicationError(
            ErrorCode.TIMEOUT,
            `No answer from ${this.id} to ${what} within ${timeoutMs} ms. Is it alive? (timeoutMs is configurable)`,
            {
              worker: this.id,
            },
          ),
        );
      }, timeoutMs);
      timer.unref?.();
      this.pending.set(rid, { resolve, reject, timer, what });
      try {
        this.deliver(encodeRequest({ ...request, rid } as Request));
      } catch (error) {
        clearTimeout(timer);
        this.pending.delete(rid);
        reject(error);
      }
    });
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
    const pending = this.pending.get(reply.rid);
    if (!pending) {
      if (!reply.ok) this.unsolicited.push(deserializeError(reply.error));
      return;
    }
    this.pending.delete(reply.rid);
    clearTimeout(pending.timer);
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(deserializeError(reply.error));
  }

  /** The link is gone: every wait fails now, naming the worker. */
  failAll(reason: string, code: ErrorCode = ErrorCode.CONNECTION): void {
    for (const [rid, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(
        new CommunicationError(code, `Lost the link to ${this.id} (${reason}) while waiting for ${pending.what}.`, {
          worker: this.id,
        }),
      );
      this.pending.delete(rid);
    }
  }

  get waiting(): number {
    return this.pending.size;
  }
}
