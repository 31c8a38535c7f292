/**
 * A small HTTP router with the error contract of every tsyft server:
 *
 * - 400 for bad input (malformed JSON, a body that is not an object, bad
 *   percent-encoding, a bad id), 404 for an unknown route or resource, 405
 *   (with `Allow`) for a known route asked with another method, 409 for a
 *   conflict, 413 for a body over the limit;
 * - every error is JSON `{ error: { name, code, message, details } }` with a
 *   stable code; an unexpected failure is a 500 with TSYFT_ERR_INTERNAL, and
 *   is logged; never a bare 500 or a reset connection.
 *
 * Routes are a table, each marked `write` when it changes state, so that a
 * `guard` (credentials) can be put in front of them without touching the
 * handlers.
 *
 * @example
 * ```ts
 * const handler = serveRoutes({
 *   name: "gateway",
 *   routes: [{ method: "GET", path: "/models/:id", handle: async ({ params }) => ({ status: 200, body: await get(params[0]) }) }],
 * });
 * http.createServer(handler);
 * ```
 */
import type * as http from "node:http";
import { ErrorCode, TsyftError } from "../core/errors";
import { parseJsonObject, readTextBody, sendError, sendJson } from "./http-util";

/** What a handler sees of one request. */
export interface RouteRequest {
  req: http.IncomingMessage;
  method: string;
  /** The path without its query or trailing slashes. */
  path: string;
  /** The `:name` segments of the route's path, percent-decoded, in order. */
  params: string[];
  query: URLSearchParams;
  route: Route;
  /** The JSON object body (typed 400/413 errors when it is not one: readTextBody, parseJsonObject). */
  body(): Promise<Record<string, unknown>>;
  /** The body as sent (what a request's signature covers); read once, shared with body(). */
  text(): Promise<string>;
}

/** A handler's answer: a status and a JSON body (none for 204). */
export interface RouteAnswer {
  status: number;
  body?: unknown;
}

export interface Route {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** Literal segments and `:name` parameters: "/models/:id". */
  path: string;
  /** Changes state: what a credentials guard protects. */
  write?: boolean;
  /** The largest body this route reads (default: the config's maxHttpBodyBytes); uploads take more. */
  maxBodyBytes?: number;
  handle(request: RouteRequest): Promise<RouteAnswer> | RouteAnswer;
}

export interface RouterOptions {
  /** The server's name in messages and logs ("gateway"). */
  name: string;
  /** Tried in order: put literal paths ("/models/search") before parameters ("/models/:id"). */
  routes: readonly Route[];
  /** Runs before every matched route's handler; throws (e.g. an AuthError) to refuse. */
  guard?: (request: RouteRequest) => Promise<void> | void;
  /** Where unexpected errors are logged (default console.error). */
  log?: (message: string, error: unknown) => void;
  /** What a 404 suggests instead ("See GET /nodes, /models, /health."). */
  hint?: string;
}

/**
 * The request listener of a route table, with the error contract above.
 *
 * @example
 * ```ts
 * const server = createServer(serveRoutes({ name: "node", routes: [{ method: "GET", path: "/health", handle: () => ({ status: 200, body: health() }) }] }));
 * ```
 */
export function serveRoutes(options: RouterOptions): http.RequestListener {
  const log = options.log ?? ((message, error) => console.error(message, error));
  return (req, res) => {
    const method = req.method ?? "GET";
    const [rawPath = "/", rawQuery = ""] = (req.url ?? "/").split("?", 2);
    const path = rawPath.replace(/\/+$/, "") || "/";
    void answer(req, method, path, new URLSearchParams(rawQuery)).then(
      ({ status, body }) => {
        if (status === 204 || body === undefined) res.writeHead(status).end();
        else sendJson(res, status, body);
      },
      (error: unknown) => {
        const status = httpStatusOf(error);
        if (!(error instanceof TsyftError)) log(`tsyft ${options.name}: internal error on ${method} ${path}:`, error);
        const typed =
          error instanceof TsyftError
            ? error
            : new TsyftError(
                ErrorCode.INTERNAL,
                `${options.name}: ${method} ${path} failed unexpectedly (${(error as Error)?.message ?? String(error)}); it is logged on the server.`,
              );
        if (status === 405) res.setHeader("allow", String(typed.details.allow ?? ""));
        const retryAfterMs = typed.details.retryAfterMs;
        if (status === 429 && typeof retryAfterMs === "number")
          res.setHeader("retry-after", Math.ceil(retryAfterMs / 1000));
        if (!res.headersSent) sendError(res, status, typed);
        else res.destroy();
      },
    );
  };

  async function answer(req: http.IncomingMessage, method: string, path: string, query: URLSearchParams) {
    const segments = path.split("/");
    const allowed: string[] = [];
    for (const route of options.routes) {
      const params = matchPath(route.path, segments);
      if (params === undefined) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      let text: Promise<string> | undefined;
      const readText = () => (text ??= readTextBody(req, route.maxBodyBytes));
      const body = async () => parseJsonObject(await readText());
      const request: RouteRequest = { req, method, path, params, query, route, body, text: readText };
      await options.guard?.(request);
      return route.handle(request);
    }
    if (allowed.length > 0) {
      throw new TsyftError(
        ErrorCode.METHOD_NOT_ALLOWED,
        `${options.name}: ${path} takes ${allowed.join(", ")}, not ${method}.`,
        { allow: allowed.join(", "), status: 405 },
      );
    }
    throw new TsyftError(
      ErrorCode.NOT_FOUND,
      `${options.name}: no route ${method} ${path}.${options.hint ? ` ${options.hint}` : ""}`,
    );
  }
}

/** The decoded parameters when `pattern` matches the path's segments; undefined otherwise. */
function matchPath(pattern: string, segments: readonly string[]): string[] | undefined {
  const parts = pattern.split("/");
  if (parts.length !== segments.length) return undefined;
  const params: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const segment = segments[i]!;
    if (!part.startsWith(":")) {
      if (part !== segment) return undefined;
      continue;
    }
    if (segment === "") return undefined;
    try {
      params.push(decodeURIComponent(segment));
    } catch {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `Bad percent-encoding in the path segment ${JSON.stringify(segment.slice(0, 80))}; encode it with encodeURIComponent.`,
      );
    }
  }
  return params;
}

/**
 * The HTTP status of a failure: the error's `details.status` when it names
 * one, 409 for a conflict, else by code (413, 404, 405, 401); other typed
 * errors are bad input (400); anything untyped is a 500.
 *
 * @example
 * ```ts
 * httpStatusOf(new TsyftError(ErrorCode.NOT_FOUND, "no model"));   // 404
 * ```
 */
export function httpStatusOf(error: unknown): number {
  if (!(error instanceof TsyftError)) return 500;
  const status = error.details.status;
  if (typeof status === "number" && Number.isInteger(status) && status >= 400 && status <= 599) return status;
  if (error.details.conflict === true) return 409;
  switch (error.code) {
    case ErrorCode.MESSAGE_TOO_LARGE:
      return 413;
    case ErrorCode.NOT_FOUND:
      return 404;
    case ErrorCode.METHOD_NOT_ALLOWED:
      return 405;
    case ErrorCode.AUTH:
      // Who the caller is was not proven (401), or it was and the caller may not do this (403).
      return error.details.forbidden === true ? 403 : 401;
    case ErrorCode.INTERNAL:
      return 500;
    default:
      return 400;
  }
}
