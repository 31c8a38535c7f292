/**
 * The wire form of a RingTensor (MessagePack extension 20):
 * rank (u8), each dimension (u32 LE), then the raw little-endian int64 values.
 *
 * And headroom: ring ops whose result is about to be sent (the masks of a
 * Beaver AND, a dealer's correction) leave spare bytes in front of its data,
 * so that a frame encoder can write its header there and send the tensor's
 * bytes where they lie instead of copying them.
 */
import { registerExtension } from "../core/codec";
import { CommunicationError, ErrorCode } from "../core/errors";
import { RingTensor } from "./tensor";

const RING_TENSOR_EXTENSION = 20;

registerExtension(
  RING_TENSOR_EXTENSION,
  (value): value is RingTensor => value instanceof RingTensor,
  (t) => {
    const header = 1 + 4 * t.shape.length;
    const out = new Uint8Array(header + t.data.byteLength);
    const view = new DataView(out.buffer);
    view.setUint8(0, t.shape.length);
    t.shape.forEach((d, i) => view.setUint32(1 + 4 * i, d, true));
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), header);
    return out;
  },
  (bytes) => {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const rank = bytes.byteLength > 0 ? view.getUint8(0) : -1;
    const header = 1 + 4 * rank;
    if (rank < 0 || bytes.byteLength < header || (bytes.byteLength - header) % 8 !== 0) {
      throw new CommunicationError(
        ErrorCode.MALFORMED_MESSAGE,
        `Malformed ring tensor on the wire (${bytes.byteLength} bytes).`,
      );
    }
    const shape = Array.from({ length: rank }, (_, i) => view.getUint32(1 + 4 * i, true));
    // Uint8Array.prototype.slice copies (a Node Buffer's own slice would be a view into its pool).
    const data = new BigInt64Array(Uint8Array.prototype.slice.call(bytes, header).buffer);
    if (shape.reduce((a, b) => a * b, 1) !== data.length) {
      throw new CommunicationError(
        ErrorCode.MALFORMED_MESSAGE,
        `Malformed ring tensor on the wire: shape [${shape}] but ${data.length} values.`,
      );
    }
    return new RingTensor(data, shape);
  },
);

/** Buffers with spare bytes in front of a tensor's data: buffer -> the data's byte offset. */
const headroom = new WeakMap<ArrayBufferLike, number>();

/**
 * Marks the bytes of `data`'s buffer before `data` as spare: nothing reads
 * them, and one wire encoder may claim them (`claimHeadroom`).
 *
 * @example
 * ```ts
 * const bytes = new Uint8Array(256 + 8 * n);
 * const data = new BigInt64Array(bytes.buffer, 256, n);
 * reserveHeadroom(data);
 * ```
 */
export function reserveHeadroom(data: BigInt64Array): void {
  if (data.byteOffset > 0) headroom.set(data.buffer, data.byteOffset);
}

/**
 * The `bytes` in front of `t`'s data and the data itself, as one view for a
 * frame whose header is written into those bytes; undefined when `t` has no
 * (or too little) headroom. Each headroom is given out once.
 *
 * @example
 * ```ts
 * const frame = claimHeadroom(t, 64);
 * if (frame) { frame.set(header); send(frame); } else send(copyWithHeader(t));
 * ```
 */
export function claimHeadroom(t: RingTensor, bytes: number): Uint8Array | undefined {
  const at = headroom.get(t.data.buffer);
  if (at === undefined || at !== t.data.byteOffset || bytes > at) return undefined;
  headroom.delete(t.data.buffer);
  return new Uint8Array(t.data.buffer, at - bytes, bytes + t.data.byteLength);
}
