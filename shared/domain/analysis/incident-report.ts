import { createHash } from "node:crypto";
import type { Category } from "../classify/taxonomy.ts";
import type { NormalizedEvent } from "../events/normalized-event.ts";
import type { Incident } from "../report/report-schema.ts";
import { maskAddress } from "../text/safe-text.ts";
import type { AnalysisInput } from "./analysis-input.ts";
import { confidenceOf, featuresOf } from "./confidence.ts";
import type { Dimension, Localisation } from "./localise.ts";
import { outcomeOf } from "./outcomes.ts";
import { reputationEvidence, signalEvidence } from "./reputation-evidence.ts";
import { type IncidentDraft, tallyOf } from "./story.ts";
import { actionsFor } from "./verdict-actions.ts";
import { type Counts, hardOf, isAttempt, isHard } from "./window-counts.ts";

/*
 * Stage 5: an incident as the report and the alert show it — scope, metrics, the evidence naming which
 * dimension explains what, samples, wrongly suppressed addresses, confidence and whether to alert.
 */

/** Alert when the verdict is actionable and at least this likely right (see docs/verdicts-and-runbook.md). */
export const ALERT_CONFIDENCE = 0.6;
const MAX_SAMPLES = 5;

export interface IncidentContext {
  readonly input: AnalysisInput;
  readonly gatewayOf: (org: string) => string;
  readonly ipW: ReadonlyMap<string, Counts>;
  readonly consumerSpike: boolean;
  readonly consumerW: Counts;
  readonly consumerB: Counts;
  readonly orgAttempts: ReadonlyMap<string, number>;
  /** Sending IPs per element of a sender dimension (a pool's IPs, a source's, a campaign's). */
  readonly ipsOf: (dimension: Dimension, element: string) => readonly string[];
}

const DIMENSION_NAMES: Record<Dimension, [string, string]> = {
  sendingIp: ["sending IP", "sending IPs"],
  ipPool: ["IP pool", "IP pools"],
  source: ["ESP source", "ESP sources"],
  campaign: ["campaign", "campaigns"],
  gateway: ["gateway", "gateways"],
  organisation: ["organisation", "organisations"],
};

export function buildIncident(ctx: IncidentContext, draft: IncidentDraft): Incident {
  const { input } = ctx;
  const { verdict, side, events } = draft;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const orgs = [...new Set(events.map((e) => e.organisation))].sort();
  const gateways = [...new Set(orgs.map(ctx.gatewayOf))].sort();
  const byCategory = tallyOf(events.map((e) => e.classification?.category ?? "unknown"));
  const [topCategory, topCount] = [...byCategory].sort((a, b) => b[1] - a[1])[0] ?? ["unknown", 0];

  const sendingIps = scopeIps(ctx, draft);
  const attempts = orgs.reduce((a, o) => a + (ctx.orgAttempts.get(o) ?? 0), 0);
  const existing = events.filter((e) => input.previouslyDelivered(e));
  const existingShare = events.length > 0 ? existing.length / events.length : 0;
  const bouncedAddresses = new Set(events.map((e) => e.recipient)).size;
  const rate = (c: Counts) => (c.attempts > 0 ? c.hard / c.attempts : 0);
  const consumerNote = `consumer mailboxes ${pct(rate(ctx.consumerW))} vs baseline ${pct(rate(ctx.consumerB))}`;

  const evidence: Incident["evidence"] = [];
  if (draft.localisation)
    evidence.push({
      signal: "localisation",
      detail: describeLocalisation(draft.localisation, draft.breadth),
    });
  evidence.push({
    signal: "breadth",
    detail: `${orgs.length} organisation(s) behind ${gateways.length} gateway(s): ${gateways.slice(0, 6).join(", ")}`,
  });
  if (draft.absorbed.length > 0)
    evidence.push({
      signal: "one_story",
      detail: `${draft.absorbed.length} organisation(s) whose rejections began with this incident, on the same sending IPs and campaigns${ctx.consumerSpike ? " while the control group was broken" : ""}, are part of it, not a separate recipient-side change: ${draft.absorbed.slice(0, 6).join(", ")}${draft.absorbed.length > 6 ? ", …" : ""}`,
    });
  evidence.push({
    signal: "rejection_text",
    detail: `${topCount} of ${events.length} hard bounces classified ${topCategory}`,
  });
  if (side !== "sender")
    evidence.push({
      signal: "recipient_history",
      detail: `${existing.length} of ${events.length} bounced addresses (${pct(existingShare)}) had a successful delivery in the last 90 days`,
    });
  evidence.push({
    signal: "control_group",
    detail: `${ctx.consumerSpike ? "the control group spikes too" : "consumer mailboxes normal"}: ${consumerNote}`,
  });
  evidence.push({
    signal: "sending_infrastructure",
    detail:
      draft.ipMixDivergence < 0.05
        ? "bounces spread over the sending IPs like the mail itself"
        : `bounces unlike the mail over the sending IPs (divergence ${draft.ipMixDivergence.toFixed(2)})${sendingIps.length > 0 ? `: concentrated on ${sendingIps.join(", ")}` : ""}`,
  });
  let reputation = reputationEvidence(input.reputation ?? [], verdict, side, events, evidence);
  reputation += signalEvidence(input, verdict, side, events, evidence);
  const onset = events.map((e) => e.occurredAt).sort()[0] ?? input.window.start;
  evidence.push({ signal: "onset", detail: `first hard bounce of this incident at ${onset}` });

  const features = featuresOf(draft, {
    previouslyDelivered: existingShare,
    controlBroken: ctx.consumerSpike,
    gateways,
    reputation,
  });
  const confidence = verdict === "unknown" ? 0.3 : confidenceOf(features, side);
  const mask = (a: string) => (input.maskRecipients ? maskAddress(a) : a);
  const samples = pickSamples(events).map((e) => ({
    recipient: mask(e.recipient),
    text: e.smtp?.text ?? "(no reply text)",
    category: e.classification?.category ?? ("unknown" as Category),
  }));
  const scope = { domains: orgs, gateways, sendingIps };
  const alert = verdict !== "list_decay" && verdict !== "unknown" && confidence >= ALERT_CONFIDENCE;
  const idSeed = `${verdict}|${scope.gateways.join(",")}|${scope.sendingIps.join(",")}|${side === "sender" ? "" : orgs.join(",")}|${input.window.end}`;
  const l = draft.localisation;
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
      hardBounces: events.length,
      rate: attempts > 0 ? Math.min(1, events.length / attempts) : 0,
      baselineRate: draft.unitTest?.baselineRate ?? 0,
      previouslyDelivered: existingShare,
      bouncedAddresses,
      organisations: orgs.length,
    },
    evidence,
    samples,
    wronglySuppressed: side === "recipient" ? wronglySuppressed(existing, mask) : [],
    actions: actionsFor(verdict, scope),
    series: seriesFor(input, side === "sender" ? null : new Set(orgs)),
    attribution: {
      basis: draft.basis,
      ...(l
        ? {
            dimension: l.dimension,
            elements: l.elements.map((e) => ({
              element: e.element,
              actual: e.actual,
              expected: round(e.expected),
              explanatoryPower: round(e.explanatoryPower),
              surprise: round(e.surprise),
            })),
            explanatoryPower: round(l.explanatoryPower),
            surprise: round(l.surprise),
            ofElements: l.ofElements,
          }
        : {}),
      absorbed: draft.absorbed,
      features: Object.fromEntries(Object.entries(features).map(([k, v]) => [k, round(v)])),
    },
  };
}

/** "2 of 4 sending IPs (…) carry 97% of the excess bounces across 11 recipient groups; the other 2 are at baseline". */
function describeLocalisation(l: Localisation, breadth: number): string {
  const [one, many] = DIMENSION_NAMES[l.dimension];
  const chosen = l.elements.map((e) => e.element);
  const actual = l.elements.reduce((a, e) => a + e.actual, 0);
  const expected = l.elements.reduce((a, e) => a + e.expected, 0);
  const others = l.ofElements - chosen.length;
  const restRatio = l.rest.expected > 0 ? l.rest.actual / l.rest.expected : 0;
  const rest =
    others === 0
      ? ""
      : `; the other ${others} ${others === 1 ? one : many}: ${l.rest.actual} hard bounces where ${l.rest.expected.toFixed(1)} were expected${restRatio <= 1.5 ? " (at baseline)" : ""}`;
  return `${chosen.length} of ${l.ofElements} ${l.ofElements === 1 ? one : many} (${chosen.join(", ")}) carry ${Math.round(100 * Math.min(1, l.explanatoryPower))}% of the excess hard bounces (${actual} where ${expected.toFixed(1)} were expected) across ${breadth} recipient group(s)${rest}`;
}

/** The sending IPs an incident names: the localised elements' IPs, or IPs carrying far more of its bounces than of the mail. */
function scopeIps(ctx: IncidentContext, draft: IncidentDraft): string[] {
  const l = draft.localisation;
  if (l && l.dimension !== "campaign")
    return [...new Set(l.elements.flatMap((e) => ctx.ipsOf(l.dimension, e.element)))].sort();
  const totalAttempts = [...ctx.ipW.values()].reduce((a, c) => a + c.attempts, 0);
  const byIp = tallyOf(draft.events.map((e) => e.sendingIp ?? "unknown"));
  return [...byIp]
    .filter(([ip, n]) => {
      const share = n / draft.events.length;
      const attemptShare = (ctx.ipW.get(ip)?.attempts ?? 0) / Math.max(totalAttempts, 1);
      return ip !== "unknown" && share >= 0.3 && share >= 2 * attemptShare;
    })
    .map(([ip]) => ip)
    .sort();
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
export function seriesFor(
  input: AnalysisInput,
  orgs: ReadonlySet<string> | null,
): NonNullable<Incident["series"]> {
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

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
