/**
 * Dialing a node: open a WebSocket, say hello on the control channel, and wait
 * for the node's welcome, checking that the expected node answered. Shared by
 * clients (WebsocketGridClient) and by nodes opening peer links (PeerLinks),
 * which differ only in their hello, their key and in how they word failures.
 *
 * The hello is signed with the dialer's key; when the dialer knows the grid
 * key, the welcome must prove it comes from node `expect` of that grid
 * (auth/handshake.ts), else the dial fails with TSYFT_ERR_AUTH.
 */
import WebSocket from "ws";
import { CommunicationError, ErrorCode, deserializeError } from "../core/errors";
import { signHello, verifyWelcome, type DialerKey } from "./auth/handshake";
import { decodeControl, encodeControl, type ControlMessage, type Hello } from "./control";
import { Channel, decodeGridFrame, encodeGridFrame, messageBytes } from "./framing";
import { sendOn, type LinkShape } from "./link-delay";
import { resolveCa, tlsFailure } from "./tls";

export type Welcome = Extract<ControlMessage, { t: "welcome" }>;

/**
 * The masking key of every frame a dialer sends: zero, which ws sends without
 * XORing the payload (and receivers skip unmasking). RFC 6455 masks a
 * client's frames so that script in a browser cannot craft bytes that
 * confuse a proxy's cache; the dialers here are Node processes sending their
 * own protocol (browsers keep masking: they never use this code), and the
 * byte-by-byte XOR in JS cost more than the rest of sending a share's
 * megabytes. TLS links (wss) are unaffected either way.
 */
function noMask(mask: Buffer): void {
  mask.fill(0);
}

export interface DialOptions {
  url: string;
  maxPayload: number;
  /** The CA a wss server is verified with (PEM text or a file; default TSYFT_CA_FILE, else the system's). */
  ca?: string | Buffer;
  /** The hello, which dial signs with `key` (its `expect` is `expect`). */
  hello: Omit<Hello, "auth" | "expect">;
  key: DialerKey;
  /** The grid key the node's welcome must prove itself under; none: the node is not verified. */
  gridKey?: string;
  /** The id of the node that must answer. */
  expect: string;
  timeoutMs: number;
  /** How each failure reads from the dialer's side. */
  say: {
    timeout: string;
    unreachable: (error: Error) => string;
    closed: (code: number, reason: string) => string;
    wrongId: (answered: string) => string;
  };
  /** Why the dialer can no longer take the link when the welcome arrives (it was closed meanwhile), if so. */
  gone?: () => string | undefined;
  /** The dialer's distance to the node: its hello (and all it sends later on the socket) is delayed so. */
  link?: LinkShape;
  /**
   * Measure the link before saying hello: this many WebSocket ping round trips (answered by the node's socket
   * layer itself), and the least of them, halved, goes in the hello as `latencyMs` (peer links).
   */
  measurePings?: number;
}

/** The one-way latency of `socket`'s link in ms: the least of `pings` ping round trips, halved (0.01 ms steps). */
export async function measureLatency(socket: WebSocket, pings: number): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < pings; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      socket.once("pong", () => resolve());
      socket.ping(undefined, undefined, (error) => error && reject(error));
    });
    best = Math.min(best, performance.now() - t0);
  }
  return Number.isFinite(best) ? Math.ceil((best / 2) * 100) / 100 : 0;
}

/**
 * Resolves with the welcomed socket, all of dial's listeners removed, the welcome, whether it was verified, and
 * the latency measured before the hello (0 when not measured).
 */
export function dial(
  options: DialOptions,
): Promise<{ socket: WebSocket; welcome: Welcome; verified: boolean; latencyMs: number }> {
  const { url, expect, say } = options;
  const auth = signHello(options.key, { role: options.hello.role, expect, from: options.hello.from });
  const hello: Hello = { ...options.hello, expect, auth };
  return new Promise((resolve, reject) => {
    let settled = false;
    let ca: Buffer | undefined;
    try {
      ca = url.startsWith("wss:") ? resolveCa(options.ca) : undefined;
    } catch (error) {
      return reject(error);
    }
    const socket = new WebSocket(url, { maxPayload: options.maxPayload, generateMask: noMask, ...(ca ? { ca } : {}) });
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners("message");
      socket.terminate();
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new CommunicationError(ErrorCode.TIMEOUT, say.timeout, { worker: expect })),
      options.timeoutMs,
    );
    timer.unref?.();
    socket.on("error", (error) =>
      fail(
        tlsFailure(error, url, { worker: expect }) ??
          new CommunicationError(ErrorCode.CONNECTION, say.unreachable(error), { worker: expect }, { cause: error }),
      ),
    );
    socket.on("close", (code, reason) =>
      fail(new CommunicationError(ErrorCode.CONNECTION, say.closed(code, reason.toString()), { worker: expect })),
    );
    let measured: number | undefined;
    const sayHello = (latencyMs?: number) => {
      measured = latencyMs;
      const said: Hello = latencyMs === undefined ? hello : { ...hello, latencyMs };
      sendOn(socket, encodeGridFrame(Channel.Control, encodeControl(said)), options.link);
    };
    socket.on("open", () => {
      if (!options.measurePings) return sayHello();
      // A socket that fails meanwhile has failed the dial already (its error or close event).
      measureLatency(socket, options.measurePings).then(
        (ms) => !settled && sayHello(ms),
        () => undefined,
      );
    });
    socket.on("message", (data) => {
      let message: ControlMessage;
      try {
        const { channel, payload } = decodeGridFrame(messageBytes(data as Buffer));
        if (channel !== Channel.Control) return;
        message = decodeControl(payload);
      } catch (error) {
        return fail(error as Error);
      }
      if (message.t === "refused") return fail(deserializeError(message.error));
      if (message.t !== "welcome") return;
      if (message.id !== expect)
        return fail(new CommunicationError(ErrorCode.WORKER_ID, say.wrongId(message.id), { worker: expect }));
      if (options.gridKey !== undefined) {
        try {
          verifyWelcome(message, { expect, url, gridKey: options.gridKey, helloNonce: auth.nonce });
        } catch (error) {
          return fail(error as Error);
        }
      }
      const gone = options.gone?.();
      if (gone !== undefined) return fail(new CommunicationError(ErrorCode.CONNECTION, gone, { worker: expect }));
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners();
      resolve({ socket, welcome: message, verified: options.gridKey !== undefined, latencyMs: measured ?? 0 });
    });
  });
}
