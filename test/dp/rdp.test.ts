/**
 * The accountant against values published in Opacus's and TensorFlow Privacy's test suites. Where a suite gives
 * a value to fewer digits than 1e-6 relative (TF Privacy's compute_rdp sequence: 5 decimals), the tolerance is
 * the suite's own, and says so.
 */
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/core/errors";
import { getNoiseMultiplier, RDPAccountant } from "../../src/dp/accountant";
import { computeLogA, computeRdp, DEFAULT_ORDERS, rdpToEpsilon } from "../../src/dp/rdp";
import { thrown } from "./helpers";

/** |actual - expected| <= 1e-6 * |expected|. */
function expectRelative(actual: number, expected: number, tolerance = 1e-6): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance * Math.abs(expected));
}

describe("RDPAccountant against Opacus", () => {
  it("sigma 1.5, sample rate 0.04, 2,250 steps, delta 1e-5 -> epsilon 7.32911117143", () => {
    // opacus/tests/accountants_test.py, test_rdp_accountant: steps = int(90 / 0.04) one at a time, improved conversion.
    const accountant = new RDPAccountant();
    for (let i = 0; i < 2250; i++) accountant.step({ noiseMultiplier: 1.5, sampleRate: 0.04 });
    expect(accountant.history).toEqual([{ noiseMultiplier: 1.5, sampleRate: 0.04, steps: 2250 }]);
    expectRelative(accountant.getEpsilon(1e-5), 7.32911117143);
    expect(accountant.getPrivacySpent(1e-5).bestAlpha).toBe(3.9);
  });

  it("the same steps recorded at once give the same epsilon", () => {
    const accountant = new RDPAccountant().step({ noiseMultiplier: 1.5, sampleRate: 0.04, steps: 2250 });
    expectRelative(accountant.getEpsilon(1e-5), 7.32911117143);
  });

  it("get_noise_multiplier: epsilon 8, delta 1e-5, sample rate 0.04 -> 1.416 over 90 epochs, 1.3562 over 2,000 steps", () => {
    // opacus/tests/accountants_test.py, test_get_noise_multiplier_rdp_epochs / _steps (assertAlmostEqual, places=4).
    const base = { targetEpsilon: 8, targetDelta: 1e-5, sampleRate: 0.04 };
    expect(Math.abs(getNoiseMultiplier({ ...base, epochs: 90 }) - 1.416)).toBeLessThan(5e-5);
    expect(Math.abs(getNoiseMultiplier({ ...base, steps: 2000 }) - 1.3562)).toBeLessThan(5e-5);
  });

  it("Opacus's default orders: 1.1 ... 10.9 by 0.1, then 12 ... 63", () => {
    expect(DEFAULT_ORDERS).toHaveLength(151);
    expect(DEFAULT_ORDERS.slice(0, 3)).toEqual([1.1, 1.2, 1.3]);
    expect(DEFAULT_ORDERS[98]).toBe(10.9);
    expect(DEFAULT_ORDERS.slice(99, 101)).toEqual([12, 13]);
    expect(DEFAULT_ORDERS[150]).toBe(63);
  });
});

describe("compute_rdp against TensorFlow Privacy", () => {
  // tensorflow_privacy/privacy/analysis/rdp_accountant_test.py
  it("test_compute_rdp_no_data and _no_sampling: q = 0 gives 0, q = 1 gives alpha / (2 sigma^2)", () => {
    expect(computeRdp({ q: 0, noiseMultiplier: 10, steps: 1, orders: [20] })).toEqual([0]);
    expect(computeRdp({ q: 1, noiseMultiplier: 10, steps: 1, orders: [20] })).toEqual([0.1]);
  });

  it("test_compute_rdp_scalar: q 0.1, sigma 2, 10 steps, order 5 -> 0.07737 (5 places)", () => {
    const [rdp] = computeRdp({ q: 0.1, noiseMultiplier: 2, steps: 10, orders: [5] });
    expect(Math.abs(rdp! - 0.07737)).toBeLessThan(5e-6);
  });

  it("test_compute_rdp_sequence: q 0.01, sigma 2.5, 50 steps at fractional, integer and infinite orders (to 1e-5)", () => {
    const rdp = computeRdp({ q: 0.01, noiseMultiplier: 2.5, steps: 50, orders: [1.5, 2.5, 5, 50, 100, Infinity] });
    const published = [0.00065, 0.001085, 0.00218075, 0.023846, 167.416307];
    published.forEach((value, k) => expect(Math.abs(rdp[k]! - value)).toBeLessThanOrEqual(1e-5));
    expect(rdp[5]).toBe(Infinity);
  });

  it("test_get_privacy_spent_check_target_delta: constant RDP 1.1 over orders 2..32 -> epsilon 1.32783806176 at order 32", () => {
    const orders = Array.from({ length: 31 }, (_, i) => i + 2);
    const spent = rdpToEpsilon({ orders, rdp: orders.map(() => 1.1), delta: 1e-5 });
    expect(spent.bestAlpha).toBe(32);
    expectRelative(spent.epsilon, 1.32783806176);
  });

  it("test_get_privacy_spent_check_target_delta: the Gaussian mechanism with sigma 4.530877117 is (1, 1e-6)-DP", () => {
    // Orders 1.0, 1.001, ..., 99.999 in the test; order 1 itself is excluded here (RDP orders must exceed 1;
    // at alpha = 1 the conversion is NaN, which TF Privacy's and Opacus's minimum skips too).
    const orders = Array.from({ length: 98999 }, (_, i) => 0.001 * (i + 1001));
    const rdp = computeRdp({ q: 1, noiseMultiplier: 4.530877117, steps: 1, orders });
    expectRelative(rdpToEpsilon({ orders, rdp, delta: 1e-6 }).epsilon, 1);
  });

  it("test_check_composition with the earlier, simple conversion: epsilon 8.509656 at order 2.5; the improved one is lower", () => {
    // The test's commented-out values "use the old RDP -> approx DP conversion" (eps = rdp - log(delta) / (alpha - 1)).
    const orders = [1.25, 1.5, 1.75, 2, 2.5, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 64, 256];
    const accountant = new RDPAccountant()
      .step({ noiseMultiplier: 0.4, sampleRate: 1e-4, steps: 40000 })
      .step({ noiseMultiplier: 2, sampleRate: 0.1, steps: 100 });
    const simple = accountant.getPrivacySpent(1e-5, { orders, conversion: "simple" });
    expectRelative(simple.epsilon, 8.509656);
    expect(simple.bestAlpha).toBe(2.5);
    // The test's current assertion: the improved conversion stays below the old value.
    expect(accountant.getEpsilon(1e-5, { orders })).toBeLessThanOrEqual(8.509656);
  });
});

describe("log(A_alpha) against numerical integration", () => {
  // TF Privacy's test_compute_log_a_equals_mp integrates A_alpha = E_{z ~ N(0, sigma^2)}[((1 - q) + q exp((2z - 1) /
  // (2 sigma^2)))^alpha] with mpmath; here a trapezoid rule on a fine grid over +-40 sigma (spectrally accurate for
  // this smooth, Gaussian-tailed integrand; A_alpha - 1 is summed) checks the series for some of its parameter sets, to its rtol 1e-4.
  function logAByQuadrature(q: number, sigma: number, alpha: number): number {
    const points = 200001;
    const low = -40 * sigma;
    const step = (80 * sigma) / (points - 1);
    let sum = 0;
    for (let k = 0; k < points; k++) {
      const z = low + k * step;
      const density = Math.exp((-z * z) / (2 * sigma * sigma)) / (sigma * Math.sqrt(2 * Math.PI));
      sum += density * Math.expm1(alpha * Math.log1p(q * Math.expm1((2 * z - 1) / (2 * sigma * sigma))));
    }
    // A_alpha - 1 is integrated (the density integrates to 1), so a tiny log(A_alpha) keeps its digits.
    return Math.log1p(sum * step);
  }
  it.each([
    { q: 1e-4, sigma: 1, order: 1.5 },
    { q: 1e-3, sigma: 1, order: 2 },
    { q: 0.01, sigma: 10, order: 20 },
    { q: 0.1, sigma: 100, order: 20.5 },
    { q: 1e-6, sigma: 1, order: 27 },
  ])("q $q, sigma $sigma, order $order", ({ q, sigma, order }) => {
    const series = computeLogA(q, sigma, order);
    const integral = logAByQuadrature(q, sigma, order);
    expect(Math.abs(series - integral)).toBeLessThanOrEqual(1e-4 * Math.abs(integral));
  });
});

describe("RDPAccountant bookkeeping", () => {
  it("merges consecutive identical steps only, and restores from its history", () => {
    const accountant = new RDPAccountant()
      .step({ noiseMultiplier: 1, sampleRate: 0.01 })
      .step({ noiseMultiplier: 1, sampleRate: 0.01, steps: 4 })
      .step({ noiseMultiplier: 2, sampleRate: 0.01 })
      .step({ noiseMultiplier: 1, sampleRate: 0.01 });
    expect(accountant.history).toEqual([
      { noiseMultiplier: 1, sampleRate: 0.01, steps: 5 },
      { noiseMultiplier: 2, sampleRate: 0.01, steps: 1 },
      { noiseMultiplier: 1, sampleRate: 0.01, steps: 1 },
    ]);
    expect(accountant.totalSteps).toBe(7);
    const restored = new RDPAccountant(JSON.parse(JSON.stringify(accountant)));
    expect(restored.history).toEqual(accountant.history);
    expect(restored.getEpsilon(1e-5)).toBe(accountant.getEpsilon(1e-5));
  });

  it("composes by adding RDP: two runs recorded apart equal one run of their total", () => {
    const split = new RDPAccountant().step({ noiseMultiplier: 1.1, sampleRate: 0.02, steps: 300 });
    split
      .step({ noiseMultiplier: 3, sampleRate: 0.5, steps: 1 })
      .step({ noiseMultiplier: 1.1, sampleRate: 0.02, steps: 700 });
    const whole = new RDPAccountant()
      .step({ noiseMultiplier: 1.1, sampleRate: 0.02, steps: 1000 })
      .step({ noiseMultiplier: 3, sampleRate: 0.5, steps: 1 });
    expectRelative(split.getEpsilon(1e-5), whole.getEpsilon(1e-5), 1e-12);
  });

  it("spends nothing before the first step, and more with every step", () => {
    const accountant = new RDPAccountant();
    expect(accountant.getEpsilon(1e-5)).toBe(0);
    accountant.step({ noiseMultiplier: 1, sampleRate: 0.01, steps: 100 });
    const first = accountant.getEpsilon(1e-5);
    accountant.step({ noiseMultiplier: 1, sampleRate: 0.01, steps: 100 });
    expect(first).toBeGreaterThan(0);
    expect(accountant.getEpsilon(1e-5)).toBeGreaterThan(first);
  });

  it("no noise means no privacy: epsilon is Infinity", () => {
    expect(new RDPAccountant().step({ noiseMultiplier: 0, sampleRate: 0.1 }).getEpsilon(1e-5)).toBe(Infinity);
  });

  it("rejects bad parameters with TSYFT_ERR_INVALID_ARGUMENT and says what was expected", () => {
    const accountant = new RDPAccountant();
    const attempts: [() => unknown, RegExp][] = [
      [
        () => accountant.step({ noiseMultiplier: -1, sampleRate: 0.1 }),
        /noiseMultiplier must be a finite number >= 0, got -1/,
      ],
      [() => accountant.step({ noiseMultiplier: 1, sampleRate: 1.5 }), /sampleRate must be in \[0, 1\].*got 1.5/],
      [
        () => accountant.step({ noiseMultiplier: 1, sampleRate: 0.1, steps: 2.5 }),
        /steps must be an integer >= 0, got 2.5/,
      ],
      [() => accountant.getEpsilon(0), /delta must be in \(0, 1\), got 0/],
      [() => computeRdp({ q: 0.1, noiseMultiplier: 1, steps: 1, orders: [1] }), /orders must be > 1, got 1/],
      [() => getNoiseMultiplier({ targetEpsilon: 1, targetDelta: 1e-5, sampleRate: 0.1 }), /either steps or epochs/],
    ];
    for (const [attempt, message] of attempts) {
      const error = thrown(attempt);
      expect(error.code).toBe(ErrorCode.INVALID_ARGUMENT);
      expect(error.message).toMatch(message);
    }
  });
});
