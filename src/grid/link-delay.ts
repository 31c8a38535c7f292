/**
 * Network distance on the grid's links: a one-way latency, and optionally a
 * bandwidth cap, applied on the real sockets, so that a grid on one machine
 * behaves as its parties would on machines some milliseconds apart (this
 * kernel has no netem, so the delay lives in user space).
 *
 * Realization: delayed delivery at the sender. Each process delays what it
 * sends on each of its links:
 * 1. a frame handed to a link at time t leaves the link's queue at
 *    max(t, the end of the frame before it) + bytes / bandwidth (serialization
 *    on a wire of that bandwidth) + the one-way latency, by a timer (never a
 *    busy wait); the queue is FIFO and departure times never decrease, so a
 *    link's frames keep their order, and a close waits for the frames before it;
 * 2. a WebSocket link is delayed by each end for what that end sends (nodes,
 *    the gateway and clients each honour their own setting), so a round trip
 *    costs 2 x latency; an HTTP exchange (a client or node asking the gateway)
 *    is delayed by the caller in both directions, the server adding nothing;
 * 3. with no latency and no bandwidth cap the socket's own send is called at
 *    once: the setting costs nothing at 0 ms (no queue, no timer hop).
 * Timers have millisecond granularity and fire late on a busy machine, so a
 * frame arrives at least `latency` after it was sent, typically up to about a
 * millisecond more (no busy wait shortens that: it would burn the CPU the
 * parties compute with).
 * Delaying at the sender, rather than in a proxy in front of each server,
 * keeps the delay exact while the receiving process is busy computing: a
 * proxy in the receiver's event loop would only start a frame's delay once
 * that loop is free, adding the latency after the computation instead of
 * overlapping with it, as a real wire does.
 *
 * Every process of a grid takes the setting from its options, else from
 * TSYFT_LINK_LATENCY_MS and TSYFT_LINK_BANDWIDTH_MBPS (the CLI's
 * `--link-latency-ms` and `--link-bandwidth-mbps` set the options).
 *
 * @example
 * ```ts
 * const link = linkShape({ linkLatencyMs: 10 });          // { latencyMs: 10 }
 * sendOn(socket, frame, link);                           // leaves 10 ms later, after the frames before it
 * ```
 */
import type WebSocket from "ws";
import { ErrorCode, TsyftError } from "../core/errors";

/** The distance of a link: its one-way latency, and its bandwidth when capped. */
export interface LinkShape {
  readonly latencyMs: number;
  readonly bandwidthMbps?: number;
}

/** How options objects (nodes, the gateway, clients, startLocalGrid) name the setting. */
export interface LinkOptions {
  /** One-way latency added to each link, in milliseconds (0 to 10,000). Default: TSYFT_LINK_LATENCY_MS, else 0. */
  linkLatencyMs?: number;
  /** Bandwidth of each link, in megabits per second (none: uncapped). Default: TSYFT_LINK_BANDWIDTH_MBPS. */
  linkBandwidthMbps?: number;
}

export const LINK_LATENCY_ENV = "TSYFT_LINK_LATENCY_MS";
export const LINK_BANDWIDTH_ENV = "TSYFT_LINK_BANDWIDTH_MBPS";
/** Beyond 10 s one way, every wait of the grid would time out first: refused as a mistake. */
export const MAX_LINK_LATENCY_MS = 10_000;
/** From 1 kbit/s (slower is no network anyone serves a model over) to 10 Tbit/s. */
const BANDWIDTH_RANGE_MBPS = [0.001, 10_000_000] as const;

/**
 * The shape of a grid member's links from its options, else the environment;
 * undefined when there is neither latency nor a bandwidth cap (links send at once).
 * Throws TSYFT_ERR_INVALID_ARGUMENT for a negative, non-numeric or absurd value.
 *
 * @example
 * ```ts
 * linkShape({ linkLatencyMs: 5, linkBandwidthMbps: 100 });   // { latencyMs: 5, bandwidthMbps: 100 }
 * linkShape({});                                             // undefined (TSYFT_LINK_LATENCY_MS unset)
 * ```
 */
export function linkShape(
  options: LinkOptions = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): LinkShape | undefined {
  const latencyMs = checked("linkLatencyMs", options, env, LINK_LATENCY_ENV, [0, MAX_LINK_LATENCY_MS], "milliseconds");
  const bandwidthMbps = checked(
    "linkBandwidthMbps",
    options,
    env,
    LINK_BANDWIDTH_ENV,
    BANDWIDTH_RANGE_MBPS,
    "megabits per second",
  );
  if (!latencyMs && bandwidthMbps === undefined) return undefined;
  return { latencyMs: latencyMs ?? 0, ...(bandwidthMbps !== undefined && { bandwidthMbps }) };
}

/**
 * The options that give `shape` again (what a parent passes on to the members and clients it makes); for no
 * shape, an explicit 0, so that the environment or a grid's own setting does not fill it in.
 *
 * @example
 * ```ts
 * linkOptionsOf({ latencyMs: 10 });   // { linkLatencyMs: 10 }
 * linkOptionsOf(undefined);           // { linkLatencyMs: 0 }
 * ```
 */
export function linkOptionsOf(shape: LinkShape | undefined): LinkOptions {
  return {
    linkLatencyMs: shape?.latencyMs ?? 0,
    ...(shape?.bandwidthMbps !== undefined && { linkBandwidthMbps: shape.bandwidthMbps }),
  };
}

/**
 * CLI arguments that give a child process the same setting (the CLI's --link-latency-ms, --link-bandwidth-mbps).
 *
 * @example
 * ```ts
 * linkArgs({ linkLatencyMs: 10 });   // ["--link-latency-ms", "10"]
 * ```
 */
export function linkArgs(options: LinkOptions): string[] {
  return [
    ...(options.linkLatencyMs === undefined ? [] : ["--link-latency-ms", String(options.linkLatencyMs)]),
    ...(options.linkBandwidthMbps === undefined ? [] : ["--link-bandwidth-mbps", String(options.linkBandwidthMbps)]),
  ];
}

/** Option `name`, else environment variable `envName` (blank counts as unset), checked to lie in [min, max]. */
function checked(
  name: keyof LinkOptions,
  options: LinkOptions,
  env: Readonly<Record<string, string | undefined>>,
  envName: string,
  [min, max]: readonly [number, number],
  unit: string,
): number | undefined {
  const fromOption = options[name] !== undefined;
  const text = env[envName];
  const value: unknown = fromOption ? options[name] : text === undefined || text.trim() === "" ? undefined : text;
  if (value === undefined) return undefined;
  const n = typeof value === "string" && !fromOption ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n) || n < min || n > max) {
    throw new TsyftError(
      ErrorCode.INVALID_ARGUMENT,
      `${name}: expected a number of ${unit} from ${min} to ${max}, got ${typeof value === "number" ? value : JSON.stringify(value)}` +
        `${fromOption ? "" : ` (from ${envName})`}. Pass a value in range, or leave it out for none.`,
      { setting: name },
    );
  }
  return n;
}

/** Milliseconds `bytes` take on a wire of the link's bandwidth (0 when uncapped). */
export function serializationMs(shape: LinkShape, bytes: number): number {
  return shape.bandwidthMbps === undefined ? 0 : (bytes * 8) / (shape.bandwidthMbps * 1000);
}

type Frame = Uint8Array | string;

interface Departure {
  at: number;
  frame?: Frame;
  close?: { code: number; reason: string };
}

/** One socket's queue of frames waiting for their departure time. */
class DelayedLink {
  private readonly queue: Departure[] = [];
  private wireFreeAt = 0;
  private timer?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly socket: WebSocket,
    private readonly shape: LinkShape,
  ) {}

  send(frame: Frame): void {
    const bytes = typeof frame === "string" ? Buffer.byteLength(frame) : frame.byteLength;
    this.wireFreeAt = Math.max(performance.now(), this.wireFreeAt) + serializationMs(this.shape, bytes);
    this.push({ at: this.wireFreeAt + this.shape.latencyMs, frame });
  }

  close(code: number, reason: string): void {
    const last = this.queue.at(-1)?.at ?? 0;
    this.push({ at: Math.max(last, performance.now() + this.shape.latencyMs), close: { code, reason } });
  }

  private push(departure: Departure): void {
    this.queue.push(departure);
    if (this.timer === undefined) this.arm();
  }

  private arm(): void {
    const next = this.queue[0];
    if (!next) return;
    // Timers may fire a fraction of a millisecond early against performance.now(): round up, and re-arm if early.
    this.timer = setTimeout(() => this.flush(), Math.max(0, Math.ceil(next.at - performance.now())));
  }

  private flush(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.queue.length > 0 && this.queue[0]!.at <= now) {
      const { frame, close } = this.queue.shift()!;
      // A socket that closed meanwhile takes nothing more: what waited is lost, as on a cut wire.
      if (this.socket.readyState !== this.socket.OPEN) continue;
      if (close) this.socket.close(close.code, close.reason);
      else this.socket.send(frame!);
    }
    this.arm();
  }
}

const delayed = new WeakMap<WebSocket, DelayedLink>();

function delayedLink(socket: WebSocket, shape: LinkShape): DelayedLink {
  let link = delayed.get(socket);
  if (!link) delayed.set(socket, (link = new DelayedLink(socket, shape)));
  return link;
}

/**
 * Sends `frame` on `socket` after the link's delay (at once when `shape` is undefined), after the frames sent
 * on it before. Every sender on one socket shares its queue, so their frames keep one order.
 *
 * @example
 * ```ts
 * sendOn(socket, encodeGridFrame(Channel.Reply, reply), node.link);
 * ```
 */
export function sendOn(socket: WebSocket, frame: Frame, shape: LinkShape | undefined): void {
  if (!shape) socket.send(frame);
  else delayedLink(socket, shape).send(frame);
}

/**
 * Closes `socket` once the frames sent on it before have left (at once when `shape` is undefined).
 *
 * @example
 * ```ts
 * closeOn(socket, node.link, 4003, "authentication failed");
 * ```
 */
export function closeOn(socket: WebSocket, shape: LinkShape | undefined, code: number, reason: string): void {
  if (!shape) socket.close(code, reason);
  else delayedLink(socket, shape).close(code, reason);
}

/**
 * Waits one direction of an HTTP exchange of `bytes` on a link of `shape` (latency plus serialization).
 *
 * @example
 * ```ts
 * await crossLink(link, body.length);   // before sending the request
 * ```
 */
export function crossLink(shape: LinkShape | undefined, bytes: number): Promise<void> | undefined {
  if (!shape) return undefined;
  return new Promise((resolve) => setTimeout(resolve, Math.ceil(shape.latencyMs + serializationMs(shape, bytes))));
}
