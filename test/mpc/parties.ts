// VirtualWorkers for protocol and traffic tests: alice, bob, charlie and dan on
// one fresh in-process network, with a tap that records every message, so a test
// can count what each party sent and what the crypto provider (dan) dealt.
import * as tf from "@tensorflow/tfjs";
import * as sy from "../../src";
import type { PeerFrame } from "../../src/mpc/communicator";
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
