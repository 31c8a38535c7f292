/**
 * A client's link to its node: one WebSocket (framing.ts), kept alive.
 * 1. `connect()` opens it, says hello expecting the node's id, and fails if
 *    another node answers.
 * 2. When the link drops, `onDrop` fails what waits for an answer at once
 *    with TSYFT_ERR_CONNECTION naming the node (TSYFT_ERR_MESSAGE_TOO_LARGE
 *    when a message broke a size limit), and the link reconnects with
 *    backoff. Frames sent meanwhile wait in an outbox for the new link.
 * 3. `close()` ends it for good, after delivering what was sent before it.
 * What travels on it (requests, control calls) is WebsocketGridClient's.
 *
 * @example
 * ```ts
 * const link = new ClientLink({ id: "bob", url, maxMessageBytes, onFrame, onMalformed, onDrop });
 * await link.connect();
 * link.send(Channel.Request, encodeRequest({ t: "ping", rid: 1 }));
 * ```
 */
import WebSocket from "ws";
import { getConfig } from "../core/config";
import { CommunicationError, ErrorCode } from "../core/errors";
import type { LinkDropCode } from "../workers/rpc";
import { Backoff, type BackoffOptions } from "./backoff";
import type { DialerKey } from "./auth/handshake";
import { dial } from "./dial";
import { Channel, FRAME_HEADER_BYTES, channelName, decodeGridFrame, encodeGridFrame, messageBytes } from "./framing";
import { closeOn, sendOn, type LinkShape } from "./link-delay";
import { reportLinkEvent } from "./traffic-tap";

/** Traffic through this client's socket, per direction and channel. */
export interface ClientTraffic {
  bytesSent: number;
  bytesReceived: number;
  framesSent: number;
  framesReceived: number;
  /** Bytes received per channel name ("reply", "control", and "peer" which should stay 0). */
  receivedByChannel: Record<string, number>;
  /** Bytes sent per channel name. */
  sentByChannel: Record<string, number>;
  reconnects: number;
}

export type LinkState = "new" | "connecting" | "open" | "reconnecting" | "closed";

export interface ClientLinkOptions {
  /** The node's id: the hello expects it, and errors name it. */
  id: string;
  url: string;
  /** The key this client signs its hellos with (and its certificate, for a user). */
  key: DialerKey;
  /** The grid key the node must prove itself under; none: the node is accepted unverified. */
  gridKey?: string;
  /** Largest message sent or received. */
  maxMessageBytes: number;
  /** Reconnect when the link drops (default true), with these delays. */
  reconnect?: boolean | BackoffOptions;
  /** The CA a wss node is verified with: PEM text or a file (default TSYFT_CA_FILE, else the system's). */
  ca?: string | Buffer;
  /** The distance to the node: what this client sends leaves that much later (link-delay.ts); none: at once. */
  link?: LinkShape;
  /** A frame arrived (already counted in `traffic`). */
  onFrame(channel: Channel, payload: Uint8Array): void;
  /** Bytes arrived that are no grid frame. */
  onMalformed(error: Error): void;
  /** The link dropped, could not open, or was closed: whatever waits for an answer fails now. */
  onDrop(reason: string, code: LinkDropCode): void;
}

const CLOSE_TOO_LARGE = 1009;

/**
 * One socket to a node, reconnecting with backoff when it drops.
 *
 * @example
 * ```ts
 * const link = new ClientLink({ id: "bob", url: "ws://localhost:3000", maxMessageBytes: 1 << 26, ...handlers });
 * await link.connect();
 * ```
 */
export class ClientLink {
  readonly traffic: ClientTraffic = {
    bytesSent: 0,
    bytesReceived: 0,
    framesSent: 0,
    framesReceived: 0,
    receivedByChannel: {},
    sentByChannel: {},
    reconnects: 0,
  };
  /** The boot id of the node process last connected to (changes when it restarts). */
  nodeBoot?: string;
  /** Whether the node proved it is the expected node of the grid (false when no grid key was known). */
  verified = false;
  private readonly backoff?: Backoff;
  private current: LinkState = "new";
  private socket?: WebSocket;
  private opening?: Promise<void>;
  private outbox: Uint8Array[] = [];
  private outboxBytes = 0;
  private reconnectTimer?: NodeJS.Timeout;
  private lastDrop?: string;

  constructor(private readonly options: ClientLinkOptions) {
    if (options.reconnect !== false)
      this.backoff = new Backoff(typeof options.reconnect === "object" ? options.reconnect : {});
  }

  get state(): LinkState {
    return this.current;
  }

  /** Opens the link; resolves once the node welcomed it. */
  async connect(): Promise<void> {
    const { id } = this.options;
    if (this.current === "closed")
      throw new CommunicationError(ErrorCode.CONNECTION, `The client of ${id} was closed; make a new one.`, {
        worker: id,
      });
    if (this.current === "open") return;
    if (this.current === "reconnecting") {
      clearTimeout(this.reconnectTimer);
      await this.attempt();
      return;
    }
    this.opening ??= this.openSocket().then(
      () => this.onOpen(),
      (error) => {
        this.current = "new";
        throw error;
      },
    );
    this.current = "connecting";
    try {
      await this.opening;
    } finally {
      this.opening = undefined;
    }
  }

  /**
   * Closes the link for good; what waits for an answer fails with CONNECTION. What was sent before is delivered
   * first: messages still waiting for a link that is opening (a client's first sends go out while it connects)
   * wait for it, up to the connection timeout, rather than being dropped.
   */
  async close(): Promise<void> {
    if (this.current === "closed") return;
    if (this.outbox.length > 0 && this.current !== "open") await this.deliverBeforeClose();
    if ((this.current as LinkState) === "closed") return;
    this.current = "closed";
    clearTimeout(this.reconnectTimer);
    this.outbox = [];
    this.outboxBytes = 0;
    this.options.onDrop("client closed", ErrorCode.CONNECTION);
    const socket = this.socket;
    this.socket = undefined;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      // The close leaves after what was sent before it, and takes a round trip at a distance.
      const timer = setTimeout(
        () => {
          socket.terminate();
          resolve();
        },
        1_000 + 2 * (this.options.link?.latencyMs ?? 0),
      );
      socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      closeOn(socket, this.options.link, 1000, "client closed");
    });
  }

  /** Waits for the link to open and carry the outbox, up to the connection timeout. */
  private async deliverBeforeClose(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, getConfig().timeoutMs)));
    await Promise.race([this.connect().catch(() => undefined), expired]);
    clearTimeout(timer);
  }

  /** Sends a frame now, or keeps it for the next link when there is none. */
  send(channel: Channel, payload: Uint8Array): void {
    const { id, url, maxMessageBytes } = this.options;
    if (payload.byteLength > maxMessageBytes) {
      throw new CommunicationError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `A ${channelName(channel)} of ${payload.byteLength} bytes for ${id} is over the limit of ${maxMessageBytes} (maxMessageBytes). Send it in parts, or raise the limit on both ends.`,
        { worker: id },
      );
    }
    if (this.current === "closed") {
      throw new CommunicationError(ErrorCode.CONNECTION, `The client of ${id} is closed.`, { worker: id });
    }
    const frame = encodeGridFrame(channel, payload);
    if (this.current === "open" && this.socket?.readyState === WebSocket.OPEN) {
      this.write(this.socket, frame, channel);
      return;
    }
    if (this.current === "new") this.connectInBackground();
    if (this.outboxBytes + frame.byteLength > maxMessageBytes) {
      throw new CommunicationError(
        ErrorCode.CONNECTION,
        `No link to ${id} at ${url}${this.lastDrop ? ` (${this.lastDrop})` : ""}, and the messages waiting for it are over ${maxMessageBytes} bytes.`,
        { worker: id },
      );
    }
    this.outbox.push(frame);
    this.outboxBytes += frame.byteLength;
  }

  /**
   * First use before `connect()`: connect now; if that fails, what waits for
   * the link fails at once with the reason instead of timing out.
   */
  private connectInBackground(): void {
    this.connect().catch((error: Error) => {
      if (this.current !== "new") return;
      this.outbox = [];
      this.outboxBytes = 0;
      this.options.onDrop(error.message, ErrorCode.CONNECTION);
    });
  }

  private write(socket: WebSocket, frame: Uint8Array, channel: number): void {
    this.traffic.bytesSent += frame.byteLength;
    this.traffic.framesSent++;
    const name = channelName(channel);
    this.traffic.sentByChannel[name] = (this.traffic.sentByChannel[name] ?? 0) + frame.byteLength;
    reportLinkEvent("sent", this.options.id, name, frame.byteLength);
    sendOn(socket, frame, this.options.link);
  }

  /** Opens a socket and waits for the node's welcome. */
  private async openSocket(): Promise<void> {
    const { id, url, maxMessageBytes } = this.options;
    const timeoutMs = getConfig().timeoutMs;
    const { socket, welcome, verified } = await dial({
      url,
      maxPayload: maxMessageBytes + FRAME_HEADER_BYTES,
      ca: this.options.ca,
      hello: { t: "hello", role: "client" },
      key: this.options.key,
      gridKey: this.options.gridKey,
      expect: id,
      timeoutMs,
      say: {
        timeout: `No welcome from node ${id} at ${url} within ${timeoutMs} ms.`,
        unreachable: (error) =>
          `Cannot connect to node ${id} at ${url}: ${error.message}. Is it running? (tsyft node --id ${id} --port ...)`,
        closed: (code, reason) => `Node ${id} at ${url} closed the link before welcoming (${code} ${reason}).`,
        wrongId: (answered) => `Expected node "${id}" at ${url}, but "${answered}" answered.`,
      },
      gone: () => (this.current === "closed" ? `The client of ${id} was closed.` : undefined),
      link: this.options.link,
    });
    this.nodeBoot = welcome.boot;
    this.verified = verified;
    this.socket = socket;
    let refusedHere = false;
    socket.on("error", (error: Error & { code?: string }) => {
      // A close event follows; this one only says whose limit it was.
      if (error.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") refusedHere = true;
    });
    socket.on("message", (frame) => this.onMessage(messageBytes(frame as Buffer)));
    socket.on("close", (code, reason) => this.onClose(socket, code, reason.toString(), refusedHere));
  }

  private onOpen(): void {
    this.current = "open";
    this.lastDrop = undefined;
    this.backoff?.reset();
    const queued = this.outbox;
    this.outbox = [];
    this.outboxBytes = 0;
    for (const frame of queued) this.write(this.socket!, frame, frame[0]!);
  }

  private onMessage(bytes: Uint8Array): void {
    this.traffic.bytesReceived += bytes.byteLength;
    this.traffic.framesReceived++;
    let frame;
    try {
      frame = decodeGridFrame(bytes);
    } catch (error) {
      this.options.onMalformed(error as Error);
      return;
    }
    const name = channelName(frame.channel);
    this.traffic.receivedByChannel[name] = (this.traffic.receivedByChannel[name] ?? 0) + bytes.byteLength;
    reportLinkEvent("received", this.options.id, name, bytes.byteLength);
    this.options.onFrame(frame.channel, frame.payload);
  }

  private onClose(socket: WebSocket, code: number, reason: string, refusedHere: boolean): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    if (this.current === "closed") return;
    const { id, url, maxMessageBytes } = this.options;
    const tooLarge = code === CLOSE_TOO_LARGE || refusedHere;
    this.lastDrop = refusedHere
      ? `node ${id} sent a message over this client's size limit (${maxMessageBytes} bytes, maxMessageBytes) and the link was closed`
      : tooLarge
        ? `node ${id} refused a message over its size limit (maxMessageBytes) and closed the link`
        : `the link to node ${id} at ${url} closed (${code}${reason ? ` ${reason}` : ""})`;
    this.options.onDrop(this.lastDrop, tooLarge ? ErrorCode.MESSAGE_TOO_LARGE : ErrorCode.CONNECTION);
    if (!this.backoff) {
      this.current = "new";
      return;
    }
    this.current = "reconnecting";
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(
      () => void this.attempt().catch(() => this.scheduleReconnect()),
      this.backoff!.next(),
    );
  }

  private async attempt(): Promise<void> {
    if (this.current !== "reconnecting") return;
    await this.openSocket();
    if ((this.current as LinkState) === "closed") return;
    this.traffic.reconnects++;
    this.onOpen();
  }
}
