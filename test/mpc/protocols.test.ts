// Protocol-level tests: each protocol run directly by PartyContexts over the
// in-process network (the workers only relay frames and answer the dealer),
// checked for correctness against plaintext ring arithmetic, and for its cost:
// rounds, bytes per element, and where the dealer's traffic goes.
import * as tf from "@tensorflow/tfjs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as sy from "../../src";
import { withConfig } from "../../src/core/config";
import { PartyContext } from "../../src/mpc/context";
import { argmax } from "../../src/mpc/protocols/argmax";
import { b2a } from "../../src/mpc/protocols/b2a";
import { beaver } from "../../src/mpc/protocols/beaver";
import { andShared } from "../../src/mpc/protocols/binary-and";
import { compareBits } from "../../src/mpc/protocols/comparisons";
import { ltz } from "../../src/mpc/protocols/ltz";
import { maxPool2d } from "../../src/mpc/protocols/maxpool";
import { relu } from "../../src/mpc/protocols/relu";
import { truncate } from "../../src/mpc/protocols/truncate";
import { DealerClient } from "../../src/mpc/provider/trusted-dealer";
import { reconstruct, reconstructBinary, share } from "../../src/mpc/sharing";
import * as ring from "../../src/ring";
import { decodeFrame } from "../../src/workers/messages";
import { Rng } from "../conformance/oracle";
import { dealerFrames as dealtAmong, runHolders, startParties, wordsIn, type Parties, type PartyRun } from "./parties";

const MIN = -(1n << 63n);
const MAX = (1n << 63n) - 1n;
/** Values at the edges of the ring and around zero. */
const SPECIAL = [
  0n,
  1n,
  -1n,
  2n,
  -2n,
  MAX,
  MIN,
  MAX - 1n,
  MIN + 1n,
  1n << 62n,
  -(1n << 62n),
  1n << 32n,
  -(1n << 32n),
  65536n,
  -65536n,
];

let parties: Parties;
let workers: Map<string, sy.VirtualWorker>;
let events: sy.TapEvent[];

beforeEach(() => {
  parties = startParties();
  ({ workers, events } = parties);
});
afterEach(() => parties.teardown());

/** Runs `protocol` on every holder at once, with dan's trusted dealer (parties.ts runHolders). */
function runParties(
  holders: string[],
  inputs: ring.RingTensor[][],
  protocol: (ctx: PartyContext, mine: ring.RingTensor[]) => Promise<ring.RingTensor>,
): Promise<PartyRun> {
  return runHolders(workers, holders, inputs, protocol);
}

function randomRing(rng: Rng, n: number, bound?: bigint): ring.RingTensor {
  const vals = Array.from({ length: n }, () => {
    const hi = BigInt(Math.floor(rng.next() * 2 ** 32));
    const lo = BigInt(Math.floor(rng.next() * 2 ** 32));
    const v = BigInt.asIntN(64, (hi << 32n) | lo);
    return bound === undefined ? v : v % bound;
  });
  return ring.fromBigInts(vals, [n]);
}

const bigints = (t: ring.RingTensor) => ring.toBigInts(t);
const dealerFrames = () => dealtAmong(events);

describe("ltz: A2B with a Kogge-Stone adder", () => {
  it("is exact on the whole ring, edges included; 8 rounds, 25 words (200 bytes) per element from each holder", async () => {
    const rng = new Rng(1);
    const x = ring.concat(
      [ring.fromBigInts(SPECIAL, [SPECIAL.length]), randomRing(rng, 1000), randomRing(rng, 200, 1000n)],
      0,
    );
    const n = x.size;
    const { results, stats } = await runParties(["bob", "charlie"], [share(x, 2)], (ctx, [mine]) => ltz(ctx, mine!));
    expect(bigints(reconstruct(results))).toEqual(bigints(x).map((v) => (v < 0n ? 1n : 0n)));
    for (const s of stats) {
      expect(s.rounds).toBe(8);
      expect(s.framesSent).toBe(8);
      expect(s.bytesSent).toBe(200 * n);
    }
    // On the wire (header, tags, framing included) the overhead stays small.
    const peerBytes = events
      .filter((e) => e.channel === "peer" && e.from !== "dan" && e.to !== "dan")
      .reduce((a, e) => a + e.bytes.byteLength, 0);
    expect(peerBytes / (2 * n)).toBeGreaterThanOrEqual(200);
    expect(peerBytes / (2 * n)).toBeLessThan(202);
  });

  it("runs the same on the JS reference kernels, and sends each AND's masks without copying them", async () => {
    const rng = new Rng(12);
    const x = ring.concat([ring.fromBigInts(SPECIAL, [SPECIAL.length]), randomRing(rng, 40)], 0);
    const { results } = await withConfig({ ringKernels: "js" }, () =>
      runParties(["bob", "charlie"], [share(x, 2)], (ctx, [mine]) => ltz(ctx, mine!)),
    );
    expect(bigints(reconstruct(results))).toEqual(bigints(x).map((v) => (v < 0n ? 1n : 0n)));
    // The masks of an AND and the dealer's corrections leave with their header written in front of them:
    // the frame is a view into a larger buffer (the tensor's own), not a copy.
    const andFrames = events.filter((e) => e.channel === "peer" && decodeFrame(e.bytes).tag.includes(":and.ltz"));
    expect(andFrames.length).toBe(2 * 7);
    expect(andFrames.every((e) => e.bytes.byteOffset > 0)).toBe(true);
    const corrections = events.filter((e) => e.from === "dan" && decodeFrame(e.bytes).tag.includes("triple.and"));
    expect(corrections.length).toBe(7);
    expect(corrections.every((e) => e.bytes.byteOffset > 0)).toBe(true);
  });

  it("keeps the shape of its input, including scalars", async () => {
    const x = ring.fromInts([-3], []);
    const { results } = await runParties(["bob", "charlie"], [share(x, 2)], (ctx, [mine]) => ltz(ctx, mine!));
    expect(results[0]!.shape).toEqual([]);
    expect(bigints(reconstruct(results))).toEqual([1n]);
  });

  it("the dealer sends holder 0 one 16-byte key and nothing else; the last holder 14 words per element", async () => {
    const n = 512;
    const x = randomRing(new Rng(2), n);
    await runParties(["bob", "charlie"], [share(x, 2)], (ctx, [mine]) => ltz(ctx, mine!));
    const frames = dealerFrames();
    const toBob = frames.filter((f) => f.to === "bob");
    expect(toBob).toHaveLength(1);
    expect(toBob[0]!.frame.tensors).toEqual([]);
    expect((toBob[0]!.frame.meta as { key: Uint8Array }).key.byteLength).toBe(16);
    const toCharlie = frames.filter((f) => f.to === "charlie");
    // 1 key + 7 binary triples (g, 5 double levels, the last level) + 1 random-bit pair.
    expect(toCharlie).toHaveLength(9);
    const words = wordsIn(toCharlie);
    expect(words).toBe(14 * n); // 12n for the AND triples' c, 2n for the random bits (binary and arithmetic)
    expect(workers.get("dan")!.providers.server("trusted-dealer")!.stats.elementsDealt).toBe(14 * n);
    expect(frames.every((f) => f.to === "bob" || f.to === "charlie")).toBe(true);
  });

  it("refuses three holders with UNSUPPORTED_PARTIES, before sending anything", async () => {
    const x = ring.fromInts([1, -1], [2]);
    const holders = ["alice", "bob", "charlie"];
    const comm = workers.get("alice")!.comm;
    const ctx = new PartyContext(comm, holders, "three", new DealerClient(comm, "dan", holders), "dan");
    const err = await ltz(ctx, x).then(
      () => undefined,
      (e: sy.TsyftError) => e,
    );
    expect(err).toBeInstanceOf(sy.ProtocolError);
    expect(err!.code).toBe("TSYFT_ERR_UNSUPPORTED_PARTIES");
    expect(err!.details).toEqual({ holders });
    expect(events).toEqual([]);
  });
});

describe("relu and comparisons", () => {
  it("relu: exact, 9 rounds, 27 words (216 bytes) per element; dealer 15 words per element to the last holder only", async () => {
    const rng = new Rng(3);
    const x = ring.concat(
      [randomRing(rng, 1000, 1n << 50n), ring.fromBigInts([0n, 1n, -1n, 1n << 61n, -(1n << 61n)], [5])],
      0,
    );
    const n = x.size;
    const { results, stats } = await runParties(["bob", "charlie"], [share(x, 2)], (ctx, [mine]) => relu(ctx, mine!));
    expect(bigints(reconstruct(results))).toEqual(bigints(x).map((v) => (v > 0n ? v : 0n)));
    for (const s of stats) {
      expect(s.rounds).toBe(9);
      expect(s.bytesSent).toBe(216 * n);
    }
    const words = wordsIn(dealerFrames().filter((f) => f.to === "charlie"));
    expect(words).toBe(15 * n);
    expect(dealerFrames().filter((f) => f.to === "bob")).toHaveLength(1);
  });

  it("lt, gt, le, ge: 8 rounds; eq: 8 rounds over both differences in one batch", async () => {
    const rng = new Rng(4);
    const n = 300;
    const a = randomRing(rng, n, 1n << 40n);
    const b = ring.fromBigInts(
      bigints(a).map((v, i) => (i % 3 === 0 ? v : i % 3 === 1 ? v + 1n : v - 5n)),
      [n],
    );
    const plain = {
      lt: (x: bigint, y: bigint) => x < y,
      gt: (x: bigint, y: bigint) => x > y,
      le: (x: bigint, y: bigint) => x <= y,
      ge: (x: bigint, y: bigint) => x >= y,
      eq: (x: bigint, y: bigint) => x === y,
    };
    for (const op of ["lt", "gt", "le", "ge", "eq"] as const) {
      const { results, stats } = await runParties(["bob", "charlie"], [share(a, 2), share(b, 2)], (ctx, [x, y]) =>
        compareBits(ctx, op, x!, y!),
      );
      const av = bigints(a);
      const bv = bigints(b);
      expect(bigints(reconstruct(results)), op).toEqual(av.map((v, i) => (plain[op](v, bv[i]!) ? 1n : 0n)));
      expect(stats[0]!.rounds, op).toBe(8);
      expect(stats[0]!.bytesSent, op).toBe((op === "eq" ? 400 : 200) * n);
    }
  });
});

describe("Beaver multiplication", () => {
  it("mul, matmul, conv2d, depthwiseConv2d: exact products in 1 round, |x| + |y| words from each holder", async () => {
    const rng = new Rng(5);
    const cases: Array<{
      x: number[];
      y: number[];
      op: Parameters<typeof beaver>[3];
      plain: (a: ring.RingTensor, b: ring.RingTensor) => ring.RingTensor;
    }> = [
      { x: [257], y: [257], op: { kind: "mul" }, plain: ring.mul },
      { x: [3, 1, 4], y: [5, 1], op: { kind: "mul" }, plain: ring.mul },
      { x: [16, 32], y: [32, 8], op: { kind: "matmul" }, plain: ring.matmul },
      { x: [2, 4, 6], y: [2, 6, 3], op: { kind: "matmul" }, plain: ring.matmul },
      {
        x: [1, 6, 6, 3],
        y: [3, 3, 3, 4],
        op: { kind: "conv2d", attrs: { strides: [2, 2], padding: "same", dilations: [1, 1] } },
        plain: (a, b) => ring.conv2d(a, b, { strides: [2, 2], padding: "same" }),
      },
      {
        x: [2, 5, 5, 3],
        y: [3, 3, 3, 2],
        op: { kind: "depthwiseConv2d", attrs: { strides: [1, 1], padding: "valid", dilations: [1, 1] } },
        plain: (a, b) => ring.depthwiseConv2d(a, b, { padding: "valid" }),
      },
    ];
    for (const c of cases) {
      const size = (s: number[]) => s.reduce((p, q) => p * q, 1);
      const x = ring.reshape(randomRing(rng, size(c.x)), c.x);
      const y = ring.reshape(randomRing(rng, size(c.y)), c.y);
      const { results, stats } = await runParties(["bob", "charlie"], [share(x, 2), share(y, 2)], (ctx, [a, b]) =>
        beaver(ctx, a!, b!, c.op),
      );
      const what = `${c.op.kind} [${c.x}]·[${c.y}]`;
      expect(ring.equal(reconstruct(results), c.plain(x, y)), what).toBe(true);
      expect(stats[0]!.rounds, what).toBe(1);
      expect(stats[0]!.bytesSent, what).toBe(8 * (x.size + y.size));
    }
  });

  it("works for three holders: 1 round; holders 0 and 1 get only a 16-byte key from the dealer", async () => {
    const rng = new Rng(6);
    const x = ring.reshape(randomRing(rng, 24), [4, 6]);
    const y = ring.reshape(randomRing(rng, 18), [6, 3]);
    const holders = ["alice", "bob", "charlie"];
    const { results, stats } = await runParties(holders, [share(x, 3), share(y, 3)], (ctx, [a, b]) =>
      beaver(ctx, a!, b!, { kind: "matmul" }),
    );
    expect(ring.equal(reconstruct(results), ring.matmul(x, y))).toBe(true);
    for (const s of stats) {
      expect(s.rounds).toBe(1);
      expect(s.framesSent).toBe(2);
      expect(s.bytesSent).toBe(2 * 8 * (24 + 18));
    }
    const frames = dealerFrames();
    for (const h of ["alice", "bob"]) {
      const to = frames.filter((f) => f.to === h);
      expect(to, h).toHaveLength(1);
      expect(to[0]!.frame.tensors).toEqual([]);
      expect((to[0]!.frame.meta as { key: Uint8Array }).key.byteLength).toBe(16);
    }
    const corrections = frames.filter((f) => f.to === "charlie" && f.frame.tensors.length > 0);
    expect(corrections).toHaveLength(1);
    expect(corrections[0]!.frame.tensors[0]!.shape).toEqual([4, 3]);
  });

  it("then local truncation: within 1 ulp of floor(z / 2^16) for products well inside the ring", async () => {
    const rng = new Rng(7);
    const n = 2000;
    const x = randomRing(rng, n, 1n << 22n); // |x|, |y| < 64 at 16 fractional bits
    const y = randomRing(rng, n, 1n << 22n);
    const { results, stats } = await runParties(["bob", "charlie"], [share(x, 2), share(y, 2)], async (ctx, [a, b]) =>
      truncate(ctx, await beaver(ctx, a!, b!, { kind: "mul" }), 1n << 16n),
    );
    const want = bigints(ring.shr(ring.mul(x, y), 16));
    const got = bigints(reconstruct(results));
    const worst = got.reduce((m, g, i) => {
      const d = g - want[i]!;
      return d < 0n ? (-d > m ? -d : m) : d > m ? d : m;
    }, 0n);
    expect(worst).toBeLessThanOrEqual(1n);
    expect(stats[0]!.rounds).toBe(1); // truncation adds no round
  });
});

describe("building blocks", () => {
  it("andShared: one round for any number of pairs, 2 words per AND", async () => {
    const rng = new Rng(8);
    const pairs = [
      [randomRing(rng, 100), randomRing(rng, 100)],
      [randomRing(rng, 7), randomRing(rng, 7)],
    ] as const;
    // XOR sharing: holder 0 holds x ^ r, holder 1 holds r.
    const xorShares = (t: ring.RingTensor) => {
      const r = ring.sample(t.shape);
      return [ring.xor(t, r), r];
    };
    const binX = pairs.map(([x]) => xorShares(x));
    const binY = pairs.map(([, y]) => xorShares(y));
    const run = await Promise.all(
      ["bob", "charlie"].map((h, i) => {
        const comm = workers.get(h)!.comm;
        const ctx = new PartyContext(
          comm,
          ["bob", "charlie"],
          "and",
          new DealerClient(comm, "dan", ["bob", "charlie"]),
          "dan",
        );
        return andShared(
          ctx,
          pairs.map((_, k) => [binX[k]![i]!, binY[k]![i]!] as const),
          "t",
        ).then((out) => ({ out, stats: ctx.stats }));
      }),
    );
    pairs.forEach(([x, y], k) => {
      const z = reconstructBinary(run.map((r) => r.out[k]!));
      expect(ring.equal(z, ring.and(x, y))).toBe(true);
    });
    expect(run[0]!.stats.rounds).toBe(1);
    expect(run[0]!.stats.bytesSent).toBe(2 * 8 * 107);
  });

  it("b2a: XOR-shared bits become additive shares in 1 round", async () => {
    const bits = ring.fromInts([0, 1, 1, 0, 1], [5]);
    const r = ring.and(ring.sample([5]), ring.scalar(1n));
    const { results, stats } = await runParties(["bob", "charlie"], [[ring.xor(bits, r), r]], (ctx, [mine]) =>
      b2a(ctx, mine!),
    );
    expect(bigints(reconstruct(results))).toEqual([0n, 1n, 1n, 0n, 1n]);
    expect(stats[0]!.rounds).toBe(1);
    expect(stats[0]!.bytesSent).toBe(8 * 5);
  });

  it("dealer material from PRG seeds is consistent: c = a·b, c = a & b, binary bit = arithmetic bit", async () => {
    const holders = ["bob", "charlie"];
    const clients = holders.map((h) => new DealerClient(workers.get(h)!.comm, "dan", holders));
    const beaverSpec = { kind: "beaver" as const, op: { kind: "matmul" as const }, xShape: [3, 4], yShape: [4, 2] };
    const triples = await Promise.all(clients.map((c) => c.triple("m/0:t", beaverSpec)));
    const [a, b, c] = [
      reconstruct(triples.map((t) => t.a)),
      reconstruct(triples.map((t) => t.b)),
      reconstruct(await Promise.all(triples.map((t) => t.c))),
    ];
    expect(ring.equal(c, ring.matmul(a, b))).toBe(true);
    const bin = await Promise.all(clients.map((cl) => cl.triple("m/1:t", { kind: "binaryTriple", shape: [64] })));
    const [ba, bb, bc] = [
      reconstructBinary(bin.map((t) => t.a)),
      reconstructBinary(bin.map((t) => t.b)),
      reconstructBinary(await Promise.all(bin.map((t) => t.c))),
    ];
    expect(ring.equal(bc, ring.and(ba, bb))).toBe(true);
    const bits = await Promise.all(clients.map((cl) => cl.randomBits("m/2:t", [256])));
    const asBinary = bigints(reconstructBinary(bits.map((s) => s.binary)));
    const asArithmetic = bigints(reconstruct(bits.map((s) => s.arithmetic)));
    expect(asBinary).toEqual(asArithmetic);
    expect(asBinary.every((v) => v === 0n || v === 1n)).toBe(true);
    const ones = asBinary.filter((v) => v === 1n).length;
    expect(ones).toBeGreaterThan(80); // Binomial(256, 1/2): mean 128, sd 8
    expect(ones).toBeLessThan(176);
    // Different tags give different material; the same tag gives the same on a holder.
    const again = await clients[0]!.triple("m/0:t", beaverSpec);
    expect(ring.equal(again.a, triples[0]!.a)).toBe(true);
    const other = await clients[0]!.triple("m/9:t", beaverSpec);
    expect(ring.equal(other.a, triples[0]!.a)).toBe(false);
  });
});

describe("pooling and argmax", () => {
  it("maxPool2d 2x2: 2 tournament levels of 9 rounds = 18; argmax over 10: 4 levels = 36", async () => {
    const rng = new Rng(9);
    const x = ring.reshape(randomRing(rng, 4 * 4 * 3, 1n << 40n), [1, 4, 4, 3]);
    const pool = await runParties(["bob", "charlie"], [share(x, 2)], (ctx, [mine]) =>
      maxPool2d(ctx, mine!, { filterSize: [2, 2], strides: [2, 2], padding: "valid" }),
    );
    const xv = bigints(x);
    const at = (h: number, w: number, c: number) => xv[(h * 4 + w) * 3 + c]!;
    const want: bigint[] = [];
    for (let oh = 0; oh < 2; oh++)
      for (let ow = 0; ow < 2; ow++)
        for (let c = 0; c < 3; c++) {
          const window = [
            at(2 * oh, 2 * ow, c),
            at(2 * oh, 2 * ow + 1, c),
            at(2 * oh + 1, 2 * ow, c),
            at(2 * oh + 1, 2 * ow + 1, c),
          ];
          want.push(window.reduce((m, v) => (v > m ? v : m)));
        }
    expect(bigints(reconstruct(pool.results))).toEqual(want);
    expect(pool.stats[0]!.rounds).toBe(18);

    const logits = ring.reshape(randomRing(rng, 16 * 10, 1n << 40n), [16, 10]);
    const am = await runParties(["bob", "charlie"], [share(logits, 2)], (ctx, [mine]) =>
      argmax(ctx, mine!, 1, 1n << 16n),
    );
    const lv = bigints(logits);
    const wantIdx = Array.from({ length: 16 }, (_, r) => {
      const row = lv.slice(r * 10, r * 10 + 10);
      return BigInt(row.indexOf(row.reduce((m, v) => (v > m ? v : m)))) << 16n;
    });
    expect(bigints(reconstruct(am.results))).toEqual(wantIdx);
    expect(am.stats[0]!.rounds).toBe(36);
  });
});

describe("worker stats count the same as the protocol", () => {
  it("a relu through the client: 9 rounds and 216 bytes per element on each holder, nothing on the dealer", async () => {
    const n = 1024;
    const [bob, charlie, dan] = ["bob", "charlie", "dan"].map((id) => workers.get(id)!);
    const x = tf.randomNormal([n]).fixPrecision().share(bob!, charlie!, { cryptoProvider: dan! });
    await x.relu().get();
    for (const w of [bob!, charlie!]) {
      expect(w.stats.party.rounds).toBe(9);
      expect(w.stats.party.bytesSent).toBe(216 * n);
      expect(w.stats.failedCommands).toBe(0);
    }
    expect(dan!.stats.party.rounds).toBe(0);
    expect(dan!.stats.commands).toBe(0);
  });
});
