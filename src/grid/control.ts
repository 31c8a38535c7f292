/**
 * Control messages (channel 0x04): who is on the other end of a socket, and
 * the node-level requests that are not worker requests.
 *
 * 1. A socket opens; the dialer sends `hello` (role client or peer, the id it
 *    expects to reach, for peers its own id and url), signed (`auth`, see
 *    auth/handshake.ts).
 * 2. The node answers `welcome` with its id, boot id and its own proof, or
 *    `refused` and closes (4001: not the id expected; 4003: authentication
 *    failed).
 * 3. A client may then send `link` (open a peer link to another node; admin
 *    only) or `status`, each answered by a `result` with the same rid.
 *
 * @example
 * ```ts
 * socket.send(encodeGridFrame(Channel.Control, encodeControl({ t: "hello", role: "client", expect: "bob" })));
 * ```
 */
import { decodeMessage, encodeMessage } from "../core/codec";
import { CommunicationError, ErrorCode, type SerializedError } from "../core/errors";
import { checkId } from "../core/ids";
import type { Proof } from "./auth/proofs";
import { MAX_LINK_LATENCY_MS } from "./link-delay";

export type Hello = {
  t: "hello";
  role: "client" | "peer";
  /** The node id the dialer expects to reach. */
  expect?: string;
  /** Peers: the dialer's own node id, url and boot id. */
  from?: string;
  url?: string;
  boot?: string;
  /**
   * Peers: the link's one-way latency in ms, measured by the dialer before its hello (the least of a few
   * WebSocket ping round trips, halved), so that both ends weigh the same figure (mpc/comparison-choice.ts).
   */
  latencyMs?: number;
  /** The dialer's proof (auth/handshake.ts); the node refuses a hello without a valid one. */
  auth?: Proof;
};

export type ControlMessage =
  | Hello
  | { t: "welcome"; id: string; boot: string; auth?: Proof }
  | { t: "refused"; error: SerializedError }
  | { t: "link"; rid: number; id: string; url: string }
  | { t: "status"; rid: number }
  | { t: "result"; rid: number; ok: true; value?: unknown }
  | { t: "result"; rid: number; ok: false; error: SerializedError };

export type ControlType = ControlMessage["t"];

const controlTypes: ReadonlySet<string> = new Set<ControlType>([
  "hello",
  "welcome",
  "refused",
  "link",
  "status",
  "result",
]);

/**
 * Encodes a control message.
 *
 * @example
 * ```ts
 * encodeControl({ t: "status", rid: 3 });
 * ```
 */
export function encodeControl(message: ControlMessage): Uint8Array {
  return encodeMessage(message);
}

/**
 * Decodes and checks a control message; a bad one throws MALFORMED_MESSAGE.
 *
 * @example
 * ```ts
 * const message = decodeControl(payload);
 * if (message.t === "welcome") console.log(message.id);
 * ```
 */
export function decodeControl(bytes: Uint8Array): ControlMessage {
  const message = decodeMessage(bytes) as Record<string, unknown> | null;
  if (
    typeof message !== "object" ||
    message === null ||
    typeof message.t !== "string" ||
    !controlTypes.has(message.t)
  ) {
    throw malformed(`a control message with t among ${[...controlTypes].join(", ")}`, message);
  }
  const has = (key: string, type: string) => typeof message[key] === type;
  const ok =
    message.t === "hello"
      ? (message.role === "client" || message.role === "peer") &&
        (message.role === "client" || (has("from", "string") && has("url", "string"))) &&
        (message.latencyMs === undefined || isLatency(message.latencyMs))
      : message.t === "welcome"
        ? has("id", "string") && has("boot", "string")
        : message.t === "refused"
          ? has("error", "object")
          : message.t === "link"
            ? has("rid", "number") && has("id", "string") && has("url", "string")
            : message.t === "status"
              ? has("rid", "number")
              : has("rid", "number") && has("ok", "boolean");
  if (!ok) throw malformed(`a well-formed "${message.t}" control message`, message);
  // Node ids become map keys, log lines and file names on the receiving node: the one id rule applies.
  for (const key of ["expect", "from", "id"]) {
    if (message[key] !== undefined && message.t !== "result") checkId(message[key], "node id", ErrorCode.WORKER_ID);
  }
  return message as ControlMessage;
}

/** A latency a hello may state: the bound of a simulated one (link-delay.ts), past which every wait times out first. */
function isLatency(value: unknown): boolean {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 && value <= MAX_LINK_LATENCY_MS;
}

function malformed(expected: string, got: unknown): CommunicationError {
  const shown = JSON.stringify(got, (_k, v) =>
    typeof v === "bigint" ? `${v}n` : v instanceof Uint8Array ? `<${v.byteLength} bytes>` : v,
  );
  return new CommunicationError(
    ErrorCode.MALFORMED_MESSAGE,
    `Malformed control message: expected ${expected}, got ${shown?.slice(0, 160)}.`,
  );
}
