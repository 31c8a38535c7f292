/**
 * A worker: the executing side of a party, in process or in a node.
 *
 * It runs client requests one after another in the order they came (so
 * pipelined commands see the results of earlier ones), keeps its objects,
 * runs its part of every protocol on its shares, talks to the other parties
 * over a `PeerTransport`, and answers crypto-provider requests when it is
 * one. A bad request gets an error reply and the worker keeps serving; a
 * failed command leaves its failure under the output id, where the next
 * request that needs it finds it.
 */
import type * as tfjs from "@tensorflow/tfjs";
import { getConfig } from "../core/config";
import { CommunicationError, ErrorCode, ProtocolError, TsyftError, WorkerError, serializeError } from "../core/errors";
import { isOpName } from "../core/ops";
import { Mailbox, type Communicator, type OutgoingFrame } from "../mpc/communicator";
import { PartyContext, type PartyStats } from "../mpc/context";
import { runPartyOp, type Operand } from "../mpc/party-ops";
import { DealerClient, TrustedDealer } from "../mpc/provider/trusted-dealer";
import type { MaterialSource } from "../mpc/provider/provider";
import type { Command, InputRef, PlainOpCommand, SharedOpCommand, StoredValue } from "../tensors/handle";
import { fromTensorData, tensorData } from "../tensors/hook";
import { runPlainOp, type TF } from "../tensors/plain-ops";
import { decodeFrame, decodeRequest, encodeFrame, encodeReply, type Reply, type Request } from "./messages";
import { ObjectStore, type StoredObject } from "./object-store";

/** Moves frames between parties; implemented in process and over WebSockets. */
export interface PeerTransport {
  /** Sends bytes to `to`; throws a CommunicationError when there is no link. */
  sendTo(to: string, bytes: Uint8Array): void;
}

export interface WorkerStats {
  requests: number;
  commands: number;
  failedCommands: number;
  malformed: number;
  party: PartyStats;
}

export class Worker {
  readonly objects: ObjectStore;
  readonly mailbox: Mailbox;
  readonly dealer: TrustedDealer;
  readonly comm: Communicator;
  readonly stats: WorkerStats = { requests: 0, commands: 0, failedCommands: 0, malformed: 0, party: { rounds: 0, bytesSent: 0, framesSent: 0 } };
  private queue: Promise<unknown> = Promise.resolve();
  private readonly materialSources = new Map<string, MaterialSource>();

  constructor(
    readonly id: string,
    readonly tf: TF,
    private readonly transport: PeerTransport,
  ) {
    this.objects = new ObjectStore(id);
    this.mailbox = new Mailbox(id);
    this.dealer = new TrustedDealer(id);
    this.comm = {
      self: id,
      send: (to: string, frame: OutgoingFrame) => this.transport.sendTo(to, encodeFrame({ ...frame, from: id })),
      recv: (from: string, tag: string) => this.mailbox.recv(from, tag),
    };
  }

  /** Handles one encoded request; resolves with the encoded reply when it asks for one. */
  async handleRequest(bytes: Uint8Array): Promise<Uint8Array | undefined> {
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
    const reply = await this.dispatch(request);
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
      const reply = this.dealer.handle(frame);
      try {
        this.comm.send(frame.from, reply);
      } catch {
        // The requester is gone; its own timeout reports it.
      }
      return;
    }
    this.mailbox.deliver(frame);
  }

  /** Runs `fn` after everything queued before it. */
  protected enqueue<T>(fn: () => T | Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  protected async dispatch(request: Request): Promise<Reply | undefined> {
    const answer = async (rid: number, fn: () => unknown): Promise<Reply> => {
      try {
        return { rid, ok: true, value: await this.enqueue(fn) };
      } catch (error) {
        return { rid, ok: false, error: serializeError(error) };
      }
    };
    switch (request.t) {
      case "submit":
        void this.enqueue(() => this.execute(request.command));
        return undefined;
      case "store":
        void this.enqueue(() => this.storeValue(request.id, request.value));
        return undefined;
      case "release":
        void this.enqueue(() => request.ids.forEach((id) => this.objects.delete(id)));
        return undefined;
      case "fetch":
        return answer(request.rid, () => this.fetchValue(request.id, request.remove));
      case "objects":
        return answer(request.rid, () => this.objects.list());
      case "clear":
        return answer(request.rid, () => this.objects.clear());
      case "ping":
        return { rid: request.rid, ok: true, value: this.id };
      case "store-plan":
      case "fetch-plan":
        return answer(request.rid, () => {
          throw new WorkerError(ErrorCode.UNSUPPORTED_OP, `${this.id} cannot host plans yet.`);
        });
    }
  }

  private storeValue(id: string, value: StoredValue): void {
    if (typeof id !== "string" || !value || (value.kind !== "share" && value.kind !== "tensor")) {
      throw new CommunicationError(ErrorCode.MALFORMED_MESSAGE, `store: expected an id and a share or tensor, got ${JSON.stringify(value?.kind)}.`);
    }
    this.objects.set(id, value.kind === "share" ? value : { kind: "tensor", value: fromTensorData(this.tf, value.value) });
  }

  private fetchValue(id: string, remove: boolean): StoredValue {
    const object = this.objects.get(id);
    let value: StoredValue;
    switch (object.kind) {
      case "share":
        value = object;
        break;
      case "tensor":
        value = { kind: "tensor", value: tensorData(object.value) };
        break;
      default:
        throw new WorkerError(ErrorCode.UNSUPPORTED_OP, `Object "${id}" on ${this.id} is a ${describeObject(object)}, not a tensor.`);
    }
    if (remove) this.objects.delete(id);
    return value;
  }

  /** Runs one pipelined command; a failure is kept under its output id. */
  protected async execute(command: Command): Promise<void> {
    this.stats.commands++;
    const output = (command as { output?: unknown }).output;
    try {
      switch (command.type) {
        case "shared-op":
          return await this.executeShared(command);
        case "plain-op":
          return this.executePlain(command);
        default:
          throw new CommunicationError(ErrorCode.MALFORMED_MESSAGE, `Unknown command type ${JSON.stringify((command as { type?: unknown }).type)}.`);
      }
    } catch (error) {
      this.stats.failedCommands++;
      if (typeof output === "string") {
        const op = (command as { op?: unknown }).op;
        this.objects.set(output, { kind: "failed", error: serializeError(error), op: typeof op === "string" ? op : command.type });
      }
      if (command.type === "shared-op" && Array.isArray(command.holders)) this.abortPeers(command.holders, command.output, error);
    }
  }

  private async executeShared(command: SharedOpCommand): Promise<void> {
    checkOp(command.op);
    const ctx = new PartyContext(
      this.comm,
      command.holders,
      command.output,
      command.provider ? this.materialSource(command.provider, command.holders) : undefined,
      command.provider,
      this.stats.party,
    );
    const inputs = command.inputs.map((ref) => this.shareOperand(ref, command.op));
    const result = await runPartyOp(ctx, command.op, inputs, command.attrs, command.encoding);
    this.objects.set(command.output, { kind: "share", value: result });
  }

  private executePlain(command: PlainOpCommand): void {
    checkOp(command.op);
    const inputs = command.inputs.map((ref) => this.plainOperand(ref, command.op));
    try {
      this.objects.set(command.output, { kind: "tensor", value: runPlainOp(this.tf, command.op, inputs, command.attrs) });
    } finally {
      command.inputs.forEach((ref, i) => ref.kind === "plain" && inputs[i]!.dispose());
    }
  }

  private shareOperand(ref: InputRef, op: string): Operand {
    if (ref.kind === "public") return { shared: false, value: ref.value };
    if (ref.kind === "object") {
      const object = this.objects.get(ref.id);
      if (object.kind === "share") return { shared: true, value: object.value };
      throw new ProtocolError(ErrorCode.UNSUPPORTED_OP, `${op}: "${ref.id}" on ${this.id} is a ${describeObject(object)}, not a share.`);
    }
    throw new ProtocolError(ErrorCode.UNSUPPORTED_OP, `${op}: a secure op got a plaintext tensor operand; encode it with fixPrecision first.`);
  }

  private plainOperand(ref: InputRef, op: string): tfjs.Tensor {
    if (ref.kind === "plain") return fromTensorData(this.tf, ref.value);
    if (ref.kind === "object") {
      const object = this.objects.get(ref.id);
      if (object.kind === "tensor") return object.value;
      throw new ProtocolError(ErrorCode.UNSUPPORTED_OP, `${op}: "${ref.id}" on ${this.id} is a ${describeObject(object)}, not a plaintext tensor.`);
    }
    throw new ProtocolError(ErrorCode.UNSUPPORTED_OP, `${op}: a plaintext op got a fixed-point value.`);
  }

  /** The holder side of `provider`'s dealer, one per sharing group (its key is cached). */
  private materialSource(provider: string, holders: readonly string[]): MaterialSource {
    const key = `${provider}|${holders.join(",")}`;
    let source = this.materialSources.get(key);
    if (!source) {
      source = new DealerClient(this.comm, provider, holders);
      this.materialSources.set(key, source);
    }
    return source;
  }

  /** Tells the other holders to stop waiting on a scope this worker gave up. */
  protected abortPeers(holders: readonly string[], scope: string, error: unknown): void {
    this.mailbox.dropScope(scope);
    const reason = `${this.id} failed: ${(error as Error)?.message ?? String(error)}`;
    for (const peer of holders) {
      if (peer === this.id) continue;
      try {
        this.comm.send(peer, { kind: "abort", tag: scope, tensors: [], meta: reason });
      } catch {
        // No link to that peer: it will time out on its own.
      }
    }
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

function describeObject(object: StoredObject): string {
  return object.kind === "other" ? object.type : object.kind === "tensor" ? "plaintext tensor" : object.kind;
}
