// An outsider's tools: a raw WebSocket that speaks the grid framing by hand
// (hello with any claims, any request, any peer frame), plain HTTP with any
// method, body and headers, proofs signed with keys the attacker holds, and
// the reconstruction of a secret from two holders' shares. Nothing here goes
// through the client library's checks: that is the point.
import { createHash } from "node:crypto";
import * as http from "node:http";
import * as net from "node:net";
import WebSocket, { WebSocketServer } from "ws";
import { decodeMessage, encodeMessage } from "../../../src/core/codec";
import { prove, type KeyPair } from "../../../src/grid/auth";
import { Channel, decodeGridFrame, encodeGridFrame, messageBytes } from "../../../src/grid/framing";
import type { PeerFrame } from "../../../src/mpc/communicator";
import { RingTensor } from "../../../src/ring";
import { decodeFrame, encodeFrame, type Reply } from "../../../src/workers/messages";

/** Whatever arrived on a raw socket, decoded by channel. */
export type Received =
  | { channel: "reply"; reply: Reply }
  | { channel: "control"; message: Record<string, unknown> }
  | { channel: "peer"; frame: PeerFrame; bytes: number }
  | { channel: "other"; bytes: Uint8Array };

/** What a hello can claim. `key` signs it (design: every hello is signed); `sign: false` sends today's bare hello. */
export interface HelloClaims {
  role: "client" | "peer";
  expect: string;
  from?: string;
  url?: string;
  boot?: string;
  key?: KeyPair;
  cert?: Uint8Array;
  sign?: boolean;
}

/** How a hello was answered. */
export type HelloOutcome =
  | { kind: "welcome"; message: Record<string, unknown> }
  | { kind: "refused"; error: { code?: string; message?: string } }
  | { kind: "closed"; code: number; reason: string }
  | { kind: "silence" };

let rids = 1000;

/**
 * A raw WebSocket to a node. Every message received is kept in `received`
 * (decoded by channel) and counted in `bytesReceived`; waits take the first
 * message matching a predicate.
 */
export class RawNodeSocket {
  readonly received: Received[] = [];
  bytesReceived = 0;
  closed?: { code: number; reason: string };
  private readonly listeners = new Set<() => void>();
  /** Every raw socket not yet closed, so that a test file can close what its tests left open. */
  private static readonly live = new Set<RawNodeSocket>();

  private constructor(readonly socket: WebSocket) {
    RawNodeSocket.live.add(this);
    socket.on("message", (data) => {
      const bytes = messageBytes(data as Buffer);
      this.bytesReceived += bytes.byteLength;
      this.received.push(classify(bytes));
      this.notify();
    });
    socket.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      RawNodeSocket.live.delete(this);
      this.notify();
    });
    socket.on("error", () => undefined);
  }

  /** Closes every raw socket still open (a test file's afterAll). */
  static closeAll(): void {
    for (const socket of RawNodeSocket.live) socket.close();
    RawNodeSocket.live.clear();
  }

  /** Opens a socket to `url`; rejects when nothing accepts it (a refused upgrade included). */
  static open(url: string, options: WebSocket.ClientOptions = {}): Promise<RawNodeSocket> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { maxPayload: 1 << 30, handshakeTimeout: 15_000, ...options });
      socket.once("open", () => resolve(new RawNodeSocket(socket)));
      socket.once("error", reject);
    });
  }

  send(bytes: Uint8Array | string): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(bytes);
  }

  /** Any object on the request channel (well-formed or not). */
  request(message: Record<string, unknown>): void {
    this.send(encodeGridFrame(Channel.Request, encodeMessage(message)));
  }

  /** A request with a fresh rid; resolves with its reply, or with undefined when the socket closes or stays silent. */
  async call(message: Record<string, unknown>, timeoutMs = 15_000): Promise<Reply | undefined> {
    const rid = rids++;
    this.request({ ...message, rid });
    const got = await this.next((r) => r.channel === "reply" && (r.reply.rid === rid || r.reply.rid === -1), timeoutMs);
    return got?.channel === "reply" ? got.reply : undefined;
  }

  /** Any object on the control channel. */
  control(message: Record<string, unknown>): void {
    this.send(encodeGridFrame(Channel.Control, encodeMessage(message)));
  }

  /** A control request with a fresh rid; resolves with its `result` (or a refusal), undefined on close or silence. */
  async controlCall(
    message: Record<string, unknown>,
    timeoutMs = 15_000,
  ): Promise<Record<string, unknown> | undefined> {
    const rid = rids++;
    this.control({ ...message, rid });
    const got = await this.next(
      (r) =>
        (r.channel === "control" && (r.message.rid === rid || r.message.t === "refused")) ||
        (r.channel === "reply" && r.reply.rid === -1),
      timeoutMs,
    );
    if (got?.channel === "control") return got.message;
    if (got?.channel === "reply" && !got.reply.ok) return { t: "result", ok: false, error: got.reply.error };
    return undefined;
  }

  /** A peer frame, encoded as nodes encode them (`from` is whatever the attacker writes). */
  peer(frame: PeerFrame): void {
    this.send(encodeGridFrame(Channel.Peer, encodeFrame(frame)));
  }

  /** Says hello with the given claims and resolves with how the node answered. */
  async hello(claims: HelloClaims, timeoutMs = 10_000): Promise<HelloOutcome> {
    this.control(helloMessage(claims));
    const got = await this.next(
      (r) => r.channel === "control" && (r.message.t === "welcome" || r.message.t === "refused"),
      timeoutMs,
    );
    if (got?.channel === "control" && got.message.t === "welcome") return { kind: "welcome", message: got.message };
    if (got?.channel === "control") return { kind: "refused", error: (got.message.error ?? {}) as { code?: string } };
    if (this.closed) return { kind: "closed", ...this.closed };
    return { kind: "silence" };
  }

  /** Peer frames received so far. */
  peerFrames(): PeerFrame[] {
    return this.received.flatMap((r) => (r.channel === "peer" ? [r.frame] : []));
  }

  /**
   * Resolves with the first message received (before or after now) matching `match`; undefined on close or timeout.
   * The timer alone decides the timeout: a timer may fire a little before `Date.now()` has moved `timeoutMs` on
   * (libuv counts from the start of its loop turn, and the wall clock can step), and a check against the wall
   * clock there would leave the promise waiting forever.
   */
  next(match: (r: Received) => boolean, timeoutMs = 15_000): Promise<Received | undefined> {
    return new Promise((resolve) => {
      const finish = (got: Received | undefined) => {
        this.listeners.delete(check);
        clearTimeout(timer);
        resolve(got);
      };
      const check = () => {
        const i = this.received.findIndex(match);
        if (i >= 0) finish(this.received.splice(i, 1)[0]);
        else if (this.closed) finish(undefined);
      };
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  /** Resolves once the node closed the socket (or after `timeoutMs`, with undefined). */
  async waitClosed(timeoutMs = 15_000): Promise<{ code: number; reason: string } | undefined> {
    await this.next(() => false, timeoutMs);
    return this.closed;
  }

  close(): void {
    this.socket.terminate();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

function classify(bytes: Uint8Array): Received {
  try {
    const { channel, payload } = decodeGridFrame(bytes);
    if (channel === Channel.Reply) return { channel: "reply", reply: decodeMessage(payload) as Reply };
    if (channel === Channel.Control)
      return { channel: "control", message: decodeMessage(payload) as Record<string, unknown> };
    if (channel === Channel.Peer) return { channel: "peer", frame: decodeFrame(payload), bytes: bytes.byteLength };
  } catch {
    // not something the attacker can read: kept raw
  }
  return { channel: "other", bytes };
}

/**
 * A hello as the design writes it: `auth` is a proof by `key` over
 * ["tsyft-hello-v1", role, expect, from ?? ""] (plus time and nonce), with
 * `cert` when given. The claims are the attacker's choice: a hello signed with
 * the attacker's own key may still say `from: "bob"`.
 */
export function helloMessage(claims: HelloClaims): Record<string, unknown> {
  const { key, cert, sign = true, ...fields } = claims;
  const message: Record<string, unknown> = { t: "hello", ...fields };
  if (claims.role === "peer") {
    message.url ??= "ws://127.0.0.1:9";
    message.boot ??= "attacker";
  }
  if (sign && key) message.auth = prove(key, ["tsyft-hello-v1", claims.role, claims.expect, claims.from ?? ""], cert);
  return message;
}

/** A raw socket that has said hello; the outcome tells whether the node welcomed it. */
export async function openWithHello(
  url: string,
  claims: HelloClaims,
): Promise<{ socket: RawNodeSocket; outcome: HelloOutcome }> {
  const socket = await RawNodeSocket.open(url);
  return { socket, outcome: await socket.hello(claims) };
}

/** What an HTTP request got: a status and a body, or `reset` when the connection was dropped instead. */
export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json?: unknown;
  reset?: string;
}

/** Any HTTP request; never throws for a reset (it is reported in `reset`). */
export function rawHttp(
  method: string,
  url: string,
  options: { body?: string | Buffer; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    // The path goes out as written: a URL object would resolve "/models/.." to "/" before the server saw it.
    const origin = new URL(url).origin;
    const req = http.request(origin, {
      path: url.slice(origin.length) || "/",
      method,
      headers: {
        ...(body && { "content-type": "application/json", "content-length": String(body.byteLength) }),
        ...options.headers,
      },
      timeout: options.timeoutMs ?? 15_000,
    });
    const answer = (status: number, headers: http.IncomingHttpHeaders, text: string, reset?: string) => {
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ status, headers, text, json, ...(reset !== undefined && { reset }) });
    };
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => answer(res.statusCode ?? 0, res.headers, Buffer.concat(chunks).toString("utf8")));
      res.on("error", (e) =>
        answer(res.statusCode ?? 0, res.headers, Buffer.concat(chunks).toString("utf8"), e.message),
      );
    });
    req.on("timeout", () => req.destroy(new Error("no answer")));
    req.on("error", (e) => answer(0, {}, "", e.message));
    // Write the body in pieces: a server that answers early (413) must be able to do so mid-body.
    if (body) {
      const piece = 64 * 1024;
      for (let at = 0; at < body.byteLength; at += piece) req.write(body.subarray(at, at + piece));
    }
    req.end();
  });
}

/** The typed error code a gateway answer carries (`{ error: { code } }`), if any. */
export function errorCode(answer: HttpAnswer): string | undefined {
  const error = (answer.json as { error?: { code?: unknown } } | undefined)?.error;
  return typeof error?.code === "string" && error.code !== "" ? error.code : undefined;
}

/**
 * The `Authorization: Tsyft ...` header of the design, signed by `key`
 * (with `cert` for a user): a proof over ["tsyft-http-v1", method, path+query,
 * sha256(body) hex].
 */
export function signedHttpHeaders(
  key: KeyPair,
  method: string,
  pathAndQuery: string,
  body = "",
  cert?: Uint8Array,
): Record<string, string> {
  const digest = createHash("sha256").update(body).digest("hex");
  const proof = prove(key, ["tsyft-http-v1", method, pathAndQuery, digest], cert);
  return { authorization: `Tsyft ${Buffer.from(encodeMessage(proof)).toString("base64url")}` };
}

/**
 * A join/heartbeat/leave body of the design: `{ id, address, cert, time,
 * nonce, sig }`, signed by `key` over ["tsyft-join-v1", type, id, address].
 * Bytes travel in JSON as base64url.
 */
export function signedJoinBody(
  key: KeyPair,
  type: "join" | "heartbeat" | "leave",
  id: string,
  address: string | undefined,
  cert?: Uint8Array,
): Record<string, unknown> {
  const proof = prove(key, ["tsyft-join-v1", type, id, address ?? ""], cert);
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
  return {
    id,
    ...(address !== undefined && { address }),
    key: proof.key,
    ...(cert && { cert: b64(cert) }),
    time: proof.time,
    nonce: b64(proof.nonce),
    sig: b64(proof.sig),
  };
}

/**
 * A WebSocket frame header announcing `payloadBytes` and then nothing more:
 * the upgrade is done by hand on a plain TCP socket, so the announced length
 * is whatever the attacker writes. Resolves with the socket once the node
 * accepted the upgrade.
 */
export function announceStalledFrame(url: string, payloadBytes: number, firstBytes = 1024): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    socket.once("error", reject);
    socket.once("connect", () =>
      socket.write(
        "GET / HTTP/1.1\r\n" +
          `Host: ${hostname}:${port}\r\n` +
          "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      ),
    );
    let head = "";
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      if (!head.startsWith("HTTP/1.1 101")) return reject(new Error(`upgrade refused: ${head.split("\r\n")[0]}`));
      // FIN + binary opcode; masked (clients must mask), 64-bit length.
      const header = Buffer.alloc(14);
      header[0] = 0x82;
      header[1] = 0x80 | 127;
      header.writeBigUInt64BE(BigInt(payloadBytes), 2);
      header.fill(0, 10, 14); // a zero mask: the payload goes as written
      socket.write(Buffer.concat([header, Buffer.alloc(firstBytes, 0x01)]));
      resolve(socket);
    };
    socket.on("data", onData);
  });
}

/** Resolves once the other end closed `socket` (or after `timeoutMs`, with false). */
export function tcpClosed(socket: net.Socket, timeoutMs: number): Promise<boolean> {
  if (socket.destroyed || socket.readableEnded) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    socket.once("close", done);
    socket.once("end", done);
    socket.on("error", () => undefined);
    socket.resume();
  });
}

/** Fractional bits of the default encoding (CrypTen's 16). */
export const FRACTIONAL_BITS = 16;

/** a + b mod 2^64, decoded as fixed point: what two holders' shares of one secret add up to. */
export function addShares(a: RingTensor, b: RingTensor, fractionalBits = FRACTIONAL_BITS): number[] {
  return Array.from(a.data, (x, i) => Number(BigInt.asIntN(64, x + b.data[i]!)) / 2 ** fractionalBits);
}

/** The fixed-point shares of `values` for two holders (as an attacker who stores its own shares makes them). */
export function shareOf(values: number[], shape = [values.length]): [RingTensor, RingTensor] {
  const a = new BigInt64Array(values.length);
  const b = new BigInt64Array(values.length);
  values.forEach((v, i) => {
    a[i] = BigInt.asIntN(64, BigInt(Math.floor(Math.random() * 2 ** 52)) << 12n);
    b[i] = BigInt.asIntN(64, BigInt(Math.round(v * 2 ** FRACTIONAL_BITS)) - a[i]!);
  });
  return [new RingTensor(a, shape), new RingTensor(b, shape)];
}

/** A share taken from a holder, with where it came from. */
export interface TakenShare {
  holder: string;
  id: string;
  value: RingTensor;
}

/**
 * Every secret of `secrets` that some pair of shares, one from each of two
 * holders, adds up to (mod 2^64, decoded, within `tolerance`). Empty: the
 * attack reconstructed nothing.
 */
export function reconstructed(
  fromA: readonly TakenShare[],
  fromB: readonly TakenShare[],
  secrets: Readonly<Record<string, readonly number[]>>,
  tolerance = 1e-2,
): string[] {
  const found = new Set<string>();
  for (const a of fromA) {
    for (const b of fromB) {
      if (a.value.size !== b.value.size) continue;
      const sum = addShares(a.value, b.value);
      for (const [name, secret] of Object.entries(secrets)) {
        if (sum.length === secret.length && sum.every((v, i) => Math.abs(v - secret[i]!) <= tolerance)) {
          found.add(`${name} = [${secret.join(", ")}] from ${a.holder}:${a.id} + ${b.holder}:${b.id}`);
        }
      }
    }
  }
  return [...found];
}

/** A failed reply's code: the root cause's for a failed pipelined op (details.cause), else its own. */
export function codeOf(reply: Reply | undefined): string | undefined {
  if (!reply || reply.ok) return undefined;
  const cause = reply.error.details?.cause;
  return typeof cause === "string" && cause.startsWith("TSYFT_ERR_") ? cause : reply.error.code;
}

/** The shares a reply hands over, if it is a share. */
export function shareIn(reply: Reply | undefined): RingTensor | undefined {
  if (!reply?.ok) return undefined;
  const value = reply.value as { kind?: unknown; value?: unknown } | undefined;
  return value?.kind === "share" && value.value instanceof RingTensor ? value.value : undefined;
}

/** A server the attacker runs, posing as node `id` to whoever the gateway sends its way. */
export interface FakeNode {
  id: string;
  url: string;
  /** Sockets opened to it. */
  readonly connections: number;
  /** Shares stored on it by clients that took it for the real node. */
  shares: TakenShare[];
  close(): Promise<void>;
}

/**
 * Starts a fake node: it welcomes any hello as `id`, keeps every share stored
 * on it, and answers every request that wants a reply with an error (so the
 * deceived client fails fast instead of hanging).
 */
export async function startFakeNode(id: string): Promise<FakeNode> {
  const server = http.createServer();
  const wss = new WebSocketServer({ server, maxPayload: 1 << 30 });
  let connections = 0;
  const shares: TakenShare[] = [];
  wss.on("connection", (ws: WebSocket) => {
    connections++;
    ws.on("message", (data) => {
      let channel: number;
      let message: Record<string, unknown>;
      try {
        const frame = decodeGridFrame(messageBytes(data as Buffer));
        channel = frame.channel;
        message = decodeMessage(frame.payload) as Record<string, unknown>;
      } catch {
        return;
      }
      if (channel === Channel.Control && message.t === "hello") {
        ws.send(encodeGridFrame(Channel.Control, encodeMessage({ t: "welcome", id, boot: "fake" })));
        return;
      }
      if (channel !== Channel.Request) return;
      const value = message.value as { kind?: unknown; value?: unknown } | undefined;
      if (message.t === "store" && value?.kind === "share" && value.value instanceof RingTensor) {
        shares.push({ holder: id, id: String(message.id), value: value.value });
      }
      if (typeof message.rid === "number") {
        const error = { name: "Error", code: "", message: `${id} is an attacker's server` };
        ws.send(encodeGridFrame(Channel.Reply, encodeMessage({ rid: message.rid, ok: false, error })));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    id,
    url: `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    get connections() {
      return connections;
    },
    shares,
    close: () =>
      new Promise<void>((resolve) => {
        wss.clients.forEach((c) => c.terminate());
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
