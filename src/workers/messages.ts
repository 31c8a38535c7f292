/**
 * The messages between a client and a worker, and between parties, with
 * their binary encoding and the checks that keep a malformed message from
 * doing harm: a worker answers it with an error and keeps serving.
 */
import { decodeMessage, encodeMessage } from "../core/codec";
import { CommunicationError, ErrorCode, type SerializedError } from "../core/errors";
import type { PeerFrame } from "../mpc/communicator";
import type { Command, StoredValue } from "../tensors/handle";

/** Client to worker. `rid` marks requests that expect a reply. */
export type Request =
  | { t: "submit"; command: Command }
  | { t: "store"; id: string; value: StoredValue }
  | { t: "fetch"; rid: number; id: string; remove: boolean }
  | { t: "release"; ids: string[] }
  | { t: "objects"; rid: number }
  | { t: "clear"; rid: number }
  | { t: "ping"; rid: number }
  | { t: "store-plan"; rid: number; id: string; plan: Uint8Array; token?: string }
  | { t: "fetch-plan"; rid: number; id: string; copy: boolean; token?: string };

export type RequestType = Request["t"];

/** Worker to client. */
export type Reply = { rid: number; ok: true; value?: unknown } | { rid: number; ok: false; error: SerializedError };

const requestTypes: ReadonlySet<string> = new Set<RequestType>([
  "submit",
  "store",
  "fetch",
  "release",
  "objects",
  "clear",
  "ping",
  "store-plan",
  "fetch-plan",
]);

export function encodeRequest(request: Request): Uint8Array {
  return encodeMessage(request);
}

/** Decodes and checks a request; a bad one throws MALFORMED_MESSAGE (with its rid when it had one). */
export function decodeRequest(bytes: Uint8Array): Request {
  const message = decodeMessage(bytes) as Partial<Request> & Record<string, unknown>;
  if (typeof message !== "object" || message === null || typeof message.t !== "string") {
    throw malformed("a request object with a type field `t`", message);
  }
  if (!requestTypes.has(message.t)) {
    throw malformed(`a request type among ${[...requestTypes].join(", ")}`, message.t, message.rid);
  }
  if ("rid" in message && typeof message.rid !== "number") throw malformed("a numeric rid", message.rid);
  return message as Request;
}

export function encodeReply(reply: Reply): Uint8Array {
  return encodeMessage(reply);
}

export function decodeReply(bytes: Uint8Array): Reply {
  const message = decodeMessage(bytes) as Partial<Reply>;
  if (typeof message !== "object" || message === null || typeof message.rid !== "number" || typeof message.ok !== "boolean") {
    throw malformed("a reply with rid and ok", message);
  }
  return message as Reply;
}

/** A party-to-party frame on the wire. */
interface WireFrame {
  k: PeerFrame["kind"];
  f: string;
  t: string;
  x: PeerFrame["tensors"];
  m?: unknown;
}

const frameKinds: ReadonlySet<string> = new Set(["data", "request", "reply", "abort"]);

export function encodeFrame(frame: PeerFrame): Uint8Array {
  const wire: WireFrame = { k: frame.kind, f: frame.from, t: frame.tag, x: frame.tensors, m: frame.meta };
  return encodeMessage(wire);
}

export function decodeFrame(bytes: Uint8Array): PeerFrame {
  const wire = decodeMessage(bytes) as Partial<WireFrame>;
  if (
    typeof wire !== "object" ||
    wire === null ||
    !frameKinds.has(wire.k as string) ||
    typeof wire.f !== "string" ||
    typeof wire.t !== "string" ||
    !Array.isArray(wire.x)
  ) {
    throw malformed("a peer frame {k, f, t, x}", wire);
  }
  return { kind: wire.k!, from: wire.f, tag: wire.t, tensors: wire.x, meta: wire.m };
}

function malformed(expected: string, got: unknown, rid?: unknown): CommunicationError {
  const shown = typeof got === "object" ? JSON.stringify(got, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))?.slice(0, 120) : String(got);
  return new CommunicationError(ErrorCode.MALFORMED_MESSAGE, `Malformed message: expected ${expected}, got ${shown}.`, {
    rid: typeof rid === "number" ? rid : null,
  });
}
