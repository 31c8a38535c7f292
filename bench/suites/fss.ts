/**
 * The two comparison protocols side by side: ltz of a CNN-sized batch (57,000
 * elements, about the skin-cancer CNN's ReLUs) by Kogge-Stone (8 rounds) and by
 * function secret sharing (1 round), two holders and a trusted dealer as
 * VirtualWorkers in this process.
 *
 * What is measured, per protocol (and for fss at 32 bits, the narrower
 * option), median of a few runs:
 * - `offline_ms`: dealing the material of one run ahead (every holder's
 *   `preprocess`: a dry run, the requests, the dealer's work, the transfer);
 * - `dealer_ms`: the dealer's CPU alone for that material (Kogge-Stone: the
 *   corrections of its AND triples and random bits; fss: DCF key generation);
 * - `online_ms`: the run itself with the material dealt ahead, both holders
 *   together in this one thread; `holder_cpu_ms` is half of it, what one holder
 *   would spend on a machine of its own;
 * - `rounds`, `holder_B_per_elem` (what each holder sends), `dealer_B_per_elem`
 *   (what the dealer sends to both holders together);
 * - and a `crossover` row: the one-way link latency above which fss is faster
 *   for this batch, (holder CPU of fss - of Kogge-Stone) / 7 rounds saved.
 * The machine may be shared: the figures carry its load; ratios are steadier.
 */
import * as tf from "@tensorflow/tfjs";
import * as sy from "../../src";
import type { ComparisonProtocol } from "../../src/core/config";
import type { PartyContext } from "../../src/mpc/context";
import { ltz } from "../../src/mpc/protocols/ltz";
import { dcfDealtTo } from "../../src/mpc/provider/dcf-material";
import { lastHolderCorrection, MaskCache } from "../../src/mpc/provider/keyed";
import { recordMaterial } from "../../src/mpc/provider/recording";
import type { Sharing } from "../../src/mpc/provider/endpoint";
import { share } from "../../src/mpc/sharing";
import * as ring from "../../src/ring";
import type { BenchRow } from "../harness";
import { virtualTrio } from "./trio";

const SUITE = "fss";
const ELEMENTS = 57_000;
/** Each protocol, and fss reading 32 bits too (exact only for |raw value| < 2^31: config fssBits). */
const VARIANTS: ReadonlyArray<readonly [ComparisonProtocol, number]> = [
  ["kogge-stone", 64],
  ["fss", 64],
  ["fss", 32],
];

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The dealer's CPU for one run's material, from the specs a dry run records. */
async function dealerMs(comparison: ComparisonProtocol, fssBits: number, n: number): Promise<number> {
  const holders = ["bob", "charlie"];
  const perRun = await recordMaterial("charlie", holders, "dan", (ctx) => ltz(ctx, ring.zeros([n])), {
    protocols: { comparison, fssBits },
  });
  const keys = holders.map(() => ring.randomSeed());
  const masks = new MaskCache();
  const t0 = performance.now();
  for (const { suffix, spec } of perRun) {
    if (spec.kind === "dcf") dcfDealtTo(keys, 0, `run${suffix}`, spec);
    else lastHolderCorrection(keys, `run${suffix}`, spec, masks);
  }
  return performance.now() - t0;
}

export async function runFssSuite({ quick }: { quick: boolean }): Promise<BenchRow[]> {
  const n = quick ? 2_000 : ELEMENTS;
  const runs = quick ? 1 : 3;
  const hook = sy.hook(tf);
  const [bob, charlie, dan] = virtualTrio(hook);
  const holders = [bob, charlie];
  const x = ring.fromFloat(
    Array.from({ length: n }, (_, i) => Math.sin(i) * 100),
    [n],
    2 ** 16,
  );
  const shares = share(x, 2);
  const rows: BenchRow[] = [];
  const holderCpu: Partial<Record<ComparisonProtocol, number>> = {};
  let scopes = 0;
  try {
    for (const [comparison, fssBits] of VARIANTS) {
      const sharing: Sharing = {
        holders: ["bob", "charlie"],
        provider: "dan",
        providerKind: "trusted-dealer",
        comparison,
        fssBits,
      };
      const offline: number[] = [];
      const online: number[] = [];
      let rounds = 0;
      let holderBytes = 0;
      let dealt = 0;
      for (let r = 0; r < runs + 1; r++) {
        const scope = `bench${scopes++}`;
        const dealtBefore = dan.providers.server("trusted-dealer")!.stats.elementsDealt;
        const t0 = performance.now();
        await Promise.all(
          holders.map((h) =>
            h.providers.preprocess({ ...sharing, provider: "dan" }, [scope], {
              identity: [comparison, fssBits, n],
              run: (ctx: PartyContext) => ltz(ctx, ring.zeros([n])),
            }),
          ),
        );
        const t1 = performance.now();
        const stats = holders.map(() => ({ rounds: 0, bytesSent: 0, framesSent: 0 }));
        await Promise.all(holders.map((h, i) => ltz(h.providers.context(sharing, scope, stats[i]!), shares[i]!)));
        const t2 = performance.now();
        if (r === 0) continue; // warm-up: JIT, and each holder's key from the dealer
        offline.push(t1 - t0);
        online.push(t2 - t1);
        rounds = stats[0]!.rounds;
        holderBytes = stats[0]!.bytesSent;
        dealt = dan.providers.server("trusted-dealer")!.stats.elementsDealt - dealtBefore;
      }
      const onlineMs = median(online);
      if (fssBits === 64) holderCpu[comparison] = onlineMs / 2;
      rows.push({
        suite: SUITE,
        name: comparison === "fss" ? `ltz fss ${fssBits} bits` : `ltz ${comparison}`,
        elements: n,
        offline_ms: median(offline),
        dealer_ms: await dealerMs(comparison, fssBits, n),
        online_ms: onlineMs,
        holder_cpu_ms: onlineMs / 2,
        us_per_elem_holder: (1000 * onlineMs) / 2 / n,
        rounds,
        holder_B_per_elem: holderBytes / n,
        dealer_B_per_elem: (8 * dealt) / n,
      });
    }
    const extra = holderCpu.fss! - holderCpu["kogge-stone"]!;
    rows.push({
      suite: SUITE,
      name: "crossover",
      elements: n,
      one_way_ms: Math.max(0, extra / 7),
      note: "fss is faster past this one-way latency (7 rounds saved)",
    });
  } finally {
    for (const w of [bob, charlie, dan]) {
      w.close("bench done");
      w.network.unregister(w.id);
    }
  }
  return rows;
}
