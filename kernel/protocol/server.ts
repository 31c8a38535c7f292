/**
 * The kernel's request handling (Jupyter messaging v5.3) over its sockets.
 *
 * - shell requests are handled one at a time, in arrival order; control
 *   requests (interrupt, shutdown, kernel_info) are handled at once, even
 *   while a cell runs, since user code runs in the engine's worker thread;
 * - every request is wrapped in status busy/idle on iopub with the request
 *   as parent; outputs of a cell carry the cell's execute_request as parent;
 * - an execute_request that fails with stop_on_error (the default) aborts the
 *   execute_requests already received at that moment (status "aborted"), as
 *   ipykernel does; requests that arrive after the error reply run normally.
 *
 * IOPub's stream coalescing is in iopub.ts; complete, inspect and is_complete
 * replies are in introspection.ts.
 */
import { randomUUID } from "crypto";
import type { Engine, ExecuteOutcome, MimeBundle, OutputSink } from "../engine/engine";
import { History, type HistoryRequest } from "./history";
import { completeReply, inspectReply, isCompleteReply } from "./introspection";
import { IOPub } from "./iopub";
import { kernelInfo } from "./kernel-info";
import { KernelSockets, type Channel, type ConnectionInfo } from "./sockets";
import { Signer, WireError, decode, encode, newHeader, type Header, type Message } from "./wire";

export interface KernelServerOptions {
  /** Called after shutdown_reply went out; should end the process. */
  onShutdown: (restart: boolean) => void | Promise<void>;
  log?: (text: string) => void;
}

interface ExecuteContent {
  code?: string;
  silent?: boolean;
  store_history?: boolean;
  user_expressions?: Record<string, string>;
  allow_stdin?: boolean;
  stop_on_error?: boolean;
}

export class KernelServer {
  /** This kernel's session id (the `session` of every header it sends). */
  readonly session = randomUUID();
  private sockets!: KernelSockets;
  private readonly signer: Signer;
  private readonly iopub: IOPub;
  private readonly history = new History();
  private executionCount = 0;
  private silentCount = 0;
  private readonly queue: Array<{ message: Message; seq: number }> = [];
  private received = 0;
  /** execute_requests numbered below this are aborted (they were queued when a cell failed). */
  private abortBelow = 0;
  private pumping = false;
  private shuttingDown = false;
  /** Parent of output that arrives between cells: the latest visible execute_request. */
  private latestParent: Header | undefined;
  private readonly log: (text: string) => void;

  private constructor(
    private readonly info: ConnectionInfo,
    private readonly engine: Engine,
    private readonly options: KernelServerOptions,
  ) {
    this.signer = new Signer(info.key, info.signature_scheme);
    this.iopub = new IOPub((msgType, content, parent) => this.sendIopub(msgType, content, parent));
    this.log = options.log ?? ((text) => process.stderr.write(`tsyft kernel: ${text}\n`));
  }

  static async start(info: ConnectionInfo, engine: Engine, options: KernelServerOptions): Promise<KernelServer> {
    const server = new KernelServer(info, engine, options);
    server.sockets = await KernelSockets.bind(info, (channel, frames) => server.onFrames(channel, frames));
    server.iopub.publish("status", { execution_state: "starting" }, undefined);
    return server;
  }

  /** Output with no running cell (e.g. a timer of an earlier cell) goes to the latest cell. */
  readonly lateOutput: OutputSink = {
    stream: (name, text) => {
      if (this.latestParent) this.iopub.stream(this.latestParent, name, text);
    },
    display: (data, metadata, displayId, update) => {
      if (this.latestParent) this.sendDisplay(this.latestParent, data, metadata, displayId, update);
    },
  };

  // -------------------------------------------------------------------------
  // Transport

  private onFrames(channel: "shell" | "control", frames: Buffer[]): void {
    let message: Message;
    try {
      message = decode(frames, this.signer);
    } catch (error) {
      this.log(`dropped a ${channel} message: ${error instanceof WireError ? error.message : String(error)}`);
      return;
    }
    if (channel === "control") {
      void this.handleControl(message);
      return;
    }
    this.queue.push({ message, seq: ++this.received });
    void this.pump();
  }

  private sendIopub(msgType: string, content: unknown, parent: Header | undefined): void {
    const header = newHeader(msgType, this.session);
    const topic = Buffer.from(`kernel.${this.session}.${msgType}`);
    const message: Message<unknown> = {
      identities: [topic],
      header,
      parent_header: parent ?? {},
      metadata: {},
      content,
      buffers: [],
    };
    void this.sockets.send("iopub", encode(message, this.signer));
  }

  private reply(
    channel: Channel,
    request: Message,
    msgType: string,
    content: unknown,
    metadata: Record<string, unknown> = {},
  ): void {
    const message: Message<unknown> = {
      identities: request.identities,
      header: newHeader(msgType, this.session),
      parent_header: request.header,
      metadata,
      content,
      buffers: [],
    };
    void this.sockets.send(channel, encode(message, this.signer));
  }

  private status(state: "busy" | "idle", parent: Header): void {
    this.iopub.publish("status", { execution_state: state }, parent);
  }

  // -------------------------------------------------------------------------
  // Shell

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.shuttingDown) {
        const { message, seq } = this.queue.shift()!;
        await this.handleShell(message, seq);
      }
    } finally {
      this.pumping = false;
    }
  }

  private async handleShell(message: Message, seq: number): Promise<void> {
    const type = message.header.msg_type;
    this.status("busy", message.header);
    try {
      if (type === "execute_request" && seq < this.abortBelow) {
        this.reply("shell", message, "execute_reply", { status: "aborted" }, { status: "aborted" });
        return;
      }
      switch (type) {
        case "execute_request":
          await this.execute(message);
          break;
        case "kernel_info_request":
          this.reply("shell", message, "kernel_info_reply", kernelInfo());
          break;
        case "complete_request":
          this.reply("shell", message, "complete_reply", await completeReply(this.engine, message.content, this.log));
          break;
        case "inspect_request":
          this.reply("shell", message, "inspect_reply", await inspectReply(this.engine, message.content, this.log));
          break;
        case "is_complete_request":
          this.reply("shell", message, "is_complete_reply", isCompleteReply(message.content, this.log));
          break;
        case "history_request":
          this.reply("shell", message, "history_reply", this.history.query(message.content as HistoryRequest));
          break;
        case "comm_info_request":
          this.reply("shell", message, "comm_info_reply", { status: "ok", comms: {} });
          break;
        case "comm_open":
          // No comm targets exist: tell the frontend the comm is closed, as ipykernel does.
          this.iopub.publish("comm_close", { comm_id: message.content.comm_id, data: {} }, message.header);
          break;
        case "comm_msg":
        case "comm_close":
          break;
        case "shutdown_request":
          await this.shutdown("shell", message);
          break;
        default:
          this.log(`ignored unknown shell message type ${JSON.stringify(type)}`);
      }
    } catch (error) {
      this.log(`failed to handle ${type}: ${(error as Error)?.stack ?? String(error)}`);
    } finally {
      this.status("idle", message.header);
    }
  }

  private sendDisplay(
    parent: Header,
    data: MimeBundle,
    metadata: Record<string, unknown>,
    displayId: string | undefined,
    update: boolean,
  ): void {
    const content = { data, metadata, transient: displayId === undefined ? {} : { display_id: displayId } };
    this.iopub.publish(update ? "update_display_data" : "display_data", content, parent);
  }

  private async execute(message: Message): Promise<void> {
    const content = message.content as ExecuteContent;
    const code = typeof content.code === "string" ? content.code : "";
    const silent = content.silent === true;
    const storeHistory = content.store_history ?? !silent;
    const stopOnError = content.stop_on_error ?? true;
    const parent = message.header;
    const started = new Date().toISOString();

    if (!silent) {
      this.executionCount++;
      this.latestParent = parent;
      this.iopub.publish("execute_input", { code, execution_count: this.executionCount }, parent);
    }
    const count = this.executionCount;
    const entry = storeHistory && !silent ? this.history.add(count, code) : undefined;
    const cellName = silent ? `silent-${++this.silentCount}` : `cell-${count}`;
    const quiet = this.quietSink();
    const sink: OutputSink = silent
      ? quiet.sink
      : {
          stream: (name, text) => this.iopub.stream(parent, name, text),
          display: (data, metadata, displayId, update) => this.sendDisplay(parent, data, metadata, displayId, update),
        };

    const outcome = await this.run(code, cellName, sink);
    quiet.finish();
    let reply: Record<string, unknown>;
    if (outcome.status === "ok") {
      if (outcome.data && !silent) {
        this.iopub.publish(
          "execute_result",
          { execution_count: count, data: outcome.data, metadata: outcome.metadata ?? {} },
          parent,
        );
        if (entry) entry.output = typeof outcome.data["text/plain"] === "string" ? outcome.data["text/plain"] : null;
      }
      const userExpressions = await this.userExpressions(content.user_expressions);
      reply = { status: "ok", execution_count: count, user_expressions: userExpressions, payload: [] };
    } else {
      const { ename, evalue, traceback } = outcome;
      if (!silent) this.iopub.publish("error", { ename, evalue, traceback }, parent);
      reply = { status: "error", execution_count: count, ename, evalue, traceback, user_expressions: {}, payload: [] };
    }
    this.iopub.flush();
    if (outcome.status === "error" && !silent && stopOnError) {
      // Abort what is queued now, i.e. sent before the client could see this error.
      await this.receivePending();
      this.abortBelow = Math.max(this.abortBelow, this.received + 1);
    }
    this.reply("shell", message, "execute_reply", reply, {
      started,
      status: reply.status,
      dependencies_met: true,
      engine: this.session,
    });
  }

  /**
   * Output of a silent request is not broadcast while it runs; output that
   * comes later (timers of earlier cells) still goes to the latest visible cell.
   */
  private quietSink(): { sink: OutputSink; finish: () => void } {
    let running = true;
    return {
      sink: {
        stream: (name, text) => {
          if (!running) this.lateOutput.stream(name, text);
        },
        display: (data, metadata, displayId, update) => {
          if (!running) this.lateOutput.display(data, metadata, displayId, update);
        },
      },
      finish: () => {
        running = false;
      },
    };
  }

  private async run(code: string, cellName: string, sink: OutputSink): Promise<ExecuteOutcome> {
    try {
      return await this.engine.execute(code, cellName, sink);
    } catch (error) {
      const evalue = `the execution engine failed: ${(error as Error)?.message ?? String(error)}`;
      return { status: "error", kind: "reset", ename: "KernelError", evalue, traceback: [`KernelError: ${evalue}`] };
    }
  }

  private async userExpressions(expressions: Record<string, string> | undefined): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const [name, expression] of Object.entries(expressions ?? {})) {
      const quiet = this.quietSink();
      const outcome = await this.run(String(expression), `user-expression-${++this.silentCount}`, quiet.sink);
      quiet.finish();
      out[name] =
        outcome.status === "ok"
          ? { status: "ok", data: outcome.data ?? { "text/plain": "undefined" }, metadata: outcome.metadata ?? {} }
          : { status: "error", ename: outcome.ename, evalue: outcome.evalue, traceback: outcome.traceback };
    }
    return out;
  }

  /** Lets messages already delivered by ZeroMQ reach the queue. */
  private async receivePending(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const before = this.received;
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (this.received === before) return;
    }
  }

  // -------------------------------------------------------------------------
  // Control

  private async handleControl(message: Message): Promise<void> {
    const type = message.header.msg_type;
    this.status("busy", message.header);
    try {
      switch (type) {
        case "interrupt_request":
          void this.engine.interrupt("interrupt_request");
          this.reply("control", message, "interrupt_reply", { status: "ok" });
          break;
        case "shutdown_request":
          await this.shutdown("control", message);
          break;
        case "kernel_info_request":
          this.reply("control", message, "kernel_info_reply", kernelInfo());
          break;
        default:
          this.log(`ignored control message type ${JSON.stringify(type)}`);
      }
    } finally {
      this.status("idle", message.header);
    }
  }

  private async shutdown(channel: Channel, message: Message): Promise<void> {
    const restart = message.content.restart === true;
    this.shuttingDown = true;
    const content = { status: "ok", restart };
    this.reply(channel, message, "shutdown_reply", content);
    this.iopub.publish("shutdown_reply", content, message.header);
    setImmediate(() => void this.options.onShutdown(restart));
  }

  /** Sends what is queued and closes the sockets. */
  async close(): Promise<void> {
    this.iopub.flush();
    await this.sockets.close();
  }
}
