/**
 * IOPub publishing with stream coalescing: consecutive writes to one stream of
 * one cell become a single stream message (within 25 ms, up to 256 KiB), so a
 * loop of console.log calls does not flood the frontend with messages.
 */
import type { Header } from "./wire";

/** IOPub publishing with stream coalescing: consecutive writes become one stream message. */
export class IOPub {
  private pending: { parent: Header; name: string; text: string; timer: NodeJS.Timeout } | undefined;

  /** `send` signs one message and puts it on the IOPub socket. */
  constructor(private readonly send: (msgType: string, content: unknown, parent: Header | undefined) => void) {}

  /** Adds text to the pending stream message, sending it first if it is of another cell or stream. */
  stream(parent: Header, name: "stdout" | "stderr", text: string): void {
    if (this.pending && (this.pending.parent !== parent || this.pending.name !== name)) this.flush();
    if (this.pending) this.pending.text += text;
    else this.pending = { parent, name, text, timer: setTimeout(() => this.flush(), 25) };
    if (this.pending.text.length > 256 * 1024) this.flush();
  }

  /** Sends a message after the pending stream text, so output keeps its order. */
  publish(msgType: string, content: unknown, parent: Header | undefined): void {
    this.flush();
    this.send(msgType, content, parent);
  }

  /** Sends the pending stream text now. */
  flush(): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    this.send("stream", { name: pending.name, text: pending.text }, pending.parent);
  }
}
