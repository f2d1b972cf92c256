import type { Category } from "../classify/taxonomy.ts";
import type { NormalizedEvent } from "../events/normalized-event.ts";
import type { AnalysisInput } from "./analysis-input.ts";
import type { ScoredAttempt } from "./localise.ts";
import { type Outcome, outcomeOf } from "./outcomes.ts";
import {
  type BetaPrior,
  populationPrior,
  type RateCounts,
  type SpikeTest,
  type SpikeThresholds,
  shrunkRate,
  testSpikes,
} from "./spike-statistics.ts";

/*
 * Stage 1 of the analysis: counts per unit in the window and the baseline, the spike tests behind the report's
 * tables, and every window attempt scored with its forecast (its organisation's shrunk baseline rate), which the
 * localisation stage splits by dimension.
 */

export interface Counts {
  attempts: number;
  hard: number;
}
export const counts = (): Counts => ({ attempts: 0, hard: 0 });
export const isHard = (o: Outcome): o is { hard: Category } => typeof o === "object";
export const hardOf = (outcome: string): Category | null =>
  outcome.startsWith("hard:") ? (outcome.slice(5) as Category) : null;
/** Aggregated outcomes that count as attempts: final deliveries and bounces (see outcomes.ts). */
export const isAttempt = (outcome: string): boolean =>
  outcome === "delivered" || outcome === "soft" || hardOf(outcome) !== null;

/** The campaign dimension's element for mail sent outside any campaign. */
export const NO_CAMPAIGN = "(no campaign)";

export interface WindowCounts {
  readonly orgW: ReadonlyMap<string, Counts & { consumer: boolean; categories: Record<string, number> }>;
  readonly orgB: ReadonlyMap<string, Counts>;
  readonly ipW: ReadonlyMap<string, Counts>;
  readonly consumerOrgs: ReadonlySet<string>;
  readonly consumerW: Counts;
  readonly consumerB: Counts;
  readonly totalW: Counts;
  readonly totalB: Counts;
  readonly hardEvents: readonly NormalizedEvent[];
  readonly prior: BetaPrior;
  readonly orgNames: readonly string[];
  readonly orgTest: ReadonlyMap<string, SpikeTest>;
  readonly gwW: ReadonlyMap<string, Counts & { orgs: Set<string> }>;
  readonly gwB: ReadonlyMap<string, Counts>;
  readonly gwNames: readonly string[];
  readonly gwTest: ReadonlyMap<string, SpikeTest>;
  readonly catTest: ReadonlyMap<Category, SpikeTest>;
  readonly consumerTest: SpikeTest | undefined;
  /** Every final attempt of the window with its coordinates and forecast, for localisation. */
  readonly attempts: readonly (ScoredAttempt & { readonly event: NormalizedEvent })[];
  readonly unit: (w: Counts | undefined, b: Counts | undefined) => RateCounts;
}

/** Where an organisation's mail goes, as a recipient group: its gateway, or the consumer provider itself. */
export function recipientGroupOf(org: string, consumer: boolean, gatewayOf: (org: string) => string): string {
  return consumer ? `consumer:${org}` : gatewayOf(org);
}

export function countWindow(input: AnalysisInput, thresholds: SpikeThresholds): WindowCounts {
  const gatewayOf = (org: string): string => input.gatewayOf.get(org) ?? "unknown";
  const orgW = new Map<string, Counts & { consumer: boolean; categories: Record<string, number> }>();
  const orgB = new Map<string, Counts>();
  const ipW = new Map<string, Counts>();
  const catW = new Map<Category, number>();
  const catB = new Map<Category, number>();
  const consumerW = counts();
  const consumerB = counts();
  const totalW = counts();
  const totalB = counts();
  const hardEvents: NormalizedEvent[] = [];
  const windowAttempts: NormalizedEvent[] = [];

  for (const e of input.windowEvents) {
    const o = outcomeOf(e);
    if (o === "not_counted") continue;
    windowAttempts.push(e);
    const org = orgW.get(e.organisation) ?? { ...counts(), consumer: e.consumer, categories: {} };
    org.attempts++;
    totalW.attempts++;
    if (e.consumer) consumerW.attempts++;
    const ip = e.sendingIp ? (ipW.get(e.sendingIp) ?? counts()) : null;
    if (ip) ip.attempts++;
    if (isHard(o)) {
      org.hard++;
      totalW.hard++;
      if (e.consumer) consumerW.hard++;
      if (ip) ip.hard++;
      org.categories[o.hard] = (org.categories[o.hard] ?? 0) + 1;
      catW.set(o.hard, (catW.get(o.hard) ?? 0) + 1);
      hardEvents.push(e);
    }
    orgW.set(e.organisation, org);
    if (e.sendingIp && ip) ipW.set(e.sendingIp, ip);
  }
  const consumerOrgs = new Set<string>();
  for (const r of input.baselineRows) {
    if (!isAttempt(r.outcome)) continue;
    const hard = hardOf(r.outcome);
    const c = orgB.get(r.organisation) ?? counts();
    c.attempts += r.count;
    if (hard) c.hard += r.count;
    orgB.set(r.organisation, c);
    totalB.attempts += r.count;
    if (hard) {
      totalB.hard += r.count;
      catB.set(hard, (catB.get(hard) ?? 0) + r.count);
    }
    if (r.consumer) {
      consumerOrgs.add(r.organisation);
      consumerB.attempts += r.count;
      if (hard) consumerB.hard += r.count;
    }
  }

  const unit = (w: Counts | undefined, b: Counts | undefined): RateCounts => ({
    attempts: w?.attempts ?? 0,
    hardBounces: w?.hard ?? 0,
    baselineAttempts: b?.attempts ?? 0,
    baselineHardBounces: b?.hard ?? 0,
  });

  const orgNames = [...orgW.keys()].sort();
  const prior = populationPrior([...orgB.keys()].map((o) => unit(undefined, orgB.get(o))));
  const orgTests = testSpikes(
    orgNames.map((o) => unit(orgW.get(o), orgB.get(o))),
    prior,
    thresholds,
  );
  const orgTest = new Map(orgNames.map((o, i) => [o, orgTests[i] as SpikeTest]));

  const gwW = new Map<string, Counts & { orgs: Set<string> }>();
  const gwB = new Map<string, Counts>();
  for (const [org, c] of orgW) {
    const g = gatewayOf(org);
    const x = gwW.get(g) ?? { ...counts(), orgs: new Set<string>() };
    x.attempts += c.attempts;
    x.hard += c.hard;
    x.orgs.add(org);
    gwW.set(g, x);
  }
  for (const [org, c] of orgB) {
    const g = gatewayOf(org);
    const x = gwB.get(g) ?? counts();
    x.attempts += c.attempts;
    x.hard += c.hard;
    gwB.set(g, x);
  }
  const gwNames = [...gwW.keys()].sort();
  const gwTests = testSpikes(
    gwNames.map((g) => unit(gwW.get(g), gwB.get(g))),
    prior,
    thresholds,
  );
  const gwTest = new Map(gwNames.map((g, i) => [g, gwTests[i] as SpikeTest]));

  const catNames = [...catW.keys()].sort();
  const catTests = testSpikes(
    catNames.map((c) =>
      unit(
        { attempts: totalW.attempts, hard: catW.get(c) ?? 0 },
        { attempts: totalB.attempts, hard: catB.get(c) ?? 0 },
      ),
    ),
    prior,
    thresholds,
  );
  const catTest = new Map(catNames.map((c, i) => [c, catTests[i] as SpikeTest]));
  const [consumerTest] = testSpikes([unit(consumerW, consumerB)], prior, thresholds);

  // The forecast of an attempt: its organisation's baseline rate, shrunk toward the population.
  const forecast = new Map<string, number>();
  const expectedOf = (org: string) => {
    let p = forecast.get(org);
    if (p === undefined) {
      const b = orgB.get(org);
      p = shrunkRate(prior, b?.attempts ?? 0, b?.hard ?? 0);
      forecast.set(org, p);
    }
    return p;
  };
  const attempts = windowAttempts.map((e) => ({
    event: e,
    hard: isHard(outcomeOf(e)),
    expected: expectedOf(e.organisation),
    coordinates: {
      sendingIp: e.sendingIp,
      ipPool: e.ipPool,
      source: e.source,
      // Mail outside any campaign (transactional) is a stream of its own: a campaign's excess stands out against it.
      campaign: e.campaign ?? NO_CAMPAIGN,
      gateway: recipientGroupOf(e.organisation, e.consumer, gatewayOf),
      organisation: e.organisation,
    },
  }));

  return {
    orgW,
    orgB,
    ipW,
    consumerOrgs,
    consumerW,
    consumerB,
    totalW,
    totalB,
    hardEvents,
    prior,
    orgNames,
    orgTest,
    gwW,
    gwB,
    gwNames,
    gwTest,
    catTest,
    consumerTest,
    attempts,
    unit,
  };
}
