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
import { createHash } from "node:crypto";
import { encodeMessage } from "../core/codec";
import { getConfig } from "../core/config";
import { CommunicationError, ErrorCode, ProtocolError, TsyftError, WorkerError, serializeError } from "../core/errors";
import { isOpName, type OpName } from "../core/ops";
import { decode, encode, type FixedPointEncoding } from "../encoding/fixed-point";
import { Mailbox, type Communicator, type OutgoingFrame } from "../mpc/communicator";
import { PartyContext, type PartyStats } from "../mpc/context";
import { publicAsShare, runPartyOp, type Operand } from "../mpc/party-ops";
import { DealerClient, TrustedDealer } from "../mpc/provider/trusted-dealer";
import type { MaterialSource } from "../mpc/provider/provider";
import { EchoCommunicator, RecordingMaterialSource, type RecordedMaterial } from "../mpc/provider/recording";
import type { PreprocessPlanCommand, RunPlanCommand } from "../plans/commands";
import { interpret, type PlanBackend } from "../plans/interpreter";
import { validateIR } from "../plans/ir";
import * as ring from "../ring";
import type { RingTensor } from "../ring";
import type { Command, InputRef, PlainOpCommand, SharedOpCommand, StoredValue } from "../tensors/handle";
import { fromTensorData, tensorData } from "../tensors/hook";
import { checkOpOutput, runPlainOp, runPlainOpWithinLimits, type TF } from "../tensors/plain-ops";
import { decodeFrame, decodeRequest, encodeFrame, encodeReply, type Reply, type Request } from "./messages";
import { ObjectStore, type StoredObject } from "./object-store";
import { PlanStore } from "./plan-store";

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
  readonly plans: PlanStore;
  readonly stats: WorkerStats = {
    requests: 0,
    commands: 0,
    failedCommands: 0,
    malformed: 0,
    party: { rounds: 0, bytesSent: 0, framesSent: 0 },
  };
  private queue: Promise<unknown> = Promise.resolve();
  private readonly materialSources = new Map<string, MaterialSource>();
  /** Opened masked weights (fixed operands of Beaver products), by mask tag. */
  private readonly openedMasks = new Map<string, RingTensor>();
  /** What one run of a plan needs from the dealer, by plan and shapes (from dry runs). */
  private readonly dryRuns = new Map<string, RecordedMaterial[]>();

  constructor(
    readonly id: string,
    readonly tf: TF,
    private readonly transport: PeerTransport,
  ) {
    this.objects = new ObjectStore(id);
    this.mailbox = new Mailbox(id);
    this.dealer = new TrustedDealer(id);
    this.plans = new PlanStore(this);
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
    const ctx = this.partyContext(command.holders, command.output, command.provider);
    const inputs = command.inputs.map((ref) => this.shareOperand(ref, command.op));
    const shapes = inputs.map((o) => o.value.shape);
    checkOpOutput(command.op, command.attrs, shapes);
    const result = await runPartyOp(ctx, command.op, inputs, command.attrs, command.encoding);
    this.objects.set(command.output, { kind: "share", value: result });
  }

  /** Runs a whole plan on this holder's shares (SPMD): one scope, one tag sequence for all its ops. */
  private async executePlan(command: RunPlanCommand): Promise<void> {
    const ir = validateIR(command.ir);
    const ctx = this.partyContext(command.holders, command.runId, command.provider);
    const operand = (ref: InputRef) => this.shareOperand(ref, "plan");
    // The state is the plan's weights: fixed values whose masked form can be opened once and reused.
    const state = command.state.map((ref): Operand => {
      const o = operand(ref);
      return o.shared && ref.kind === "object" ? { ...o, fixed: ref.id } : o;
    });
    const outputs = await interpret<Operand>(
      ir,
      command.inputs.map(operand),
      state,
      this.planBackend(ctx, command.encoding),
    );
    outputs.forEach((out, i) =>
      this.objects.set(command.outputs[i]!, {
        kind: "share",
        value: out.shared ? out.value : publicAsShare(ctx, out.value),
      }),
    );
  }

  /** This holder's context for one protocol run: its links, its provider's material, its counters. */
  private partyContext(holders: readonly string[], scope: string, provider: string | undefined): PartyContext {
    const material = provider ? this.materialSource(provider, holders) : undefined;
    return new PartyContext(this.comm, holders, scope, material, provider, this.stats.party, this.openedMasks);
  }

  /** How a holder runs plan ops: protocols on shares, plaintext on values every holder knows. */
  private planBackend(ctx: PartyContext, enc: FixedPointEncoding): PlanBackend<Operand> {
    return {
      constant: (data) => ({ shared: false, value: encode(data.values, data.shape, enc) }),
      scalar: (value) => ({ shared: false, value: encode([value], [], enc) }),
      run: async (op, args, attrs) => {
        const shapes = args.map((a) => a.value.shape);
        checkOpOutput(op, attrs as never, shapes);
        // Ops on public values only (e.g. on a plaintext weight) give the same public result on every holder.
        if (args.every((a) => !a.shared)) return { shared: false, value: this.runPublic(op, args, attrs, enc) };
        return { shared: true, value: await runPartyOp(ctx, op, args, attrs as never, enc) };
      },
    };
  }

  /**
   * Offline phase: learns by a dry run on zeros what material one run of the
   * plan needs (cached per plan and shapes), then has the crypto provider deal
   * it for every given run id in one request.
   */
  private async preprocessPlan(command: PreprocessPlanCommand): Promise<void> {
    const ir = validateIR(command.ir);
    const key = createHash("sha256")
      .update(
        encodeMessage([
          command.ir,
          command.inputShapes,
          command.stateShapes,
          command.sharedInputs,
          command.sharedState,
          command.stateIds,
          command.holders.length,
          command.encoding,
        ]),
      )
      .digest("hex");
    let recorded = this.dryRuns.get(key);
    if (!recorded) {
      const scope = "dry";
      const recorder = new RecordingMaterialSource(scope);
      const ctx = new PartyContext(new EchoCommunicator(this.id), command.holders, scope, recorder, command.provider);
      const zeros = (shapes: number[][], shared: boolean[], ids?: Array<string | null>) =>
        shapes.map((s, i): Operand => {
          if (!(shared[i] ?? true)) return { shared: false, value: ring.zeros(s) };
          const fixed = ids?.[i];
          return fixed ? { shared: true, value: ring.zeros(s), fixed } : { shared: true, value: ring.zeros(s) };
        });
      await interpret<Operand>(
        ir,
        zeros(command.inputShapes, command.sharedInputs),
        zeros(command.stateShapes, command.sharedState, command.stateIds),
        this.planBackend(ctx, command.encoding),
      );
      recorded = recorder.recorded;
      this.dryRuns.set(key, recorded);
    }
    const source = this.materialSource(command.provider, command.holders) as DealerClient;
    const perRun = recorded;
    await source.preload(
      command.runIds.flatMap((runId) => perRun.map((r) => ({ tag: `${runId}${r.suffix}`, spec: r.spec }))),
    );
    this.objects.set(command.output, {
      kind: "tensor",
      value: this.tf.tensor([perRun.length * command.runIds.length]),
    });
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

  /** A peer restarted: forget what was cached about it (a crypto provider's keys are new). */
  forgetPeer(peer: string): void {
    for (const key of this.materialSources.keys()) if (key.startsWith(`${peer}|`)) this.materialSources.delete(key);
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
