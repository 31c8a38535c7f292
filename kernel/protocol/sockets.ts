/**
 * The kernel's five ZeroMQ sockets, bound from a connection file.
 *
 * shell and control are ROUTERs (requests in, replies out to the sender's
 * identity), iopub is a PUB (broadcast), stdin a ROUTER (unused: cells cannot
 * read input), heartbeat a REP that echoes. zeromq.js 6 allows one pending
 * send per socket, so sends are queued per socket.
 */
import * as fs from "fs";
import * as zmq from "zeromq";

export interface ConnectionInfo {
  transport: "tcp" | "ipc";
  ip: string;
  key: string;
  signature_scheme: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  kernel_name?: string;
}

export type Channel = "shell" | "control" | "iopub" | "stdin";

export function readConnectionFile(file: string): ConnectionInfo {
  const info = JSON.parse(fs.readFileSync(file, "utf8"));
  for (const port of ["shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"]) {
    if (typeof info[port] !== "number") throw new Error(`connection file ${file} lacks ${port}`);
  }
  return { transport: "tcp", ip: "127.0.0.1", key: "", signature_scheme: "hmac-sha256", ...info };
}

function address(info: ConnectionInfo, port: number): string {
  return info.transport === "ipc" ? `ipc://${info.ip}-${port}` : `tcp://${info.ip}:${port}`;
}

/** Serializes sends on one socket. */
class SendQueue {
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly socket: zmq.Writable) {}

  send(frames: Buffer[]): Promise<void> {
    const next = this.tail.then(() => this.socket.send(frames));
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** Resolves when everything queued so far has been handed to ZeroMQ. */
  drained(): Promise<void> {
    return this.tail;
  }
}

export class KernelSockets {
  private readonly shell = new zmq.Router({ linger: 1000 });
  private readonly control = new zmq.Router({ linger: 1000 });
  private readonly stdin = new zmq.Router({ linger: 0 });
  private readonly iopub = new zmq.Publisher({ linger: 1000 });
  private readonly heartbeat = new zmq.Reply({ linger: 0 });
  private readonly queues: Record<Channel, SendQueue> = {
    shell: new SendQueue(this.shell),
    control: new SendQueue(this.control),
    stdin: new SendQueue(this.stdin),
    iopub: new SendQueue(this.iopub),
  };
  private closed = false;

  private constructor(readonly info: ConnectionInfo) {}

  /** Binds all sockets; `onMessage` receives the raw frames of shell and control requests. */
  static async bind(
    info: ConnectionInfo,
    onMessage: (channel: "shell" | "control", frames: Buffer[]) => void,
  ): Promise<KernelSockets> {
    const sockets = new KernelSockets(info);
    await Promise.all([
      sockets.shell.bind(address(info, info.shell_port)),
      sockets.control.bind(address(info, info.control_port)),
      sockets.stdin.bind(address(info, info.stdin_port)),
      sockets.iopub.bind(address(info, info.iopub_port)),
      sockets.heartbeat.bind(address(info, info.hb_port)),
    ]);
    void sockets.receive(sockets.shell, (frames) => onMessage("shell", frames));
    void sockets.receive(sockets.control, (frames) => onMessage("control", frames));
    void sockets.echo();
    return sockets;
  }

  private async receive(socket: zmq.Router, handle: (frames: Buffer[]) => void): Promise<void> {
    try {
      for await (const frames of socket) handle(frames);
    } catch (error) {
      if (!this.closed) process.stderr.write(`tsyft kernel: socket receive failed: ${(error as Error).message}\n`);
    }
  }

  private async echo(): Promise<void> {
    try {
      for await (const frames of this.heartbeat) await this.heartbeat.send(frames);
    } catch (error) {
      if (!this.closed) process.stderr.write(`tsyft kernel: heartbeat failed: ${(error as Error).message}\n`);
    }
  }

  send(channel: Channel, frames: Buffer[]): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.queues[channel].send(frames).catch((error) => {
      if (!this.closed) process.stderr.write(`tsyft kernel: send on ${channel} failed: ${(error as Error).message}\n`);
    });
  }

  /** Waits for queued messages to reach ZeroMQ, then closes every socket (they linger up to 1 s to deliver). */
  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all(Object.values(this.queues).map((q) => q.drained()));
    this.closed = true;
    for (const socket of [this.shell, this.control, this.stdin, this.iopub, this.heartbeat]) socket.close();
  }
}
