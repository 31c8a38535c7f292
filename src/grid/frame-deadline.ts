/**
 * A deadline on every WebSocket message a server receives: from the chunk
 * that starts a message to its last byte, at most `partialFrameMs`. A client
 * that announces a 200 MB frame and stalls would otherwise hold the socket,
 * and what ws buffered of the frame, for as long as it likes (ws has no such
 * option).
 *
 * ws's own parser is internal, so this reads the frame headers again from the
 * raw socket's bytes (decrypted ones under TLS) and skips the payloads:
 * 1. a frame header is 2 bytes, then 2 or 8 bytes of extended length, then
 *    the 4-byte mask of a client's frame;
 * 2. a message is under way while a frame is partly received or a fragmented
 *    message has had no final (FIN) data frame yet;
 * 3. the deadline is armed when a message is under way and re-armed each
 *    time one completes; when nothing is under way it is off.
 * On the deadline the socket is closed (1008, "TSYFT_ERR_LIMIT partialFrameMs")
 * and destroyed right after, freeing what it buffered.
 *
 * @example
 * ```ts
 * wss.on("connection", (socket, req) => watchPartialFrames(socket, req));
 * ```
 */
import type * as http from "node:http";
import type WebSocket from "ws";
import { getConfig } from "../core/config";

/** The close code of a socket cut off by a limit (1008: policy violation). */
export const CLOSE_LIMIT = 1008;

/**
 * Follows the frame boundaries of a client-to-server WebSocket byte stream.
 *
 * @example
 * ```ts
 * const frames = new FrameBoundaries();
 * frames.feed(chunk);   // messages completed in this chunk
 * frames.underWay;      // true while a message is partly received
 * ```
 */
export class FrameBoundaries {
  private header: number[] = [];
  /** Payload bytes of the current frame still to come. */
  private remaining = 0;
  private inPayload = false;
  private final = false;
  private control = false;
  /** A data frame without FIN has come: the message continues in later frames. */
  private fragmented = false;

  get underWay(): boolean {
    return this.header.length > 0 || this.inPayload || this.fragmented;
  }

  /** Reads a chunk; returns how many messages it completed. */
  feed(chunk: Uint8Array): number {
    let completed = 0;
    let at = 0;
    while (at < chunk.byteLength) {
      if (this.inPayload) {
        const take = Math.min(this.remaining, chunk.byteLength - at);
        at += take;
        this.remaining -= take;
        if (this.remaining === 0) completed += this.endFrame();
        continue;
      }
      this.header.push(chunk[at++]!);
      const needed = headerLength(this.header);
      if (this.header.length < needed) continue;
      this.startPayload();
      if (this.remaining === 0) completed += this.endFrame();
    }
    return completed;
  }

  private startPayload(): void {
    const [b0, b1] = this.header as [number, number];
    const len7 = b1 & 0x7f;
    let length = len7;
    if (len7 === 126) length = (this.header[2]! << 8) | this.header[3]!;
    if (len7 === 127) {
      length = 0;
      for (let i = 2; i < 10; i++) length = length * 256 + this.header[i]!;
    }
    this.final = (b0 & 0x80) !== 0;
    this.control = (b0 & 0x08) !== 0;
    this.remaining = length;
    this.inPayload = true;
    this.header = [];
  }

  /** A frame's last byte came: returns 1 when it ended a message. */
  private endFrame(): number {
    this.inPayload = false;
    if (this.control) return 0;
    this.fragmented = !this.final;
    return this.final ? 1 : 0;
  }
}

/** Bytes of the header begun in `header` (2 until the length byte is known). */
function headerLength(header: readonly number[]): number {
  if (header.length < 2) return 2;
  const len7 = header[1]! & 0x7f;
  const masked = (header[1]! & 0x80) !== 0;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
}

/**
 * Closes `socket` when a message on it takes longer than `timeoutMs` from
 * its first chunk to its last (see above). Call it in the server's
 * "connection" handler, before any data is read.
 *
 * @example
 * ```ts
 * wss.on("connection", (socket, req) => watchPartialFrames(socket, req, 20_000));
 * ```
 */
export function watchPartialFrames(
  socket: WebSocket,
  req: http.IncomingMessage,
  timeoutMs = getConfig().partialFrameMs,
): void {
  const raw = req.socket;
  const frames = new FrameBoundaries();
  let timer: NodeJS.Timeout | undefined;
  const cutOff = () => {
    socket.close(CLOSE_LIMIT, "TSYFT_ERR_LIMIT partialFrameMs");
    // The peer is mid-frame and will not answer the close: do not wait for it.
    setTimeout(() => socket.terminate(), 100).unref();
  };
  const onData = (chunk: Buffer) => {
    const completed = frames.feed(chunk);
    if (!frames.underWay) {
      clearTimeout(timer);
      timer = undefined;
    } else if (timer === undefined || completed > 0) {
      clearTimeout(timer);
      timer = setTimeout(cutOff, timeoutMs);
      timer.unref();
    }
  };
  raw.on("data", onData);
  socket.once("close", () => {
    clearTimeout(timer);
    raw.off("data", onData);
  });
}
