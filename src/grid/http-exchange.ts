/**
 * One HTTP request and its answer, over node:http(s): httpJson's transport. The browser bundle
 * replaces this file with src/web/node/http-exchange.ts (fetch), the one seam of the JSON client.
 *
 * @example
 * ```ts
 * const { status, text, bytes } = await exchange("GET", "http://localhost:5000/health", undefined, {});
 * ```
 */
import * as http from "node:http";
import * as https from "node:https";
import { CommunicationError, ErrorCode } from "../core/errors";
import { resolveCa, tlsFailure } from "./tls";

/** What one exchange needs besides its method, url and body. */
export interface ExchangeOptions {
  /** Default 5 s. */
  timeoutMs?: number;
  /** The CA to verify an https server with (PEM text or a file; default TSYFT_CA_FILE, else the system's). */
  ca?: string | Buffer;
  headers?: Record<string, string>;
}

/** One HTTP request to `url` (http or https) and its answer, with the answer's size in bytes. */
export function exchange(
  method: string,
  url: string,
  payload: string | undefined,
  { timeoutMs = 5_000, ca, headers = {} }: ExchangeOptions,
): Promise<{ status: number; text: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const secure = url.startsWith("https:");
    const request = secure ? https.request : http.request;
    const req = request(
      url,
      {
        method,
        headers: {
          ...(payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}),
          ...headers,
        },
        timeout: timeoutMs,
        ...(secure ? { ca: resolveCa(ca) } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const raw = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, text: raw.toString("utf8"), bytes: raw.byteLength });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (error) =>
      reject(
        tlsFailure(error, url) ??
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
