/**
 * Renyi differential privacy of the sampled Gaussian mechanism (SGM), and its conversion to (epsilon, delta)-DP.
 *
 * The analysis is the one of Mironov, Talwar and Zhang, "Renyi Differential Privacy of the Sampled Gaussian
 * Mechanism" (2019, arXiv:1908.10530, section 3.3), as TensorFlow Privacy's `rdp_accountant.py` and Opacus's
 * `opacus/accountants/analysis/rdp.py` compute it, step for step, so that tsyft's epsilons are theirs:
 * the RDP of one step at order alpha is log(A_alpha) / (alpha - 1), where A_alpha is a binomial series for an
 * integer alpha and the sum of two erfc-weighted series for a fractional one; `steps` steps multiply it.
 */
import { ErrorCode, TsyftError } from "../core/errors";
import { logAdd, logBinomial, logErfc, logSub } from "./log-math";

/**
 * Opacus's default RDP orders: 1.1, 1.2, ..., 10.9 and 12, 13, ..., 63 (151 orders).
 *
 * @example
 * ```ts
 * DEFAULT_ORDERS.length;   // 151
 * ```
 */
export const DEFAULT_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, x) => 1 + (x + 1) / 10),
  ...Array.from({ length: 52 }, (_, x) => 12 + x),
]);

// The fractional series stops once both of its terms fall below exp(-30) (TF Privacy's and Opacus's cut-off).
const SERIES_CUTOFF = -30;

/** log(A_alpha) for an integer alpha: sum_i binom(alpha, i) q^i (1-q)^(alpha-i) exp((i^2 - i) / (2 sigma^2)). */
function logAInteger(q: number, sigma: number, alpha: number): number {
  let logA = -Infinity;
  const logQ = Math.log(q);
  const log1mQ = Math.log(1 - q);
  for (let i = 0; i <= alpha; i++) {
    const logCoef = logBinomial(alpha, i).log + i * logQ + (alpha - i) * log1mQ;
    logA = logAdd(logA, logCoef + (i * i - i) / (2 * sigma * sigma));
  }
  return logA;
}

/**
 * log(A_alpha) for a fractional alpha: A_alpha splits at z0 = sigma^2 log(1/q - 1) + 1/2 into two integrals, each
 * a series in binom(alpha, i) (whose sign alternates once i > alpha) with erfc factors; terms are added or
 * subtracted in log space until both fall below exp(-30).
 */
function logAFractional(q: number, sigma: number, alpha: number): number {
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  const logQ = Math.log(q);
  const log1mQ = Math.log(1 - q);
  for (let i = 0; ; i++) {
    const { log: logCoef, sign } = logBinomial(alpha, i);
    const j = alpha - i;
    const logT0 = logCoef + i * logQ + j * log1mQ;
    const logT1 = logCoef + j * logQ + i * log1mQ;
    const logE0 = Math.log(0.5) + logErfc((i - z0) / (Math.SQRT2 * sigma));
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / (Math.SQRT2 * sigma));
    const logS0 = logT0 + (i * i - i) / (2 * sigma * sigma) + logE0;
    const logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1;
    if (sign > 0) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (Math.max(logS0, logS1) < SERIES_CUTOFF) break;
  }
  return logAdd(logA0, logA1);
}

/**
 * log(A_alpha) of the sampled Gaussian mechanism with sampling rate 0 < q < 1 and noise multiplier sigma, for any
 * finite alpha > 1 (the integer series when alpha is an integer, else the fractional one).
 *
 * @example
 * ```ts
 * computeLogA(0.01, 10, 20);   // log(A_20) for q = 0.01, sigma = 10
 * ```
 */
export function computeLogA(q: number, sigma: number, alpha: number): number {
  return Number.isInteger(alpha) ? logAInteger(q, sigma, alpha) : logAFractional(q, sigma, alpha);
}

/**
 * The RDP at order `alpha` of `steps` applications of the sampled Gaussian mechanism (sampling rate `q`, noise
 * multiplier `noiseMultiplier` = noise std / L2 sensitivity). 0 when q = 0; Infinity without noise or at an
 * infinite order; alpha / (2 sigma^2) per step without sampling (q = 1).
 *
 * @example
 * ```ts
 * computeRdp({ q: 0.1, noiseMultiplier: 2, steps: 10, orders: [5] });   // [0.07737...] (TF Privacy's test)
 * ```
 */
export function computeRdp(args: {
  q: number;
  noiseMultiplier: number;
  steps: number;
  orders: readonly number[];
}): number[] {
  const { q, noiseMultiplier: sigma, steps } = args;
  checkStep(sigma, q, steps);
  return args.orders.map((alpha) => {
    if (!(alpha > 1)) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `computeRdp: RDP orders must be > 1, got ${alpha}. Use orders such as DEFAULT_ORDERS.`,
        {
          alpha,
        },
      );
    }
    if (q === 0) return 0;
    if (sigma === 0) return Infinity;
    if (q === 1) return (steps * alpha) / (2 * sigma * sigma);
    if (alpha === Infinity) return Infinity;
    return (steps * computeLogA(q, sigma, alpha)) / (alpha - 1);
  });
}

/**
 * How RDP becomes (epsilon, delta)-DP.
 * - `"improved"` (default; Opacus's `get_privacy_spent` and TF Privacy's since 2020): Balle et al. 2020,
 *   "Hypothesis testing interpretations and Renyi differential privacy", Theorem 21:
 *   eps = rdp - (log(delta) + log(alpha)) / (alpha - 1) + log((alpha - 1) / alpha).
 * - `"simple"` (TF Privacy's earlier `get_privacy_spent`; Mironov 2017, Proposition 3): eps = rdp - log(delta) / (alpha - 1).
 *   Always at least the improved bound; kept to compare with values published with it.
 */
export type RdpConversion = "improved" | "simple";

/** An (epsilon, delta) guarantee and the RDP order that gave it. */
export interface PrivacySpent {
  /** The smallest epsilon over the orders (Infinity when every order gives Infinity). */
  readonly epsilon: number;
  /** The order alpha that gave it (NaN when no order gave a finite epsilon). */
  readonly bestAlpha: number;
}

/**
 * The (epsilon, delta)-DP guarantee implied by RDP values `rdp` at `orders`: the minimum over the orders of the
 * chosen conversion (NaNs ignored, as numpy's nanargmin does).
 *
 * @example
 * ```ts
 * const orders = Array.from({ length: 31 }, (_, i) => i + 2);
 * rdpToEpsilon({ orders, rdp: orders.map(() => 1.1), delta: 1e-5 });   // { epsilon: 1.32783806176..., bestAlpha: 32 }
 * ```
 */
export function rdpToEpsilon(args: {
  orders: readonly number[];
  rdp: readonly number[];
  delta: number;
  conversion?: RdpConversion;
}): PrivacySpent {
  const { orders, rdp, delta } = args;
  if (orders.length !== rdp.length || orders.length === 0) {
    throw new TsyftError(
      ErrorCode.INVALID_ARGUMENT,
      `rdpToEpsilon: expected one RDP value per order, got ${rdp.length} values for ${orders.length} orders.`,
      { orders: orders.length, rdp: rdp.length },
    );
  }
  checkDelta(delta, "rdpToEpsilon");
  const simple = (args.conversion ?? "improved") === "simple";
  let best: PrivacySpent = { epsilon: Infinity, bestAlpha: NaN };
  orders.forEach((alpha, k) => {
    const epsilon = simple
      ? rdp[k]! - Math.log(delta) / (alpha - 1)
      : rdp[k]! - (Math.log(delta) + Math.log(alpha)) / (alpha - 1) + Math.log((alpha - 1) / alpha);
    if (epsilon < best.epsilon) best = { epsilon, bestAlpha: alpha };
  });
  return best;
}

/** Throws unless delta is a probability strictly between 0 and 1. */
export function checkDelta(delta: number, where: string): void {
  if (!(delta > 0 && delta < 1)) {
    throw new TsyftError(
      ErrorCode.INVALID_ARGUMENT,
      `${where}: delta must be in (0, 1), got ${delta}; a usual choice is below 1 / (dataset size), e.g. 1e-5.`,
      {
        delta,
      },
    );
  }
}

/** Throws unless the parameters describe a sampled Gaussian mechanism. */
export function checkStep(noiseMultiplier: number, sampleRate: number, steps: number): void {
  const problems: string[] = [];
  if (!(noiseMultiplier >= 0 && Number.isFinite(noiseMultiplier)))
    problems.push(`noiseMultiplier must be a finite number >= 0, got ${noiseMultiplier}`);
  if (!(sampleRate >= 0 && sampleRate <= 1))
    problems.push(`sampleRate must be in [0, 1] (batch size / dataset size), got ${sampleRate}`);
  if (!(Number.isInteger(steps) && steps >= 0)) problems.push(`steps must be an integer >= 0, got ${steps}`);
  if (problems.length > 0) {
    throw new TsyftError(ErrorCode.INVALID_ARGUMENT, `Sampled Gaussian mechanism: ${problems.join("; ")}.`, {
      noiseMultiplier,
      sampleRate,
      steps,
    });
  }
}
