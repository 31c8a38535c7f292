/**
 * The RDP accountant: a record of the sampled Gaussian mechanism's steps (as DP-SGD takes them) and the
 * (epsilon, delta) they have spent, as Opacus's `RDPAccountant` keeps and computes them.
 */
import { ErrorCode, TsyftError } from "../core/errors";
import {
  checkDelta,
  checkStep,
  computeRdp,
  DEFAULT_ORDERS,
  rdpToEpsilon,
  type PrivacySpent,
  type RdpConversion,
} from "./rdp";

/** A run of identical steps of the sampled Gaussian mechanism. */
export interface MechanismSteps {
  /** Noise std / L2 sensitivity (the clipping norm in DP-SGD). */
  readonly noiseMultiplier: number;
  /** Probability that an example is in a batch (batch size / dataset size with Poisson sampling). */
  readonly sampleRate: number;
  /** How many steps were taken with these parameters. */
  readonly steps: number;
}

/** Options of {@link RDPAccountant.getPrivacySpent}. */
export interface PrivacySpentOptions {
  /** RDP orders to minimise over (default {@link DEFAULT_ORDERS}, Opacus's). */
  readonly orders?: readonly number[];
  /** RDP to (epsilon, delta) conversion (default `"improved"`, Opacus's); see {@link RdpConversion}. */
  readonly conversion?: RdpConversion;
}

/**
 * Renyi-DP accountant of the sampled Gaussian mechanism. Each `step` is one noisy, subsampled query (one DP-SGD
 * step); consecutive identical steps are kept as one entry of `history` with a count, as Opacus does.
 *
 * @example
 * ```ts
 * const accountant = new sy.dp.RDPAccountant();
 * accountant.step({ noiseMultiplier: 1.5, sampleRate: 0.04, steps: 2250 });   // 90 epochs
 * accountant.getEpsilon(1e-5);                                                // 7.32911117143... (Opacus's test)
 * accountant.getPrivacySpent(1e-5).bestAlpha;                                 // 3.9
 * ```
 */
export class RDPAccountant {
  private readonly entries: MechanismSteps[] = [];

  /** Starts from an earlier `history` (for instance one kept in a database), or empty. */
  constructor(history: readonly MechanismSteps[] = []) {
    for (const entry of history) this.step(entry);
  }

  /** The steps recorded so far, oldest first; consecutive identical steps are one entry. */
  get history(): readonly MechanismSteps[] {
    return this.entries.map((entry) => ({ ...entry }));
  }

  /** Total number of steps recorded. */
  get totalSteps(): number {
    return this.entries.reduce((sum, entry) => sum + entry.steps, 0);
  }

  /**
   * Records `steps` (default 1) steps with these parameters.
   *
   * @example
   * ```ts
   * accountant.step({ noiseMultiplier: 1.1, sampleRate: 256 / 60000 });
   * ```
   */
  step(args: { noiseMultiplier: number; sampleRate: number; steps?: number }): this {
    const steps = args.steps ?? 1;
    checkStep(args.noiseMultiplier, args.sampleRate, steps);
    if (steps === 0) return this;
    const last = this.entries[this.entries.length - 1];
    if (last !== undefined && last.noiseMultiplier === args.noiseMultiplier && last.sampleRate === args.sampleRate) {
      this.entries[this.entries.length - 1] = { ...last, steps: last.steps + steps };
    } else {
      this.entries.push({ noiseMultiplier: args.noiseMultiplier, sampleRate: args.sampleRate, steps });
    }
    return this;
  }

  /**
   * The RDP of everything recorded, at each order (RDP composes by addition).
   *
   * @example
   * ```ts
   * accountant.rdp([2, 4, 8]);   // three numbers
   * ```
   */
  rdp(orders: readonly number[] = DEFAULT_ORDERS): number[] {
    const total = orders.map(() => 0);
    for (const { noiseMultiplier, sampleRate: q, steps } of this.entries) {
      computeRdp({ q, noiseMultiplier, steps, orders }).forEach((value, k) => (total[k] += value));
    }
    return total;
  }

  /**
   * The (epsilon, delta) spent: the best epsilon over the RDP orders for this delta, and the order that gave it.
   * 0 with no step recorded.
   *
   * @example
   * ```ts
   * accountant.getPrivacySpent(1e-5);   // { epsilon: 7.329..., bestAlpha: 3.9 }
   * ```
   */
  getPrivacySpent(delta: number, options: PrivacySpentOptions = {}): PrivacySpent {
    checkDelta(delta, "RDPAccountant.getPrivacySpent");
    if (this.entries.length === 0) return { epsilon: 0, bestAlpha: NaN };
    const orders = options.orders ?? DEFAULT_ORDERS;
    return rdpToEpsilon({ orders, rdp: this.rdp(orders), delta, conversion: options.conversion });
  }

  /**
   * The epsilon spent for this delta ({@link getPrivacySpent}'s `epsilon`).
   *
   * @example
   * ```ts
   * accountant.getEpsilon(1e-5);   // 7.329...
   * ```
   */
  getEpsilon(delta: number, options: PrivacySpentOptions = {}): number {
    return this.getPrivacySpent(delta, options).epsilon;
  }

  /** The history, for JSON (a ledger row); `new RDPAccountant(json)` restores it. */
  toJSON(): MechanismSteps[] {
    return [...this.history];
  }
}

// Opacus's search bounds: sigma doubles from 10 until epsilon is low enough, and gives up above a million.
const MAX_SIGMA = 1e6;

/**
 * The noise multiplier that keeps `steps` steps (or `epochs` epochs, i.e. floor(epochs / sampleRate) steps) at
 * sampling rate `sampleRate` within (targetEpsilon, targetDelta): Opacus's `get_noise_multiplier`, a bisection
 * that stops once epsilon is within `epsilonTolerance` (default 0.01) below the target, returning the larger,
 * safe end.
 *
 * @example
 * ```ts
 * getNoiseMultiplier({ targetEpsilon: 8, targetDelta: 1e-5, sampleRate: 0.04, epochs: 90 });   // 1.416...
 * ```
 */
export function getNoiseMultiplier(args: {
  targetEpsilon: number;
  targetDelta: number;
  sampleRate: number;
  epochs?: number;
  steps?: number;
  epsilonTolerance?: number;
  orders?: readonly number[];
}): number {
  if ((args.steps === undefined) === (args.epochs === undefined)) {
    throw new TsyftError(
      ErrorCode.INVALID_ARGUMENT,
      "getNoiseMultiplier: give either steps or epochs (exactly one of them).",
      {
        steps: args.steps ?? null,
        epochs: args.epochs ?? null,
      },
    );
  }
  if (!(args.targetEpsilon > 0)) {
    throw new TsyftError(
      ErrorCode.INVALID_ARGUMENT,
      `getNoiseMultiplier: targetEpsilon must be > 0, got ${args.targetEpsilon}.`,
    );
  }
  const steps = args.steps ?? Math.floor(args.epochs! / args.sampleRate);
  const tolerance = args.epsilonTolerance ?? 0.01;
  const epsilonAt = (noiseMultiplier: number): number =>
    new RDPAccountant([{ noiseMultiplier, sampleRate: args.sampleRate, steps }]).getEpsilon(args.targetDelta, {
      orders: args.orders,
    });
  let low = 0;
  let high = 10;
  let epsilonHigh = Infinity;
  while (epsilonHigh > args.targetEpsilon) {
    high *= 2;
    epsilonHigh = epsilonAt(high);
    if (high > MAX_SIGMA) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `getNoiseMultiplier: epsilon ${args.targetEpsilon} at delta ${args.targetDelta} cannot be reached over ${steps} steps at ` +
          `sampling rate ${args.sampleRate} even with a noise multiplier of ${MAX_SIGMA}; allow a larger epsilon or fewer steps.`,
        { targetEpsilon: args.targetEpsilon, targetDelta: args.targetDelta, steps },
      );
    }
  }
  while (args.targetEpsilon - epsilonHigh > tolerance) {
    const sigma = (low + high) / 2;
    const epsilon = epsilonAt(sigma);
    if (epsilon < args.targetEpsilon) {
      high = sigma;
      epsilonHigh = epsilon;
    } else {
      low = sigma;
    }
  }
  return high;
}
