/**
 * The messages between a client and a worker, and between parties, with
 * their binary encoding and the checks that keep a malformed message from
 * doing harm: a worker answers it with an error and keeps serving.
 */
import { decodeMessage, encodeMessage } from "../core/codec";
import { CommunicationError, ErrorCode, type SerializedError } from "../core/errors";
import { checkId } from "../core/ids";
import { timed } from "../core/profiler";
import type { PeerFrame } from "../mpc/communicator";
import type { PlanPolicy } from "../plans/host";
import { claimHeadroom, fromBytes, toBytes } from "../ring";
import type { Command, StoredValue } from "../tensors/handle";
import type { UseGrant } from "./grants";

/** Client to worker. `rid` marks requests that expect a reply. */
export type Request =
  | { t: "submit"; command: Command }
  | { t: "store"; id: string; value: StoredValue }
  | { t: "fetch"; rid: number; id: string; remove: boolean }
  | { t: "release"; ids: string[]; ownerToken?: string }
  | { t: "objects"; rid: number }
  | { t: "clear"; rid: number }
  | { t: "ping"; rid: number }
  | {
      t: "store-plan";
      rid: number;
      id: string;
      plan: Uint8Array;
      token?: string;
      policy?: PlanPolicy;
      ownerToken?: string;
    }
  | { t: "fetch-plan"; rid: number; id: string; copy: boolean; token?: string }
  | { t: "grant"; rid: number; grant: UseGrant }
  | { t: "grant-usage"; rid: number; irHash: string; stateIds: Array<string | null> };

export type RequestType = Request["t"];

/** Worker to client. */
export type Reply = { rid: number; ok: true; value?: unknown } | { rid: number; ok: false; error: SerializedError };

/** Request types answered with a reply, which carries the request's rid. */
const REPLIED: readonly RequestType[] = [
  "fetch",
  "objects",
  "clear",
  "ping",
  "store-plan",
  "fetch-plan",
  "grant",
  "grant-usage",
];
const repliedTypes: ReadonlySet<string> = new Set(REPLIED);
/** Every request type: those pipelined without a reply, and the replied ones. */
const requestTypes: ReadonlySet<string> = new Set<RequestType>(["submit", "store", "release", ...REPLIED]);

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
  if (("rid" in message || repliedTypes.has(message.t)) && typeof message.rid !== "number")
    throw malformed(`a numeric rid in a "${message.t}" request`, message.rid);
  checkRequestIds(message as Request);
  return message as Request;
}

/**
 * Every id a request names (objects, plans, runs, nodes) follows the id rule
 * (core/ids.ts) before a worker uses it as a key; a bad one is answered with
 * TSYFT_ERR_INVALID_ID under the request's rid.
 */
function checkRequestIds(request: Request): void {
  const ids: Array<[unknown, string]> = [];
  if (request.t === "release") {
    if (!Array.isArray(request.ids)) throw malformed("release: a list of object ids", request.ids, undefined);
    for (const id of request.ids) ids.push([id, "object id"]);
  } else if ("id" in request) {
    ids.push([request.id, request.t.endsWith("plan") ? "plan id" : "object id"]);
  } else if (request.t === "submit") {
    ids.push(...commandIds(request.command));
  }
  const rid = (request as { rid?: unknown }).rid;
  for (const [id, what] of ids) checkId(id, what, ErrorCode.INVALID_ID, { rid: typeof rid === "number" ? rid : null });
}

/** The fields of a command (of any type) that hold ids, one or a list, and what they are. */
const commandIdFields: ReadonlyArray<[string, string]> = [
  ["output", "object id"],
  ["outputs", "object id"],
  ["stateIds", "object id"],
  ["runId", "run id"],
  ["runIds", "run id"],
  ["planId", "plan id"],
  ["holders", "node id"],
  ["provider", "node id"],
];

/** The ids a command names, each with what it is; absent fields (and null state ids) are left out. */
function commandIds(command: unknown): Array<[unknown, string]> {
  if (typeof command !== "object" || command === null) return [];
  const c = command as Record<string, unknown>;
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : value == null ? [] : [value]);
  const ids: Array<[unknown, string]> = [];
  for (const [field, what] of commandIdFields) for (const id of list(c[field])) if (id !== null) ids.push([id, what]);
  for (const ref of [...list(c.inputs), ...list(c.state)]) {
    if ((ref as { kind?: unknown } | null)?.kind === "object") ids.push([(ref as { id?: unknown }).id, "object id"]);
  }
  return ids;
}

export function encodeReply(reply: Reply): Uint8Array {
  return encodeMessage(reply);
}

export function decodeReply(bytes: Uint8Array): Reply {
  const message = decodeMessage(bytes) as Partial<Reply>;
  if (
    typeof message !== "object" ||
    message === null ||
    typeof message.rid !== "number" ||
    typeof message.ok !== "boolean"
  ) {
    throw malformed("a reply with rid and ok", message);
  }
  return message as Reply;
}

/**
 * A party-to-party frame on the wire: a small MessagePack header, then the
 * tensors' raw bytes, so that the (large) protocol values are copied at most
 * once by the sender (not at all when the tensor comes with headroom for the
 * header, see ring/wire.ts) and read in place when they arrive aligned.
 *
 *   u32 LE       H, the header's length in bytes
 *   H bytes      MessagePack {k: kind, f: from, t: tag, s: the tensors' shapes, m?: meta}
 *   0-7 bytes    zeros, up to a multiple of 8 from the frame's start
 *   the rest     each tensor's elements in turn, int64 little-endian
 */
interface FrameHeader {
  k: PeerFrame["kind"];
  f: string;
  t: string;
  s: number[][];
  m?: unknown;
}

const frameKinds: ReadonlySet<string> = new Set(["data", "request", "reply", "abort"]);

/** Bytes before the header. */
const LENGTH_BYTES = 4;

const alignUp = (n: number) => Math.ceil(n / 8) * 8;

export function encodeFrame(frame: PeerFrame): Uint8Array {
  return timed("wire.encode", () => encodeFrameNow(frame));
}

function encodeFrameNow(frame: PeerFrame): Uint8Array {
  const header = encodeMessage({
    k: frame.kind,
    f: frame.from,
    t: frame.tag,
    s: frame.tensors.map((t) => [...t.shape]),
    m: frame.meta,
  } satisfies FrameHeader);
  const start = alignUp(LENGTH_BYTES + header.byteLength);
  // A lone tensor made with headroom (the masks of an AND) is sent where it lies, header in front.
  const inPlace = frame.tensors.length === 1 ? claimHeadroom(frame.tensors[0]!, start) : undefined;
  const out = inPlace ?? new Uint8Array(start + frame.tensors.reduce((n, t) => n + 8 * t.size, 0));
  new DataView(out.buffer, out.byteOffset).setUint32(0, header.byteLength, true);
  out.set(header, LENGTH_BYTES);
  out.fill(0, LENGTH_BYTES + header.byteLength, start);
  if (inPlace) return out;
  let at = start;
  for (const t of frame.tensors) {
    out.set(toBytes(t), at);
    at += 8 * t.size;
  }
  return out;
}

/**
 * Decodes and checks a frame; a bad one throws MALFORMED_MESSAGE. The tensors
 * are views of `bytes` when their data lies 8-byte aligned there (as in
 * process), else copies (ring.fromBytes): the frame's bytes must not change
 * afterwards.
 */
export function decodeFrame(bytes: Uint8Array): PeerFrame {
  return timed("wire.decode", () => decodeFrameNow(bytes));
}

function decodeFrameNow(bytes: Uint8Array): PeerFrame {
  const { length, header } = readFrameHeader(bytes);
  if (
    typeof header !== "object" ||
    header === null ||
    !frameKinds.has(header.k as string) ||
    typeof header.f !== "string" ||
    typeof header.t !== "string" ||
    !Array.isArray(header.s) ||
    !header.s.every(isShape)
  ) {
    throw malformed("a peer frame header {k, f, t, s}", header);
  }
  const sizes = header.s.map((shape) => shape.reduce((a, b) => a * b, 1));
  const start = alignUp(LENGTH_BYTES + length);
  const dataBytes = 8 * sizes.reduce((a, b) => a + b, 0);
  if (start > bytes.byteLength || bytes.byteLength - start !== dataBytes) {
    throw malformed(
      `a peer frame with ${dataBytes} bytes of tensor data after the header`,
      `${Math.max(0, bytes.byteLength - start)} bytes`,
    );
  }
  let at = start;
  const tensors = header.s.map((shape, i) => fromBytes(bytes.subarray(at, (at += 8 * sizes[i]!)), shape));
  return { kind: header.k!, from: header.f, tag: header.t, tensors, meta: header.m };
}

/** The header of a frame, decoded alone (the tensors' bytes are not touched). */
function readFrameHeader(bytes: Uint8Array): { length: number; header: Partial<FrameHeader> } {
  const length =
    bytes.byteLength >= LENGTH_BYTES
      ? new DataView(bytes.buffer, bytes.byteOffset, LENGTH_BYTES).getUint32(0, true)
      : -1;
  if (length < 0 || LENGTH_BYTES + length > bytes.byteLength) {
    throw malformed(
      "a peer frame: a 4-byte header length then the header",
      `${bytes.byteLength} bytes, header length ${length}`,
    );
  }
  return { length, header: decodeMessage(bytes.subarray(LENGTH_BYTES, LENGTH_BYTES + length)) as Partial<FrameHeader> };
}

/**
 * The sender a frame's header names (`from`), read without decoding the
 * tensors; undefined when the frame has no readable header. A node's peer
 * link drops frames whose sender is not the link's peer.
 *
 * @example
 * ```ts
 * peerFrameSender(encodeFrame({ kind: "data", from: "bob", tag: "s/0", tensors: [] }));   // "bob"
 * ```
 */
export function peerFrameSender(bytes: Uint8Array): string | undefined {
  try {
    const { header } = readFrameHeader(bytes);
    return typeof header === "object" && header !== null && typeof header.f === "string" ? header.f : undefined;
  } catch {
    return undefined;
  }
}

/** A shape that can be on the wire: up to 255 dimensions of u32 sizes. */
function isShape(shape: unknown): shape is number[] {
  return (
    Array.isArray(shape) && shape.length <= 255 && shape.every((d) => Number.isInteger(d) && d >= 0 && d <= 0xffffffff)
  );
}

function malformed(expected: string, got: unknown, rid?: unknown): CommunicationError {
  const shown =
    typeof got === "object"
      ? JSON.stringify(got, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))?.slice(0, 120)
      : String(got);
  return new CommunicationError(ErrorCode.MALFORMED_MESSAGE, `Malformed message: expected ${expected}, got ${shown}.`, {
    rid: typeof rid === "number" ? rid : null,
  });
}
