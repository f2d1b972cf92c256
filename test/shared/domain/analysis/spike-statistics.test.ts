import { describe, expect, it } from "vitest";
import {
  benjaminiHochberg,
  betaBinomialUpperTail,
  populationPrior,
  type RateCounts,
  shrunkRate,
  testSpikes,
} from "../../../../shared/domain/analysis/spike-statistics.ts";

const quiet = (n: number, baseline: number, rate: number): RateCounts => ({
  attempts: n,
  hardBounces: Math.round(n * rate),
  baselineAttempts: baseline,
  baselineHardBounces: Math.round(baseline * rate),
});

describe("spike statistics", () => {
  it("computes beta-binomial tails exactly on known cases", () => {
    // Beta(1,1) makes the count uniform on 0..n: P(X ≥ 5 | n = 10) = 6/11.
    expect(betaBinomialUpperTail(5, 10, 1, 1)).toBeCloseTo(6 / 11, 10);
    expect(betaBinomialUpperTail(0, 10, 2, 3)).toBe(1);
    // A unit with hundreds of thousands of window attempts (found by `npm run bench` at 50k organisations).
    const tail = betaBinomialUpperTail(3_000, 300_000, 20, 2_000);
    expect(tail).toBeGreaterThanOrEqual(0);
    expect(tail).toBeLessThanOrEqual(1);
    expect(betaBinomialUpperTail(11, 10, 2, 3)).toBe(0);
    // Large a, b approach the binomial: P(X ≥ 2 | n = 2, p = 0.5) = 0.25.
    expect(betaBinomialUpperTail(2, 2, 5e6, 5e6)).toBeCloseTo(0.25, 4);
  });

  it("adjusts p-values with Benjamini-Hochberg", () => {
    expect(benjaminiHochberg([0.01, 0.04, 0.03, 0.5])).toEqual([
      0.04, 0.05333333333333334, 0.05333333333333334, 0.5,
    ]);
  });

  it("shrinks a tiny organisation's rate toward the population", () => {
    const units = Array.from({ length: 100 }, () => quiet(0, 500, 0.01));
    const prior = populationPrior(units);
    expect(prior.alpha / (prior.alpha + prior.beta)).toBeCloseTo(0.01, 3);
    // 1 of 1 bounced: the raw rate is 100%, the shrunk rate stays near the population's.
    expect(shrunkRate(prior, 1, 1)).toBeLessThan(0.05);
  });

  it("never flags 1-2 genuine bounces at a tiny organisation, but flags a real surge", () => {
    const units: RateCounts[] = Array.from({ length: 250 }, () => quiet(40, 1100, 0.01));
    units.push({ attempts: 2, hardBounces: 2, baselineAttempts: 30, baselineHardBounces: 0 });
    units.push({ attempts: 1, hardBounces: 1, baselineAttempts: 10, baselineHardBounces: 0 });
    units.push({ attempts: 60, hardBounces: 25, baselineAttempts: 1600, baselineHardBounces: 16 });
    const tests = testSpikes(units, populationPrior(units));
    expect(tests.filter((t) => t.spike)).toHaveLength(1);
    expect(tests.at(-1)?.spike).toBe(true);
    expect(tests.at(-2)?.spike).toBe(false);
    expect(tests.at(-3)?.spike).toBe(false);
  });

  it("controls false discoveries on noise: no spikes across many quiet organisations", () => {
    // Deterministic pseudo-noise around a 1% rate.
    let s = 42;
    const rand = () => {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      return s / 2 ** 31;
    };
    const units: RateCounts[] = Array.from({ length: 400 }, () => {
      const n = 5 + Math.floor(rand() * 80);
      let k = 0;
      for (let i = 0; i < n; i++) if (rand() < 0.01) k++;
      return {
        attempts: n,
        hardBounces: k,
        baselineAttempts: n * 28,
        baselineHardBounces: Math.round(n * 28 * 0.01),
      };
    });
    expect(testSpikes(units, populationPrior(units)).filter((t) => t.spike)).toHaveLength(0);
  });
});
