/**
 * The few HTTP helpers the node and the gateway share: JSON answers, JSON
 * bodies with a size limit, typed errors as JSON, and a tiny GET/POST client.
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
import type { AddressInfo } from "node:net";
import { CommunicationError, ErrorCode, serializeError } from "../core/errors";

/** Answers `status` with `body` as JSON. */
export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** Answers `status` with `{ error: { name, code, message } }`. */
export function sendError(res: http.ServerResponse, status: number, error: unknown): void {
  sendJson(res, status, { error: serializeError(error) });
}

/** Reads a JSON request body of at most `limit` bytes (an empty body is `{}`). */
export async function readJsonBody(req: http.IncomingMessage, limit = 1 << 20): Promise<unknown> {
  return parseJsonBody(await readTextBody(req, limit));
}

/** Parses a request body read with readTextBody (an empty body is `{}`). */
export function parseJsonBody(body: string): unknown {
  const text = body.trim();
  if (text === "") return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CommunicationError(ErrorCode.MALFORMED_MESSAGE, `Request body is not JSON: ${(error as Error).message}.`);
  }
}

/** Reads a request body of at most `limit` bytes as text (as sent: what a signature covers). */
export function readTextBody(req: http.IncomingMessage, limit = 1 << 20): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limit) {
        reject(new CommunicationError(ErrorCode.MESSAGE_TOO_LARGE, `Request body over ${limit} bytes.`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
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

/**
 * A JSON request (a string body is sent as it is: JSON text already, e.g. what
 * a signature covers); resolves with the status and parsed body (failing only
 * when there is no answer).
 *
 * @example
 * ```ts
 * const { status, body } = await httpJson("POST", "http://localhost:5000/join", { id: "bob", address: "ws://localhost:3000" });
 * ```
 */
export function httpJson<T = unknown>(
  method: string,
  url: string,
  body?: unknown,
  timeoutMs = 5_000,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const req = http.request(
      toHttp(url),
      {
        method,
        headers: {
          ...headers,
          ...(payload && { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }),
        },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: hand back the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed as T });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (error) =>
      reject(
        new CommunicationError(
          ErrorCode.CONNECTION,
          `${method} ${url} failed: ${error.message}.`,
          {},
          { cause: error },
        ),
      ),
    );
    req.end(payload);
  });
}
