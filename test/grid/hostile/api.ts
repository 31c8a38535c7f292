// The issue-10 API as i10-design.md names it, reached from tests that must
// also compile (and run, failing where a defence is missing) before that API
// is merged: the grid handle's adminToken/gridKey, `{ token }` client options,
// serveModel's ownerToken, startNode's adminToken and the gateway's gridKey.
// Once the defences are merged these adapters are plain pass-throughs; the
// lead may inline them.
import type * as tfjs from "@tensorflow/tfjs";
import * as sy from "../../../src";
import * as grid from "../../../src/grid";
import { createGridCredentials, issueUserToken, type GridCredentials } from "../../../src/grid/auth";

/** A grid's credentials, and whether the handle really had them (false: made here, unknown to the servers). */
export interface TestCredentials extends GridCredentials {
  fromHandle: boolean;
}

/**
 * The admin token and grid key of a grid handle (`startLocalGrid()` returns
 * them by the design). Without them (today's code) the test gets credentials
 * the servers know nothing of, so that every test still runs to the check that
 * proves its own defence missing instead of failing here.
 */
export function credentialsOf(handle: object): TestCredentials {
  const h = handle as { adminToken?: unknown; gridKey?: unknown };
  if (typeof h.adminToken === "string" && typeof h.gridKey === "string") {
    return { adminToken: h.adminToken, gridKey: h.gridKey, fromHandle: true };
  }
  return { ...createGridCredentials(), fromHandle: false };
}

/** A user token for `subject`, issued by the grid's admin. */
export function userToken(credentials: GridCredentials, subject: string): string {
  return issueUserToken(credentials.adminToken, { subject });
}

type PublicGridCtor = new (hook: sy.Hook, gatewayUrl: string, options?: { token?: string }) => sy.PublicGridNetwork;

/** `new sy.PublicGridNetwork(hook, url, { token })`; no token: an anonymous client. */
export function publicGrid(hook: sy.Hook, gatewayUrl: string, token?: string): sy.PublicGridNetwork {
  const Network: PublicGridCtor = sy.PublicGridNetwork;
  return token === undefined ? new Network(hook, gatewayUrl) : new Network(hook, gatewayUrl, { token });
}

/** `new sy.grid.WebsocketGridClient(hook, url, { id, token, ca })` (ca: a PEM certificate or its path, for wss). */
export function gridClient(
  hook: sy.Hook,
  url: string,
  id: string,
  token?: string,
  more: Partial<grid.GridClientOptions> & { ca?: string } = {},
): grid.WebsocketGridClient {
  const options: grid.GridClientOptions = {
    id,
    ...more,
    ...(token !== undefined && { token }),
  };
  return new grid.WebsocketGridClient(hook, url, options);
}

/** What serveModel answers, with the owner credential the design adds. */
export type ServedModel = grid.HostedModelInfo & { ownerToken?: string };

/** Serves a model and returns the registry entry with its ownerToken (when the grid issues one). */
export async function serve(
  network: sy.PublicGridNetwork,
  model: sy.Plan | tfjs.LayersModel,
  options: sy.grid.ServeModelOptions,
): Promise<ServedModel> {
  return network.serveModel(model, options);
}

/** `startNode({ id, adminToken, ... })`: a node that issues its own certificate with the grid's admin token. */
export function startNodeWithCredentials(
  options: grid.NodeOptions,
  credentials: GridCredentials,
): Promise<grid.GridNode> {
  const withToken: grid.NodeOptions & { adminToken: string } = { ...options, adminToken: credentials.adminToken };
  return grid.startNode(withToken);
}

/** `startGateway({ gridKey, ... })`: a gateway that trusts the grid key. */
export function startGatewayWithKey(options: grid.GatewayOptions, credentials: GridCredentials): Promise<grid.Gateway> {
  const withKey: grid.GatewayOptions & { gridKey: string } = { ...options, gridKey: credentials.gridKey };
  return grid.startGateway(withKey);
}

/**
 * The codes a limit may be refused with: TSYFT_ERR_LIMIT (src/core/limits.ts), and for a message over
 * maxMessageBytes the framing's own TSYFT_ERR_MESSAGE_TOO_LARGE.
 */
export const LIMIT_CODES: readonly string[] = [sy.ErrorCode.LIMIT, sy.ErrorCode.MESSAGE_TOO_LARGE];

/** The code the design gives a stale provider epoch (section "Concurrency and restarts"). */
export const PROVIDER_EPOCH_CODE = sy.ErrorCode.PROVIDER_EPOCH;

/** Codes a query may fail with during a restart, instead of answering: anything typed but a wrong number. */
export function isTypedFailure(error: unknown): error is sy.TsyftError {
  return error instanceof sy.TsyftError && typeof error.code === "string" && error.code.startsWith("TSYFT_ERR_");
}
