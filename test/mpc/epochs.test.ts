// Key epochs and opened masks (issue 10): a restarted crypto provider, a holder that lost its opened masks, and
// concurrent runs that open the same weight masks in opposite orders give the right answer or a typed error,
// never a wrong number. A CNN-shaped plan (conv2d + relu + dense) so that fixed-operand masks are used.
import * as tf from "@tensorflow/tfjs";
import { afterEach, describe, expect, it } from "vitest";
import * as sy from "../../src";
import { decode } from "../../src/encoding/fixed-point";
import * as ring from "../../src/ring";
import type { RunPlanCommand } from "../../src/plans/commands";
import { decodeReply, decodeRequest, encodeRequest } from "../../src/workers/messages";
import { startParties, type Parties } from "./parties";

class Cnn extends sy.Plan {
  k = tf.randomNormal([3, 3, 1, 2], 0, 0.5, "float32", 21);
  w = tf.randomNormal([32, 3], 0, 0.3, "float32", 22);
  override forward(x: sy.TensorLike) {
    return sy.F.matmul(sy.F.flatten(sy.F.relu(sy.F.conv2d(x, this.k, { padding: "same" }))), this.w);
  }
}

let parties: Parties | undefined;
afterEach(() => {
  parties?.teardown();
  parties = undefined;
});

function worker(id: string): sy.VirtualWorker {
  return parties!.workers.get(id)!;
}

async function servedCnn(): Promise<{ plan: Cnn; x: tf.Tensor; expected: Float32Array }> {
  parties = startParties(["bob", "charlie", "dan"]);
  const plan = new Cnn();
  const x = tf.randomNormal([1, 4, 4, 1], 0, 1, "float32", 23);
  await plan.build(tf.zeros([1, 4, 4, 1]));
  const expected = (plan.run(x) as tf.Tensor).dataSync() as Float32Array;
  plan.fixPrecision().share(worker("bob"), worker("charlie"), { cryptoProvider: worker("dan") });
  return { plan, x, expected };
}

async function query(plan: Cnn, x: tf.Tensor): Promise<Float32Array> {
  const xs = x.fixPrecision().share(worker("bob"), worker("charlie"), { cryptoProvider: worker("dan") });
  const out = await (plan.run(xs) as sy.FixedPrecisionTensor).get();
  return out.floatPrecision().dataSync() as Float32Array;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThan(2e-2);
}

/** A dealer that restarts: a new worker under the same id, with new keys (a new epoch). */
function restartDealer(): void {
  const old = worker("dan");
  old.close("restart");
  old.network.unregister("dan");
  parties!.workers.set("dan", new sy.VirtualWorker(parties!.hook, { id: "dan" }));
}

describe("key epochs", () => {
  it("after the crypto provider restarts: a right answer or a typed error, then right answers", async () => {
    const { plan, x, expected } = await servedCnn();
    expectClose(await query(plan, x), expected); // caches warm: keys and opened weight masks of epoch 1
    restartDealer();
    const first = await query(plan, x).catch((e: unknown) => e);
    if (first instanceof Error) {
      expect(first).toBeInstanceOf(sy.TsyftError);
      // The holder's typed error, as the client sees it (the op that failed on a holder, and why).
      expect([sy.ErrorCode.PROVIDER_EPOCH, sy.ErrorCode.PROTOCOL_ABORTED, sy.ErrorCode.REMOTE_OP_FAILED]).toContain(
        (first as sy.TsyftError).code,
      );
      expect(first.message).toContain("epoch");
    } else {
      expectClose(first as Float32Array, expected);
    }
    expectClose(await query(plan, x), expected);
    expectClose(await query(plan, x), expected);
  });

  it("re-keys and retries transparently when the holders' keys are of two epochs", async () => {
    const { plan, x, expected } = await servedCnn();
    expectClose(await query(plan, x), expected);
    restartDealer();
    // charlie noticed the restart (its link came back with a new boot id), bob not yet: bob keeps epoch 1.
    worker("charlie").forgetPeer("dan");
    expectClose(await query(plan, x), expected);
  });

  it("a holder that lost its opened masks (restarted) and a peer that keeps them: still right", async () => {
    const { plan, x, expected } = await servedCnn();
    expectClose(await query(plan, x), expected);
    // What a restart of bob leaves: bob has no opened masks, and charlie, which sees bob link again with a
    // new boot id, forgets what it opened with bob.
    worker("bob").forgetPeer("charlie");
    worker("charlie").forgetPeer("bob");
    expectClose(await query(plan, x), expected);
  });

  it("two runs that open the same weight masks reach bob and charlie in opposite orders: both right", async () => {
    const { plan, x, expected } = await servedCnn();
    const before = parties!.events.length;
    expectClose(await query(plan, x), expected);
    const run = parties!.events
      .slice(before)
      .filter((e) => e.channel === "request" && e.to === "bob")
      .map((e) => decodeRequest(e.bytes))
      .flatMap((r) => (r.t === "submit" && r.command.type === "run-plan" ? [r.command as RunPlanCommand] : []))[0]!;
    // Cold masks again on both holders, then two sessions whose runs each holder sees in another order.
    worker("bob").forgetPeer("charlie");
    worker("charlie").forgetPeer("bob");
    const a = { ...run, runId: "run-a", outputs: ["out-a"] };
    const b = { ...run, runId: "run-b", outputs: ["out-b"] };
    const send = (id: string, command: RunPlanCommand, session: string) =>
      worker(id).handleRequest(encodeRequest({ t: "submit", command }), { principal: { kind: "admin" }, session });
    await sy.withConfig({ timeoutMs: 20_000 }, async () => {
      await send("bob", a, "a");
      await send("bob", b, "b");
      await send("charlie", b, "b");
      await send("charlie", a, "a");
      for (const [command, session] of [
        [a, "a"],
        [b, "b"],
      ] as const) {
        const shares = await Promise.all(
          ["bob", "charlie"].map(async (id) => {
            const bytes = await worker(id).handleRequest(
              encodeRequest({ t: "fetch", rid: 1, id: command.outputs[0]!, remove: false }),
              { principal: { kind: "admin" }, session },
            );
            const reply = decodeReply(bytes!);
            if (!reply.ok) throw new Error(reply.error.message);
            return (reply.value as { value: ring.RingTensor }).value;
          }),
        );
        expectClose(decode(ring.add(shares[0]!, shares[1]!), command.encoding), expected);
      }
    });
  });
});
