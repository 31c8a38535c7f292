// VirtualWorkers for protocol and traffic tests: alice, bob, charlie and dan on
// one fresh in-process network, with a tap that records every message, so a test
// can count what each party sent and what the crypto provider (dan) dealt.
import * as tf from "@tensorflow/tfjs";
import * as sy from "../../src";
import type { Communicator, PeerFrame } from "../../src/mpc/communicator";
import { PartyContext, type PartyStats, type ProtocolSettings } from "../../src/mpc/context";
import type { MaterialSource } from "../../src/mpc/provider/provider";
import { DealerClient } from "../../src/mpc/provider/trusted-dealer";
import type { RingTensor } from "../../src/ring";
import { decodeFrame } from "../../src/workers/messages";

export interface Parties {
  hook: sy.Hook;
  workers: Map<string, sy.VirtualWorker>;
  /** Every message on the network since the parties started, as bytes. */
  events: sy.TapEvent[];
  /** Closes the workers and takes them off the network. */
  teardown(): void;
}

/** A frame from the crypto provider, decoded. */
export interface DealtFrame {
  to: string;
  frame: PeerFrame;
  bytes: number;
}

export function startParties(ids: readonly string[] = ["alice", "bob", "charlie", "dan"]): Parties {
  const hook = sy.hook(tf);
  const workers = new Map(ids.map((id) => [id, new sy.VirtualWorker(hook, { id })]));
  const events: sy.TapEvent[] = [];
  sy.networkOf(hook).tap((e) => events.push(e));
  return {
    hook,
    workers,
    events,
    teardown() {
      for (const w of workers.values()) {
        w.close("test done");
        w.network.unregister(w.id);
      }
    },
  };
}

/** The frames `dealer` sent among `events`. */
export function dealerFrames(events: readonly sy.TapEvent[], dealer = "dan"): DealtFrame[] {
  return events
    .filter((e) => e.from === dealer)
    .map((e) => ({ to: e.to, frame: decodeFrame(e.bytes), bytes: e.bytes.byteLength }));
}

/** Ring elements carried by `frames`. */
export function wordsIn(frames: readonly DealtFrame[]): number {
  return frames.reduce((a, f) => a + f.frame.tensors.reduce((m, t) => m + t.size, 0), 0);
}

/** Frames that carry only a provider key (in their meta), and the key's length in bytes. */
export function keyFrames(frames: readonly DealtFrame[]): number[] {
  return frames.flatMap((f) => {
    const key = (f.frame.meta as { key?: unknown } | undefined)?.key;
    return key instanceof Uint8Array && f.frame.tensors.length === 0 ? [key.byteLength] : [];
  });
}

/** What every holder returned, and its traffic counters. */
export interface PartyRun {
  results: RingTensor[];
  stats: PartyStats[];
}

let scopes = 0;

/**
 * Runs `protocol` on every holder at once (SPMD), each with its own share of
 * `inputs` (inputs[k][i] is holder i's share of the k-th input) and a fresh
 * PartyContext under `protocols`; material comes from `source` (by default
 * dan's trusted dealer, over the network).
 */
export async function runHolders(
  workers: ReadonlyMap<string, sy.VirtualWorker>,
  holders: string[],
  inputs: RingTensor[][],
  protocol: (ctx: PartyContext, mine: RingTensor[]) => Promise<RingTensor>,
  options: {
    protocols?: ProtocolSettings;
    source?: (comm: Communicator) => MaterialSource;
    scope?: string;
    /** Wraps each holder's communicator (e.g. to report a link latency). */
    wrapComm?: (comm: Communicator) => Communicator;
  } = {},
): Promise<PartyRun> {
  const scope = options.scope ?? `test${scopes++}`;
  const stats = holders.map(() => ({ rounds: 0, bytesSent: 0, framesSent: 0 }));
  const sourceOf = options.source ?? ((comm: Communicator) => new DealerClient(comm, "dan", holders));
  const results = await Promise.all(
    holders.map((h, i) => {
      const own = workers.get(h)!.comm;
      const comm = options.wrapComm ? options.wrapComm(own) : own;
      const ctx = new PartyContext(comm, holders, scope, sourceOf(own), "dan", stats[i], undefined, options.protocols);
      return protocol(
        ctx,
        inputs.map((sharesOfInput) => sharesOfInput[i]!),
      );
    }),
  );
  return { results, stats };
}
