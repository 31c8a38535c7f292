/**
 * The one binary framing of every grid WebSocket: the first byte names the
 * channel, the rest is the payload, already encoded by its layer.
 *
 *   0x01 request  client -> node   a messages.ts Request (to Worker.handleRequest)
 *   0x02 reply    node -> client   a messages.ts Reply (rid -1 for errors with no request)
 *   0x03 peer     node <-> node    a messages.ts PeerFrame (to Worker.receiveFrame)
 *   0x04 control  both ways        a control.ts message (hello, welcome, link...)
 *
 * Frames are binary WebSocket messages; a text message, an empty one or an
 * unknown channel byte is malformed, answered with an error, and the socket
 * stays open.
 *
 * @example
 * ```ts
 * const frame = encodeGridFrame(Channel.Request, encodeRequest({ t: "ping", rid: 1 }));
 * const { channel, payload } = decodeGridFrame(frame);   // Channel.Request, the request bytes
 * ```
 */
import { CommunicationError, ErrorCode } from "../core/errors";

/**
 * Channel bytes: the first byte of every grid frame.
 *
 * @example
 * ```ts
 * encodeGridFrame(Channel.Control, encodeControl({ t: "status", rid: 1 }));
 * ```
 */
export const Channel = {
  Request: 0x01,
  Reply: 0x02,
  Peer: 0x03,
  Control: 0x04,
} as const;

export type Channel = (typeof Channel)[keyof typeof Channel];

/** Bytes the framing adds to a payload (the ws maxPayload is maxMessageBytes plus this). */
export const FRAME_HEADER_BYTES = 1;

const channelNames: Record<number, string> = { 1: "request", 2: "reply", 3: "peer", 4: "control" };

/**
 * The name of a channel, for messages and taps.
 *
 * @example
 * ```ts
 * channelName(Channel.Peer);   // "peer"
 * ```
 */
export function channelName(channel: number): string {
  return channelNames[channel] ?? `unknown(0x${channel.toString(16).padStart(2, "0")})`;
}

/**
 * Prefixes `payload` with its channel byte.
 *
 * @example
 * ```ts
 * socket.send(encodeGridFrame(Channel.Peer, encodeFrame(frame)));
 * ```
 */
export function encodeGridFrame(channel: Channel, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.byteLength);
  out[0] = channel;
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/**
 * Splits a received WebSocket message into its channel and payload (a view,
 * not a copy). Throws MALFORMED_MESSAGE for an empty message or an unknown
 * channel.
 *
 * @example
 * ```ts
 * const { channel, payload } = decodeGridFrame(data);
 * if (channel === Channel.Reply) client.receiveReply(payload);
 * ```
 */
export function decodeGridFrame(data: Uint8Array): { channel: Channel; payload: Uint8Array } {
  if (data.byteLength < FRAME_HEADER_BYTES) {
    throw new CommunicationError(
      ErrorCode.MALFORMED_MESSAGE,
      "Malformed grid frame: empty message; expected a channel byte then a payload.",
    );
  }
  const channel = data[0]!;
  if (!(channel in channelNames)) {
    throw new CommunicationError(
      ErrorCode.MALFORMED_MESSAGE,
      `Malformed grid frame: unknown channel 0x${channel.toString(16).padStart(2, "0")}; expected 0x01 request, 0x02 reply, 0x03 peer or 0x04 control.`,
      { channel },
    );
  }
  return { channel: channel as Channel, payload: data.subarray(FRAME_HEADER_BYTES) };
}

/**
 * A ws message as a plain Uint8Array view (ws hands Buffers, arrays of
 * fragments or ArrayBuffers). Not a Buffer: `Buffer#slice` makes views where
 * the codec's `slice()` must copy, so decoders are only ever given plain
 * Uint8Arrays.
 */
export function messageBytes(data: Buffer | ArrayBuffer | Buffer[]): Uint8Array {
  if (Array.isArray(data)) data = Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
