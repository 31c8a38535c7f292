// Requests of different sessions run concurrently, requests of one session in order: two clients that reach
// bob and charlie in opposite orders both finish (one global queue would make the holders wait on each other).
import * as tf from "@tensorflow/tfjs";
import { afterEach, describe, expect, it } from "vitest";
import * as sy from "../../src";
import { decode } from "../../src/encoding/fixed-point";
import * as ring from "../../src/ring";
import type { Caller } from "../../src/workers/caller";
import { decodeReply, decodeRequest, encodeRequest, type Request } from "../../src/workers/messages";
import { SessionQueues } from "../../src/workers/session-queues";
import type { SharedOpCommand } from "../../src/tensors/handle";
import { startParties, type Parties } from "../mpc/parties";

const callerOf = (session: string): Caller => ({ principal: { kind: "admin" }, session });

let parties: Parties | undefined;
afterEach(() => {
  parties?.teardown();
  parties = undefined;
});

/** The shared-op command the hook sends for x * y, captured on the wire, and the plaintext product. */
async function capturedMul(p: Parties): Promise<{ command: SharedOpCommand; expected: number[] }> {
  const [bob, charlie, dan] = ["bob", "charlie", "dan"].map((id) => p.workers.get(id)!);
  const x = tf.tensor([1.5, -2, 3.25]).fixPrecision().share(bob!, charlie!, { cryptoProvider: dan! });
  const y = tf.tensor([2, 4, -0.5]).fixPrecision().share(bob!, charlie!, { cryptoProvider: dan! });
  const before = p.events.length;
  const z = x.mul(y);
  await z.get();
  const submit = p.events
    .slice(before)
    .filter((e) => e.channel === "request" && e.to === "bob")
    .map((e) => decodeRequest(e.bytes))
    .find((r): r is Extract<Request, { t: "submit" }> => r.t === "submit" && r.command.type === "shared-op");
  return { command: submit!.command as SharedOpCommand, expected: [3, -8, -1.625] };
}

async function submit(worker: sy.Worker, command: SharedOpCommand, session: string): Promise<void> {
  await worker.handleRequest(encodeRequest({ t: "submit", command }), callerOf(session));
}

async function fetchShare(worker: sy.Worker, id: string, session: string): Promise<ring.RingTensor> {
  const reply = decodeReply(
    (await worker.handleRequest(encodeRequest({ t: "fetch", rid: 1, id, remove: false }), callerOf(session)))!,
  );
  if (!reply.ok) throw new Error(reply.error.message);
  return (reply.value as { value: ring.RingTensor }).value;
}

async function reveal(p: Parties, command: SharedOpCommand, session: string): Promise<number[]> {
  const shares = await Promise.all(
    ["bob", "charlie"].map((id) => fetchShare(p.workers.get(id)!, command.output, session)),
  );
  return [...decode(ring.add(shares[0]!, shares[1]!), command.encoding)];
}

describe("SessionQueues", () => {
  it("keeps one session's order and lets another session run meanwhile", async () => {
    const queues = new SessionQueues();
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const a1 = queues.enqueue("a", async () => {
      await gate;
      seen.push("a1");
    });
    const a2 = queues.enqueue("a", () => seen.push("a2"));
    await queues.enqueue("b", () => seen.push("b1"));
    expect(seen).toEqual(["b1"]);
    release();
    await Promise.all([a1, a2]);
    expect(seen).toEqual(["b1", "a1", "a2"]);
    await Promise.resolve();
    expect(queues.active).toBe(0);
  });

  it("runs the next request of a session after an earlier one failed", async () => {
    const queues = new SessionQueues();
    await expect(queues.enqueue("a", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(queues.enqueue("a", () => 7)).resolves.toBe(7);
  });
});

describe("Worker sessions", () => {
  it("finishes two clients' runs that reach bob and charlie in opposite orders", async () => {
    parties = startParties(["bob", "charlie", "dan"]);
    const { command, expected } = await capturedMul(parties);
    const first = { ...command, output: "client-a-z" };
    const second = { ...command, output: "client-b-z" };
    const bob = parties.workers.get("bob")!;
    const charlie = parties.workers.get("charlie")!;
    await sy.withConfig({ timeoutMs: 20_000 }, async () => {
      await submit(bob, first, "a");
      await submit(bob, second, "b");
      await submit(charlie, second, "b");
      await submit(charlie, first, "a");
      const [za, zb] = await Promise.all([reveal(parties!, first, "a"), reveal(parties!, second, "b")]);
      za.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 3));
      zb.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 3));
    });
  });

  it("does not hold another client's run behind a run waiting on a silent peer", async () => {
    parties = startParties(["bob", "charlie", "dan"]);
    const { command, expected } = await capturedMul(parties);
    const stuck = { ...command, output: "stuck-z" };
    const other = { ...command, output: "other-z" };
    const bob = parties.workers.get("bob")!;
    const charlie = parties.workers.get("charlie")!;
    await sy.withConfig({ timeoutMs: 60_000 }, async () => {
      // charlie never hears of "stuck": bob waits for its frames (until the timeout or teardown).
      await submit(bob, stuck, "a");
      await submit(bob, other, "b");
      await submit(charlie, other, "b");
      const z = await reveal(parties!, other, "b");
      z.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 3));
      expect(bob.mailbox.pending.waiting).toBeGreaterThan(0);
    });
  });
});
