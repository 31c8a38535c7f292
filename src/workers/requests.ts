/**
 * What a worker does with each client request, and who may do it. Every
 * request acts in its caller's namespace (object-store.ts): `store`, `fetch`,
 * `release`, `objects` and the inputs and outputs of commands; `clear`
 * clears the caller's objects, or everyone's for the admin. Plans are named
 * by id by everyone and guarded by their policy (plan-store.ts); weight
 * shares are used by others only under their owner's grant (grants.ts).
 *
 * Anonymous callers may only do what querying a model served with
 * allowRemoteInference needs: store shares, run a granted plan (run-plan,
 * preprocess-plan) or an allowed hosted plan (run-hosted-plan), fetch and
 * release their own objects, fetch copies of such plans, ping. Anything else
 * is refused with TSYFT_ERR_AUTH.
 *
 * Requests of one session run in the order they came (SessionQueues); a
 * request without a reply that fails leaves its failure under the id it
 * would have written, where the next fetch finds it.
 *
 * @example
 * ```ts
 * const reply = await answerRequest(worker, decodeRequest(bytes), caller);
 * ```
 */
import { AuthError, CommunicationError, ErrorCode, WorkerError, serializeError } from "../core/errors";
import type { StoredValue } from "../tensors/handle";
import { fromTensorData, tensorData } from "../tensors/hook";
import type { TF } from "../tensors/plain-ops";
import { accessOf, type Access, type Caller } from "./caller";
import { checkGrant, checkGrantKey, type Grants } from "./grants";
import type { Reply, Request } from "./messages";
import { describeObject, type ObjectStore, type StoredObject } from "./object-store";
import type { PlanStore } from "./plan-store";
import type { SessionQueues } from "./session-queues";
import type { Command } from "../tensors/handle";

/** What answering requests needs of its worker. */
export interface RequestHost {
  readonly id: string;
  readonly tf: TF;
  readonly objects: ObjectStore;
  readonly plans: PlanStore;
  readonly grants: Grants;
  readonly queues: SessionQueues;
  put(owner: string, id: string, object: StoredObject): void;
  /** Runs one pipelined command for `access`; a failure is kept under its output ids. */
  execute(command: Command, access: Access): Promise<void>;
  /** Keeps a failure under `owner`'s `ids`, where a fetch finds it. */
  recordFailure(owner: string, ids: readonly unknown[], op: string, error: unknown): void;
}

/** Command types an anonymous caller may submit (their state and plans are checked when they run). */
const ANONYMOUS_COMMANDS: ReadonlySet<string> = new Set(["run-plan", "run-hosted-plan", "preprocess-plan"]);

/**
 * Throws TSYFT_ERR_AUTH when an anonymous caller asks for what querying a
 * model does not need.
 *
 * @example
 * ```ts
 * checkAnonymous({ t: "clear", rid: 1 }, access);   // throws for an anonymous access
 * ```
 */
export function checkAnonymous(request: Request, access: Access): void {
  if (!access.anonymous) return;
  switch (request.t) {
    case "ping":
    case "fetch":
    case "release":
    case "fetch-plan":
    case "grant-usage":
      return;
    case "store":
      if (request.value?.kind === "share") return;
      break;
    case "submit":
      if (ANONYMOUS_COMMANDS.has((request.command as { type?: string } | undefined)?.type ?? "")) return;
      break;
  }
  const what = request.t === "submit" ? `a ${(request.command as { type?: string })?.type} command` : request.t;
  throw new AuthError(
    ErrorCode.AUTH,
    `Anonymous clients may only query models served with allowRemoteInference; ${what} is refused. Pass { token } (an admin or user token).`,
  );
}

/** Answers one decoded request of `caller`; undefined for requests without a reply. */
export async function answerRequest(host: RequestHost, request: Request, caller: Caller): Promise<Reply | undefined> {
  const access = accessOf(caller.principal);
  const enqueue = <T>(fn: () => T | Promise<T>) => host.queues.enqueue(caller.session, fn);
  const answer = async (rid: number, fn: () => unknown): Promise<Reply> => {
    try {
      return { rid, ok: true, value: await enqueue(() => (checkAnonymous(request, access), fn())) };
    } catch (error) {
      return { rid, ok: false, error: serializeError(error) };
    }
  };
  switch (request.t) {
    case "submit":
      void enqueue(() => host.execute(request.command, access));
      return undefined;
    case "store":
      void enqueue(() => {
        try {
          checkAnonymous(request, access);
          storeValue(host, access.owner, request.id, request.value);
        } catch (error) {
          host.recordFailure(access.owner, [request.id], "store", error);
        }
      });
      return undefined;
    case "release":
      void enqueue(() => release(host, access, request.ids, request.ownerToken));
      return undefined;
    case "fetch":
      return answer(request.rid, () => fetchValue(host, access.owner, request.id, request.remove));
    case "objects":
      return answer(request.rid, () => host.objects.list(access.owner));
    case "clear":
      return answer(request.rid, () => host.objects.clear(access.admin ? undefined : access.owner));
    case "ping":
      return { rid: request.rid, ok: true, value: host.id };
    case "store-plan":
      return answer(request.rid, () =>
        host.plans.store(access, request.id, request.plan, {
          token: request.token,
          policy: request.policy,
          ownerToken: request.ownerToken,
        }),
      );
    case "fetch-plan":
      return answer(request.rid, () =>
        host.plans.fetch(access, request.id, { copy: request.copy, token: request.token }),
      );
    case "grant":
      return answer(request.rid, () => host.grants.add(access.owner, checkGrant(request.grant)));
    case "grant-usage":
      return answer(request.rid, () => {
        const { irHash, stateIds } = checkGrantKey(request);
        return host.grants.usage(access, irHash, stateIds) ?? null;
      });
  }
}

function storeValue(host: RequestHost, owner: string, id: string, value: StoredValue): void {
  if (typeof id !== "string" || !value || (value.kind !== "share" && value.kind !== "tensor")) {
    throw new CommunicationError(
      ErrorCode.MALFORMED_MESSAGE,
      `store: expected an id and a share or tensor, got ${JSON.stringify(value?.kind)}.`,
    );
  }
  host.put(owner, id, value.kind === "share" ? value : { kind: "tensor", value: fromTensorData(host.tf, value.value) });
}

function fetchValue(host: RequestHost, owner: string, id: string, remove: boolean): StoredValue {
  const object = host.objects.get(owner, id);
  let value: StoredValue;
  switch (object.kind) {
    case "share":
      value = object;
      break;
    case "tensor":
      value = { kind: "tensor", value: tensorData(object.value) };
      break;
    default:
      throw new WorkerError(
        ErrorCode.UNSUPPORTED_OP,
        `Object "${id}" on ${host.id} is a ${describeObject(object)}, not a tensor.`,
      );
  }
  if (remove) host.objects.delete(owner, id);
  return value;
}

/** Frees the caller's objects; the admin's also frees plans, and a model's owner token that model's plan and shares. */
function release(host: RequestHost, access: Access, ids: readonly string[], ownerToken: unknown): void {
  for (const id of ids) host.objects.delete(access.owner, id);
  host.plans.releaseOthers(access, ids, ownerToken);
  if (typeof ownerToken !== "string" || access.anonymous) return;
  for (const { owner, id } of host.grants.releasableWith(ownerToken, ids)) host.objects.delete(owner, id);
}
