// Material streamed from the dealer (issue 15): the first run of a plan on
// demand learns what it asks the dealer for (mpc/provider/learning.ts); later
// runs of the same plan have all of it streamed from their start, one request
// for a window of pieces, each piece answered as soon as it is dealt
// (DealerClient.prefetch, TrustedDealer.answerStream). Checked against the
// plaintext model and against on-demand material; and the dealer's refusals of
// streams a holder may not have.
import * as tf from "@tensorflow/tfjs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as sy from "../../src";
import type { PeerFrame } from "../../src/mpc/communicator";
import type { MaterialSpec } from "../../src/mpc/provider/provider";
import { DealerClient } from "../../src/mpc/provider/trusted-dealer";
import { reconstruct } from "../../src/mpc/sharing";
import * as ring from "../../src/ring";
import { startParties, type Parties } from "./parties";

let parties: Parties;
const worker = (id: string) => parties.workers.get(id)!;
const dealerRequests = () => worker("dan").providers.server("trusted-dealer")!.stats.requests;

beforeEach(async () => {
  await tf.setBackend("cpu");
  parties = startParties(["bob", "charlie", "dan"]);
});
let previous: sy.Config | undefined;
afterEach(() => {
  parties.teardown();
  if (previous) sy.configure(previous);
  previous = undefined;
});

class Mlp extends sy.Plan {
  w1 = tf.randomNormal([12, 16], 0, 0.3, "float32", 1);
  b1 = tf.randomNormal([16], 0, 0.1, "float32", 2);
  w2 = tf.randomNormal([16, 4], 0, 0.3, "float32", 3);
  override forward(x: sy.TensorLike) {
    return sy.F.matmul(sy.F.relu(sy.F.matmul(x, this.w1).add(this.b1)), this.w2);
  }
}

async function sharedMlp(): Promise<{ run: (x: tf.Tensor) => Promise<tf.Tensor>; plain: (x: tf.Tensor) => tf.Tensor }> {
  const plan = new Mlp();
  await plan.build(tf.zeros([3, 12]));
  // The same weights (same seeds), kept in plaintext: the oracle.
  const oracle = new Mlp();
  await oracle.build(tf.zeros([3, 12]));
  const plain = (x: tf.Tensor) => oracle.run(x) as tf.Tensor;
  plan.fixPrecision().share(worker("bob"), worker("charlie"), { cryptoProvider: worker("dan") });
  const run = async (x: tf.Tensor) => {
    const shared = x.fixPrecision().share(worker("bob"), worker("charlie"), { cryptoProvider: worker("dan") });
    return ((await (plan.run(shared) as sy.FixedPrecisionTensor).get()) as sy.FixedPrecisionTensor).floatPrecision();
  };
  return { run, plain };
}

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;
}

describe("a plan's material streamed from the dealer", () => {
  it("the first run asks per piece; later runs ask once, and answer as the plaintext model does", async () => {
    const mlp = await sharedMlp();
    const x = tf.randomNormal([3, 12], 0, 1, "float32", 7);
    const before = dealerRequests();
    const first = await mlp.run(x);
    const onDemand = dealerRequests() - before;
    // A matmul, a relu (Kogge-Stone's AND gates, random bits, a select) and a matmul: many pieces.
    expect(onDemand).toBeGreaterThan(8);
    expect(maxDiff(first, mlp.plain(x))).toBeLessThan(1e-2);
    for (let i = 0; i < 3; i++) {
      const y = tf.randomNormal([3, 12], 0, 1, "float32", 100 + i);
      const at = dealerRequests();
      const out = await mlp.run(y);
      expect(dealerRequests() - at, "requests to the dealer in a streamed run").toBe(1);
      expect(maxDiff(out, mlp.plain(y))).toBeLessThan(1e-2);
    }
    // The holders left nothing behind: every streamed piece was used.
    expect(worker("charlie").mailbox.pending.buffered).toBe(0);
  });

  it("a window smaller than a run streams in several requests, with the same answers", async () => {
    // The window is a quarter of the largest message in ring elements: 8 KB here, so 256 elements a window.
    previous = sy.configure({ maxMessageBytes: 8 * 1024 });
    const mlp = await sharedMlp();
    const x = tf.randomNormal([3, 12], 0, 1, "float32", 9);
    await mlp.run(x);
    const at = dealerRequests();
    const out = await mlp.run(x);
    expect(dealerRequests() - at).toBeGreaterThan(1);
    expect(maxDiff(out, mlp.plain(x))).toBeLessThan(1e-2);
  });

  it("a piece streamed for another spec is never used: the holder asks for the right one, and the triple is right", async () => {
    const holders = ["bob", "charlie"];
    const [bob, charlie] = holders.map((h) => new DealerClient(worker(h).comm, "dan", holders)) as [
      DealerClient,
      DealerClient,
    ];
    const asked: MaterialSpec = { kind: "beaver", op: { kind: "mul" }, xShape: [4], yShape: [4] };
    const streamed: MaterialSpec = { kind: "beaver", op: { kind: "mul" }, xShape: [2], yShape: [2] };
    charlie.prefetch([{ tag: "run-x/0:triple.mul", spec: streamed }]);
    const shares = await Promise.all([bob, charlie].map((s) => s.triple("run-x/0:triple.mul", asked)));
    const a = reconstruct(shares.map((t) => t.a));
    const b = reconstruct(shares.map((t) => t.b));
    const c = reconstruct(await Promise.all(shares.map((t) => t.c)));
    expect(ring.toBigInts(c)).toEqual(ring.toBigInts(ring.mul(a, b)));
    expect(c.shape).toEqual([4]);
    charlie.release("run-x");
  });
});

describe("the dealer's refusals of a stream", () => {
  const beaver: MaterialSpec = { kind: "beaver", op: { kind: "mul" }, xShape: [4], yShape: [4] };
  const stream = (from: string, items: unknown, holders: unknown = ["bob", "charlie"]): PeerFrame => ({
    kind: "request",
    from,
    tag: `stream-${from}-1/stream`,
    tensors: [],
    meta: { provider: "trusted-dealer", type: "stream", holders, items },
  });
  const replies = (frame: PeerFrame) => [...worker("dan").providers.replies(frame)];

  it("answers the last holder piece by piece, under the pieces' tags", () => {
    const out = replies(
      stream("charlie", [
        { tag: "run-1/0:triple.mul", spec: beaver },
        { tag: "run-1/1:triple.mul", spec: beaver },
      ]),
    );
    expect(out.map((f) => [f.kind, f.tag])).toEqual([
      ["reply", "run-1/0:triple.mul#streamed"],
      ["reply", "run-1/1:triple.mul#streamed"],
    ]);
    expect(out[0]!.tensors[0]!.shape).toEqual([4]);
  });

  it("refuses corrections to a holder other than the last: an abort of the runs it named, nothing dealt", () => {
    const dealt = worker("dan").providers.server("trusted-dealer")!.stats.elementsDealt;
    const out = replies(
      stream("bob", [
        { tag: "run-2/0:triple.mul", spec: beaver },
        { tag: "run-3/0:triple.mul", spec: beaver },
      ]),
    );
    expect(out.map((f) => [f.kind, f.tag])).toEqual([
      ["abort", "run-2"],
      ["abort", "run-3"],
    ]);
    expect(out[0]!.meta).toMatch(/Only the last holder \(charlie\) receives corrections; bob asked/);
    expect(worker("dan").providers.server("trusted-dealer")!.stats.elementsDealt).toBe(dealt);
  });

  it("refuses an outsider, a malformed list and a stream larger than a message", () => {
    const outsider = replies(stream("mallory", [{ tag: "run-4/0:x", spec: beaver }]));
    expect(outsider).toMatchObject([{ kind: "abort", tag: "run-4" }]);
    expect(outsider[0]!.meta).toMatch(
      /mallory asked for dealer material of the group bob, charlie, which it is not in/,
    );

    const malformed = replies(stream("charlie", [{ tag: 7, spec: beaver }]));
    expect(malformed).toMatchObject([{ kind: "abort", tag: "stream-charlie-1" }]);
    expect(malformed[0]!.meta).toMatch(/must name at most 100000 pieces as \{ tag: "<scope>\/\.\.\.", spec \}/);

    previous = sy.configure({ maxMessageBytes: 4096 });
    const big: MaterialSpec = { kind: "beaver", op: { kind: "mul" }, xShape: [200], yShape: [200] };
    const tooBig = replies(
      stream("charlie", [
        { tag: "run-5/0:x", spec: big },
        { tag: "run-5/1:x", spec: big },
      ]),
    );
    expect(tooBig).toMatchObject([{ kind: "abort", tag: "run-5" }]);
    expect(tooBig[0]!.meta).toMatch(/TSYFT_ERR_LIMIT|maxMessageBytes/);
  });
});
