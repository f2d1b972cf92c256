import { benjaminiHochberg, betaBinomialUpperTail } from "./spike-statistics.ts";

/*
 * Root-cause localisation of the window's excess hard bounces, after Adtributor (Bhagwan et al., "Adtributor:
 * Revenue Debugging in Advertising Systems", NSDI 2014, https://www.usenix.org/conference/nsdi14/technical-sessions/presentation/bhagwan).
 * The metric is hard bounces; the forecast of each attempt is its organisation's baseline rate (shrunk toward
 * the population), so a dimension's elements are compared with what their own recipient mix predicts. For each
 * dimension, an element's explanatory power is its share of the excess, (A_i − F_i) / (A − F), and its surprise
 * the Jensen–Shannon divergence between its forecast share F_i / F and its actual share A_i / A. Elements are
 * taken by surprise until they explain most of the excess; the dimension whose few elements explain it with the
 * most surprise is the root cause. A cause that touches every element of a dimension (all sending IPs alike) is
 * not localised in that dimension: it is either sender-wide or somewhere else.
 */

export type Dimension = "sendingIp" | "ipPool" | "source" | "campaign" | "gateway" | "organisation";

export const SENDER_DIMENSIONS: readonly Dimension[] = ["sendingIp", "ipPool", "source", "campaign"];

/** One attempt in the window: its coordinates, whether it hard-bounced, and its forecast probability. */
export interface ScoredAttempt {
  readonly coordinates: Readonly<Record<Dimension, string | null>>;
  readonly hard: boolean;
  /** The organisation's shrunk baseline hard-bounce rate. */
  readonly expected: number;
}

export interface ElementStats {
  readonly element: string;
  readonly attempts: number;
  /** Hard bounces observed (A_i). */
  readonly actual: number;
  /** Hard bounces the baseline predicts (F_i). */
  readonly expected: number;
}

export interface ElementExplanation extends ElementStats {
  /** Share of the dimension's excess this element carries. */
  readonly explanatoryPower: number;
  /** Jensen–Shannon divergence between forecast and actual share (bits). */
  readonly surprise: number;
  /** One-sided p-value of A_i given F_i, and its Benjamini–Hochberg q-value within the dimension. */
  readonly pValue: number;
  readonly qValue: number;
}

export interface Localisation {
  readonly dimension: Dimension;
  /** The elements that explain the excess, most surprising first. */
  readonly elements: readonly ElementExplanation[];
  /** Their explanatory power together (0–1+). */
  readonly explanatoryPower: number;
  /** Their surprise together: the dimension's score. */
  readonly surprise: number;
  /** Elements of the dimension that had attempts in the window. */
  readonly ofElements: number;
  /** Whether the chosen elements are a proper subset: the cause sits on some elements, not all. */
  readonly localised: boolean;
  /** The rest of the dimension: its actual and forecast hard bounces (at baseline when actual ≈ expected). */
  readonly rest: { readonly attempts: number; readonly actual: number; readonly expected: number };
}

export interface LocaliseOptions {
  /** An element must carry at least this share of the excess (Adtributor's T_EP). */
  readonly minElementPower: number;
  /** The chosen elements must explain at least this much together (T_EEP). */
  readonly minExplained: number;
  /** Element significance within the dimension (false-discovery rate). */
  readonly fdr: number;
}

export const DEFAULT_LOCALISE: LocaliseOptions = { minElementPower: 0.1, minExplained: 0.67, fdr: 0.01 };

/** Per-element counts of one dimension; attempts without a value for it (no IP known) are left out. */
export function elementStats(attempts: readonly ScoredAttempt[], dimension: Dimension): ElementStats[] {
  const by = new Map<string, { attempts: number; actual: number; expected: number }>();
  for (const a of attempts) {
    const element = a.coordinates[dimension];
    if (element === null) continue;
    const s = by.get(element) ?? { attempts: 0, actual: 0, expected: 0 };
    s.attempts++;
    s.expected += a.expected;
    if (a.hard) s.actual++;
    by.set(element, s);
  }
  return [...by]
    .map(([element, s]) => ({ element, ...s }))
    .sort((x, y) => x.element.localeCompare(y.element));
}

/** Localises the excess in one dimension; null when there is no excess to explain. */
export function localiseDimension(
  dimension: Dimension,
  stats: readonly ElementStats[],
  options: LocaliseOptions = DEFAULT_LOCALISE,
): Localisation | null {
  const A = sum(stats.map((s) => s.actual));
  const F = sum(stats.map((s) => s.expected));
  const excess = A - F;
  if (A === 0 || excess <= 0) return null;
  const pValues = stats.map((s) => elementPValue(s));
  const qValues = benjaminiHochberg(pValues);
  const explained: ElementExplanation[] = stats.map((s, i) => ({
    ...s,
    explanatoryPower: (s.actual - s.expected) / excess,
    surprise: jensenShannon(F > 0 ? s.expected / F : 0, s.actual / A),
    pValue: pValues[i] ?? 1,
    qValue: qValues[i] ?? 1,
  }));
  const candidates = explained
    .filter((e) => e.explanatoryPower >= options.minElementPower && e.qValue <= options.fdr)
    .sort((x, y) => y.surprise - x.surprise || y.explanatoryPower - x.explanatoryPower);
  const chosen: ElementExplanation[] = [];
  let power = 0;
  for (const e of candidates) {
    chosen.push(e);
    power += e.explanatoryPower;
    if (power >= options.minExplained) break;
  }
  if (chosen.length === 0 || power < options.minExplained) return null;
  const chosenSet = new Set(chosen.map((e) => e.element));
  const rest = stats.filter((s) => !chosenSet.has(s.element));
  return {
    dimension,
    elements: chosen,
    explanatoryPower: power,
    surprise: sum(chosen.map((e) => e.surprise)),
    ofElements: stats.length,
    localised: rest.length > 0,
    rest: {
      attempts: sum(rest.map((s) => s.attempts)),
      actual: sum(rest.map((s) => s.actual)),
      expected: sum(rest.map((s) => s.expected)),
    },
  };
}

/**
 * P(X ≥ A) for the element's attempts at their forecast rate: a beta-binomial with a strong prior at the
 * forecast, so a dozen bounces where one was expected is surprising and a handful among thousands is not.
 */
export function elementPValue(s: ElementStats): number {
  if (s.attempts === 0 || s.actual === 0) return 1;
  const rate = Math.min(Math.max(s.expected / s.attempts, 1e-4), 0.5);
  const strength = 1000;
  return betaBinomialUpperTail(s.actual, s.attempts, rate * strength, (1 - rate) * strength);
}

/** Jensen–Shannon divergence of two Bernoulli shares p (forecast) and q (actual), in bits (0–1). */
export function jensenShannon(p: number, q: number): number {
  const term = (x: number, m: number) => (x > 0 ? x * Math.log2(x / m) : 0);
  const m = (p + q) / 2;
  if (m === 0) return 0;
  return 0.5 * (term(p, m) + term(q, m));
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, x) => a + x, 0);
}
