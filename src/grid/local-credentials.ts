/**
 * The credentials of the grids this process started (startLocalGrid, or a
 * node or gateway started in code), by url: a client created here for one of
 * their urls without a `token` option uses that grid's admin token, so that
 * notebooks and local tools need no extra step. `token: null` opts out
 * (anonymous). Nothing is written anywhere: it lives as long as the process.
 *
 * @example
 * ```ts
 * rememberLocalGrid(node.url, { adminToken, gridKey });
 * localGridCredentials(node.url)?.adminToken;   // adminToken
 * ```
 */
import { clientKey, type ClientKey } from "./auth/credentials";
import { toHttp } from "./http-util";
import { linkShape, type LinkOptions, type LinkShape } from "./link-delay";

/** What this process knows of a grid it started. */
export interface LocalCredentials {
  adminToken?: string;
  gridKey: string;
  /** The distance the grid was started with: clients made here for its urls take it by default (link-delay.ts). */
  link?: LinkShape;
}

const grids = new Map<string, LocalCredentials>();

/** The same server whatever the scheme (ws/http), trailing slashes or loopback name. */
function keyOf(url: string): string {
  return toHttp(url)
    .toLowerCase()
    .replace(/^(https?:\/\/)(localhost|\[::1\])(?=[:/]|$)/, "$1127.0.0.1");
}

/**
 * Records the credentials of a server this process started at `url`.
 *
 * @example
 * ```ts
 * rememberLocalGrid("ws://127.0.0.1:3000", { gridKey });
 * ```
 */
export function rememberLocalGrid(url: string, credentials: LocalCredentials): void {
  grids.set(keyOf(url), credentials);
}

/** Forgets a server (it stopped). */
export function forgetLocalGrid(url: string): void {
  grids.delete(keyOf(url));
}

/**
 * The credentials of the grid this process started at `url`, if any.
 *
 * @example
 * ```ts
 * const token = options.token === undefined ? localGridCredentials(url)?.adminToken : options.token;
 * ```
 */
export function localGridCredentials(url: string): LocalCredentials | undefined {
  return grids.get(keyOf(url));
}

/**
 * The key a client of `url` signs with: its token's; left out, the admin's of
 * a grid this process started at `url`, else a fresh anonymous key; `null`:
 * a fresh anonymous key.
 *
 * @example
 * ```ts
 * clientKeyFor(grid.gateway.url, undefined).kind;   // "admin" for a grid started here
 * ```
 */
export function clientKeyFor(url: string, token: string | null | undefined): ClientKey {
  if (token === null) return clientKey(undefined);
  return clientKey(token ?? localGridCredentials(url)?.adminToken);
}

/**
 * The distance a client of `url` puts on its links: its own options when they
 * name one, else the distance of the grid this process started at `url`, else
 * TSYFT_LINK_LATENCY_MS / TSYFT_LINK_BANDWIDTH_MBPS (link-delay.ts).
 *
 * @example
 * ```ts
 * clientLinkFor(grid.gateway.url, {});   // { latencyMs: 10 } for a grid started with linkLatencyMs: 10
 * ```
 */
export function clientLinkFor(url: string, options: LinkOptions): LinkShape | undefined {
  if (options.linkLatencyMs !== undefined || options.linkBandwidthMbps !== undefined) return linkShape(options);
  const local = localGridCredentials(url);
  return local ? local.link : linkShape();
}
