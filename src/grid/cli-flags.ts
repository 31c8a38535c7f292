/**
 * The CLI's flags and the pieces every command shares: parsing, ports, TLS
 * and exposure checks, the line a parent process waits for, and waiting
 * until the process is told to stop. See cli.ts for the commands.
 */
import { parseArgs } from "node:util";
import type { TF } from "../tensors/plain-ops";
import { checkExposure, configuredCredentials } from "./exposure";
import { parseOrigins } from "./origins";
import { linkShape, type LinkOptions } from "./link-delay";
import type { ListeningInfo } from "./processes";
import type { TlsOptions } from "./tls";

/** A mistake in how the CLI was called: exit 2 with the usage text. */
export class UsageError extends Error {}

export type Flags = Record<string, string | boolean | undefined>;

export function parse(args: readonly string[], options: Record<string, { type: "string" | "boolean" }>): Flags {
  return parseArgs({
    args: [...args],
    options: { ...options, "exit-with-parent": { type: "boolean" } },
    allowPositionals: false,
    strict: true,
  }).values as Flags;
}

/** A string flag's value (parseArgs has checked its type). */
export function str(flags: Flags, name: string): string | undefined {
  const value = flags[name];
  return typeof value === "string" ? value : undefined;
}

/** Flags of every server: where it listens, its TLS files, its grid key. */
export const SERVER_FLAGS = {
  host: { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "admin-key": { type: "string" },
} as const;

/** A flag that must be a positive number, when given (--heartbeat-ms, --expires-hours). */
export function positiveOf(flags: Flags, name: string): number | undefined {
  const value = flags[name] === undefined ? undefined : Number(flags[name]);
  if (value !== undefined && !(value > 0))
    throw new UsageError(`--${name}: expected a positive number, got ${String(flags[name])}.`);
  return value;
}

/** Origins of browser pages that may open sockets to nodes (GridNode.allowsOrigin): node and grid up take it. */
export const ORIGIN_FLAGS = { "allow-origin": { type: "string" } } as const;

/** allowedOrigins from --allow-origin, checked; undefined when the flag is not given. */
export function originsOf(flags: Flags): string[] | undefined {
  const list = str(flags, "allow-origin");
  try {
    return list === undefined ? undefined : parseOrigins(list, "--allow-origin");
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The network distance on a server's links (link-delay.ts): node, gateway and grid up take them. */
export const LINK_FLAGS = {
  "link-latency-ms": { type: "string" },
  "link-bandwidth-mbps": { type: "string" },
} as const;

/** linkLatencyMs and linkBandwidthMbps from --link-latency-ms and --link-bandwidth-mbps, checked. */
export function linkOf(flags: Flags): LinkOptions {
  const number = (flag: string) => {
    const text = str(flags, flag);
    if (text === undefined) return undefined;
    const value = Number(text);
    if (text.trim() === "" || Number.isNaN(value)) throw new UsageError(`--${flag}: expected a number, got "${text}".`);
    return value;
  };
  const latency = number("link-latency-ms");
  const bandwidth = number("link-bandwidth-mbps");
  const options: LinkOptions = {
    ...(latency !== undefined && { linkLatencyMs: latency }),
    ...(bandwidth !== undefined && { linkBandwidthMbps: bandwidth }),
  };
  try {
    linkShape(options, {});
  } catch (error) {
    throw new UsageError(`--link-latency-ms / --link-bandwidth-mbps: ${(error as Error).message}`);
  }
  return options;
}

/** `tls` from --tls-cert and --tls-key (both or neither). */
export function tlsOf(flags: Flags): TlsOptions | undefined {
  const cert = str(flags, "tls-cert");
  const key = str(flags, "tls-key");
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined)
    throw new UsageError("--tls-cert and --tls-key go together: the certificate and its private key (PEM files).");
  return { cert, key };
}

/** The host to listen on (127.0.0.1 by default), refused when exposed without credentials. */
export function exposedHost(role: "node" | "gateway" | "grid", flags: Flags, dataDir: string | undefined): string {
  const host = str(flags, "host") ?? "127.0.0.1";
  checkExposure({
    role,
    host,
    credentials: configuredCredentials({
      adminKey: str(flags, "admin-key"),
      identity: str(flags, "identity"),
      dataDir,
    }),
    tls: tlsOf(flags) !== undefined,
    warn: (message) => console.error(message),
  });
  return host;
}

export function portOf(value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`Expected a port between 0 and 65535, got ${JSON.stringify(value)}.`);
  return port;
}

/** Prints the line a parent process waits for. */
export function announce(info: Omit<ListeningInfo, "event" | "pid">): void {
  process.stdout.write(JSON.stringify({ event: "listening", ...info, pid: process.pid }) + "\n");
}

/** Resolves once the process is asked to stop (a signal, or its parent going away). */
export function untilStopped(exitWithParent: boolean): Promise<string> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
    if (exitWithParent) {
      process.stdin.on("end", () => resolve("parent gone"));
      process.stdin.on("close", () => resolve("parent gone"));
      process.stdin.resume();
    }
  });
}

export async function loadTf(backend: string): Promise<TF> {
  const tf = require("@tensorflow/tfjs") as TF;
  if (backend === "wasm") {
    require("@tensorflow/tfjs-backend-wasm");
    await tf.setBackend("wasm");
  } else if (backend !== "cpu") {
    throw new UsageError(`--backend: expected cpu or wasm, got ${JSON.stringify(backend)}.`);
  }
  await tf.ready();
  return tf;
}
