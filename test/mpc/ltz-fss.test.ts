// ltz by function secret sharing (src/mpc/protocols/ltz-fss.ts) against the
// plaintext oracle [x < 0]: on the whole ring, at the edges of x, and at the
// edges of the masked value y = x + r (the wrap-around the header derives),
// with its cost (1 round, 8 bytes per element from each holder, the dealer's
// words to each holder), the narrower fssBits option inside and at its range,
// and the "auto" choice by link latency.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as sy from "../../src";
import { chooseComparison, comparisonTimeMs } from "../../src/mpc/comparison-choice";
import type { Communicator } from "../../src/mpc/communicator";
import type { PartyContext, ProtocolSettings } from "../../src/mpc/context";
import { ltz } from "../../src/mpc/protocols/ltz";
import { DcfDealer, dcfDealtTo } from "../../src/mpc/provider/dcf-material";
import { InsecureSeededSource } from "../../src/mpc/provider/insecure-seeded";
import { checkMaterialRequest, materialElements } from "../../src/mpc/provider/limits";
import { reconstruct, share } from "../../src/mpc/sharing";
import * as ring from "../../src/ring";
import { Rng } from "../conformance/oracle";
import { dealerFrames, runHolders, startParties, wordsIn, type Parties } from "./parties";

const MIN = -(1n << 63n);
const MAX = (1n << 63n) - 1n;
const EDGES = [0n, 1n, -1n, 2n, -2n, MAX, MIN, MAX - 1n, MIN + 1n, 1n << 62n, -(1n << 62n), (1n << 62n) - 1n];
const HOLDERS = ["bob", "charlie"];
const FSS: ProtocolSettings = { comparison: "fss", fssBits: 64 };

let parties: Parties;
beforeEach(() => {
  parties = startParties();
});
afterEach(() => parties.teardown());

function randomRing(rng: Rng, n: number): bigint[] {
  return Array.from({ length: n }, () => {
    const hi = BigInt(Math.floor(rng.next() * 2 ** 32));
    const lo = BigInt(Math.floor(rng.next() * 2 ** 32));
    return BigInt.asIntN(64, (hi << 32n) | lo);
  });
}

const oracle = (xs: readonly bigint[]) => xs.map((v) => (v < 0n ? 1n : 0n));

function runLtz(xs: readonly bigint[], protocols: ProtocolSettings, options: Parameters<typeof runHolders>[4] = {}) {
  const x = ring.fromBigInts([...xs], [xs.length]);
  return runHolders(parties.workers, HOLDERS, [share(x, 2)], (ctx, [mine]) => ltz(ctx, mine!), {
    protocols,
    ...options,
  });
}

describe("ltz by FSS (a DCF from the trusted dealer)", () => {
  it("is exact on the whole ring, edges included: 1 round, 1 word (8 bytes) per element from each holder", async () => {
    const xs = [...EDGES, ...randomRing(new Rng(1), 1000), ...randomRing(new Rng(2), 200).map((v) => v % 1000n)];
    const { results, stats } = await runLtz(xs, FSS);
    expect(ring.toBigInts(reconstruct(results))).toEqual(oracle(xs));
    for (const s of stats) {
      expect(s.rounds).toBe(1);
      expect(s.framesSent).toBe(1);
      expect(s.bytesSent).toBe(8 * xs.length);
    }
  });

  it("the dealer sends each holder a key and 192 correction words per element; the last holder 1 word more", async () => {
    const n = 300;
    await runLtz(randomRing(new Rng(3), n), FSS);
    const frames = dealerFrames(parties.events);
    expect(wordsIn(frames.filter((f) => f.to === "bob"))).toBe(192 * n);
    expect(wordsIn(frames.filter((f) => f.to === "charlie"))).toBe(193 * n);
    expect(parties.workers.get("dan")!.providers.server("trusted-dealer")!.stats.elementsDealt).toBe(385 * n);
  });

  it("is exact at the edges of the masked value y = x + r: y' = alpha, alpha +- 1, each top bit, 0 and the wrap", async () => {
    // The insecure seeded provider's masks can be computed by anyone: ask it for the same tag first,
    // then pick x so that y = x + r lands on each edge of the DCF's comparison and of the top bit.
    const n = 13 * 20;
    const scope = "wrap";
    const source = (comm: Communicator) => new InsecureSeededSource(comm.self, "dan", HOLDERS);
    const spec = { kind: "dcf" as const, shape: [n], bits: 64 };
    const masks = await Promise.all(
      HOLDERS.map((h) => new InsecureSeededSource(h, "dan", HOLDERS).dcf(`${scope}/0:dcf.ltz`, spec)),
    );
    const r = ring.toBigInts(ring.add(masks[0]!.mask, masks[1]!.mask)).map((v) => BigInt.asUintN(64, v));
    const top = 1n << 63n;
    const targets = (re: bigint): bigint[] => {
      const alpha = re % top;
      return [
        re,
        re - 1n,
        re + 1n,
        re + top,
        re + top - 1n,
        re + top + 1n,
        0n,
        top - 1n,
        top,
        -1n,
        1n,
        alpha,
        alpha + top,
      ];
    };
    const xs = r.map((re, e) => BigInt.asIntN(64, targets(re)[e % 13]! - re));
    const { results } = await runLtz(xs, FSS, { source, scope });
    expect(ring.toBigInts(reconstruct(results))).toEqual(oracle(xs));
    // The targets reach x = 0, -1, 1 and the most negative value, among others.
    for (const v of [0n, -1n, 1n, MIN]) expect(xs).toContain(v);
  });

  it("splits a batch larger than one piece of material (maxDealerElements) and still opens it in one round", async () => {
    const xs = [...EDGES, ...randomRing(new Rng(7), 238)];
    const { results, stats } = await sy.withConfig({ maxDealerElements: 193 * 100 }, () => runLtz(xs, FSS));
    expect(ring.toBigInts(reconstruct(results))).toEqual(oracle(xs));
    expect(stats.map((s) => s.rounds)).toEqual([1, 1]);
    const frames = dealerFrames(parties.events);
    // Three pieces (100, 100, 50 elements), the same words in all.
    expect(frames.filter((f) => f.to === "charlie" && f.frame.tensors.length > 0)).toHaveLength(3);
    expect(wordsIn(frames.filter((f) => f.to === "charlie"))).toBe(193 * xs.length);
  });

  it("keeps the shape of its input, including scalars", async () => {
    const x = ring.fromInts([-3], []);
    const { results } = await runHolders(parties.workers, HOLDERS, [share(x, 2)], (ctx, [mine]) => ltz(ctx, mine!), {
      protocols: FSS,
    });
    expect(results[0]!.shape).toEqual([]);
    expect(ring.toBigInts(reconstruct(results))).toEqual([1n]);
  });
});

describe("ltz by FSS over fewer bits (config fssBits)", () => {
  it("is exact for x in [-2^(k-1), 2^(k-1)) with 3k words of keys per element", async () => {
    const k = 20;
    const half = 1n << BigInt(k - 1);
    const rng = new Rng(4);
    const xs = [0n, 1n, -1n, half - 1n, -half, ...randomRing(rng, 500).map((v) => v % half)];
    const { results } = await runLtz(xs, { comparison: "fss", fssBits: k });
    expect(ring.toBigInts(reconstruct(results))).toEqual(oracle(xs));
    const frames = dealerFrames(parties.events);
    expect(wordsIn(frames.filter((f) => f.to === "bob"))).toBe(3 * k * xs.length);
    expect(wordsIn(frames.filter((f) => f.to === "charlie"))).toBe((3 * k + 1) * xs.length);
  });

  it("reads only k bits: a value outside the range compares as its low k bits do", async () => {
    const k = 8;
    // 2^7 is outside [-128, 128): as an 8-bit value it is -128, so it reads as negative.
    const { results } = await runLtz([128n, 127n, -129n], { comparison: "fss", fssBits: k });
    expect(ring.toBigInts(reconstruct(results))).toEqual([1n, 0n, 0n]);
  });
});

describe('"auto": the comparison chosen by batch size and link latency', () => {
  it("picks Kogge-Stone for a large batch on loopback, FSS for a small batch or a distant link", () => {
    expect(chooseComparison("auto", 57_000, 0)).toBe("kogge-stone");
    expect(chooseComparison("auto", 10, 0)).toBe("fss");
    expect(chooseComparison("auto", 57_000, 100)).toBe("fss");
    expect(chooseComparison("kogge-stone", 10, 100)).toBe("kogge-stone");
    expect(chooseComparison("fss", 57_000, 0)).toBe("fss");
    // The choice is the cheaper of the two model times.
    for (const [n, ms] of [
      [1000, 0],
      [57_000, 5],
      [57_000, 50],
    ] as const) {
      const cheaper = comparisonTimeMs("fss", n, ms) < comparisonTimeMs("kogge-stone", n, ms) ? "fss" : "kogge-stone";
      expect(chooseComparison("auto", n, ms)).toBe(cheaper);
    }
  });

  /** Every holder's communicator reports `ms` of one-way latency on its links (the WAN hook). */
  function withLatency(ms: number) {
    return (comm: Communicator) => {
      const distant: Communicator = {
        self: comm.self,
        send: (to, frame) => comm.send(to, frame),
        recv: (from, tag) => comm.recv(from, tag),
        linkLatencyMs: () => ms,
      };
      return distant;
    };
  }

  it("holders read the link latency from their communicator and both choose alike", async () => {
    const n = 20_000;
    const xs = randomRing(new Rng(5), n);
    const x = ring.fromBigInts(xs, [n]);
    for (const [ms, rounds] of [
      [0, 8],
      [1000, 1],
    ] as const) {
      const wrap = withLatency(ms);
      const seen: number[] = [];
      const { results, stats } = await runHolders(
        parties.workers,
        HOLDERS,
        [share(x, 2)],
        (ctx: PartyContext, [mine]) => {
          seen.push(ctx.linkLatencyMs);
          return ltz(ctx, mine!);
        },
        { protocols: { comparison: "auto", fssBits: 64 }, wrapComm: wrap },
      );
      expect(seen).toEqual([ms, ms]);
      expect(ring.toBigInts(reconstruct(results))).toEqual(oracle(xs));
      expect(stats.map((s) => s.rounds)).toEqual([rounds, rounds]);
    }
  });
});

describe("the comparison settings are checked", () => {
  it("config refuses an unknown comparison and an fssBits outside 2..64", () => {
    expect(() => sy.withConfig({ comparison: "fast" as never }, () => 0)).toThrow(
      /comparison "kogge-stone", "fss", "auto"/,
    );
    for (const fssBits of [1, 65, 2.5]) {
      expect(() => sy.withConfig({ fssBits }, () => 0)).toThrow(/fssBits from 2 to 64/);
    }
    expect(sy.withConfig({ comparison: "auto", fssBits: 2 }, () => sy.getConfig().comparison)).toBe("auto");
  });

  it("a holder refuses a command naming a comparison it does not know, before running anything", () => {
    const bob = parties.workers.get("bob")!;
    const sharing = { holders: HOLDERS, provider: "dan", comparison: "fast" as never };
    expect(() => bob.providers.context(sharing, "bad", { rounds: 0, bytesSent: 0, framesSent: 0 })).toThrow(
      expect.objectContaining({ code: "TSYFT_ERR_MALFORMED_MESSAGE" }),
    );
    expect(() =>
      bob.providers.context({ holders: HOLDERS, provider: "dan", fssBits: 99 }, "bad", {
        rounds: 0,
        bytesSent: 0,
        framesSent: 0,
      }),
    ).toThrow(expect.objectContaining({ code: "TSYFT_ERR_MALFORMED_MESSAGE" }));
  });

  it("the dealer refuses DCF material of a width outside 2..64 or for a group of three", async () => {
    const source = new InsecureSeededSource("bob", "dan", HOLDERS);
    await expect(source.dcf("t", { kind: "dcf", shape: [2], bits: 70 })).rejects.toMatchObject({
      code: "TSYFT_ERR_MALFORMED_MESSAGE",
    });
    // Its size counts against maxDealerElements: 193 words per element at 64 bits.
    expect(materialElements({ kind: "dcf", shape: [1000], bits: 64 })).toBe(193_000);
    expect(() => checkMaterialRequest({ kind: "dcf", shape: [100_000], bits: 64 })).toThrow(
      expect.objectContaining({ code: "TSYFT_ERR_LIMIT" }),
    );
    const three = new InsecureSeededSource("bob", "dan", ["alice", ...HOLDERS]);
    await expect(three.dcf("t", { kind: "dcf", shape: [2], bits: 64 })).rejects.toMatchObject({
      code: "TSYFT_ERR_UNSUPPORTED_PARTIES",
    });
  });
});

describe("the dealer's DCF material", () => {
  it("is generated once for both holders, the same as generated afresh, and forgotten once both have it", () => {
    const keys = [ring.randomSeed(), ring.randomSeed()];
    const spec = { kind: "dcf" as const, shape: [50], bits: 64 };
    const dealer = new DcfDealer();
    const toBob = dealer.dealTo(keys, 0, "t/0:dcf.ltz", spec, "g");
    const toCharlie = dealer.dealTo(keys, 1, "t/0:dcf.ltz", spec, "g");
    expect(toBob).toHaveLength(4);
    expect(toCharlie).toHaveLength(5);
    toBob.forEach((t, i) => expect(ring.equal(t, toCharlie[i]!)).toBe(true));
    // Deterministic in (keys, tag): a fresh generation (or one after the entry was dropped) is identical.
    const again = dcfDealtTo(keys, 1, "t/0:dcf.ltz", spec);
    again.forEach((t, i) => expect(ring.equal(t, toCharlie[i]!)).toBe(true));
    expect(ring.equal(dealer.dealTo(keys, 0, "t/0:dcf.ltz", spec, "g")[0]!, toBob[0]!)).toBe(true);
    // Another tag, other material.
    expect(ring.equal(dcfDealtTo(keys, 0, "t/1:dcf.ltz", spec)[3]!, toBob[3]!)).toBe(false);
  });
});
