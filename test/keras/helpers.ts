// Helpers of the Keras serving tests: the 13b model, images, free ports and
// client processes (shared with `npm run bench keras`), and a TCP relay that
// records every byte it forwards.
import * as net from "node:net";

export { freePorts, images13b as images, model13b } from "../../bench/suites/keras";
export { startClient, type ClientResult, type ClientSpec } from "../../bench/suites/keras-clients";

/** A TCP relay from a port of its own to `target`, keeping every byte it forwards (both ways). */
export interface Relay {
  port: number;
  bytes(): Buffer;
  close(): Promise<void>;
}

export async function startRelay(target: number, port = 0): Promise<Relay> {
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(target, "127.0.0.1");
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
    inbound.on("data", (d: Buffer) => {
      chunks.push(d);
      outbound.write(d);
    });
    outbound.on("data", (d: Buffer) => {
      chunks.push(d);
      inbound.write(d);
    });
    inbound.on("close", () => outbound.destroy());
    outbound.on("close", () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    bytes: () => Buffer.concat(chunks),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
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
