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
import { createHash } from "node:crypto";
import { AuthError, CommunicationError, ErrorCode } from "../core/errors";
import { isValidId } from "../core/ids";
import { matchesOwnerToken, type UseGrant } from "../plans/host";
import type { Access } from "./caller";
import type { ObjectStore } from "./object-store";
import { TypeIndex } from "./type-index";

export type { UseGrant };

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
    (g.ownerTokenHash === undefined ||
      (typeof g.ownerTokenHash === "string" && /^[0-9a-f]{64}$/.test(g.ownerTokenHash)));
  if (!ok) {
    throw new CommunicationError(
      ErrorCode.MALFORMED_MESSAGE,
      "grant: expected { irHash: 64 hex characters, stateIds: object ids or null, anyone: boolean, ownerTokenHash? }.",
    );
  }
  return {
    irHash: g.irHash!,
    stateIds: [...g.stateIds!],
    anyone: g.anyone!,
    ...(g.ownerTokenHash !== undefined && { ownerTokenHash: g.ownerTokenHash }),
  };
}

/**
 * A worker's grants.
 *
 * @example
 * ```ts
 * const grants = new Grants(worker.objects);
 * ```
 */
export class Grants {
  private readonly index: TypeIndex<UseGrant>;

  constructor(private readonly objects: ObjectStore) {
    this.index = new TypeIndex<UseGrant>(objects, GRANT_TYPE, (_id, grant) => grant.irHash);
  }

  /** Records `owner`'s grant (one per IR hash and state ids; a new one replaces it). */
  add(owner: string, grant: UseGrant): void {
    this.objects.set(owner, grantId(grant), { kind: "other", type: GRANT_TYPE, value: grant });
  }

  /**
   * The namespace a command's state resolves in: the caller's own when it
   * holds every state object; else the owner of a grant for exactly this IR
   * hash and these state ids that lets the caller use it. Anonymous callers
   * need a grant to anyone. Otherwise the state is missing, answered like
   * any missing id (TSYFT_ERR_OBJECT_NOT_FOUND from the store).
   */
  stateOwner(caller: Access, irHash: string, stateIds: ReadonlyArray<string | null>): string {
    const objectIds = stateIds.filter((id): id is string => id !== null);
    const own = objectIds.length > 0 && objectIds.every((id) => this.objects.has(caller.owner, id));
    if (own && !caller.anonymous) return caller.owner;
    const grant = this.index
      .lookup(irHash)
      .find(({ owner, value }) => (value.anyone || owner === caller.owner) && sameIds(value.stateIds, stateIds));
    if (grant) return grant.owner;
    if (caller.anonymous) {
      throw new AuthError(
        ErrorCode.AUTH,
        "Anonymous clients may only query models served with allowRemoteInference (a plan whose state its owner " +
          "granted to anyone, run with exactly that plan's IR); pass { token } to do more.",
      );
    }
    return caller.owner;
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

/** The object id of a grant: one per IR hash and state ids. */
function grantId(grant: UseGrant): string {
  const digest = createHash("sha256").update(grant.irHash).update(JSON.stringify(grant.stateIds)).digest("hex");
  return `grant.${digest.slice(0, 32)}`;
}

function sameIds(a: ReadonlyArray<string | null>, b: ReadonlyArray<string | null>): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}
