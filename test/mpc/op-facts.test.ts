// The op facts table (src/core/ops.ts) held to what the ops do: for every op,
// on a few shapes and attributes, under each comparison protocol, the rounds
// and bytes each holder sends and what the crypto provider deals (to the last
// holder and to the other) must be exactly what the table predicts, and
// the ops the table says need a provider or two holders must be the ones refused
// without them. A mismatch is a defect in the table or in a protocol's header.
import * as tf from "@tensorflow/tfjs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as sy from "../../src";
import { COMPARISON_PROTOCOLS } from "../../src/core/config";
import {
  allOps,
  needsProvider,
  opFacts,
  predictTraffic,
  providerKeyBytes,
  twoHolderProtocolOf,
  type AttrsOf,
  type OpCost,
  type OpName,
} from "../../src/core/ops";
import { inputRefOf } from "../../src/tensors/fixed-precision";
import { Rng, randomTensor } from "../conformance/oracle";
import { dealerFrames, keyFrames, startParties, wordsIn, type Parties } from "./parties";

/** One run of an op: its operands' shapes, which of them are shared (the first always is), its attributes. */
interface Case<O extends OpName> {
  operands: ReadonlyArray<{ shape: number[]; shared: boolean }>;
  attrs: AttrsOf<O>;
}

const s = (...shape: number[]) => ({ shape, shared: true });
const p = (...shape: number[]) => ({ shape, shared: false });
const none = {} as Record<string, never>;
const pool = (k: number, stride: number, padding: "same" | "valid") => ({
  filterSize: [k, k] as [number, number],
  strides: [stride, stride] as [number, number],
  padding,
});

/** Cases for every op: forgetting one is a compile error, as in the table. */
const cases: { [O in OpName]: ReadonlyArray<Case<O>> } = {
  add: [
    { operands: [s(3, 4), s(3, 4)], attrs: none },
    { operands: [s(2, 3), p(3)], attrs: none },
  ],
  sub: [{ operands: [s(5), s(5)], attrs: none }],
  neg: [{ operands: [s(4, 2)], attrs: none }],
  mul: [
    { operands: [s(6), s(6)], attrs: none },
    { operands: [s(3, 1, 4), s(5, 1)], attrs: none },
    { operands: [s(2, 3), p(3)], attrs: none },
  ],
  matmul: [
    { operands: [s(4, 6), s(6, 3)], attrs: none },
    { operands: [s(2, 4, 6), s(2, 6, 3)], attrs: none },
    { operands: [s(4, 6), p(6, 3)], attrs: none },
  ],
  conv2d: [
    { operands: [s(1, 6, 6, 3), s(3, 3, 3, 4)], attrs: { strides: [2, 2], padding: "same", dilations: [1, 1] } },
    { operands: [s(2, 5, 5, 2), s(2, 2, 2, 3)], attrs: { strides: [1, 1], padding: "valid", dilations: [1, 1] } },
    { operands: [s(1, 4, 4, 2), p(3, 3, 2, 2)], attrs: { strides: [1, 1], padding: "same", dilations: [1, 1] } },
  ],
  depthwiseConv2d: [
    { operands: [s(1, 6, 6, 3), s(3, 3, 3, 2)], attrs: { strides: [2, 2], padding: "same", dilations: [1, 1] } },
    { operands: [s(2, 5, 5, 2), s(2, 2, 2, 1)], attrs: { strides: [1, 1], padding: "valid", dilations: [1, 1] } },
    { operands: [s(1, 4, 4, 2), p(3, 3, 2, 2)], attrs: { strides: [1, 1], padding: "same", dilations: [1, 1] } },
  ],
  sum: [
    { operands: [s(3, 4)], attrs: { axes: [1], keepDims: false } },
    { operands: [s(3, 4)], attrs: { axes: null, keepDims: true } },
  ],
  mean: [{ operands: [s(3, 4)], attrs: { axes: [0], keepDims: false } }],
  reshape: [{ operands: [s(3, 4)], attrs: { shape: [2, 6] } }],
  transpose: [{ operands: [s(3, 4)], attrs: { perm: null } }],
  slice: [{ operands: [s(3, 4)], attrs: { begin: [1, 1], size: [2, 2] } }],
  concat: [
    { operands: [s(2, 3), s(1, 3)], attrs: { axis: 0 } },
    { operands: [s(2, 3), p(2, 2)], attrs: { axis: 1 } },
  ],
  div: [
    { operands: [s(5)], attrs: { divisor: 3 } },
    { operands: [s(5)], attrs: { divisor: 0.5 } },
    { operands: [s(5)], attrs: { divisor: 1 } },
  ],
  lt: [
    { operands: [s(7), s(7)], attrs: none },
    { operands: [s(3, 1), s(1, 4)], attrs: none },
    { operands: [s(5), p(5)], attrs: none },
  ],
  gt: [{ operands: [s(7), s(7)], attrs: none }],
  le: [{ operands: [s(7), s(7)], attrs: none }],
  ge: [{ operands: [s(2, 3), p(3)], attrs: none }],
  eq: [
    { operands: [s(7), s(7)], attrs: none },
    { operands: [s(3, 1), s(1, 4)], attrs: none },
  ],
  relu: [
    { operands: [s(33)], attrs: none },
    { operands: [s(2, 3, 4)], attrs: none },
  ],
  maxPool2d: [
    { operands: [s(1, 4, 4, 3)], attrs: pool(2, 2, "valid") },
    { operands: [s(1, 5, 5, 2)], attrs: pool(3, 1, "same") },
    { operands: [s(2, 3, 3, 1)], attrs: pool(1, 1, "valid") },
  ],
  avgPool2d: [
    { operands: [s(1, 4, 4, 3)], attrs: pool(2, 2, "valid") },
    { operands: [s(1, 5, 5, 2)], attrs: pool(3, 2, "same") },
  ],
  argmax: [
    { operands: [s(16, 10)], attrs: { axis: 1 } },
    { operands: [s(3, 5)], attrs: { axis: 0 } },
    { operands: [s(2, 3, 5)], attrs: { axis: -1 } },
  ],
  copy: [{ operands: [s(4)], attrs: none }],
};

const describeCase = (c: Case<OpName>) =>
  c.operands.map((o) => `${o.shared ? "shared" : "public"} [${o.shape}]`).join(", ") +
  (Object.keys(c.attrs).length > 0 ? ` ${JSON.stringify(c.attrs)}` : "");

let parties: Parties;
let worker: (id: string) => sy.VirtualWorker;

beforeEach(() => {
  parties = startParties();
  worker = (id) => parties.workers.get(id)!;
});
afterEach(() => parties.teardown());

/** Shares the shared operands among `holders` (public ones stay fixed point on the client), then runs the op. */
function run<O extends OpName>(
  op: O,
  c: Case<O>,
  holders: sy.VirtualWorker[],
  provider: sy.VirtualWorker | undefined,
): sy.FixedPrecisionTensor {
  const operands = operandsOf(c, holders, provider);
  return operands[0]!.applyOp(op, operands, c.attrs) as sy.FixedPrecisionTensor;
}

function operandsOf(
  c: Case<OpName>,
  holders: sy.VirtualWorker[],
  provider: sy.VirtualWorker | undefined,
): sy.FixedPrecisionTensor[] {
  const rng = new Rng(c.operands.length * 1000 + c.operands[0]!.shape.length);
  return c.operands.map(({ shape, shared }) => {
    const fixed = randomTensor(tf, rng, shape, { max: 6 }).fixPrecision();
    return shared ? fixed.share(...holders, { cryptoProvider: provider }) : fixed;
  });
}

describe("the op facts table agrees with itself", () => {
  it.each(allOps)("%s", (op) => {
    const facts = opFacts[op];
    // A product needs the provider exactly when its cost is Beaver's, on two shared operands.
    expect(facts.provider === "whenBothShared", op).toBe(facts.cost.per === "product");
    // The provider deals something exactly for the ops that need it.
    expect(facts.provider === "never", op).toBe(facts.cost.providerWords === 0);
    // Every comparison-based op runs ltz, so it needs a provider; nothing else does without a product.
    expect(facts.twoHolders === "comparison", op).toBe(facts.provider === "always");
  });
});

describe.each(COMPARISON_PROTOCOLS)(
  "the op facts table holds to measured traffic (2 holders + a dealer, VirtualWorkers, comparison %s)",
  (comparison) => {
    function traffic<O extends OpName>(op: O) {
      it.each(cases[op].map((c) => [describeCase(c), c] as const))(`${op} %s`, async (_, c) => {
        const [bob, charlie, dan] = ["bob", "charlie", "dan"].map(worker) as [
          sy.VirtualWorker,
          sy.VirtualWorker,
          sy.VirtualWorker,
        ];
        const result = sy.withConfig({ comparison }, () => run(op, c, [bob, charlie], dan));
        await result.get();
        const want = predictTraffic(op, c.attrs, c.operands, result.shape, comparison);
        for (const holder of [bob, charlie]) {
          expect(holder.stats.party.rounds, `${holder.id} rounds`).toBe(want.rounds);
          expect(holder.stats.party.bytesSent, `${holder.id} bytes`).toBe(8 * want.holderWords);
          expect(holder.stats.failedCommands).toBe(0);
        }
        expect(dan.stats.party.rounds).toBe(0);
        expect(dan.providers.server("trusted-dealer")!.stats.elementsDealt, "words dealt").toBe(
          want.providerWords + want.providerWordsOthers,
        );
        const dealt = dealerFrames(parties.events);
        expect(wordsIn(dealt.filter((f) => f.to === "charlie")), "words to the last holder").toBe(want.providerWords);
        expect(wordsIn(dealt.filter((f) => f.to !== "charlie")), "words to anyone else").toBe(want.providerWordsOthers);
        // Each holder gets one key when the op takes any material from the provider, none otherwise.
        const keys = want.providerWords > 0 ? [providerKeyBytes] : [];
        expect(keyFrames(dealt.filter((f) => f.to === "bob")), "key to bob").toEqual(keys);
        expect(keyFrames(dealt.filter((f) => f.to === "charlie")), "key to charlie").toEqual(keys);
      });
    }
    allOps.forEach(traffic);
  },
);

describe("the ops the table says need a provider or two holders are the ones refused", () => {
  function refusals<O extends OpName>(op: O) {
    it.each(cases[op].map((c) => [describeCase(c), c] as const))(`${op} %s`, async (_, c) => {
      const [alice, bob, charlie, dan] = ["alice", "bob", "charlie", "dan"].map(worker) as [
        sy.VirtualWorker,
        sy.VirtualWorker,
        sy.VirtualWorker,
        sy.VirtualWorker,
      ];
      const shared = c.operands.filter((o) => o.shared).length;
      const withoutProvider = () => run(op, c, [bob, charlie], undefined);
      if (needsProvider(op, shared)) {
        expect(withoutProvider).toThrow(expect.objectContaining({ code: "TSYFT_ERR_NO_CRYPTO_PROVIDER" }));
      } else {
        await withoutProvider().get();
      }
      const amongThree = () => run(op, c, [alice, bob, charlie], dan);
      const protocol = twoHolderProtocolOf(op, c.attrs);
      if (protocol) {
        expect(amongThree).toThrow(expect.objectContaining({ code: "TSYFT_ERR_UNSUPPORTED_PARTIES" }));
        // A client that skips its checks: the holders refuse on their own, naming the protocol and the op.
        const operands = operandsOf(c, [alice, bob, charlie], dan);
        const lead = operands[0]!;
        const inputs = operands.map((o) => inputRefOf(lead.hook, o, lead.encoding, op));
        const raw = (lead.child as sy.AdditiveSharingTensor).run(op, inputs, c.attrs, lead.encoding, []);
        const err = await new sy.FixedPrecisionTensor(lead.hook, raw, lead.encoding).get().then(
          () => undefined,
          (e: sy.TsyftError) => e,
        );
        if (err === undefined) {
          // Only a tournament over a single candidate never reaches ltz: it runs, correctly; the client alone refuses.
          const cost: OpCost<O> = opFacts[op].cost;
          expect(cost.per === "comparison" && cost.candidates(c.attrs, c.operands[0]!.shape), "not refused").toBe(1);
          return;
        }
        expect(err.details.cause, "refused by the holders").toBe("TSYFT_ERR_UNSUPPORTED_PARTIES");
        expect(err.message).toContain(protocol === "comparison" ? "Comparison (ltz)" : "Truncation");
        expect(err.message).toMatch(new RegExp(`run by [^.]*\\b${op}\\b`));
      } else {
        await amongThree().get();
      }
    });
  }
  allOps.forEach(refusals);
});
