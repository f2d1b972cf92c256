import { createHash } from "node:crypto";
import { BLOCK_CATEGORIES, type Category, type Side } from "../classify/taxonomy.ts";
import type { NormalizedEvent } from "../events/normalized-event.ts";
import type { Incident, OrganisationRow, Report, Verdict } from "../report/report-schema.ts";
import type { ReputationObservation } from "../reputation/reputation-observation.ts";
import { latestSignals, type ReputationSignal } from "../reputation/reputation-signal.ts";
import { describeSignal, readSignals } from "../reputation/signal-evidence.ts";
import { mapStrings, maskAddress, maskAddresses } from "../text/safe-text.ts";
import { type Outcome, outcomeOf } from "./outcomes.ts";
import {
  DEFAULT_THRESHOLDS,
  populationPrior,
  type RateCounts,
  type SpikeTest,
  type SpikeThresholds,
  testSpikes,
} from "./spike-statistics.ts";
import { actionsFor } from "./verdict-actions.ts";

/** Baseline attempts of one kind, already aggregated per day (see pipeline/analyze/daily-aggregates.ts). */
export interface BaselineRow {
  readonly date: string;
  readonly organisation: string;
  readonly consumer: boolean;
  readonly sendingIp: string | null;
  readonly outcome: string;
  readonly count: number;
}

export interface AnalysisInput {
  readonly runId: string;
  readonly generatedAt: string;
  readonly window: { readonly start: string; readonly end: string };
  readonly baseline: { readonly start: string; readonly end: string };
  /** Final-outcome events inside the window (one per message and recipient). */
  readonly windowEvents: readonly NormalizedEvent[];
  readonly baselineRows: readonly BaselineRow[];
  /** Gateway per organisation (a GatewayId, "self_hosted" or "unknown"). */
  readonly gatewayOf: ReadonlyMap<string, string>;
  /** Whether the address had a successful delivery in the 90 days before it bounced. */
  readonly previouslyDelivered: (e: NormalizedEvent) => boolean;
  readonly maskRecipients: boolean;
  readonly thresholds?: SpikeThresholds;
  readonly dataQuality: Report["dataQuality"];
  /** Latest block-list observation per list and target (empty when no reputation data is collected). */
  readonly reputation?: readonly ReputationObservation[];
  /**
   * Values from the other reputation sources (Postmaster, SNDS, ESP reputation, authentication posture) from
   * before and during the window: judged against each other, so a drop shows.
   */
  readonly reputationSignals?: readonly ReputationSignal[];
}

const SENDER_VERDICT: Partial<Record<Category, Verdict>> = {
  reputation_block: "sender_reputation",
  auth_failure: "sender_authentication",
  spam_or_content_block: "content_block",
  esp_internal: "esp_fault",
};
const MAX_SAMPLES = 5;
const EXISTING_SHARE = 0.5;

interface Counts {
  attempts: number;
  hard: number;
}
const counts = (): Counts => ({ attempts: 0, hard: 0 });
const isHard = (o: Outcome): o is { hard: Category } => typeof o === "object";
const hardOf = (outcome: string): Category | null =>
  outcome.startsWith("hard:") ? (outcome.slice(5) as Category) : null;
/** Aggregated outcomes that count as attempts: final deliveries and bounces (see outcomes.ts). */
const isAttempt = (outcome: string): boolean =>
  outcome === "delivered" || outcome === "soft" || hardOf(outcome) !== null;

/**
 * From window events and baseline aggregates to the report: spike tests per organisation, gateway, sending IP,
 * rejection category and the consumer control group; then incidents, each a cluster with a verdict and the
 * evidence behind it. Pure: no I/O, no clock.
 */
export function analyse(input: AnalysisInput): Report {
  const thresholds = input.thresholds ?? DEFAULT_THRESHOLDS;
  const gatewayOf = (org: string): string => input.gatewayOf.get(org) ?? "unknown";

  // ── window and baseline counts per unit ──
  const orgW = new Map<string, Counts & { consumer: boolean; categories: Record<string, number> }>();
  const orgB = new Map<string, Counts>();
  const ipW = new Map<string, Counts>();
  const ipB = new Map<string, Counts>();
  const catW = new Map<Category, number>();
  const catB = new Map<Category, number>();
  const consumerW = counts();
  const consumerB = counts();
  const totalW = counts();
  const totalB = counts();
  const hardEvents: NormalizedEvent[] = [];

  for (const e of input.windowEvents) {
    const o = outcomeOf(e);
    if (o === "not_counted") continue;
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
    const add = (m: Map<string, Counts>, k: string) => {
      const c = m.get(k) ?? counts();
      c.attempts += r.count;
      if (hard) c.hard += r.count;
      m.set(k, c);
    };
    add(orgB, r.organisation);
    if (r.sendingIp) add(ipB, r.sendingIp);
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

  // ── organisations ──
  const orgNames = [...orgW.keys()].sort();
  const orgUnits = orgNames.map((o) => unit(orgW.get(o), orgB.get(o)));
  const prior = populationPrior([...new Set([...orgB.keys()])].map((o) => unit(undefined, orgB.get(o))));
  const orgTests = testSpikes(orgUnits, prior, thresholds);
  const orgTest = new Map(orgNames.map((o, i) => [o, orgTests[i] as SpikeTest]));

  // ── gateways (organisations summed by gateway) ──
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

  // ── sending IPs, categories, consumer control group ──
  const ipNames = [...ipW.keys()].sort();
  const ipTests = testSpikes(
    ipNames.map((ip) => unit(ipW.get(ip), ipB.get(ip))),
    prior,
    thresholds,
  );
  const ipTest = new Map(ipNames.map((ip, i) => [ip, ipTests[i] as SpikeTest]));
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

  // ── incidents ──
  const ctx: IncidentContext = {
    input,
    gatewayOf,
    ipW,
    ipTest,
    consumerSpike: consumerTest?.spike ?? false,
    consumerW,
    consumerB,
    orgAttempts: new Map([...orgW].map(([o, c]) => [o, c.attempts])),
  };
  const incidents: Incident[] = [];
  const claimed = new Set<NormalizedEvent>();

  // Sender side first: a category of block that rose across the whole sending, whatever the recipient.
  for (const [category, verdict] of Object.entries(SENDER_VERDICT) as Array<[Category, Verdict]>) {
    if (!catTest.get(category)?.spike) continue;
    const events = hardEvents.filter((e) => e.classification?.category === category);
    for (const e of events) claimed.add(e);
    incidents.push(buildIncident(ctx, verdict, "sender", events, catTest.get(category)));
  }

  // Recipient side: what the sender-side incidents do not explain. Organisations and gateways are tested
  // again on their unclaimed bounces only, so a sender problem does not leave recipient-side echoes.
  const residual = (orgs: Iterable<string>): number => {
    const set = new Set(orgs);
    return hardEvents.filter((e) => set.has(e.organisation) && !claimed.has(e)).length;
  };
  const residualOrgTests = testSpikes(
    orgNames.map((o) => ({ ...unit(orgW.get(o), orgB.get(o)), hardBounces: residual([o]) })),
    prior,
    thresholds,
  );
  const residualGwTests = testSpikes(
    gwNames.map((g) => ({ ...unit(gwW.get(g), gwB.get(g)), hardBounces: residual(gwW.get(g)?.orgs ?? []) })),
    prior,
    thresholds,
  );
  const byGateway = new Map<string, string[]>();
  orgNames.forEach((org, i) => {
    if (!residualOrgTests[i]?.spike) return;
    const g = gatewayOf(org);
    byGateway.set(g, [...(byGateway.get(g) ?? []), org]);
  });
  gwNames.forEach((g, i) => {
    if (!residualGwTests[i]?.spike || byGateway.has(g)) return;
    byGateway.set(
      g,
      [...(gwW.get(g)?.orgs ?? [])].filter((o) => residual([o]) > 0),
    );
  });
  // A gateway-wide change also reaches organisations too small to spike on their own: bring in those
  // behind the same gateway whose unclaimed bounces carry the cluster's (non-"user unknown") rejection.
  for (const [g, orgs] of byGateway) {
    if (g === "unknown" || g === "self_hosted") continue;
    const inCluster = new Set(orgs);
    const top = [
      ...tally(
        hardEvents
          .filter((e) => inCluster.has(e.organisation) && !claimed.has(e))
          .map((e) => e.classification?.category ?? "unknown"),
      ),
    ].sort((a, b) => b[1] - a[1])[0]?.[0];
    if (!top || top === "invalid_recipient" || orgs.length < 2) continue;
    for (const o of gwW.get(g)?.orgs ?? []) {
      if (
        !inCluster.has(o) &&
        hardEvents.some((e) => e.organisation === o && !claimed.has(e) && e.classification?.category === top)
      ) {
        inCluster.add(o);
      }
    }
    byGateway.set(g, [...inCluster].sort());
  }
  for (const [g, orgs] of [...byGateway].sort()) {
    const groupable = g !== "unknown" && g !== "self_hosted" && orgs.length >= 2;
    const groups = groupable ? [orgs] : orgs.map((o) => [o]);
    for (const group of groups) {
      const events = hardEvents.filter((e) => group.includes(e.organisation) && !claimed.has(e));
      if (events.length < thresholds.minHardBounces) continue;
      for (const e of events) claimed.add(e);
      const existing = events.filter((e) => input.previouslyDelivered(e)).length / events.length;
      const policy =
        events.filter((e) => e.classification?.category !== "invalid_recipient").length / events.length;
      const verdict: Verdict =
        existing >= EXISTING_SHARE || policy >= 0.5 ? "recipient_filter" : "list_decay";
      incidents.push(
        buildIncident(
          ctx,
          verdict,
          verdict === "recipient_filter" ? "recipient" : "neutral",
          events,
          gwTest.get(g),
        ),
      );
    }
  }
  incidents.sort(
    (a, b) => Number(b.alert) - Number(a.alert) || b.confidence - a.confidence || a.id.localeCompare(b.id),
  );

  // ── tables ──
  const organisations: OrganisationRow[] = orgNames.map((o) => {
    const w = orgW.get(o);
    const b = orgB.get(o);
    const t = orgTest.get(o) as SpikeTest;
    return {
      domain: o,
      gateway: gatewayOf(o),
      consumer: w?.consumer ?? consumerOrgs.has(o),
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
  const gateways = gwNames.map((g) => {
    const t = gwTest.get(g) as SpikeTest;
    const w = gwW.get(g);
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

  const rate = (c: Counts) => (c.attempts > 0 ? c.hard / c.attempts : 0);
  const report: Report = {
    schemaVersion: 1,
    generatedAt: input.generatedAt,
    runId: input.runId,
    window: input.window,
    baseline: input.baseline,
    totals: {
      attempts: totalW.attempts,
      hardBounces: totalW.hard,
      hardBounceRate: rate(totalW),
      baselineRate: rate(totalB),
      organisations: orgW.size,
      consumer: {
        attempts: consumerW.attempts,
        hardBounces: consumerW.hard,
        rate: rate(consumerW),
        baselineRate: rate(consumerB),
        spike: consumerTest?.spike ?? false,
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

interface IncidentContext {
  readonly input: AnalysisInput;
  readonly gatewayOf: (org: string) => string;
  readonly ipW: ReadonlyMap<string, Counts>;
  readonly ipTest: ReadonlyMap<string, SpikeTest>;
  readonly consumerSpike: boolean;
  readonly consumerW: Counts;
  readonly consumerB: Counts;
  readonly orgAttempts: ReadonlyMap<string, number>;
}

function buildIncident(
  ctx: IncidentContext,
  verdict: Verdict,
  side: Side,
  events: readonly NormalizedEvent[],
  unitTest: SpikeTest | undefined,
): Incident {
  const { input } = ctx;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const orgs = [...new Set(events.map((e) => e.organisation))].sort();
  const gateways = [...new Set(orgs.map(ctx.gatewayOf))].sort();
  const byCategory = tally(events.map((e) => e.classification?.category ?? "unknown"));
  const [topCategory, topCount] = [...byCategory].sort((a, b) => b[1] - a[1])[0] ?? ["unknown", 0];

  // Sending infrastructure: IPs carrying a far larger share of these bounces than of all attempts.
  const totalAttempts = [...ctx.ipW.values()].reduce((a, c) => a + c.attempts, 0);
  const byIp = tally(events.map((e) => e.sendingIp ?? "unknown"));
  const concentratedIps = [...byIp]
    .filter(([ip, n]) => {
      const share = n / events.length;
      const attemptShare = (ctx.ipW.get(ip)?.attempts ?? 0) / Math.max(totalAttempts, 1);
      return ip !== "unknown" && share >= 0.3 && share >= 2 * attemptShare;
    })
    .map(([ip]) => ip)
    .sort();

  const attempts = orgs.reduce((a, o) => a + (ctx.orgAttempts.get(o) ?? 0), 0);
  const existing = events.filter((e) => input.previouslyDelivered(e));
  const existingShare = events.length > 0 ? existing.length / events.length : 0;
  const bouncedAddresses = new Set(events.map((e) => e.recipient)).size;

  const evidence: Incident["evidence"] = [];
  let confidence = 0.5;
  const consumerNote = `consumer mailboxes ${pct(ctx.consumerW.attempts > 0 ? ctx.consumerW.hard / ctx.consumerW.attempts : 0)} vs baseline ${pct(ctx.consumerB.attempts > 0 ? ctx.consumerB.hard / ctx.consumerB.attempts : 0)}`;
  evidence.push({
    signal: "breadth",
    detail: `${orgs.length} organisation(s) behind ${gateways.length} gateway(s): ${gateways.slice(0, 6).join(", ")}`,
  });
  evidence.push({
    signal: "rejection_text",
    detail: `${topCount} of ${events.length} hard bounces classified ${topCategory}`,
  });
  if (side === "sender") {
    if (gateways.length >= 3) confidence += 0.15;
    if (topCount / Math.max(events.length, 1) >= 0.8) confidence += 0.15;
    if (ctx.consumerSpike) {
      confidence += 0.1;
      evidence.push({ signal: "control_group", detail: `the control group spikes too: ${consumerNote}` });
    } else evidence.push({ signal: "control_group", detail: consumerNote });
    if (concentratedIps.length > 0) {
      if (verdict === "sender_reputation" || verdict === "esp_fault") confidence += 0.15;
      evidence.push({
        signal: "sending_infrastructure",
        detail: `concentrated on ${concentratedIps.join(", ")} (${pct((byIp.get(concentratedIps[0] ?? "") ?? 0) / events.length)} of these bounces)`,
      });
    } else {
      evidence.push({ signal: "sending_infrastructure", detail: "spread across all sending IPs" });
    }
  } else {
    evidence.push({
      signal: "recipient_history",
      detail: `${existing.length} of ${events.length} bounced addresses (${pct(existingShare)}) had a successful delivery in the last 90 days`,
    });
    if (existingShare >= EXISTING_SHARE) confidence += 0.2;
    else if (existingShare < 0.2) confidence -= 0.1;
    if (!ctx.consumerSpike) confidence += 0.1;
    else confidence -= 0.2;
    evidence.push({
      signal: "control_group",
      detail: `${ctx.consumerSpike ? "consumer mailboxes spike too" : "consumer mailboxes normal"}: ${consumerNote}`,
    });
    if (concentratedIps.length === 0) {
      confidence += 0.05;
      evidence.push({ signal: "sending_infrastructure", detail: "spread across all sending IPs alike" });
    } else {
      confidence -= 0.1;
      evidence.push({
        signal: "sending_infrastructure",
        detail: `concentrated on ${concentratedIps.join(", ")}`,
      });
    }
    if (gateways.length === 1 && gateways[0] !== "unknown" && gateways[0] !== "self_hosted")
      confidence += 0.1;
    if (BLOCK_CATEGORIES.has(topCategory as Category) || topCategory === "policy_block") confidence += 0.05;
  }
  confidence += reputationEvidence(input.reputation ?? [], verdict, side, events, evidence);
  confidence += signalEvidence(input, verdict, side, events, evidence);
  const onset = events.map((e) => e.occurredAt).sort()[0] ?? input.window.start;
  evidence.push({ signal: "onset", detail: `first hard bounce of this cluster at ${onset}` });
  confidence = Math.round(Math.min(0.99, Math.max(0.05, confidence)) * 100) / 100;

  const mask = (a: string) => (input.maskRecipients ? maskAddress(a) : a);
  const samples = pickSamples(events).map((e) => ({
    recipient: mask(e.recipient),
    text: e.smtp?.text ?? "(no reply text)",
    category: e.classification?.category ?? "unknown",
  }));
  const scope = { domains: orgs, gateways, sendingIps: concentratedIps };
  const hardBounces = events.length;
  const alert = verdict !== "list_decay" && verdict !== "unknown" && confidence >= 0.6;
  const idSeed = `${verdict}|${scope.gateways.join(",")}|${scope.sendingIps.join(",")}|${verdict.startsWith("sender") || side === "sender" ? "" : orgs.join(",")}|${input.window.end}`;
  return {
    id: `inc-${createHash("sha256").update(idSeed).digest("hex").slice(0, 12)}`,
    verdict,
    side,
    confidence,
    alert,
    firstSeen: onset,
    scope,
    metrics: {
      attempts,
      hardBounces,
      rate: attempts > 0 ? Math.min(1, hardBounces / attempts) : 0,
      baselineRate: unitTest?.baselineRate ?? 0,
      previouslyDelivered: existingShare,
      bouncedAddresses,
      organisations: orgs.length,
    },
    evidence,
    samples,
    wronglySuppressed: side === "recipient" ? wronglySuppressed(existing, mask) : [],
    actions: actionsFor(verdict, scope),
    series: seriesFor(input, side === "sender" ? null : new Set(orgs)),
  };
}

/**
 * One entry per address, as `bounce-radar suppressions` lists them: told apart on the full address (case
 * aside) before masking, since masking folds `anna@`, `anton@` and `al@` into one `a***@`; the masked entries
 * may then repeat, and the list's length stays the count.
 */
function wronglySuppressed(existing: readonly NormalizedEvent[], mask: (a: string) => string): string[] {
  const addresses = [...new Set(existing.map((e) => e.recipient.toLowerCase()))];
  return addresses.map(mask).sort();
}

/** Daily attempts and hard bounces of the incident's scope (every organisation for sender-side incidents). */
function seriesFor(input: AnalysisInput, orgs: ReadonlySet<string> | null): NonNullable<Incident["series"]> {
  const days = new Map<string, { attempts: number; hardBounces: number }>();
  const at = (d: string) => {
    const x = days.get(d) ?? { attempts: 0, hardBounces: 0 };
    days.set(d, x);
    return x;
  };
  for (const r of input.baselineRows) {
    if (orgs && !orgs.has(r.organisation)) continue;
    if (!isAttempt(r.outcome)) continue;
    const x = at(r.date);
    x.attempts += r.count;
    if (hardOf(r.outcome)) x.hardBounces += r.count;
  }
  for (const e of input.windowEvents) {
    if (orgs && !orgs.has(e.organisation)) continue;
    const o = outcomeOf(e);
    if (o === "not_counted") continue;
    const x = at(e.occurredAt.slice(0, 10));
    x.attempts++;
    if (isHard(o)) x.hardBounces++;
  }
  return [...days].sort((a, b) => a[0].localeCompare(b[0])).map(([date, c]) => ({ date, ...c }));
}

/** Samples from different organisations first, so one big domain does not fill the list. */
function pickSamples(events: readonly NormalizedEvent[]): NormalizedEvent[] {
  const seen = new Set<string>();
  const out: NormalizedEvent[] = [];
  for (const e of events) {
    if (out.length >= MAX_SAMPLES) break;
    if (seen.has(e.organisation)) continue;
    seen.add(e.organisation);
    out.push(e);
  }
  for (const e of events) {
    if (out.length >= MAX_SAMPLES) break;
    if (!out.includes(e)) out.push(e);
  }
  return out;
}

function tally<T>(items: readonly T[]): Map<T, number> {
  const m = new Map<T, number>();
  for (const x of items) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

/**
 * Block-list evidence: a listing of an IP that sent these bounces (or of any sending domain) points to the
 * sender; every check clean points away from it. Unknown answers are reported, never weighed. Returns the
 * confidence adjustment.
 */
function reputationEvidence(
  observations: readonly ReputationObservation[],
  verdict: Verdict,
  side: Side,
  events: readonly NormalizedEvent[],
  evidence: Incident["evidence"],
): number {
  if (observations.length === 0) return 0;
  const ips = new Set(events.map((e) => e.sendingIp).filter((ip): ip is string => ip !== null));
  const relevant = observations.filter((o) => o.targetKind === "domain" || ips.has(o.target));
  const listed = relevant.filter((o) => o.status === "listed");
  const unknown = relevant.filter((o) => o.status === "unknown").length;
  const clean = relevant.filter((o) => o.status === "clean").length;
  const unknownNote = unknown > 0 ? `; ${unknown} check(s) unknown (list error or no answer)` : "";
  if (listed.length > 0) {
    evidence.push({
      signal: "reputation",
      detail: `${listed
        .map((o) => `${o.target} listed on ${o.list} (${o.meaning}${o.reason ? `; ${o.reason}` : ""})`)
        .join("; ")}${unknownNote}`,
    });
    if (side === "sender") return verdict === "sender_reputation" ? 0.1 : 0.05;
    return -0.1;
  }
  if (clean === 0) {
    evidence.push({
      signal: "reputation",
      detail: `no block-list answer for these sending IPs${unknownNote}`,
    });
    return 0;
  }
  evidence.push({
    signal: "reputation",
    detail: `${clean} block-list check(s) of the sending IPs and domains clean${unknownNote}`,
  });
  return side === "recipient" ? 0.05 : verdict === "sender_reputation" ? -0.05 : 0;
}

/** The latest signal per source, subject and metric up to the window's end, for the report's reputation table. */
function windowSignals(input: AnalysisInput): ReputationSignal[] {
  const end = input.window.end;
  return latestSignals((input.reputationSignals ?? []).filter((s) => s.observedAt <= end));
}

const MAX_CITED = 4;

/**
 * Evidence from Postmaster, SNDS, ESP reputation and authentication posture: a value that turned worse in the
 * window, or is bad with nothing better before it, points to the sender; a standing problem weighs less, since
 * it did not start with the spike; every value healthy points away from the sender. Values with no data are
 * counted, never weighed. Returns the confidence adjustment.
 */
function signalEvidence(
  input: AnalysisInput,
  verdict: Verdict,
  side: Side,
  events: readonly NormalizedEvent[],
  evidence: Incident["evidence"],
): number {
  const all = input.reputationSignals ?? [];
  if (all.length === 0) return 0;
  const ips = new Set(events.map((e) => e.sendingIp).filter((ip): ip is string => ip !== null));
  const r = readSignals(all, input.window, ips.size > 0 ? ips : null);
  const cite = (list: readonly string[]) =>
    `${list.slice(0, MAX_CITED).join("; ")}${list.length > MAX_CITED ? `; and ${list.length - MAX_CITED} more` : ""}`;
  const silentNote = r.silent.length > 0 ? `; ${r.silent.length} value(s) without data or unreadable` : "";
  const senderVerdict = verdict === "sender_reputation" || verdict === "sender_authentication";
  if (r.drops.length > 0 || r.bad.length > 0) {
    const lines = [
      ...r.drops.map(
        ({ signal, before }) => `${describeSignal(signal)} (was ${before.status}: ${before.detail})`,
      ),
      ...r.bad.map(describeSignal),
    ];
    evidence.push({
      signal: "reputation",
      detail: `sender reputation worsened: ${cite(lines)}${silentNote}`,
    });
    if (side === "sender") return senderVerdict ? 0.1 : 0.05;
    return -0.1;
  }
  if (r.persistent.length > 0) {
    evidence.push({
      signal: "reputation",
      detail: `standing sender-side problems, already present before this window: ${cite(r.persistent.map(describeSignal))}${silentNote}`,
    });
    return side === "sender" ? 0.05 : -0.05;
  }
  if (r.good.length > 0) {
    const warnNote =
      r.warnings.length > 0
        ? `; ${r.warnings.length} at a warning level (${cite(r.warnings.map(describeSignal))})`
        : "";
    evidence.push({
      signal: "reputation",
      detail: `${r.good.length} reputation value(s) steady and healthy: ${summariseBySource(r.good)}${warnNote}${silentNote}`,
    });
    if (r.warnings.length > 0) return 0;
    return side === "recipient" ? 0.05 : senderVerdict ? -0.05 : 0;
  }
  if (r.warnings.length > 0 || r.silent.length > 0) {
    evidence.push({
      signal: "reputation",
      detail: `${r.warnings.length > 0 ? `at a warning level: ${cite(r.warnings.map(describeSignal))}` : "no reputation value to judge"}${silentNote}`,
    });
  }
  return 0;
}

/** The metrics that best stand for a source in one line, most telling first. */
const HEADLINE_METRICS = [
  "spam_rate",
  "filter_result",
  "enforcement_status",
  "bounce_rate",
  "reputation",
  "health_score",
  "dmarc",
  "spf",
];

/** One clause per source: how many healthy values, and the most telling one with its number. */
function summariseBySource(signals: readonly ReputationSignal[]): string {
  const bySource = new Map<string, ReputationSignal[]>();
  for (const s of signals) bySource.set(s.source, [...(bySource.get(s.source) ?? []), s]);
  const rank = (m: string) => {
    const i = HEADLINE_METRICS.indexOf(m);
    return i < 0 ? HEADLINE_METRICS.length : i;
  };
  return [...bySource]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([source, list]) => {
      const head = [...list].sort(
        (a, b) => rank(a.metric) - rank(b.metric) || a.metric.localeCompare(b.metric),
      )[0];
      return `${source} (${list.length}; e.g. ${head ? describeSignal(head).slice(source.length + 1) : ""})`;
    })
    .join("; ");
}
