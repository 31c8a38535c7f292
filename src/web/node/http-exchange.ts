/**
 * The browser bundle's src/grid/http-exchange.ts: the same exchange over `fetch` (the browser's TLS
 * and trust store; a CA option has no say there).
 *
 * @example
 * ```ts
 * const { status, text } = await exchange("GET", "http://localhost:5000/models", undefined, {});
 * ```
 */
import { CommunicationError, ErrorCode } from "../../core/errors";
import type { exchange as nodeExchange, ExchangeOptions } from "../../grid/http-exchange";

/** The same signature as Node's (checked here, so the two cannot drift apart). */
export const exchange: typeof nodeExchange = async (
  method: string,
  url: string,
  payload: string | undefined,
  { timeoutMs = 5_000, headers = {} }: ExchangeOptions,
) => {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { ...(payload ? { "content-type": "application/json" } : {}), ...headers },
      body: payload,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new CommunicationError(
      ErrorCode.CONNECTION,
      `${method} ${url} failed: ${(error as Error).message}.`,
      {},
      { cause: error },
    );
  }
  const raw = new Uint8Array(await response.arrayBuffer());
  return { status: response.status, text: new TextDecoder().decode(raw), bytes: raw.byteLength };
};
