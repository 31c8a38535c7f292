/**
 * The `ws` package's client API over the browser's WebSocket, for the browser bundle: the grid client
 * (dial.ts, client-link.ts) uses on/once/removeAllListeners, send, close, terminate and readyState,
 * and gets each message as bytes, as with `ws`. Options such as `ca` or `maxPayload` belong to the
 * browser there (its trust store; the node enforces its own size limit).
 *
 * @example
 * ```ts
 * const socket = new WebSocket("ws://localhost:3000");
 * socket.on("message", (bytes) => console.log(bytes.byteLength));
 * ```
 */
import { Buffer } from "./buffer";

type Listener = (...args: never[]) => void;

export default class BrowserSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;
  private readonly socket: globalThis.WebSocket;
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(url: string) {
    this.socket = new globalThis.WebSocket(url);
    this.socket.binaryType = "arraybuffer";
    this.socket.onopen = () => this.emit("open");
    this.socket.onmessage = (event: MessageEvent) =>
      this.emit("message", Buffer.from(event.data as ArrayBuffer), typeof event.data !== "string");
    this.socket.onerror = () => this.emit("error", new Error(`WebSocket error on ${url}`));
    this.socket.onclose = (event: CloseEvent) => this.emit("close", event.code, Buffer.from(event.reason));
  }

  get readyState(): number {
    return this.socket.readyState;
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  on(event: string, listener: Listener): this {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return this;
  }

  once(event: string, listener: Listener): this {
    const wrapped = ((...args: never[]) => {
      this.off(event, wrapped);
      listener(...args);
    }) as Listener;
    return this.on(event, wrapped);
  }

  off(event: string, listener: Listener): this {
    this.listeners.get(event)?.delete(listener);
    return this;
  }

  removeListener(event: string, listener: Listener): this {
    return this.off(event, listener);
  }

  removeAllListeners(event?: string): this {
    if (event === undefined) this.listeners.clear();
    else this.listeners.delete(event);
    return this;
  }

  send(data: Uint8Array | string, callback?: (error?: Error) => void): void {
    try {
      // A copy when the view covers part of its buffer: the browser sends whole ArrayBuffers of views as given.
      this.socket.send(typeof data === "string" ? data : new Uint8Array(data));
      callback?.();
    } catch (error) {
      if (callback) callback(error as Error);
      else throw error;
    }
  }

  close(code?: number, reason?: string): void {
    this.socket.close(code, reason);
  }

  /** The browser has no abrupt close: a normal one (listeners hear "close" when the browser has closed it). */
  terminate(): void {
    if (this.socket.readyState === this.CLOSED) return;
    this.socket.close();
  }

  private emit(event: string, ...args: unknown[]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) (listener as (...a: unknown[]) => void)(...args);
  }
}

export { BrowserSocket as WebSocket };
