import type { OrganisationRow, Report } from "../report/report-schema.ts";
import { mapStrings, maskAddresses } from "../text/safe-text.ts";
import type { AnalysisInput } from "./analysis-input.ts";
import { buildIncident, type IncidentContext, seriesFor } from "./incident-report.ts";
import type { Dimension } from "./localise.ts";
import { windowSignals } from "./reputation-evidence.ts";
import { DEFAULT_THRESHOLDS, type SpikeTest } from "./spike-statistics.ts";
import { tellStory } from "./story.ts";
import { type Counts, countWindow } from "./window-counts.ts";

export type { AnalysisInput, BaselineRow } from "./analysis-input.ts";

/**
 * From window events and baseline aggregates to the report, in stages a reader can follow:
 * 1. counts (window-counts.ts): per organisation, gateway, sending IP, category and the consumer control group,
 *    with the spike tests behind the report's tables, and every window attempt scored with its forecast;
 * 2. localisation (localise.ts): which sender dimension — sending IP, pool, ESP source, campaign — carries the
 *    excess, Adtributor-style;
 * 3. incidents (story.ts): one coherent story per window, sender causes first, recipient clusters from the rest;
 * 4. evidence and confidence (incident-report.ts, confidence.ts): what each incident rests on, and the
 *    probability its verdict is right;
 * 5. the report.
 * Pure: no I/O, no clock.
 */
export function analyse(input: AnalysisInput): Report {
  const thresholds = input.thresholds ?? DEFAULT_THRESHOLDS;
  const gatewayOf = (org: string): string => input.gatewayOf.get(org) ?? "unknown";
  const measure = input.measure ?? ((_stage, work) => work());
  const c = measure("counts", () => countWindow(input, thresholds));
  const drafts = measure("story", () => tellStory(input, c, thresholds));

  const ips = new Map<string, Set<string>>();
  for (const a of c.attempts) {
    const ip = a.coordinates.sendingIp;
    if (ip === null) continue;
    for (const d of ["ipPool", "source", "campaign"] as const) {
      const element = a.coordinates[d];
      if (element === null) continue;
      const key = `${d}\u0000${element}`;
      const set = ips.get(key) ?? new Set<string>();
      set.add(ip);
      ips.set(key, set);
    }
  }
  const ctx: IncidentContext = {
    input,
    gatewayOf,
    ipW: c.ipW,
    consumerSpike: c.consumerTest?.spike ?? false,
    consumerW: c.consumerW,
    consumerB: c.consumerB,
    orgAttempts: new Map([...c.orgW].map(([o, x]) => [o, x.attempts])),
    ipsOf: (d: Dimension, element: string) =>
      d === "sendingIp" ? [element] : [...(ips.get(`${d}\u0000${element}`) ?? [])].sort(),
  };
  const incidents = measure("incidents", () => drafts.map((d) => buildIncident(ctx, d)));
  incidents.sort(
    (a, b) => Number(b.alert) - Number(a.alert) || b.confidence - a.confidence || a.id.localeCompare(b.id),
  );

  const organisations: OrganisationRow[] = c.orgNames.map((o) => {
    const w = c.orgW.get(o);
    const b = c.orgB.get(o);
    const t = c.orgTest.get(o) as SpikeTest;
    return {
      domain: o,
      gateway: gatewayOf(o),
      consumer: w?.consumer ?? c.consumerOrgs.has(o),
      attempts: w?.attempts ?? 0,
      hardBounces: w?.hard ?? 0,
      rate: t.rate,
      baselineAttempts: b?.attempts ?? 0,
      baselineHardBounces: b?.hard ?? 0,
      baselineRate: t.baselineRate,
      shrunkRate: t.shrunkBaselineRate,
      pValue: t.pValue,
      qValue: t.qValue,
      spike: t.spike,
      categories: w?.categories ?? {},
    };
  });
  organisations.sort((a, b) => b.hardBounces - a.hardBounces || a.domain.localeCompare(b.domain));
  const gateways = c.gwNames.map((g) => {
    const t = c.gwTest.get(g) as SpikeTest;
    const w = c.gwW.get(g);
    return {
      gateway: g,
      organisations: w?.orgs.size ?? 0,
      attempts: w?.attempts ?? 0,
      hardBounces: w?.hard ?? 0,
      rate: t.rate,
      baselineRate: t.baselineRate,
      pValue: t.pValue,
      qValue: t.qValue,
      spike: t.spike,
    };
  });

  const rate = (x: Counts) => (x.attempts > 0 ? x.hard / x.attempts : 0);
  const report: Report = {
    schemaVersion: 1,
    generatedAt: input.generatedAt,
    runId: input.runId,
    window: input.window,
    baseline: input.baseline,
    totals: {
      attempts: c.totalW.attempts,
      hardBounces: c.totalW.hard,
      hardBounceRate: rate(c.totalW),
      baselineRate: rate(c.totalB),
      organisations: c.orgW.size,
      consumer: {
        attempts: c.consumerW.attempts,
        hardBounces: c.consumerW.hard,
        rate: rate(c.consumerW),
        baselineRate: rate(c.consumerB),
        spike: c.consumerTest?.spike ?? false,
      },
      series: seriesFor(input, null),
    },
    incidents,
    organisations,
    gateways,
    reputation: [...(input.reputation ?? []), ...windowSignals(input)],
    dataQuality: input.dataQuality,
  };
  // Reply texts, evidence and reputation details quote addresses too (`550 5.1.1 <annab@acme.com>`): with
  // masking on, every string of the report is masked, so no field, present or future, can slip past. The
  // counts above were all taken on the full addresses.
  return input.maskRecipients ? mapStrings(report, maskAddresses) : report;
}
