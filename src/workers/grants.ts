/**
 * Use grants: how a model's owner lets others use its weight shares without
 * letting them read them. The owner sends each holder a `grant` request:
 * "my objects `stateIds` may be the state of run-plan and preprocess-plan
 * commands whose IR hash (plans/ir-hash.ts) is `irHash`, by anyone" (a model
 * served with allowRemoteInference) or "by me only". A command from someone
 * else resolves its state in the owner's namespace only when a grant names
 * exactly this IR's hash and exactly these state ids: so nobody can run
 * `return state[0]` over the weights, or another plan's weights under this IR.
 *
 * A grant is an object of type "grant" in its owner's namespace (it persists
 * with the node's objects and goes with `clear`), found by IR hash through
 * a TypeIndex.
 *
 * @example
 * ```ts
 * worker.grants.add("user:ada", { irHash: irHash(plan.ir), stateIds: ["w1", "b1"], anyone: true });
 * worker.grants.stateOwner(caller, irHash(command.ir), ["w1", "b1"]);   // "user:ada"
 * ```
 */
import { createHash, randomUUID } from "node:crypto";
import { AuthError, CommunicationError, ErrorCode, WorkerError } from "../core/errors";
import { isValidId } from "../core/ids";
import { matchesOwnerToken, type GrantUsage, type UseGrant } from "../plans/host";
import type { Access } from "./caller";
import type { ObjectStore } from "./object-store";
import { TypeIndex } from "./type-index";

export type { GrantUsage, UseGrant };

export const GRANT_TYPE = "grant";

/**
 * Checks a grant as it came in a request; throws MALFORMED_MESSAGE when it is not one.
 *
 * @example
 * ```ts
 * const grant = checkGrant(request.grant);
 * ```
 */
export function checkGrant(value: unknown): UseGrant {
  const g = value as Partial<UseGrant> | null;
  const ok =
    typeof g === "object" &&
    g !== null &&
    typeof g.irHash === "string" &&
    /^[0-9a-f]{64}$/.test(g.irHash) &&
    Array.isArray(g.stateIds) &&
    g.stateIds.every((id) => id === null || isValidId(id)) &&
    typeof g.anyone === "boolean" &&
    (g.ownerTokenHash == null || (typeof g.ownerTokenHash === "string" && /^[0-9a-f]{64}$/.test(g.ownerTokenHash))) &&
    (g.maxRuns == null || (Number.isSafeInteger(g.maxRuns) && g.maxRuns >= 0)) &&
    (g.label == null || (typeof g.label === "string" && g.label.length <= MAX_LABEL));
  if (!ok) {
    throw new CommunicationError(
      ErrorCode.MALFORMED_MESSAGE,
      "grant: expected { irHash: 64 hex characters, stateIds: object ids or null, anyone: boolean, ownerTokenHash?, " +
        `maxRuns?: an integer >= 0, label?: up to ${MAX_LABEL} characters }.`,
    );
  }
  return {
    irHash: g.irHash!,
    stateIds: [...g.stateIds!],
    anyone: g.anyone!,
    ...(g.ownerTokenHash != null && { ownerTokenHash: g.ownerTokenHash }),
    ...(g.maxRuns != null && { maxRuns: g.maxRuns }),
    ...(g.label != null && { label: g.label }),
  };
}

/**
 * Checks a `grant-usage` request's key; throws MALFORMED_MESSAGE when it is not one.
 *
 * @example
 * ```ts
 * const { irHash, stateIds } = checkGrantKey(request);
 * ```
 */
export function checkGrantKey(value: { irHash?: unknown; stateIds?: unknown }): Pick<UseGrant, "irHash" | "stateIds"> {
  const { irHash, stateIds } = value;
  if (
    typeof irHash !== "string" ||
    !/^[0-9a-f]{64}$/.test(irHash) ||
    !Array.isArray(stateIds) ||
    !stateIds.every((id) => id === null || isValidId(id))
  ) {
    throw new CommunicationError(
      ErrorCode.MALFORMED_MESSAGE,
      "grant-usage: expected { irHash: 64 hex characters, stateIds: object ids or null }.",
    );
  }
  return { irHash, stateIds: [...(stateIds as Array<string | null>)] };
}

/** What a command's state resolved to: its namespace, and, for a counted grant, how the run ends there. */
export interface Admission {
  owner: string;
  /** Reports the run's end: answered (counted as served) or failed (its place given back). */
  settle(answered: boolean): void;
}

/**
 * A grant as stored: with `maxRuns`, the runs served under it (kept with it, so a restart keeps the count) and the
 * generation it was made in (a run admitted under one grant is not counted on the grant that replaced it).
 */
type StoredGrant = UseGrant & { served?: number; generation?: string };

const MAX_LABEL = 200;

/**
 * A worker's grants.
 *
 * @example
 * ```ts
 * const grants = new Grants(worker.objects);
 * ```
 */
export class Grants {
  private readonly index: TypeIndex<StoredGrant>;
  /** Runs admitted under counted grants and not yet ended, by owner, grant id and generation. */
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly objects: ObjectStore) {
    this.index = new TypeIndex<StoredGrant>(objects, GRANT_TYPE, (_id, grant) => grant.irHash);
  }

  /** Records `owner`'s grant (one per IR hash and state ids; a new one replaces it and starts a new count). */
  add(owner: string, grant: UseGrant): void {
    const stored: StoredGrant = grant.maxRuns === undefined ? grant : { ...grant, served: 0, generation: randomUUID() };
    this.objects.set(owner, grantId(grant), { kind: "other", type: GRANT_TYPE, value: stored });
  }

  /**
   * Where a run's state resolves (see stateOwner), admitting it under a
   * counted grant: refused with TSYFT_ERR_MODEL_NOT_SERVED while the grant
   * admits none, and TSYFT_ERR_SERVING_LIMIT once its runs are served or
   * taken by runs in flight. Call `settle` when the run ends.
   */
  admit(caller: Access, irHash: string, stateIds: ReadonlyArray<string | null>): Admission {
    const found = this.resolve(caller, irHash, stateIds);
    const grant = found.grant;
    if (grant?.maxRuns === undefined) return { owner: found.owner, settle: () => undefined };
    const id = grantId(grant);
    const key = inFlightKey(found.owner, grant);
    const served = grant.served ?? 0;
    const running = this.inFlight.get(key) ?? 0;
    const name = `Model "${grant.label ?? "model"}"`;
    if (grant.maxRuns === 0) {
      throw new WorkerError(
        ErrorCode.MODEL_NOT_SERVED,
        `${name} is shared here but not being served: its owner has not called serve(), or stopped it.`,
        { label: grant.label ?? null },
      );
    }
    if (served + running >= grant.maxRuns) {
      throw new WorkerError(
        ErrorCode.SERVING_LIMIT,
        served >= grant.maxRuns
          ? `${name} served its ${grant.maxRuns} requests; its owner can serve it again (serve({ numRequests })).`
          : `${name} is serving its last of ${grant.maxRuns} requests (${served} served, ${running} in progress).`,
        { label: grant.label ?? null, served, maxRuns: grant.maxRuns },
      );
    }
    this.inFlight.set(key, running + 1);
    let settled = false;
    return {
      owner: found.owner,
      settle: (answered) => {
        if (settled) return;
        settled = true;
        const left = (this.inFlight.get(key) ?? 1) - 1;
        if (left > 0) this.inFlight.set(key, left);
        else this.inFlight.delete(key);
        // Counted on the grant as it is now (other runs may have been counted since this one was admitted), unless
        // it was replaced meanwhile (served again, stopped): a new grant starts a new count.
        const current = this.objects.peek(found.owner, id);
        const now = current?.kind === "other" ? (current.value as StoredGrant) : undefined;
        if (!answered || now === undefined || now.generation !== grant.generation) return;
        const next: StoredGrant = { ...now, served: (now.served ?? 0) + 1 };
        this.objects.set(found.owner, id, { kind: "other", type: GRANT_TYPE, value: next });
      },
    };
  }

  /**
   * How the grant over exactly this IR and these state ids that lets
   * `caller` run it is used; undefined when none does.
   */
  usage(caller: Access, irHash: string, stateIds: ReadonlyArray<string | null>): GrantUsage | undefined {
    const found = this.grantFor(caller, irHash, stateIds);
    if (!found) return undefined;
    const { value: grant, owner } = found;
    return {
      served: grant.served ?? 0,
      inFlight: this.inFlight.get(inFlightKey(owner, grant)) ?? 0,
      anyone: grant.anyone,
      ...(grant.maxRuns !== undefined && { maxRuns: grant.maxRuns }),
      ...(grant.label !== undefined && { label: grant.label }),
    };
  }

  /**
   * The namespace a command's state resolves in: the caller's own when it
   * holds every state object; else the owner of a grant for exactly this IR
   * hash and these state ids that lets the caller use it. Anonymous callers
   * need a grant to anyone. Otherwise the state is missing, answered like
   * any missing id (TSYFT_ERR_OBJECT_NOT_FOUND from the store).
   */
  stateOwner(caller: Access, irHash: string, stateIds: ReadonlyArray<string | null>): string {
    return this.resolve(caller, irHash, stateIds).owner;
  }

  /** stateOwner, with the grant it went through (none for the caller's own state). */
  private resolve(
    caller: Access,
    irHash: string,
    stateIds: ReadonlyArray<string | null>,
  ): { owner: string; grant?: StoredGrant } {
    const objectIds = stateIds.filter((id): id is string => id !== null);
    const own = objectIds.length > 0 && objectIds.every((id) => this.objects.has(caller.owner, id));
    if (own && !caller.anonymous) return { owner: caller.owner };
    const grant = this.grantFor(caller, irHash, stateIds);
    if (grant) return { owner: grant.owner, grant: grant.value };
    if (caller.anonymous) {
      throw new AuthError(
        ErrorCode.AUTH,
        "Anonymous clients may only query models served with allowRemoteInference (a plan whose state its owner " +
          "granted to anyone, run with exactly that plan's IR); pass { token } to do more.",
      );
    }
    return { owner: caller.owner };
  }

  /** The grant over exactly this IR hash and these state ids that lets `caller` use them, if any. */
  private grantFor(caller: Access, irHash: string, stateIds: ReadonlyArray<string | null>) {
    return this.index
      .lookup(irHash)
      .find(({ owner, value }) => (value.anyone || owner === caller.owner) && sameIds(value.stateIds, stateIds));
  }

  /**
   * The objects among `ids` that a grant made with the owner token
   * `ownerToken` covers (deleteModel by whoever holds the model's owner
   * token), with their owner; the grant itself included.
   */
  releasableWith(ownerToken: string, ids: readonly string[]): Array<{ owner: string; id: string }> {
    const wanted = new Set(ids);
    const out: Array<{ owner: string; id: string }> = [];
    for (const owner of this.objects.owners()) {
      for (const id of this.objects.list(owner)) {
        const object = this.objects.peek(owner, id);
        if (object?.kind !== "other" || object.type !== GRANT_TYPE) continue;
        const grant = object.value as UseGrant;
        if (!matchesOwnerToken(grant.ownerTokenHash, ownerToken)) continue;
        const covered = grant.stateIds.filter((s): s is string => s !== null && wanted.has(s));
        for (const s of covered) out.push({ owner, id: s });
        if (covered.length > 0) out.push({ owner, id });
      }
    }
    return out;
  }
}

/** Where the runs in flight under one generation of `owner`'s counted grant are counted. */
function inFlightKey(owner: string, grant: StoredGrant): string {
  return `${owner}|${grantId(grant)}|${grant.generation}`;
}

/** The object id of a grant: one per IR hash and state ids. */
function grantId(grant: UseGrant): string {
  const digest = createHash("sha256").update(grant.irHash).update(JSON.stringify(grant.stateIds)).digest("hex");
  return `grant.${digest.slice(0, 32)}`;
}

function sameIds(a: ReadonlyArray<string | null>, b: ReadonlyArray<string | null>): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}
