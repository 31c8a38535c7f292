/**
 * Who sent a request: the principal a server authenticated (see
 * src/grid/auth/) and the session (one client connection, or one in-process
 * client) whose requests must keep their order.
 *
 * @example
 * ```ts
 * const caller: Caller = { principal: { kind: "anonymous", id: "anon:3f9a0c1d2e4b5a69" }, session: "s-17" };
 * await worker.handleRequest(encodeRequest({ t: "ping", rid: 1 }), caller);
 * ```
 */

/** Who a caller is. The admin may do anything; objects belong to user and anonymous principals. */
export type Principal = { kind: "admin" } | { kind: "user"; id: string } | { kind: "anonymous"; id: string };

export interface Caller {
  principal: Principal;
  /** Requests of one session run in the order they came; different sessions do not wait on each other. */
  session: string;
}

/** The in-process client of a VirtualWorker: its own hook, so the admin. */
export const LOCAL_CALLER: Caller = Object.freeze({ principal: Object.freeze({ kind: "admin" }), session: "local" });

/**
 * The id objects are owned under: the principal's id, or "admin".
 *
 * @example
 * ```ts
 * principalId({ kind: "user", id: "user:ada" });   // "user:ada"
 * ```
 */
export function principalId(principal: Principal): string {
  return principal.kind === "admin" ? "admin" : principal.id;
}

/** What a request may touch, from its caller's principal: the namespace it acts in, and its rank. */
export interface Access {
  /** The caller's namespace (`principalId`). */
  owner: string;
  admin: boolean;
  anonymous: boolean;
}

/**
 * The access of `principal`.
 *
 * @example
 * ```ts
 * accessOf({ kind: "anonymous", id: "anon:3f9a" });   // { owner: "anon:3f9a", admin: false, anonymous: true }
 * ```
 */
export function accessOf(principal: Principal): Access {
  return {
    owner: principalId(principal),
    admin: principal.kind === "admin",
    anonymous: principal.kind === "anonymous",
  };
}
