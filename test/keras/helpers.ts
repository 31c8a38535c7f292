// Helpers of the Keras serving tests: the 13b model, images, free ports and
// client processes (shared with `npm run bench keras`), and a TCP relay that
// records every byte it forwards.
import * as net from "node:net";

export { images13b as images, model13b } from "../../bench/suites/keras";
export { freePorts, startClient, type ClientResult, type ClientSpec } from "../../bench/suites/keras-clients";

/**
 * A TCP relay from a port of its own to `target`, keeping what it forwards both ways. WebSocket frames from a
 * client are masked on the wire (RFC 6455, 5.3), which would hide a plaintext payload from a naive tap: `bytes()`
 * gives each direction of each connection after its HTTP upgrade as its frames' unmasked payloads, so the search
 * sees exactly what the endpoints read.
 */
export interface Relay {
  port: number;
  bytes(): Buffer;
  close(): Promise<void>;
}

export async function startRelay(target: number, port = 0): Promise<Relay> {
  const streams: Buffer[][] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(target, "127.0.0.1");
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
    const up: Buffer[] = [];
    const down: Buffer[] = [];
    streams.push(up, down);
    inbound.on("data", (d: Buffer) => {
      up.push(d);
      outbound.write(d);
    });
    outbound.on("data", (d: Buffer) => {
      down.push(d);
      inbound.write(d);
    });
    inbound.on("close", () => outbound.destroy());
    outbound.on("close", () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    bytes: () => Buffer.concat(streams.map((chunks) => webSocketPayloads(Buffer.concat(chunks)))),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** One direction of a connection: the HTTP head as is, then every WebSocket frame's payload, unmasked. */
function webSocketPayloads(stream: Buffer): Buffer {
  const headEnd = stream.indexOf("\r\n\r\n");
  if (
    headEnd < 0 ||
    !stream
      .subarray(0, headEnd)
      .toString("latin1")
      .match(/upgrade: websocket/i)
  )
    return stream;
  const out: Buffer[] = [stream.subarray(0, headEnd + 4)];
  let at = headEnd + 4;
  while (at + 2 <= stream.length) {
    const masked = (stream[at + 1]! & 0x80) !== 0;
    let length = stream[at + 1]! & 0x7f;
    let offset = at + 2;
    if (length === 126) {
      length = stream.readUInt16BE(offset);
      offset += 2;
    } else if (length === 127) {
      length = Number(stream.readBigUInt64BE(offset));
      offset += 8;
    }
    const mask = masked ? stream.subarray(offset, offset + 4) : undefined;
    if (masked) offset += 4;
    if (offset + length > stream.length) break; // a frame cut by the end of the recording
    const payload = Buffer.from(stream.subarray(offset, offset + length));
    if (mask) for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
    out.push(payload);
    at = offset + length;
  }
  return Buffer.concat(out);
}

/**
 * The byte patterns two consecutive elements of a tensor leave on the wire in the clear: their fixed-point
 * encodings (int64 little-endian, 16 fractional bits, the default precision) and their float32 forms, side by
 * side as a tensor's bytes are. Two elements make a pattern that random traffic does not hit by chance.
 */
export function clearPatterns(values: ArrayLike<number>, at: number, fractionalBits = 16): Buffer[] {
  const encoded = Buffer.alloc(16);
  const float = Buffer.alloc(8);
  for (let k = 0; k < 2; k++) {
    encoded.writeBigInt64LE(BigInt(Math.round(values[at + k]! * 2 ** fractionalBits)), 8 * k);
    float.writeFloatLE(values[at + k]!, 4 * k);
  }
  return [encoded, float];
}
