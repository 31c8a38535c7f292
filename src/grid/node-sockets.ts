/**
 * What a grid node does with each WebSocket, one framing (framing.ts) for all:
 * - clients send requests (0x01) that go to `worker.handleRequest`; replies
 *   (0x02) come back on the same socket, matched by rid;
 * - other nodes say hello as peers, and from then on their socket is this
 *   node's link to them (peer frames 0x03 both ways, see peer-links.ts);
 * - control messages (0x04) say who is who and ask for peer links or status.
 *
 * Nothing but a control message is taken before a signed hello
 * (auth/handshake.ts): it gives a client socket its principal (admin, user,
 * anonymous), which reaches the worker with every request, and makes a
 * peer's socket the link of the node its certificate names. A hello that
 * does not authenticate is answered `refused` and the socket closed (4003).
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
import { AuthError, CommunicationError, ErrorCode, serializeError } from "../core/errors";
import type { Caller } from "../workers/caller";
import { encodeReply } from "../workers/messages";
import type { Worker } from "../workers/worker";
import { authenticateHello, signWelcome, type HelloIdentity, type NodeKey } from "./auth/handshake";
import type { ReplayGuard } from "./auth/proofs";
import { decodeControl, encodeControl, type ControlMessage, type Hello } from "./control";
import { Channel, decodeGridFrame, encodeGridFrame, messageBytes } from "./framing";
import { closeOn, sendOn, type LinkShape } from "./link-delay";
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
  /** The node's key and certificate, and the grid key it trusts. */
  readonly key: NodeKey;
  readonly gridKey: string;
  /** Remembers hello nonces, so that a hello is accepted once. */
  readonly replayGuard: ReplayGuard;
  health(): NodeHealth;
  /** Throws TSYFT_ERR_AUTH unless a peer link to node `id` at `url` may be opened (the gateway vouches for it). */
  checkLinkTarget(id: string, url: string): Promise<void>;
  /** Whether the node has a gateway that vouches for its peers' addresses. */
  readonly vouched: boolean;
  /** Whether a browser page of this origin may open a socket (see GridNode.allowsOrigin). */
  allowsOrigin(origin: string): boolean;
  /** The node's distance to whoever it answers: its frames leave that much later (link-delay.ts). */
  readonly link?: LinkShape;
}

const CLOSE_WRONG_ID = 4001;
const CLOSE_AUTH = 4003;
const CLOSE_ORIGIN = 4008;
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

  /**
   * Takes a new socket: a client's until it says hello as a peer. `origin` is the Origin header of its
   * upgrade request, which browsers send and set themselves: a page from an origin the node does not
   * allow is answered `refused` (TSYFT_ERR_ORIGIN) and closed (4008) before it can say anything.
   */
  accept(socket: WebSocket, origin?: string): void {
    if (origin !== undefined && !this.node.allowsOrigin(origin)) {
      const error = new AuthError(
        ErrorCode.ORIGIN,
        `Node ${this.node.id} does not take sockets from pages of ${origin}; it allows its gateway's page. ` +
          `Serve the page from the gateway, or start the node with allowedOrigins including ${origin}.`,
        { worker: this.node.id, origin },
      );
      this.refuseHello(socket, error, CLOSE_ORIGIN, "origin not allowed");
      return;
    }
    let peer: string | undefined;
    // Set by the socket's hello: the principal it proved, in a session of its own.
    let caller: Caller | undefined;
    const session = `s${++this.sessions}`;
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
          if (caller === undefined) {
            return this.refuseFrame(
              socket,
              peer,
              new AuthError(
                ErrorCode.AUTH,
                peer === undefined
                  ? `A request before hello: say a signed hello to node ${this.node.id} first (the client library does).`
                  : "A request on a peer link: peers exchange peer frames only.",
              ),
            );
          }
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
            if (caller !== undefined || peer !== undefined) {
              return this.refuseFrame(
                socket,
                peer,
                new CommunicationError(ErrorCode.MALFORMED_MESSAGE, "A second hello: a socket says hello once."),
              );
            }
            const who = this.onHello(socket, message);
            if (who?.kind === "peer") {
              peer = who.from;
              this.clients.delete(socket);
              this.clientStats.bytesIn -= bytes.byteLength; // a peer's hello is not client traffic
              this.clientStats.framesIn--;
            } else if (who) caller = { principal: who.principal, session };
            return;
          }
          return this.onControl(socket, message, caller);
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
    for (const socket of this.clients) closeOn(socket, this.node.link, CLOSE_SHUTDOWN, "node shutting down");
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
    sendOn(socket, frame, this.node.link);
  }

  private onRequest(socket: WebSocket, payload: Uint8Array, caller: Caller): void {
    // handleRequest queues the request synchronously, so requests run in the order they arrived.
    this.node.worker.handleRequest(payload, caller).then(
      (reply) => reply && this.send(socket, Channel.Reply, reply),
      (error) => this.send(socket, Channel.Reply, encodeReply({ rid: -1, ok: false, error: serializeError(error) })),
    );
  }

  /**
   * A `link` control call, to an address the gateway vouches for. The admin may ask; so may a signed-in user when
   * the node has a gateway (the link then only joins two members of the grid, each proving its id, which is what
   * serving a model needs); anonymous clients may not, nor anyone but the admin on a node with no gateway.
   */
  private async link(id: string, url: string, caller: Caller | undefined): Promise<{ id: string }> {
    const kind = caller?.principal.kind;
    if (kind !== "admin" && !(kind === "user" && this.node.vouched)) {
      throw new AuthError(
        ErrorCode.AUTH,
        kind === "user"
          ? `Only the grid's admin may link node ${this.node.id} to other nodes: it has no gateway to vouch for their addresses. Connect with { token: adminToken }.`
          : `Only the grid's admin or a signed-in user may link node ${this.node.id} to other nodes; anonymous clients may only query models. Pass { token }.`,
        { worker: this.node.id },
      );
    }
    await this.node.checkLinkTarget(id, url);
    await this.node.peers.dial(id, url);
    return { id };
  }

  /** A frame the node cannot use: an error reply to clients; peers' bad frames are only counted. */
  private refuseFrame(socket: WebSocket, peer: string | undefined, error: unknown): void {
    this.refused++;
    if (peer !== undefined) return;
    this.send(socket, Channel.Reply, encodeReply({ rid: -1, ok: false, error: serializeError(error) }));
  }

  /** Answers a hello; returns who said it, or undefined when it was refused (and the socket closed). */
  private onHello(socket: WebSocket, hello: Hello): HelloIdentity | undefined {
    const { id, boot, url } = this.node;
    if (hello.expect !== undefined && hello.expect !== id) {
      const error = new CommunicationError(
        ErrorCode.WORKER_ID,
        `Expected node "${hello.expect}", but this is node "${id}" (${url}).`,
        { worker: id },
      );
      return this.refuseHello(socket, error, CLOSE_WRONG_ID, "wrong node id");
    }
    if (hello.role === "peer" && hello.from === id) {
      const error = new CommunicationError(
        ErrorCode.WORKER_ID,
        `Node ${id} cannot link to itself (is another node using the id "${hello.from}"?).`,
      );
      return this.refuseHello(socket, error, CLOSE_WRONG_ID, "same node id");
    }
    let who: HelloIdentity;
    try {
      if (hello.expect === undefined) {
        throw new AuthError(ErrorCode.AUTH, `A hello must name the node it expects (expect: "${id}").`);
      }
      who = authenticateHello(
        { ...hello, expect: hello.expect },
        {
          id,
          gridKey: this.node.gridKey,
          guard: this.node.replayGuard,
        },
      );
    } catch (error) {
      return this.refuseHello(socket, error, CLOSE_AUTH, "authentication failed");
    }
    const welcome = encodeControl({
      t: "welcome",
      id,
      boot,
      auth: signWelcome(this.node.key, id, boot, hello.auth!.nonce),
    });
    if (who.kind === "peer") {
      this.node.peers.accept(who.from, socket, hello.boot, hello.latencyMs);
      sendOn(socket, encodeGridFrame(Channel.Control, welcome), this.node.link);
    } else this.send(socket, Channel.Control, welcome);
    return who;
  }

  private refuseHello(socket: WebSocket, error: unknown, code: number, reason: string): undefined {
    this.refused++;
    this.send(socket, Channel.Control, encodeControl({ t: "refused", error: serializeError(error) }));
    closeOn(socket, this.node.link, code, reason);
    return undefined;
  }

  private onControl(socket: WebSocket, message: Exclude<ControlMessage, Hello>, caller: Caller | undefined): void {
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
        return void answer(message.rid, this.link(message.id, message.url, caller));
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
