/**
 * Which comparison protocol a batch runs: the setting when it names one, and
 * for "auto" the one a simple cost model says is faster for this batch over
 * the holders' link:
 *
 *   time(protocol) = rounds · (linkLatencyMs + ROUND_OVERHEAD_MS) + elements · cpu per element
 *
 * Kogge-Stone: 8 rounds, little CPU; fss: 1 round, more CPU (a DCF evaluation
 * of 2(k - 1) AES blocks per element, ring/dcf.ts). So fss wins for small
 * batches at any distance and for every batch past a latency that grows with
 * its size: the crossover is linkLatencyMs = elements · (cpu_fss - cpu_ks) / 7
 * - ROUND_OVERHEAD_MS: about 80 ms one way for a 57,000-element batch here,
 * and fss at any latency below about 140 elements. The per-element figures
 * were measured by `npm run bench fss` (online CPU of one holder, in
 * process); docs/comparisons.md has the measurements.
 *
 * Both holders of a run must choose alike: the setting travels with the
 * command, the batch size is the same on both, and the latency is that of
 * their link (PartyContext.linkLatencyMs, from Communicator.linkLatencyMs:
 * the hook a grid with simulated or measured link latency implements; 0 when
 * absent, so "auto" then picks by CPU alone).
 *
 * @example
 * ```ts
 * chooseComparison("auto", 57_000, 0);    // "kogge-stone": CPU decides on loopback
 * chooseComparison("auto", 57_000, 100);  // "fss": 7 rounds of 100 ms outweigh the extra CPU
 * chooseComparison("fss", 10, 0);         // "fss": a named protocol is used as named
 * ```
 */
import type { ComparisonProtocol, ComparisonSetting } from "../core/config";

/**
 * Per-element online CPU of one holder, in milliseconds: `npm run bench fss`, 57,000
 * elements, on a shared 2-core machine whose Node.js runs AES at about 100 MB/s (its
 * OpenSSL does not use AES-NI there; the system's `openssl speed` does 4 GB/s). AES is
 * most of fss's time, so on a Node.js with AES-NI the fss figure drops several-fold:
 * measure there and adjust.
 */
export const COMPARISON_CPU_MS_PER_ELEMENT: Readonly<Record<ComparisonProtocol, number>> = {
  "kogge-stone": 0.0008,
  fss: 0.011,
};

/** What a round costs beyond the link's latency (framing, encoding, scheduling), in milliseconds: an estimate. */
export const ROUND_OVERHEAD_MS = 0.2;

const ROUNDS: Readonly<Record<ComparisonProtocol, number>> = { "kogge-stone": 8, fss: 1 };

/** The model's time, in milliseconds, of one comparison batch. */
export function comparisonTimeMs(
  protocol: ComparisonProtocol,
  elements: number,
  linkLatencyMs: number,
  fssBits = 64,
): number {
  // fss's work is per tree level: k - 1 of the 63 at full width.
  const cpu = COMPARISON_CPU_MS_PER_ELEMENT[protocol] * (protocol === "fss" ? (fssBits - 1) / 63 : 1);
  return ROUNDS[protocol] * (linkLatencyMs + ROUND_OVERHEAD_MS) + elements * cpu;
}

/**
 * The protocol a batch of `elements` comparisons runs under `setting`, over a
 * link of `linkLatencyMs` one way.
 */
export function chooseComparison(
  setting: ComparisonSetting,
  elements: number,
  linkLatencyMs: number,
  fssBits = 64,
): ComparisonProtocol {
  if (setting !== "auto") return setting;
  const fss = comparisonTimeMs("fss", elements, linkLatencyMs, fssBits);
  return fss < comparisonTimeMs("kogge-stone", elements, linkLatencyMs) ? "fss" : "kogge-stone";
}
