/**
 * A worker: the executing side of a party, in process or in a node.
 *
 * It runs the requests of one session (a client connection) in the order they
 * came (pipelined commands see the results of earlier ones) and different
 * sessions concurrently (SessionQueues: clients reach the holders in different
 * orders, and a global order would make them wait on each other's runs), keeps
 * its objects, runs its part of every protocol on its shares, talks to the other parties
 * over a `PeerTransport`, and leaves all crypto-provider work (material,
 * requests to a provider, dealing ahead) to its `ProviderEndpoint`. A bad
 * request gets an error reply and the worker keeps serving; a failed command
 * leaves its failure under the output id, where the next request finds it.
 * Who may do what (namespaces, plan policies, grants, anonymous callers) is
 * decided per request in requests.ts; whole plans run in plan-runner.ts.
 */
import type * as tfjs from "@tensorflow/tfjs";
import { getConfig } from "../core/config";
import { CommunicationError, ErrorCode, ProtocolError, TsyftError, serializeError } from "../core/errors";
import { checkObjectsPerClient } from "../core/limits";
import { isOpName } from "../core/ops";
import { Mailbox, type Communicator, type OutgoingFrame } from "../mpc/communicator";
import type { PartyStats } from "../mpc/context";
import { runPartyOp, type Operand } from "../mpc/party-ops";
import { ProviderEndpoint, rekeyScope } from "../mpc/provider/endpoint";
import type { Command, InputRef, PlainOpCommand, SharedOpCommand } from "../tensors/handle";
import { fromTensorData } from "../tensors/hook";
import { checkOpOutput, runPlainOpWithinLimits, type TF } from "../tensors/plain-ops";
import { LOCAL_CALLER, type Access, type Caller } from "./caller";
import { Grants } from "./grants";
import { decodeFrame, decodeRequest, encodeFrame, encodeReply, type Request } from "./messages";
import { ObjectStore, describeObject, type StoredObject } from "./object-store";
import { preprocessPlanCommand, runPlanCommand } from "./plan-runner";
import { PlanStore } from "./plan-store";
import { answerRequest, checkAnonymous } from "./requests";
import { SessionQueues } from "./session-queues";

/** Moves frames between parties; implemented in process and over WebSockets. */
export interface PeerTransport {
  /** Sends bytes to `to`; throws a CommunicationError when there is no link. */
  sendTo(to: string, bytes: Uint8Array): void;
  /**
   * The one-way latency, in milliseconds, the link to `peer` adds (a simulated
   * network distance); absent means none. The "auto" comparison reads it
   * through Communicator.linkLatencyMs.
   */
  linkLatencyMs?(peer: string): number;
}

export interface WorkerStats {
  requests: number;
  commands: number;
  failedCommands: number;
  malformed: number;
  party: PartyStats;
}

/** Aborts kept per unreachable peer until it links again (the most recent; older runs have timed out by then). */
const MAX_UNDELIVERED_ABORTS = 64;

/** Runs `fn` on a later turn of the event loop, after pending I/O (setImmediate where there is one). */
const laterTurn: (fn: () => void) => void =
  typeof setImmediate === "function" ? (fn) => setImmediate(fn) : (fn) => setTimeout(fn, 0);

export class Worker {
  readonly objects: ObjectStore;
  readonly mailbox: Mailbox;
  readonly comm: Communicator;
  /** Aborts of scopes this worker gave up that could not reach a peer, sent when it links again. */
  private readonly undeliveredAborts = new Map<string, OutgoingFrame[]>();
  /** Its crypto providers: material as a holder, answers as a provider. */
  readonly providers: ProviderEndpoint;
  readonly plans: PlanStore;
  /** Who may use whose weight shares as plan state (grants.ts). */
  readonly grants: Grants;
  readonly stats: WorkerStats = {
    requests: 0,
    commands: 0,
    failedCommands: 0,
    malformed: 0,
    party: { rounds: 0, bytesSent: 0, framesSent: 0 },
  };
  readonly queues = new SessionQueues();

  constructor(
    readonly id: string,
    readonly tf: TF,
    private readonly transport: PeerTransport,
  ) {
    this.objects = new ObjectStore(id);
    this.mailbox = new Mailbox(id);
    this.plans = new PlanStore(this);
    this.grants = new Grants(this.objects);
    this.comm = {
      self: id,
      send: (to: string, frame: OutgoingFrame) => this.transport.sendTo(to, encodeFrame({ ...frame, from: id })),
      recv: (from: string, tag: string) => this.mailbox.recv(from, tag),
      linkLatencyMs: (peer: string) => this.transport.linkLatencyMs?.(peer) ?? 0,
    };
    this.providers = new ProviderEndpoint(this.comm);
  }

  /**
   * Handles one encoded request from `caller`; resolves with the encoded reply
   * when it asks for one.
   */
  // Queued synchronously (before any await), so a session's requests keep the order they arrived in.
  async handleRequest(bytes: Uint8Array, caller: Caller = LOCAL_CALLER): Promise<Uint8Array | undefined> {
    this.stats.requests++;
    if (bytes.byteLength > getConfig().maxMessageBytes) {
      this.stats.malformed++;
      return encodeReply({
        rid: -1,
        ok: false,
        error: serializeError(
          new CommunicationError(
            ErrorCode.MESSAGE_TOO_LARGE,
            `${this.id} refused a message of ${bytes.byteLength} bytes: the limit is ${getConfig().maxMessageBytes} (maxMessageBytes).`,
          ),
        ),
      });
    }
    let request: Request;
    try {
      request = decodeRequest(bytes);
    } catch (error) {
      this.stats.malformed++;
      const rid = error instanceof TsyftError && typeof error.details.rid === "number" ? error.details.rid : -1;
      return encodeReply({ rid, ok: false, error: serializeError(error) });
    }
    const reply = await answerRequest(this, request, caller);
    return reply && encodeReply(reply);
  }

  /** Handles one encoded frame from another party. */
  receiveFrame(bytes: Uint8Array): void {
    let frame;
    try {
      frame = decodeFrame(bytes);
    } catch {
      this.stats.malformed++;
      return;
    }
    if (frame.kind === "request") {
      this.sendReplies(frame.from, this.providers.replies(frame));
      return;
    }
    this.mailbox.deliver(frame);
  }

  /**
   * Sends a provider's replies to `to`: the first now, each next one on a
   * later turn of the event loop (a stream is dealt piece by piece as it is
   * sent, and other requests are answered in between).
   */
  private sendReplies(to: string, replies: Iterable<OutgoingFrame>): void {
    const pieces = replies[Symbol.iterator]();
    const next = () => {
      const piece = pieces.next();
      if (piece.done) return;
      try {
        this.comm.send(to, piece.value);
      } catch {
        return; // The requester is gone; its own timeout reports it.
      }
      laterTurn(next);
    };
    next();
  }

  /** Runs one pipelined command for `access`; a failure is kept under its output ids. */
  async execute(command: Command, access: Access): Promise<void> {
    this.stats.commands++;
    try {
      checkAnonymous({ t: "submit", command }, access);
      switch (command.type) {
        case "shared-op":
          return await this.executeShared(command, access.owner);
        case "plain-op":
          return this.executePlain(command, access.owner);
        case "run-plan":
          return await runPlanCommand(this, access, command);
        case "preprocess-plan":
          return await preprocessPlanCommand(this, access, command);
        case "run-hosted-plan":
          return this.plans.runHosted(access, command);
        default:
          throw new CommunicationError(
            ErrorCode.MALFORMED_MESSAGE,
            `Unknown command type ${JSON.stringify((command as { type?: unknown }).type)}.`,
          );
      }
    } catch (error) {
      this.stats.failedCommands++;
      const c = command as { op?: unknown; output?: unknown; outputs?: unknown };
      const outputs = [c.output, ...(Array.isArray(c.outputs) ? c.outputs : [])];
      this.recordFailure(access.owner, outputs, typeof c.op === "string" ? c.op : String(command.type), error);
      if (command.type === "shared-op" && Array.isArray(command.holders))
        this.abortPeers(command.holders, command.output, error);
      if (command.type === "run-plan" && Array.isArray(command.holders))
        this.abortPeers(command.holders, command.runId, error);
    }
  }

  /** Keeps a failure under `owner`'s `ids` (those that are ids), unless that owner is at its object limit. */
  recordFailure(owner: string, ids: readonly unknown[], op: string, error: unknown): void {
    const failed: StoredObject = { kind: "failed", error: serializeError(error), op };
    for (const id of ids) {
      if (typeof id !== "string") continue;
      if (this.objects.has(owner, id) || this.objects.countOf(owner) < getConfig().maxObjectsPerClient)
        this.objects.set(owner, id, failed);
    }
  }

  /** Creates (or replaces) `owner`'s object `id`; a new one over `maxObjectsPerClient` is refused (TSYFT_ERR_LIMIT). */
  put(owner: string, id: string, object: StoredObject): void {
    if (!this.objects.has(owner, id)) checkObjectsPerClient(this.objects.countOf(owner), owner);
    this.objects.set(owner, id, object);
  }

  private async executeShared(command: SharedOpCommand, owner: string): Promise<void> {
    checkOp(command.op);
    const inputs = command.inputs.map((ref) => this.shareOperand(ref, command.op, owner));
    checkOpOutput(command.op, command.attrs, shapesOf(inputs));
    const result = await this.providers.run(command, command.output, this.stats.party, (ctx) =>
      runPartyOp(ctx, command.op, inputs, command.attrs, command.encoding),
    );
    this.put(owner, command.output, { kind: "share", value: result });
  }

  private executePlain(command: PlainOpCommand, owner: string): void {
    checkOp(command.op);
    const inputs = command.inputs.map((ref) => this.plainInput(ref, command.op, owner));
    try {
      this.put(owner, command.output, {
        kind: "tensor",
        value: runPlainOpWithinLimits(this.tf, command.op, inputs, command.attrs),
      });
    } finally {
      command.inputs.forEach((ref, i) => ref.kind === "plain" && inputs[i]!.dispose());
    }
  }

  /** A share operand: a public value sent along, or `owner`'s share held here. */
  shareOperand(ref: InputRef, op: string, owner: string): Operand {
    if (ref.kind === "public") return { shared: false, value: ref.value };
    if (ref.kind === "object") {
      const object = this.objects.get(owner, ref.id);
      if (object.kind === "share") return { shared: true, value: object.value };
      throw new ProtocolError(
        ErrorCode.UNSUPPORTED_OP,
        `${op}: "${ref.id}" on ${this.id} is a ${describeObject(object)}, not a share.`,
      );
    }
    throw new ProtocolError(
      ErrorCode.UNSUPPORTED_OP,
      `${op}: a secure op got a plaintext tensor operand; encode it with fixPrecision first.`,
    );
  }

  /** A plaintext operand: `owner`'s tensor held here, or one that came with the command. */
  plainInput(ref: InputRef, op: string, owner: string): tfjs.Tensor {
    if (ref.kind === "plain") return fromTensorData(this.tf, ref.value);
    if (ref.kind === "object") {
      const object = this.objects.get(owner, ref.id);
      if (object.kind === "tensor") return object.value;
      throw new ProtocolError(
        ErrorCode.UNSUPPORTED_OP,
        `${op}: "${ref.id}" on ${this.id} is a ${describeObject(object)}, not a plaintext tensor.`,
      );
    }
    throw new ProtocolError(ErrorCode.UNSUPPORTED_OP, `${op}: a plaintext op got a fixed-point value.`);
  }

  /** Tells the other holders to stop waiting on a scope this worker gave up (and on its re-keyed retry). */
  protected abortPeers(holders: readonly string[], runScope: string, error: unknown): void {
    for (const scope of [runScope, rekeyScope(runScope)]) this.abortScope(holders, scope, error);
  }

  private abortScope(holders: readonly string[], scope: string, error: unknown): void {
    this.mailbox.dropScope(scope);
    const reason = `${this.id} failed: ${(error as Error)?.message ?? String(error)}`;
    for (const peer of holders) {
      if (peer === this.id) continue;
      const abort: OutgoingFrame = { kind: "abort", tag: scope, tensors: [], meta: reason };
      try {
        this.comm.send(peer, abort);
      } catch {
        // No link to that peer now (it may be restarting, and already running this scope): told once it links again.
        const waiting = this.undeliveredAborts.get(peer) ?? [];
        waiting.push(abort);
        this.undeliveredAborts.set(peer, waiting.slice(-MAX_UNDELIVERED_ABORTS));
      }
    }
  }

  /**
   * A peer is linked (again): fails the waits of a lost link no more, and
   * tells it of the scopes this worker gave up while it could not be reached,
   * so that a run it started meanwhile fails now instead of at its timeout.
   */
  peerBack(peer: string): void {
    this.mailbox.peerBack(peer);
    const aborts = this.undeliveredAborts.get(peer);
    this.undeliveredAborts.delete(peer);
    for (const abort of aborts ?? []) {
      try {
        this.comm.send(peer, abort);
      } catch {
        return; // Gone again: its own timeout reports it.
      }
    }
  }

  /** A peer restarted: forget what was cached about it (a crypto provider's keys are new). */
  forgetPeer(peer: string): void {
    this.providers.forgetPeer(peer);
  }

  /** Frees everything and fails pending waits. */
  close(reason = "worker closed"): void {
    this.mailbox.close(reason);
    this.objects.clear();
  }
}

function checkOp(op: unknown): void {
  if (!isOpName(op)) throw new CommunicationError(ErrorCode.MALFORMED_MESSAGE, `Unknown op ${JSON.stringify(op)}.`);
}

function shapesOf(operands: readonly Operand[]): ReadonlyArray<readonly number[]> {
  return operands.map((o) => o.value.shape);
}
