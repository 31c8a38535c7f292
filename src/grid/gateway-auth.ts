/**
 * Who may write to a gateway:
 * - membership (join, heartbeat, leave) only from the node holding a
 *   certificate of this grid for that id, proved per request
 *   (auth/gateway-proofs.ts). The first join pins the node's key; another key
 *   for the same id is taken only with a newer certificate (a re-enrolled
 *   node), and heartbeats and leaves must come from the pinned key. The
 *   entry's address is the one in the signed join. Pins are kept in the
 *   gateway's database (`pins`), so a restarted gateway with a data dir
 *   still refuses an older key for an id it knows.
 * - model registry writes only with an `Authorization: Tsyft` proof from the
 *   admin or a user; overwriting or deleting a model also needs its owner
 *   credential (`X-Tsyft-Owner`, compared by sha256 with the one given at
 *   registration) unless the admin asks.
 * Refusals are AuthErrors: 401 when the proof is missing or wrong, 403
 * (`details.forbidden`) when a valid caller may not do this.
 *
 * @example
 * ```ts
 * const auth = await GatewayAuth.open(gridKey, db);
 * const member = await auth.admitJoin(body);       // { id, address, key, iat }
 * await auth.authorizeModelWrite(request, "delete", "convnet");
 * ```
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { decodeMessage, encodeMessage } from "../core/codec";
import { AuthError, ErrorCode } from "../core/errors";
import { checkHttpProof, checkMembership, type Member, type MembershipType } from "./auth/gateway-proofs";
import { ReplayGuard } from "./auth/proofs";
import type { KeyValueStore, Namespace } from "./kv-store";

/** The parts of an HTTP request a registry write is checked on. */
export interface SignedRequest {
  method: string;
  /** Path and query, as the client signed them. */
  path: string;
  /** The body as sent. */
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

export type ModelWrite = "create" | "overwrite" | "delete";

const forbidden = (message: string, details: Record<string, unknown> = {}) =>
  new AuthError(ErrorCode.AUTH, message, { ...details, forbidden: true });

const sha256 = (text: string) => createHash("sha256").update(text).digest();

/**
 * A gateway's checks of membership and registry writes.
 *
 * @example
 * ```ts
 * const auth = await GatewayAuth.open(gridKey, db);
 * ```
 */
export class GatewayAuth {
  private readonly guard = new ReplayGuard();
  private readonly pins = new Map<string, Pin>();

  private constructor(
    readonly gridKey: string,
    private readonly owners: Namespace,
    private readonly pinStore: Namespace,
  ) {}

  /** The checks of a gateway whose owner credentials and node pins are kept in `db` (namespaces owners, pins). */
  static async open(gridKey: string, db: KeyValueStore): Promise<GatewayAuth> {
    const pins = db.namespace("pins");
    const auth = new GatewayAuth(gridKey, db.namespace("owners"), pins);
    for await (const [id, bytes] of pins.entries()) {
      const pin = decodeMessage(bytes) as Partial<Pin> | null;
      if (typeof pin?.key === "string" && typeof pin.iat === "number")
        auth.pins.set(id, { key: pin.key, iat: pin.iat });
    }
    return auth;
  }

  /**
   * Checks a signed join; resolves with the member, whose address is the one
   * it signed, once a new pin is on disk (a join answered is a pin kept).
   */
  async admitJoin(body: unknown): Promise<Member> {
    const member = checkMembership(body, "join", { gridKey: this.gridKey, guard: this.guard });
    const pin = this.pins.get(member.id);
    if (pin && pin.key !== member.key && member.iat <= pin.iat) {
      throw forbidden(
        `Node ${member.id} is already registered with another key and a certificate as recent; ` +
          "re-enroll the node (npx tsyft grid enroll) to move it to a new key.",
        { id: member.id },
      );
    }
    if (pin?.key !== member.key || pin.iat !== member.iat) {
      const next = { key: member.key, iat: member.iat };
      this.pins.set(member.id, next);
      await this.pinStore.put(member.id, encodeMessage(next));
    }
    return member;
  }

  /** Checks a signed heartbeat or leave; returns the node id (which only its pinned key may speak for). */
  admitMember(body: unknown, type: Exclude<MembershipType, "join">): string {
    const member = checkMembership(body, type, { gridKey: this.gridKey, guard: this.guard });
    const pin = this.pins.get(member.id);
    if (pin && pin.key !== member.key) {
      throw forbidden(`A ${type} for node ${member.id} signed by another key than the one it joined with.`, {
        id: member.id,
      });
    }
    return member.id;
  }

  /**
   * Checks a registry write: a proof from the admin or a user, and for an
   * existing model's overwrite or delete its owner credential (unless admin).
   */
  async authorizeModelWrite(request: SignedRequest, write: ModelWrite, id: string): Promise<void> {
    const { method, path, body, headers } = request;
    const principal = checkHttpProof(headers.authorization, method, path, body, {
      gridKey: this.gridKey,
      guard: this.guard,
    });
    if (principal.kind === "anonymous") {
      throw forbidden("Anonymous clients cannot write the model registry; pass { token } (an admin or user token).");
    }
    if (write === "create" || principal.kind === "admin") return;
    const stored = await this.owners.get(id);
    const given = ownerHeader(headers);
    if (!stored || given === undefined || !timingSafeEqual(Buffer.from(stored), sha256(given))) {
      throw forbidden(
        `Only model ${JSON.stringify(id)}'s owner may ${write} it: send its owner token ` +
          "(serveModel's ownerToken, as { ownerToken }) or ask the grid's admin.",
        { id },
      );
    }
  }

  /** Records the owner credential a registration came with (its sha256 only); without one the owner stays as it was. */
  async recordOwner(id: string, headers: SignedRequest["headers"]): Promise<void> {
    const given = ownerHeader(headers);
    if (given !== undefined) await this.owners.put(id, new Uint8Array(sha256(given)));
  }

  /** Forgets a deleted model's owner. */
  async forgetOwner(id: string): Promise<void> {
    await this.owners.del(id);
  }
}

/** The key a node id is pinned to, and the issue time of the certificate that pinned it. */
interface Pin {
  key: string;
  iat: number;
}

function ownerHeader(headers: SignedRequest["headers"]): string | undefined {
  const value = headers["x-tsyft-owner"];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}
