/**
 * NOT SECURE, for fast tests only: a crypto provider whose holders derive all
 * of their material themselves, with no messages at all (CrypTen's "TFP",
 * trusted first party).
 *
 * It is the keyed scheme of keyed.ts with keys that anyone can compute:
 * every holder derives every holder's key K_i from a public seed (its group:
 * the provider worker's id and the holders), so the last holder computes its
 * own correction, and no provider worker is ever contacted. Any party, or
 * anyone who knows the group, can therefore compute every share of every
 * triple and unmask every opened value: never use it with real data. It gives
 * the same results as the trusted dealer, exactly, so that the secure-op
 * suite can run on it quickly; preprocessing with it does nothing.
 *
 * @example
 * ```ts
 * const y = await sy.withConfig({ cryptoProvider: "insecure-seeded" }, () => xSh.mul(xSh).get());
 * ```
 */
import * as ring from "../../ring";
import { dcfDealtTo } from "./dcf-material";
import { KeyedMaterialSource, lastHolderCorrection, seedFor } from "./keyed";
import type { CryptoProvider, MaterialSpec } from "./provider";

/** The public seed that every key derives from: knowing it is what makes this provider insecure. */
const PUBLIC_SEED = new TextEncoder().encode("tsyft insecure-seeded provider, not secure");

/**
 * The holder side of the insecure seeded provider. NOT SECURE: every holder
 * knows every holder's key (see the file header).
 */
export class InsecureSeededSource extends KeyedMaterialSource {
  private readonly keys: Uint8Array[];
  /** Its keys derive from a public seed, so they never change: one epoch forever. */
  readonly epoch = "seeded";

  constructor(self: string, provider: string, holders: readonly string[]) {
    super(self, holders);
    const group = seedFor(PUBLIC_SEED, `${provider}|${holders.join(",")}`);
    this.keys = holders.map((holder) => seedFor(group, holder));
  }

  protected key(): Promise<Uint8Array> {
    return Promise.resolve(this.keys[this.rank]!);
  }

  protected async correction(tag: string, spec: MaterialSpec): Promise<ring.RingTensor[]> {
    if (spec.kind === "dcf") return dcfDealtTo(this.keys, this.rank, tag, spec);
    return lastHolderCorrection(this.keys, tag, spec, this.masks);
  }

  /** Nothing to fetch: every piece is derived when it is asked for. */
  async preload(): Promise<void> {}
}

/**
 * The insecure seeded provider as a kind of provider. NOT SECURE (every
 * holder can compute every share): for fast tests, chosen with
 * `sy.withConfig({ cryptoProvider: "insecure-seeded" }, fn)`. It has no
 * provider side and deals nothing ahead of time.
 */
export const insecureSeeded: CryptoProvider<"insecure-seeded"> = {
  kind: "insecure-seeded",
  dealsAhead: false,
  holderSource: (comm, provider, holders) => new InsecureSeededSource(comm.self, provider, holders),
};
