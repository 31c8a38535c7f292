/**
 * Arithmetic in log space for the RDP analysis: sums and differences of numbers kept as their logarithms
 * (the terms of A_alpha range over hundreds of orders of magnitude), log(erfc(x)) that stays finite where
 * erfc(x) underflows, and log |binom(alpha, i)| with its sign for a real alpha.
 *
 * The special functions come from @stdlib (erfc, the scaled erfcx, log-gamma, log of the integer binomial
 * coefficient); only the identities that combine them are written here.
 */
import erfc from "@stdlib/math-base-special-erfc";
import erfcx from "@stdlib/math-base-special-erfcx";
import gammaln from "@stdlib/math-base-special-gammaln";
import binomcoefln from "@stdlib/math-base-special-binomcoefln";

/**
 * log(exp(logX) + exp(logY)), without leaving log space. -Infinity stands for 0.
 *
 * @example
 * ```ts
 * logAdd(Math.log(2), Math.log(3));   // Math.log(5)
 * ```
 */
export function logAdd(logX: number, logY: number): number {
  const low = Math.min(logX, logY);
  const high = Math.max(logX, logY);
  if (low === -Infinity) return high;
  // exp(a) + exp(b) = (1 + exp(a - b)) * exp(b) with b the larger, so exp never overflows.
  return Math.log1p(Math.exp(low - high)) + high;
}

/**
 * log(exp(logX) - exp(logY)) for logX >= logY. -Infinity stands for 0; a negative difference throws a
 * RangeError (the callers only subtract smaller terms of an alternating series from larger partial sums).
 *
 * @example
 * ```ts
 * logSub(Math.log(5), Math.log(3));   // Math.log(2)
 * ```
 */
export function logSub(logX: number, logY: number): number {
  if (logX < logY)
    throw new RangeError(`logSub: the difference would be negative (log x = ${logX} < log y = ${logY}).`);
  if (logY === -Infinity) return logX;
  if (logX === logY) return -Infinity;
  const gap = Math.expm1(logX - logY);
  // exp(x) - exp(y) = (exp(x - y) - 1) * exp(y); when exp(x - y) overflows, y is negligible next to x.
  return Number.isFinite(gap) ? Math.log(gap) + logY : logX;
}

/**
 * log(erfc(x)), accurate also where erfc(x) underflows (x above about 26): there erfc(x) = erfcx(x) * exp(-x^2),
 * so log(erfc(x)) = log(erfcx(x)) - x^2.
 *
 * @example
 * ```ts
 * logErfc(0);     // Math.log(1)
 * logErfc(40);    // about -1604.26 (erfc(40) itself is 0 in double precision)
 * ```
 */
export function logErfc(x: number): number {
  if (x <= 0) return Math.log(erfc(x));
  return Math.log(erfcx(x)) - x * x;
}

/**
 * log |binom(alpha, i)| and the sign of binom(alpha, i) = alpha (alpha - 1) ... (alpha - i + 1) / i!, for a real
 * alpha > 0 and an integer i >= 0. For an integer alpha and i > alpha the coefficient is 0 (log -Infinity, sign 0).
 *
 * @example
 * ```ts
 * logBinomial(5, 2);     // { log: Math.log(10), sign: 1 }
 * logBinomial(2.5, 4);   // binom(2.5, 4) = 2.5 * 1.5 * 0.5 * -0.5 / 24 < 0: { log: Math.log(0.0390625), sign: -1 }
 * ```
 */
export function logBinomial(alpha: number, i: number): { log: number; sign: -1 | 0 | 1 } {
  if (Number.isInteger(alpha)) {
    if (i > alpha) return { log: -Infinity, sign: 0 };
    return { log: binomcoefln(alpha, i), sign: 1 };
  }
  // Gamma(alpha + 1) / (Gamma(i + 1) Gamma(alpha - i + 1)); gammaln is log |Gamma|. The product form shows the
  // sign: the factors alpha - k are negative exactly for k > alpha, i.e. for i - ceil(alpha) of the i factors.
  const log = gammaln(alpha + 1) - gammaln(i + 1) - gammaln(alpha - i + 1);
  const negatives = Math.max(0, i - Math.ceil(alpha));
  return { log, sign: negatives % 2 === 0 ? 1 : -1 };
}
