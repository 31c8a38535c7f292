/**
 * The Jupyter wire protocol (messaging spec v5.3): framing and signing.
 *
 *   [identities..., "<IDS|MSG>", signature, header, parent_header, metadata, content, buffers...]
 *
 * The signature is the HMAC (scheme from the connection file, normally
 * hmac-sha256) of the four JSON frames, hex-encoded; with an empty key,
 * messages are neither signed nor checked.
 */
import { createHmac, randomUUID, timingSafeEqual } from "crypto";

export const PROTOCOL_VERSION = "5.3";
const DELIMITER = Buffer.from("<IDS|MSG>");

export interface Header {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
  [key: string]: unknown;
}

export interface Message<Content = Record<string, unknown>> {
  /** ZeroMQ routing prefix (ROUTER sockets) or topic (IOPub). */
  identities: Buffer[];
  header: Header;
  /** The request this message answers; `{}` when it answers none. */
  parent_header: Header | Record<string, never>;
  metadata: Record<string, unknown>;
  content: Content;
  buffers: Buffer[];
}

export class WireError extends Error {
  override name = "WireError";
}

/** Signs and checks message frames with the connection file's key. */
export class Signer {
  private readonly algorithm: string | undefined;
  /** Signatures seen recently: a replayed message is rejected, as jupyter_client does. */
  private readonly seen = new Set<string>();
  private readonly seenOrder: string[] = [];

  constructor(
    private readonly key: string,
    scheme = "hmac-sha256",
  ) {
    if (!key) {
      this.algorithm = undefined;
      return;
    }
    const match = /^hmac-(.+)$/.exec(scheme);
    if (!match)
      throw new WireError(
        `unsupported signature_scheme ${JSON.stringify(scheme)}: expected hmac-<digest>, e.g. hmac-sha256`,
      );
    this.algorithm = match[1];
    createHmac(this.algorithm, "probe"); // throws now for an unknown digest
  }

  sign(frames: Buffer[]): string {
    if (!this.algorithm) return "";
    const hmac = createHmac(this.algorithm, this.key);
    for (const frame of frames) hmac.update(frame);
    return hmac.digest("hex");
  }

  verify(signature: string, frames: Buffer[]): void {
    if (!this.algorithm) return;
    const expected = Buffer.from(this.sign(frames));
    const got = Buffer.from(signature);
    if (expected.length !== got.length || !timingSafeEqual(expected, got)) {
      throw new WireError("invalid message signature (the key in the connection file does not match the client's)");
    }
    if (this.seen.has(signature)) throw new WireError("duplicate message signature (replayed message)");
    this.seen.add(signature);
    this.seenOrder.push(signature);
    if (this.seenOrder.length > 10_000) this.seen.delete(this.seenOrder.shift()!);
  }
}

function parseJson(frame: Buffer | undefined, what: string): Record<string, unknown> {
  if (!frame) throw new WireError(`message has no ${what} frame`);
  try {
    const value = JSON.parse(frame.toString("utf8"));
    if (value === null || typeof value !== "object") throw new Error("not an object");
    return value;
  } catch (error) {
    throw new WireError(`message ${what} is not a JSON object: ${(error as Error).message}`);
  }
}

/** Parses and verifies a multipart message. */
export function decode(frames: Buffer[], signer: Signer): Message {
  const at = frames.findIndex((f) => f.equals(DELIMITER));
  if (at < 0) throw new WireError("message has no <IDS|MSG> delimiter");
  const signature = frames[at + 1]?.toString("ascii") ?? "";
  const body = frames.slice(at + 2, at + 6);
  if (body.length < 4) throw new WireError(`message has ${body.length} of the 4 JSON frames`);
  signer.verify(signature, body);
  const header = parseJson(body[0], "header") as Header;
  if (typeof header.msg_type !== "string" || typeof header.msg_id !== "string") {
    throw new WireError("message header lacks msg_type or msg_id");
  }
  return {
    identities: frames.slice(0, at),
    header,
    parent_header: parseJson(body[1], "parent_header") as Header,
    metadata: parseJson(body[2], "metadata"),
    content: parseJson(body[3], "content"),
    buffers: frames.slice(at + 6),
  };
}

/** Serializes and signs a message. */
export function encode(message: Message<unknown>, signer: Signer): Buffer[] {
  const body = [message.header, message.parent_header, message.metadata, message.content].map((part) =>
    Buffer.from(JSON.stringify(part), "utf8"),
  );
  return [...message.identities, DELIMITER, Buffer.from(signer.sign(body), "ascii"), ...body, ...message.buffers];
}

/** A header for a message this kernel sends. */
export function newHeader(msgType: string, session: string): Header {
  return {
    msg_id: randomUUID(),
    session,
    username: "kernel",
    date: new Date().toISOString(),
    msg_type: msgType,
    version: PROTOCOL_VERSION,
  };
}
