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
 */
import type * as tfjs from "@tensorflow/tfjs";
import { getConfig } from "../core/config";
import { CommunicationError, ErrorCode, ProtocolError, TsyftError, WorkerError, serializeError } from "../core/errors";
import { isOpName, type OpName } from "../core/ops";
import { decode, encode, type FixedPointEncoding } from "../encoding/fixed-point";
import { Mailbox, type Communicator, type OutgoingFrame } from "../mpc/communicator";
import type { PartyContext, PartyStats } from "../mpc/context";
import { publicAsShare, runPartyOp, type Operand } from "../mpc/party-ops";
import { ProviderEndpoint, rekeyScope } from "../mpc/provider/endpoint";
import { zeroOperands } from "../mpc/provider/recording";
import type { PreprocessPlanCommand, RunPlanCommand } from "../plans/commands";
import { interpret, type PlanBackend } from "../plans/interpreter";
import { validateIR } from "../plans/ir";
import type { RingTensor } from "../ring";
import type { Command, InputRef, PlainOpCommand, SharedOpCommand, StoredValue } from "../tensors/handle";
import { fromTensorData, tensorData } from "../tensors/hook";
import { checkOpOutput, runPlainOp, runPlainOpWithinLimits, type TF } from "../tensors/plain-ops";
import { LOCAL_CALLER, type Caller } from "./caller";
import { decodeFrame, decodeRequest, encodeFrame, encodeReply, type Reply, type Request } from "./messages";
import { ObjectStore, describeObject, type StoredObject } from "./object-store";
import { PlanStore } from "./plan-store";
import { SessionQueues } from "./session-queues";

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
  readonly comm: Communicator;
  /** Its crypto providers: material as a holder, answers as a provider. */
  readonly providers: ProviderEndpoint;
  readonly plans: PlanStore;
  readonly stats: WorkerStats = {
    requests: 0,
    commands: 0,
    failedCommands: 0,
    malformed: 0,
    party: { rounds: 0, bytesSent: 0, framesSent: 0 },
  };
  private readonly queues = new SessionQueues();

  constructor(
    readonly id: string,
    readonly tf: TF,
    private readonly transport: PeerTransport,
  ) {
    this.objects = new ObjectStore(id);
    this.mailbox = new Mailbox(id);
    this.plans = new PlanStore(this);
    this.comm = {
      self: id,
      send: (to: string, frame: OutgoingFrame) => this.transport.sendTo(to, encodeFrame({ ...frame, from: id })),
      recv: (from: string, tag: string) => this.mailbox.recv(from, tag),
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
    const reply = await this.dispatch(request, caller.session);
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
      const reply = this.providers.answer(frame);
      try {
        this.comm.send(frame.from, reply);
      } catch {
        // The requester is gone; its own timeout reports it.
      }
      return;
    }
    this.mailbox.deliver(frame);
  }

  protected async dispatch(request: Request, session: string): Promise<Reply | undefined> {
    const enqueue = <T>(fn: () => T | Promise<T>) => this.queues.enqueue(session, fn);
    const answer = async (rid: number, fn: () => unknown): Promise<Reply> => {
      try {
        return { rid, ok: true, value: await enqueue(fn) };
      } catch (error) {
        return { rid, ok: false, error: serializeError(error) };
      }
    };
    switch (request.t) {
      case "submit":
        void enqueue(() => this.execute(request.command));
        return undefined;
      case "store":
        void enqueue(() => this.storeValue(request.id, request.value));
        return undefined;
      case "release":
        void enqueue(() => request.ids.forEach((id) => this.objects.delete(id)));
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
        return answer(request.rid, () => this.plans.store(request.id, request.plan, request.token));
      case "fetch-plan":
        return answer(request.rid, () => this.plans.fetch(request.id, { copy: request.copy, token: request.token }));
    }
  }

  private storeValue(id: string, value: StoredValue): void {
    if (typeof id !== "string" || !value || (value.kind !== "share" && value.kind !== "tensor")) {
      throw new CommunicationError(
        ErrorCode.MALFORMED_MESSAGE,
        `store: expected an id and a share or tensor, got ${JSON.stringify(value?.kind)}.`,
      );
    }
    this.objects.set(
      id,
      value.kind === "share" ? value : { kind: "tensor", value: fromTensorData(this.tf, value.value) },
    );
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
        throw new WorkerError(
          ErrorCode.UNSUPPORTED_OP,
          `Object "${id}" on ${this.id} is a ${describeObject(object)}, not a tensor.`,
        );
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
        case "run-plan":
          return await this.executePlan(command);
        case "preprocess-plan":
          return await this.preprocessPlan(command);
        case "run-hosted-plan":
          return this.plans.runHosted(command);
        default:
          throw new CommunicationError(
            ErrorCode.MALFORMED_MESSAGE,
            `Unknown command type ${JSON.stringify((command as { type?: unknown }).type)}.`,
          );
      }
    } catch (error) {
      this.stats.failedCommands++;
      const op = (command as { op?: unknown }).op;
      const failed: StoredObject = {
        kind: "failed",
        error: serializeError(error),
        op: typeof op === "string" ? op : command.type,
      };
      if (typeof output === "string") this.objects.set(output, failed);
      const outputs = (command as { outputs?: unknown }).outputs;
      if (Array.isArray(outputs)) outputs.forEach((id) => typeof id === "string" && this.objects.set(id, failed));
      if (command.type === "shared-op" && Array.isArray(command.holders))
        this.abortPeers(command.holders, command.output, error);
      if (command.type === "run-plan" && Array.isArray(command.holders))
        this.abortPeers(command.holders, command.runId, error);
    }
  }

  private async executeShared(command: SharedOpCommand): Promise<void> {
    checkOp(command.op);
    const inputs = command.inputs.map((ref) => this.shareOperand(ref, command.op));
    checkOpOutput(command.op, command.attrs, shapesOf(inputs));
    const result = await this.providers.run(command, command.output, this.stats.party, (ctx) =>
      runPartyOp(ctx, command.op, inputs, command.attrs, command.encoding),
    );
    this.objects.set(command.output, { kind: "share", value: result });
  }

  /** Runs a whole plan on this holder's shares (SPMD): one scope, one tag sequence for all its ops. */
  private async executePlan(command: RunPlanCommand): Promise<void> {
    const ir = validateIR(command.ir);
    const operand = (ref: InputRef) => this.shareOperand(ref, "plan");
    // The state is the plan's weights: fixed values whose masked form can be opened once and reused.
    const state = command.state.map((ref): Operand => {
      const o = operand(ref);
      return o.shared && ref.kind === "object" ? { ...o, fixed: ref.id } : o;
    });
    const inputs = command.inputs.map(operand);
    const { ctx, outputs } = await this.providers.run(command, command.runId, this.stats.party, async (ctx) => ({
      ctx,
      outputs: await interpret<Operand>(ir, inputs, state, this.planBackend(ctx, command.encoding)),
    }));
    outputs.forEach((out, i) =>
      this.objects.set(command.outputs[i]!, {
        kind: "share",
        value: out.shared ? out.value : publicAsShare(ctx, out.value),
      }),
    );
  }

  /** How a holder runs plan ops: protocols on shares, plaintext on values every holder knows. */
  private planBackend(ctx: PartyContext, enc: FixedPointEncoding): PlanBackend<Operand> {
    return {
      constant: (data) => ({ shared: false, value: encode(data.values, data.shape, enc) }),
      scalar: (value) => ({ shared: false, value: encode([value], [], enc) }),
      run: async (op, args, attrs) => {
        checkOpOutput(op, attrs as never, shapesOf(args));
        // Ops on public values only (e.g. on a plaintext weight) give the same public result on every holder.
        if (args.every((a) => !a.shared)) return { shared: false, value: this.runPublic(op, args, attrs, enc) };
        return { shared: true, value: await runPartyOp(ctx, op, args, attrs as never, enc) };
      },
    };
  }

  /** Offline phase: the provider deals now what a run of the plan needs (found by a dry run), for each run id. */
  private async preprocessPlan(command: PreprocessPlanCommand): Promise<void> {
    const ir = validateIR(command.ir);
    const { inputShapes, stateShapes, sharedInputs, sharedState, stateIds, holders, encoding } = command;
    const pieces = await this.providers.preprocess(command, command.runIds, {
      identity: [command.ir, inputShapes, stateShapes, sharedInputs, sharedState, stateIds, holders.length, encoding],
      run: (ctx) =>
        interpret<Operand>(
          ir,
          zeroOperands(inputShapes, sharedInputs),
          zeroOperands(stateShapes, sharedState, stateIds),
          this.planBackend(ctx, encoding),
        ),
    });
    this.objects.set(command.output, { kind: "tensor", value: this.tf.tensor([pieces]) });
  }

  private runPublic(op: OpName, args: Operand[], attrs: Record<string, unknown>, enc: FixedPointEncoding): RingTensor {
    const tf = this.tf;
    const result = tf.tidy(() =>
      runPlainOp(
        tf,
        op,
        args.map((a) => tf.tensor(Float32Array.from(decode(a.value, enc)), [...a.value.shape])),
        attrs as never,
      ),
    );
    const encoded = encode(result.dataSync(), result.shape, enc);
    result.dispose();
    return encoded;
  }

  private executePlain(command: PlainOpCommand): void {
    checkOp(command.op);
    const inputs = command.inputs.map((ref) => this.plainInput(ref, command.op));
    try {
      this.objects.set(command.output, {
        kind: "tensor",
        value: runPlainOpWithinLimits(this.tf, command.op, inputs, command.attrs),
      });
    } finally {
      command.inputs.forEach((ref, i) => ref.kind === "plain" && inputs[i]!.dispose());
    }
  }

  private shareOperand(ref: InputRef, op: string): Operand {
    if (ref.kind === "public") return { shared: false, value: ref.value };
    if (ref.kind === "object") {
      const object = this.objects.get(ref.id);
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

  /** A plaintext operand: a tensor held here, or one that came with the command. */
  plainInput(ref: InputRef, op: string): tfjs.Tensor {
    if (ref.kind === "plain") return fromTensorData(this.tf, ref.value);
    if (ref.kind === "object") {
      const object = this.objects.get(ref.id);
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
      try {
        this.comm.send(peer, { kind: "abort", tag: scope, tensors: [], meta: reason });
      } catch {
        // No link to that peer: it will time out on its own.
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
