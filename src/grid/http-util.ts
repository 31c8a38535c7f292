/**
 * The few HTTP helpers the node and the gateway share: their server (http or
 * https, with time limits on slow requests), JSON answers, JSON bodies with
 * size and depth limits, typed errors as JSON, and a tiny JSON client.
 *
 * @example
 * ```ts
 * const server = http.createServer(async (req, res) => {
 *   if (req.url === "/health") return sendJson(res, 200, { ok: true });
 *   sendError(res, 404, new TsyftError(ErrorCode.INVALID_ARGUMENT, "No such route."));
 * });
 * const health = await httpJson("GET", "http://localhost:3000/health");
 * ```
 */
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { getConfig } from "../core/config";
import { CommunicationError, ErrorCode, TsyftError, serializeError } from "../core/errors";
import { checkNesting, limitError } from "../core/limits";
import { exchange, type ExchangeOptions } from "./http-exchange";
import { loadTlsFiles, type TlsOptions } from "./tls";
import { crossLink, type LinkShape } from "./link-delay";
import { reportLinkEvent } from "./traffic-tap";

/**
 * An http server, or an https one with `tls`, whose requests must arrive
 * whole within `partialFrameMs` (headers and body): a client that announces
 * a request and stalls is cut off (slowloris).
 *
 * @example
 * ```ts
 * const server = createServer((req, res) => sendJson(res, 200, { ok: true }), { tls: { cert, key } });
 * ```
 */
export function createServer(
  handler: http.RequestListener,
  options: { tls?: TlsOptions; partialFrameMs?: number } = {},
): http.Server {
  const timeoutMs = options.partialFrameMs ?? getConfig().partialFrameMs;
  const timeouts = {
    headersTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    // How often Node looks for requests past those timeouts (its default, 30 s, would be the real bound).
    connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(timeoutMs / 4))),
  };
  const server = options.tls
    ? https.createServer({ ...timeouts, ...loadTlsFiles(options.tls) }, handler)
    : http.createServer(timeouts, handler);
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => answerClientError(error, socket, timeoutMs));
  return server;
}

/**
 * What Node's HTTP parser refuses before a handler runs (a stream that is not
 * HTTP, headers too large, a request past its time) gets a JSON error with a
 * code, like every other error, instead of Node's bare 400; then the
 * connection closes.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, timeoutMs: number): void {
  if (!socket.writable || error.code === "ECONNRESET") return void socket.destroy();
  const [status, typed] =
    error.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? [408, limitError("partialFrameMs", timeoutMs, "milliseconds an HTTP request may take to arrive", timeoutMs)]
      : error.code === "HPE_HEADER_OVERFLOW"
        ? [431, new CommunicationError(ErrorCode.MESSAGE_TOO_LARGE, "Request headers too large.")]
        : [
            400,
            new CommunicationError(
              ErrorCode.MALFORMED_MESSAGE,
              `Not an HTTP request this server can read (${error.code ?? error.message}); a body needs a Content-Length or chunked encoding.`,
            ),
          ];
  const body = JSON.stringify({ error: serializeError(typed) });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** Answers `status` with `body` as JSON (and closes the connection after it when `close`). */
export function sendJson(res: http.ServerResponse, status: number, body: unknown, close = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...(close ? { connection: "close" } : {}),
  });
  res.end(text);
}

/**
 * Answers `status` with `{ error: { name, code, message, details } }`; an
 * error that asks for it (`details.close`, a body too large to read on)
 * also closes the connection.
 */
export function sendError(res: http.ServerResponse, status: number, error: unknown): void {
  sendJson(res, status, { error: serializeError(error) }, error instanceof TsyftError && error.details.close === true);
}

/**
 * Reads a request body of at most `limit` bytes as text, exactly as sent (what
 * a request's signature covers; `parseJsonObject` makes it an object). Past the
 * limit it fails with MESSAGE_TOO_LARGE (413), after reading on and throwing
 * away up to 64 times the limit, so the client gets to read the 413 instead of
 * a reset connection; past that bound the connection is closed after the answer.
 */
export function readTextBody(req: http.IncomingMessage, limit = getConfig().maxHttpBodyBytes): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const tooLarge = () =>
      new CommunicationError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `Request body over ${limit} bytes (maxHttpBodyBytes); send less, or raise maxHttpBodyBytes on the gateway.`,
        { limit: "maxHttpBodyBytes", max: limit, status: 413 },
      );
    req.on("data", (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size <= limit) return void chunks.push(chunk);
      chunks.length = 0;
      if (size > 64 * limit) {
        // Enough thrown away: answer now and close the connection after the answer (sendError does).
        req.pause();
        reject(new CommunicationError(tooLarge().code, tooLarge().message, { ...tooLarge().details, close: true }));
      }
    });
    req.on("end", () => {
      if (size > limit) return reject(tooLarge());
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
    req.on("error", reject);
  });
}

/**
 * Parses a JSON object (empty text is `{}`): MALFORMED_MESSAGE (400) for text
 * that is not JSON or nests deeper than `maxNestingDepth`, INVALID_ARGUMENT
 * (400) for JSON that is not an object (`null`, a number, a list).
 *
 * @example
 * ```ts
 * parseJsonObject('{"type":"join"}');   // { type: "join" }
 * parseJsonObject("null");              // throws INVALID_ARGUMENT
 * ```
 */
export function parseJsonObject(text: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CommunicationError(
      ErrorCode.MALFORMED_MESSAGE,
      `Request body is not JSON: ${(error as Error).message}. Send a JSON object.`,
    );
  }
  checkNesting(value, getConfig().maxNestingDepth, "a JSON body");
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TsyftError(
      ErrorCode.INVALID_ARGUMENT,
      `Expected a JSON object, got ${value === null ? "null" : Array.isArray(value) ? "a list" : `a ${typeof value}`}.`,
    );
  }
  return value as Record<string, unknown>;
}

/** Listens on `port` (0: any free port) and `host`; resolves with the port bound. */
export function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) =>
      reject(
        new CommunicationError(
          ErrorCode.CONNECTION,
          `Cannot listen on ${host}:${port}: ${error.message}. Is the port taken? Use another --port, or 0 for any.`,
          {},
          { cause: error },
        ),
      );
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Closes a server and every connection it still has. */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** The host to put in a url for a server bound to `host` (wildcards become localhost). */
export function publicHost(host: string): string {
  return host === "0.0.0.0" || host === "::" || host === "" ? "localhost" : host.includes(":") ? `[${host}]` : host;
}

/** An http(s) url for a ws(s) one (and the other way round with `toWs`). */
export function toHttp(url: string): string {
  return url.replace(/^ws(s?):\/\//, "http$1://").replace(/\/+$/, "");
}

export function toWs(url: string): string {
  return url.replace(/^http(s?):\/\//, "ws$1://").replace(/\/+$/, "");
}

/** Options of `httpJson` beyond its method, url and body. */
export interface HttpJsonOptions extends ExchangeOptions {
  /** The caller's distance to the server: the request and its answer each cross it (link-delay.ts). */
  link?: LinkShape;
  /** Report the exchange to tapClientLinks under this link name (a client's calls; nodes' are not reported). */
  tap?: string;
}

/**
 * A JSON request over http or https; resolves with the status and parsed
 * body (failing only when there is no answer: CONNECTION, or TLS when the
 * server's certificate does not verify).
 *
 * @example
 * ```ts
 * const { status, body } = await httpJson("POST", "http://localhost:5000/join", { id: "bob", address: "ws://localhost:3000" });
 * const health = await httpJson("GET", "https://localhost:5000/health", undefined, { ca: "out/tls/ca.crt" });
 * ```
 */
export async function httpJson<T = unknown>(
  method: string,
  url: string,
  body?: unknown,
  options: number | HttpJsonOptions = {},
): Promise<{ status: number; body: T }> {
  const settings: HttpJsonOptions = typeof options === "number" ? { timeoutMs: options } : options;
  const { link, tap } = settings;
  // A string is sent as it is: JSON text already (what a signature covers).
  const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  const sentBytes = payload === undefined ? 0 : Buffer.byteLength(payload);
  if (tap !== undefined) reportLinkEvent("sent", tap, "http", sentBytes);
  await crossLink(link, sentBytes);
  const answer = await exchange(method, toHttp(url), payload, settings);
  await crossLink(link, answer.bytes);
  if (tap !== undefined) reportLinkEvent("received", tap, "http", answer.bytes);
  let parsed: unknown = answer.text;
  try {
    parsed = answer.text ? JSON.parse(answer.text) : undefined;
  } catch {
    // not JSON: hand back the text
  }
  return { status: answer.status, body: parsed as T };
}
