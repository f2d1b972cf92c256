import betaln from "@stdlib/math-base-special-betaln";

/** Counts for one unit (organisation, gateway, sending IP, category...) in the window and the baseline. */
export interface RateCounts {
  readonly attempts: number;
  readonly hardBounces: number;
  readonly baselineAttempts: number;
  readonly baselineHardBounces: number;
}

/** A Beta(alpha, beta) prior on hard-bounce rates. */
export interface BetaPrior {
  readonly alpha: number;
  readonly beta: number;
}

const MIN_STRENGTH = 2;
const MAX_STRENGTH = 10_000;

/**
 * Empirical-Bayes prior from the population's baseline rates (method of moments, weighted by attempts).
 * Its strength (alpha + beta) says how many attempts of evidence an organisation needs before its own rate
 * outweighs the population's: tiny organisations stay near the population rate.
 */
export function populationPrior(units: readonly RateCounts[], minAttempts = 5): BetaPrior {
  const usable = units.filter((u) => u.baselineAttempts >= minAttempts);
  const totalN = usable.reduce((a, u) => a + u.baselineAttempts, 0);
  const totalK = usable.reduce((a, u) => a + u.baselineHardBounces, 0);
  // Half a bounce in a thousand as a floor keeps the prior proper when the baseline has no bounces at all.
  const mean = Math.min(Math.max(totalN > 0 ? totalK / totalN : 0.01, 0.0005), 0.5);
  let strength = MAX_STRENGTH;
  if (usable.length >= 3 && totalN > 0) {
    let variance = 0;
    for (const u of usable) {
      const r = u.baselineHardBounces / u.baselineAttempts;
      variance += u.baselineAttempts * (r - mean) ** 2;
    }
    variance /= totalN;
    // Remove the binomial noise expected from the average list size, leaving the true spread between organisations.
    const avgN = totalN / usable.length;
    const between = variance - (mean * (1 - mean)) / avgN;
    if (between > 0) strength = (mean * (1 - mean)) / between - 1;
  }
  strength = Math.min(Math.max(strength, MIN_STRENGTH), MAX_STRENGTH);
  return { alpha: mean * strength, beta: (1 - mean) * strength };
}

/** The unit's baseline rate shrunk toward the population: the posterior mean under the prior. */
export function shrunkRate(prior: BetaPrior, attempts: number, hardBounces: number): number {
  return (hardBounces + prior.alpha) / (attempts + prior.alpha + prior.beta);
}

/**
 * P(X ≥ k) for X ~ BetaBinomial(n, a, b): how surprising k hard bounces in n attempts are, given the unit's
 * baseline posterior Beta(a, b). Summed in log space; exact for the list sizes B2B senders have.
 */
export function betaBinomialUpperTail(k: number, n: number, a: number, b: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  const lnBab = betaln(a, b);
  const terms: number[] = [];
  for (let x = k; x <= n; x++) {
    const lnChoose = -Math.log(n + 1) - betaln(n - x + 1, x + 1);
    terms.push(lnChoose + betaln(x + a, n - x + b) - lnBab);
  }
  // A loop, not Math.max(...terms): spreading a few hundred thousand terms (a unit with that many attempts in
  // the window) overflows the call stack.
  let max = Number.NEGATIVE_INFINITY;
  for (const t of terms) if (t > max) max = t;
  const sum = terms.reduce((acc, t) => acc + Math.exp(t - max), 0);
  return Math.min(1, Math.exp(max + Math.log(sum)));
}

/** One-sided p-value that the window's rate exceeds the unit's own baseline (shrunk toward the prior). */
export function spikePValue(prior: BetaPrior, c: RateCounts): number {
  if (c.attempts === 0) return 1;
  const a = prior.alpha + c.baselineHardBounces;
  const b = prior.beta + (c.baselineAttempts - c.baselineHardBounces);
  return betaBinomialUpperTail(c.hardBounces, c.attempts, a, b);
}

/** Benjamini-Hochberg adjusted p-values (q-values), in the input's order. */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p);
  const q = new Array<number>(m).fill(1);
  let running = 1;
  for (let rank = m; rank >= 1; rank--) {
    const entry = order[rank - 1];
    if (!entry) continue;
    running = Math.min(running, (entry.p * m) / rank);
    q[entry.i] = Math.min(1, running);
  }
  return q;
}

export interface SpikeThresholds {
  /** False-discovery rate across the units tested together. */
  readonly fdr: number;
  /** Fewest window hard bounces that can make a spike (a 1-2 bounce organisation never alerts). */
  readonly minHardBounces: number;
  /** Window rate must exceed the baseline by at least this much (absolute). */
  readonly minRateIncrease: number;
  /** ... and by at least this factor over the larger of its shrunk baseline and the population rate. */
  readonly minRateRatio: number;
}

export const DEFAULT_THRESHOLDS: SpikeThresholds = {
  fdr: 0.05,
  minHardBounces: 3,
  minRateIncrease: 0.02,
  minRateRatio: 2,
};

export interface SpikeTest {
  readonly rate: number;
  readonly baselineRate: number;
  readonly shrunkBaselineRate: number;
  readonly pValue: number;
  readonly qValue: number;
  readonly spike: boolean;
}

/** Tests units together: p-values against each unit's shrunk baseline, BH across them, then effect-size floors. */
export function testSpikes(
  units: readonly RateCounts[],
  prior: BetaPrior,
  thresholds: SpikeThresholds = DEFAULT_THRESHOLDS,
): SpikeTest[] {
  const p = units.map((u) => spikePValue(prior, u));
  const q = benjaminiHochberg(p);
  const populationRate = prior.alpha / (prior.alpha + prior.beta);
  return units.map((u, i) => {
    const rate = u.attempts > 0 ? u.hardBounces / u.attempts : 0;
    const baselineRate = u.baselineAttempts > 0 ? u.baselineHardBounces / u.baselineAttempts : 0;
    const shrunkBaselineRate = shrunkRate(prior, u.baselineAttempts, u.baselineHardBounces);
    const qValue = q[i] ?? 1;
    const reference = Math.max(shrunkBaselineRate, populationRate);
    const spike =
      qValue <= thresholds.fdr &&
      u.hardBounces >= thresholds.minHardBounces &&
      rate - shrunkBaselineRate >= thresholds.minRateIncrease &&
      rate >= thresholds.minRateRatio * reference;
    return { rate, baselineRate, shrunkBaselineRate, pValue: p[i] ?? 1, qValue, spike };
  });
}
