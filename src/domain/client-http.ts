/**
 * The domain client's transport: JSON over http(s), each request signed with
 * the session token's key (never sending the token), errors rebuilt as the
 * typed errors the domain threw.
 *
 * @example
 * ```ts
 * const http = new DomainHttp("http://localhost:8081", { token });
 * const me = await http.request("GET", "/me");
 * ```
 */
import { CommunicationError, ErrorCode, deserializeError, type SerializedError } from "../core/errors";
import { clientKey } from "../grid/auth/credentials";
import { httpProof } from "../grid/auth/gateway-proofs";
import { httpJson, toHttp, type HttpJsonOptions } from "../grid/http-util";

export interface DomainHttpOptions {
  /** The session token from /login; none: a guest. */
  token?: string;
  /** Default 60 s (uploads and queries on large assets take a while). */
  timeoutMs?: number;
  /** The CA an https domain is verified with (PEM text or a file). */
  ca?: string | Buffer;
}

/** Signed JSON requests to one domain. */
export class DomainHttp {
  readonly url: string;
  token?: string;
  private readonly http: HttpJsonOptions;

  constructor(url: string, options: DomainHttpOptions = {}) {
    this.url = toHttp(url);
    this.token = options.token;
    this.http = { timeoutMs: options.timeoutMs ?? 60_000, ...(options.ca !== undefined && { ca: options.ca }) };
  }

  /** Sends a request; resolves with the body of a 2xx answer, rejects with the domain's typed error otherwise. */
  async request<T>(method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown): Promise<T> {
    const text = body === undefined ? "" : JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (this.token !== undefined) headers.authorization = httpProof(clientKey(this.token), method, path, text);
    const answer = await httpJson<{ error?: SerializedError } | undefined>(
      method,
      `${this.url}${path}`,
      body === undefined ? undefined : text,
      { ...this.http, headers },
    );
    if (answer.status >= 200 && answer.status < 300) return answer.body as T;
    const wire = answer.body?.error;
    if (wire && typeof wire === "object") throw deserializeError(wire);
    throw new CommunicationError(
      ErrorCode.CONNECTION,
      `${method} ${this.url}${path} answered ${answer.status} without a tsyft error; is this a tsyft domain?`,
      { status: answer.status },
    );
  }
}
