/**
 * What a grid node does with each WebSocket, one framing (framing.ts) for all:
 * - clients send requests (0x01) that go to `worker.handleRequest`; replies
 *   (0x02) come back on the same socket, matched by rid;
 * - other nodes say hello as peers, and from then on their socket is this
 *   node's link to them (peer frames 0x03 both ways, see peer-links.ts);
 * - control messages (0x04) say who is who and ask for peer links or status.
 *
 * Whatever arrives, the node keeps serving: a text or empty message, an
 * unknown channel, a malformed request or an unknown object id is answered
 * with an error reply (rid -1 when the request had none); a peer's bad frames
 * are only counted.
 *
 * @example
 * ```ts
 * const sockets = new NodeSockets(node);
 * wss.on("connection", (socket) => sockets.accept(socket));
 * ```
 */
import WebSocket from "ws";
import { CommunicationError, ErrorCode, serializeError } from "../core/errors";
import type { Caller } from "../workers/caller";
import { encodeReply } from "../workers/messages";
import type { Worker } from "../workers/worker";
import { decodeControl, encodeControl, type ControlMessage, type Hello } from "./control";
import { Channel, decodeGridFrame, encodeGridFrame, messageBytes } from "./framing";
import type { NodeHealth } from "./node";
import type { LinkStats, PeerLinks } from "./peer-links";

/** What the sockets need of their node. */
export interface SocketsOwner {
  readonly id: string;
  readonly boot: string;
  /** The url clients and peers reach the node at. */
  readonly url: string;
  readonly worker: Worker;
  readonly peers: PeerLinks;
  health(): NodeHealth;
}

const CLOSE_WRONG_ID = 4001;
const CLOSE_SHUTDOWN = 1001;

/**
 * A node's client and peer sockets: routing their frames, answering hellos and control calls.
 *
 * @example
 * ```ts
 * wss.on("connection", (socket) => sockets.accept(socket));
 * ```
 */
export class NodeSockets {
  /** Bytes and frames on client sockets (peers count theirs in PeerLinks). */
  readonly clientStats: LinkStats = { bytesIn: 0, bytesOut: 0, framesIn: 0, framesOut: 0 };
  private readonly clients = new Set<WebSocket>();
  private refused = 0;
  private sessions = 0;

  constructor(private readonly node: SocketsOwner) {}

  /** Frames refused so far (malformed, or on the wrong kind of socket). */
  get malformed(): number {
    return this.refused;
  }

  /** Takes a new socket: a client's until it says hello as a peer. */
  accept(socket: WebSocket): void {
    let peer: string | undefined;
    // Until clients authenticate (issue 10), every client socket is the admin, each its own session.
    const caller: Caller = { principal: { kind: "admin" }, session: `s${++this.sessions}` };
    this.clients.add(socket);
    socket.on("error", () => undefined); // e.g. an oversized message: ws closes the socket with 1009 itself
    socket.on("close", () => this.clients.delete(socket));
    socket.on("message", (data, isBinary) => {
      const bytes = messageBytes(data as Buffer);
      if (peer === undefined) {
        this.clientStats.bytesIn += bytes.byteLength;
        this.clientStats.framesIn++;
      }
      if (!isBinary) {
        return this.refuseFrame(
          socket,
          peer,
          new CommunicationError(
            ErrorCode.MALFORMED_MESSAGE,
            "Malformed grid frame: a text message; tsyft frames are binary.",
          ),
        );
      }
      let frame;
      try {
        frame = decodeGridFrame(bytes);
      } catch (error) {
        return this.refuseFrame(socket, peer, error);
      }
      switch (frame.channel) {
        case Channel.Request:
          return this.onRequest(socket, frame.payload, caller);
        case Channel.Peer:
          if (peer === undefined) {
            return this.refuseFrame(
              socket,
              peer,
              new CommunicationError(
                ErrorCode.MALFORMED_MESSAGE,
                "A peer frame on a client socket: only nodes linked as peers (hello role peer) send peer frames.",
              ),
            );
          }
          return this.node.peers.receive(peer, frame.payload, bytes.byteLength);
        case Channel.Control: {
          let message: ControlMessage;
          try {
            message = decodeControl(frame.payload);
          } catch (error) {
            return this.refuseFrame(socket, peer, error);
          }
          if (message.t === "hello") {
            const linked = this.onHello(socket, message);
            if (linked) {
              peer = linked;
              this.clients.delete(socket);
              this.clientStats.bytesIn -= bytes.byteLength; // a peer's hello is not client traffic
              this.clientStats.framesIn--;
            }
            return;
          }
          return this.onControl(socket, message);
        }
        case Channel.Reply:
          return this.refuseFrame(
            socket,
            peer,
            new CommunicationError(
              ErrorCode.MALFORMED_MESSAGE,
              "A reply frame sent to a node: nodes answer requests, they take no replies.",
            ),
          );
      }
    });
  }

  /** Closes every client socket (clients see the link close); the stragglers are cut after 200 ms. */
  closeClients(): void {
    for (const socket of this.clients) socket.close(CLOSE_SHUTDOWN, "node shutting down");
    const sockets = [...this.clients];
    setTimeout(() => sockets.forEach((s) => s.terminate()), 200).unref();
  }

  private send(socket: WebSocket, channel: Channel, payload: Uint8Array): void {
    if (socket.readyState !== WebSocket.OPEN) return;
    const frame = encodeGridFrame(channel, payload);
    if (this.clients.has(socket)) {
      this.clientStats.bytesOut += frame.byteLength;
      this.clientStats.framesOut++;
    }
    socket.send(frame);
  }

  private onRequest(socket: WebSocket, payload: Uint8Array, caller: Caller): void {
    // handleRequest queues the request synchronously, so requests run in the order they arrived.
    this.node.worker.handleRequest(payload, caller).then(
      (reply) => reply && this.send(socket, Channel.Reply, reply),
      (error) => this.send(socket, Channel.Reply, encodeReply({ rid: -1, ok: false, error: serializeError(error) })),
    );
  }

  /** A frame the node cannot use: an error reply to clients; peers' bad frames are only counted. */
  private refuseFrame(socket: WebSocket, peer: string | undefined, error: unknown): void {
    this.refused++;
    if (peer !== undefined) return;
    this.send(socket, Channel.Reply, encodeReply({ rid: -1, ok: false, error: serializeError(error) }));
  }

  /** Answers a hello; returns the peer id when the socket became a peer link. */
  private onHello(socket: WebSocket, hello: Hello): string | undefined {
    const { id, boot, url } = this.node;
    if (hello.expect !== undefined && hello.expect !== id) {
      const error = new CommunicationError(
        ErrorCode.WORKER_ID,
        `Expected node "${hello.expect}", but this is node "${id}" (${url}).`,
        {
          worker: id,
        },
      );
      this.send(socket, Channel.Control, encodeControl({ t: "refused", error: serializeError(error) }));
      socket.close(CLOSE_WRONG_ID, "wrong node id");
      return undefined;
    }
    if (hello.role === "peer") {
      const from = hello.from!;
      if (from === id) {
        const error = new CommunicationError(
          ErrorCode.WORKER_ID,
          `Node ${id} cannot link to itself (is another node using the id "${from}"?).`,
        );
        this.send(socket, Channel.Control, encodeControl({ t: "refused", error: serializeError(error) }));
        socket.close(CLOSE_WRONG_ID, "same node id");
        return undefined;
      }
      this.node.peers.accept(from, socket, hello.boot);
      socket.send(encodeGridFrame(Channel.Control, encodeControl({ t: "welcome", id, boot })));
      return from;
    }
    this.send(socket, Channel.Control, encodeControl({ t: "welcome", id, boot }));
    return undefined;
  }

  private onControl(socket: WebSocket, message: Exclude<ControlMessage, Hello>): void {
    const answer = (rid: number, work: Promise<unknown>) =>
      work.then(
        (value) => this.send(socket, Channel.Control, encodeControl({ t: "result", rid, ok: true, value })),
        (error) =>
          this.send(
            socket,
            Channel.Control,
            encodeControl({ t: "result", rid, ok: false, error: serializeError(error) }),
          ),
      );
    switch (message.t) {
      case "link":
        return void answer(
          message.rid,
          this.node.peers.dial(message.id, message.url).then(() => ({ id: message.id })),
        );
      case "status":
        return void answer(message.rid, Promise.resolve(this.node.health()));
      default:
        return this.refuseFrame(
          socket,
          undefined,
          new CommunicationError(
            ErrorCode.MALFORMED_MESSAGE,
            `A "${message.t}" control message sent to node ${this.node.id}: nodes take hello, link and status.`,
          ),
        );
    }
  }
}
