/**
 * The binary wire format: MessagePack with typed-array extensions.
 *
 * Typed arrays travel as raw little-endian bytes in a MessagePack extension
 * (no JSON arrays of numbers, no BigInt-to-string conversions); bigints as
 * int64. Everything that crosses a worker boundary (client to worker, party to
 * party, node to node) and every serialized plan goes through here.
 *
 * @example
 * ```ts
 * const bytes = encodeMessage({ shape: [2], data: new BigInt64Array([1n, -1n]) });
 * const back = decodeMessage(bytes) as { shape: number[]; data: BigInt64Array };
 * ```
 */
import { Decoder, Encoder, ExtensionCodec } from "@msgpack/msgpack";
import { getConfig } from "./config";
import { CommunicationError, ErrorCode } from "./errors";
import { checkNesting } from "./limits";
import { timed } from "./profiler";

type TypedArrayCtor =
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int8ArrayConstructor
  | Uint8ClampedArrayConstructor;

/** Extension type numbers; stable: they are part of the wire format. */
const typedArrayExtensions: ReadonlyArray<[number, TypedArrayCtor]> = [
  [1, BigInt64Array],
  [2, Float32Array],
  [3, Int32Array],
  [4, Float64Array],
  [5, BigUint64Array],
  [6, Uint32Array],
  [7, Int16Array],
  [8, Uint16Array],
  [9, Int8Array],
  [10, Uint8ClampedArray],
];

const extensionCodec = new ExtensionCodec();
for (const [type, ctor] of typedArrayExtensions) {
  extensionCodec.register({
    type,
    encode: (value) =>
      value instanceof ctor ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : null,
    decode: (bytes) => {
      const width = ctor.BYTES_PER_ELEMENT;
      if (bytes.byteLength % width !== 0) {
        throw new CommunicationError(
          ErrorCode.MALFORMED_MESSAGE,
          `Malformed ${ctor.name} in a message: ${bytes.byteLength} bytes is not a multiple of ${width}.`,
        );
      }
      // The decoder hands out views into the frame; typed arrays need their own aligned buffer.
      // (Uint8Array.prototype.slice copies even when `bytes` is a Node Buffer, whose own slice is a view.)
      const aligned = Uint8Array.prototype.slice.call(bytes);
      return new ctor(aligned.buffer, 0, aligned.byteLength / width);
    },
  });
}

const encoder = new Encoder({ extensionCodec, useBigInt64: true, ignoreUndefined: true, initialBufferSize: 4096 });
const decoder = new Decoder({ extensionCodec, useBigInt64: true });

/** Encodes a message (plain objects, arrays, strings, numbers, bigints, typed arrays). */
export function encodeMessage(message: unknown): Uint8Array {
  return timed("wire.encode", () => encoder.encode(message));
}

/**
 * Decodes a message; a frame that is not valid MessagePack, or that nests
 * deeper than `maxNestingDepth`, fails with `TSYFT_ERR_MALFORMED_MESSAGE`
 * (the decoder itself is iterative; the check keeps a deep message from
 * whatever recurses over it later, such as error messages).
 */
export function decodeMessage(bytes: Uint8Array): unknown {
  let message: unknown;
  try {
    message = timed("wire.decode", () => decoder.decode(bytes));
  } catch (error) {
    if (error instanceof CommunicationError) throw error;
    throw new CommunicationError(
      ErrorCode.MALFORMED_MESSAGE,
      `Malformed message (${bytes.byteLength} bytes): ${(error as Error).message}. Expected a MessagePack frame from a tsyft peer.`,
      {},
      { cause: error },
    );
  }
  checkNesting(message, getConfig().maxNestingDepth, `a message of ${bytes.byteLength} bytes`);
  return message;
}

/**
 * Registers a wire form for a class of an upper layer (e.g. the ring's
 * tensors), so that it travels compactly wherever it sits in a message.
 * Types 0-19 are reserved for this module.
 */
export function registerExtension<T>(
  type: number,
  isInstance: (value: unknown) => value is T,
  encode: (value: T) => Uint8Array,
  decode: (bytes: Uint8Array) => T,
): void {
  if (type < 20 || type > 127) throw new RangeError(`Extension type ${type} is reserved or out of range (20-127).`);
  extensionCodec.register({ type, encode: (value) => (isInstance(value) ? encode(value) : null), decode });
}
