/**
 * Dialing a node: open a WebSocket, say hello on the control channel, and wait
 * for the node's welcome, checking that the expected node answered. Shared by
 * clients (WebsocketGridClient) and by nodes opening peer links (PeerLinks),
 * which differ only in their hello and in how they word failures.
 */
import WebSocket from "ws";
import { CommunicationError, ErrorCode, deserializeError } from "../core/errors";
import { decodeControl, encodeControl, type ControlMessage } from "./control";
import { Channel, decodeGridFrame, encodeGridFrame, messageBytes } from "./framing";
import { resolveCa, tlsFailure } from "./tls";

export type Welcome = Extract<ControlMessage, { t: "welcome" }>;

export interface DialOptions {
  url: string;
  maxPayload: number;
  /** The CA a wss server is verified with (PEM text or a file; default TSYFT_CA_FILE, else the system's). */
  ca?: string | Buffer;
  hello: ControlMessage;
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
}

/** Resolves with the welcomed socket, all of dial's listeners removed, and the welcome. */
export function dial(options: DialOptions): Promise<{ socket: WebSocket; welcome: Welcome }> {
  const { url, expect, say } = options;
  return new Promise((resolve, reject) => {
    let settled = false;
    let ca: Buffer | undefined;
    try {
      ca = url.startsWith("wss:") ? resolveCa(options.ca) : undefined;
    } catch (error) {
      return reject(error);
    }
    const socket = new WebSocket(url, { maxPayload: options.maxPayload, ...(ca ? { ca } : {}) });
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
    socket.on("open", () => socket.send(encodeGridFrame(Channel.Control, encodeControl(options.hello))));
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
      const gone = options.gone?.();
      if (gone !== undefined) return fail(new CommunicationError(ErrorCode.CONNECTION, gone, { worker: expect }));
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners();
      resolve({ socket, welcome: message });
    });
  });
}
