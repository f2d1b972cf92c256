import type { Category, Side } from "../classify/taxonomy.ts";
import type { NormalizedEvent } from "../events/normalized-event.ts";
import type { Verdict } from "../report/report-schema.ts";
import type { AnalysisInput } from "./analysis-input.ts";
import {
  type Dimension,
  elementStats,
  jensenShannon,
  type Localisation,
  localiseDimension,
  type ScoredAttempt,
  SENDER_DIMENSIONS,
} from "./localise.ts";
import { type SpikeTest, type SpikeThresholds, testSpikes } from "./spike-statistics.ts";
import { recipientGroupOf, type WindowCounts } from "./window-counts.ts";

/*
 * Stage 3: one coherent story per window. Sender causes first — the excess localised on some sending IPs, a
 * pool, one ESP source or one campaign across unrelated recipients, or a sender-side rejection category rising
 * across all sending — then recipient clusters from what is left, by gateway. A recipient cluster that shares
 * onset and footprint with a sender incident, or appears while the consumer control group is broken, joins the
 * sender story unless its own evidence stands: previously delivered mailboxes refused as unknown, with the
 * sender's usual IP mix. Consumer providers are never a recipient filter.
 */

export type IncidentBasis =
  /** The excess sits on some elements of a sender dimension (IPs, pool, source, campaign). */
  | "localised"
  /** A sender-side rejection category rose across all sending. */
  | "sender_wide"
  /** Consumer providers refusing while the control group is broken. */
  | "control_group"
  /** Organisations behind a gateway, unexplained by the sender. */
  | "recipient_cluster";

export interface IncidentDraft {
  readonly verdict: Verdict;
  readonly side: Side;
  readonly basis: IncidentBasis;
  /** The hard bounces the incident explains. */
  readonly events: NormalizedEvent[];
  /** The sender dimension and elements carrying the excess (localised incidents). */
  readonly localisation: Localisation | null;
  /** Organisations whose own cluster joined this sender story (same onset and footprint, or a broken control group). */
  readonly absorbed: string[];
  /** The spike test of the unit the incident was found on (category, gateway). */
  readonly unitTest: SpikeTest | undefined;
  /** Divergence between the cluster's bounces and its attempts over sending IPs (0 = the usual mix). */
  readonly ipMixDivergence: number;
  /** Recipient groups (gateways, consumer providers) with excess bounces in the incident. */
  readonly breadth: number;
}

const SENDER_VERDICT: Partial<Record<Category, Verdict>> = {
  reputation_block: "sender_reputation",
  auth_failure: "sender_authentication",
  spam_or_content_block: "content_block",
  esp_internal: "esp_fault",
};
/** Categories that say nothing about which side refused: list decay, mailbox state, temporary trouble. */
const NEUTRAL: ReadonlySet<Category | "unknown"> = new Set([
  "invalid_recipient",
  "mailbox_full",
  "message_too_large",
  "transient",
  "unknown",
]);
const EXISTING_SHARE = 0.5;
/** What a list's own decay looks like: the mailbox is gone, full, or refuses the size. */
const MAILBOX_TROUBLE: ReadonlySet<Category | "unknown"> = new Set([
  "invalid_recipient",
  "mailbox_full",
  "message_too_large",
]);
/** A "user unknown" cluster smaller than this is list decay. */
const MIN_CLUSTER_BOUNCES = 5;
/** A consumer provider carrying this share of the consumer refusals, alone, is that provider's outage. */
const PROVIDER_OUTAGE_SHARE = 0.9;
/** Wording that blames the sender whoever says it. */
const SENDER_WORDING: ReadonlySet<Category> = new Set([
  "reputation_block",
  "auth_failure",
  "spam_or_content_block",
]);
/** Sender elements must be this much worse than the rest of their dimension (ratio of actual/forecast). */
const CONCENTRATION = 3;
/** Explanatory powers this close are a tie between two dimensions' localisations. */
const POWER_TIE = 0.05;
/** A sender cause reaches at least this many recipient groups. */
const MIN_BREADTH = 3;
/** ... and no one group carries more than this share of its excess. */
const MAX_GROUP_SHARE = 0.7;
/** Chosen elements may carry at most this share of the dimension's mail. */
const MAX_CHOSEN_SHARE = 0.8;
const HOUR = 3_600_000;

type Attempt = ScoredAttempt & { readonly event: NormalizedEvent };

export function tellStory(
  input: AnalysisInput,
  c: WindowCounts,
  thresholds: SpikeThresholds,
): IncidentDraft[] {
  const gatewayOf = (org: string): string => input.gatewayOf.get(org) ?? "unknown";
  const groupOf = (e: NormalizedEvent) => recipientGroupOf(e.organisation, e.consumer, gatewayOf);
  const consumerSpike = c.consumerTest?.spike ?? false;
  const measure = input.measure ?? ((_stage, work) => work());
  const drafts: IncidentDraft[] = [];
  const claimed = new Set<NormalizedEvent>();
  const category = (e: NormalizedEvent): Category | "unknown" => e.classification?.category ?? "unknown";

  // ── sender causes localised on some elements of a sender dimension ──
  let remaining: readonly Attempt[] = c.attempts;
  for (let round = 0; round < 3; round++) {
    const found = measure("localisation", () => bestSenderLocalisation(remaining, groupOf));
    if (!found) break;
    const { localisation, attempts } = found;
    const events = attempts.filter((a) => a.hard && !claimed.has(a.event)).map((a) => a.event);
    if (events.length < thresholds.minHardBounces) break;
    // Mostly "user unknown" and mailbox trouble on one stream is list decay it happens to carry, not a block.
    // Timeouts and expiries are not: concentrated on some IPs they are those IPs' trouble.
    const telling = events.filter((e) => !MAILBOX_TROUBLE.has(category(e))).length;
    if (telling < 0.5 * events.length) break;
    for (const e of events) claimed.add(e);
    drafts.push({
      verdict: localisedVerdict(localisation.dimension, events),
      side: "sender",
      basis: "localised",
      events,
      localisation,
      absorbed: [],
      unitTest: undefined,
      ipMixDivergence: ipMixDivergence(attempts),
      breadth: breadthOf(attempts, groupOf).groups,
    });
    const chosen = new Set(localisation.elements.map((e) => e.element));
    remaining = remaining.filter((a) => !chosen.has(a.coordinates[localisation.dimension] ?? ""));
  }

  // ── sender-side categories rising across all sending, wherever the mail went ──
  for (const [cat, verdict] of Object.entries(SENDER_VERDICT) as Array<[Category, Verdict]>) {
    if (!c.catTest.get(cat)?.spike) continue;
    const events = c.hardEvents.filter((e) => category(e) === cat && !claimed.has(e));
    if (events.length < thresholds.minHardBounces) continue;
    const groups = new Set(events.map(groupOf));
    // One gateway's own wording is not "all sending": that is a recipient cluster, tested below.
    if (groups.size < Math.min(MIN_BREADTH, c.gwNames.length)) continue;
    const existing = drafts.find((d) => d.verdict === verdict && d.basis === "localised");
    for (const e of events) claimed.add(e);
    if (existing) {
      existing.events.push(...events);
      continue;
    }
    const eventSet = new Set(events);
    const attempts = c.attempts.filter((a) => eventSet.has(a.event));
    drafts.push({
      verdict,
      side: "sender",
      basis: "sender_wide",
      events,
      localisation: null,
      absorbed: [],
      unitTest: c.catTest.get(cat),
      ipMixDivergence: ipMixDivergence(attempts),
      breadth: groups.size,
    });
  }

  const senderDrafts = () => drafts.filter((d) => d.side === "sender");
  const onsetOf = (events: readonly NormalizedEvent[]) => dominantOnset(events, category);
  // Only mail the sender incident could have touched counts as "delivered in between": a cluster on a failing IP
  // is not cleared by its organisations' mail on the healthy ones.
  const sameOnset = (host: IncidentDraft, onset: string, attempts: readonly Attempt[]) => {
    const ips = new Set(host.events.map((e) => e.sendingIp));
    const onFootprint =
      host.localisation?.dimension === "campaign"
        ? attempts
        : attempts.filter((a) => ips.has(a.event.sendingIp));
    return sameOnsetAs(onsetOf(host.events), onset, onFootprint);
  };

  // ── consumer providers: the control group; their refusals are the sender's, unless one provider is down ──
  const consumerBlocks = c.hardEvents.filter(
    (e) => e.consumer && !claimed.has(e) && !NEUTRAL.has(category(e)),
  );
  // A provider by its mail platform (hotmail.com and outlook.com are one Outlook.com).
  const providerOf = (e: NormalizedEvent) => gatewayOf(e.organisation);
  const providers = tallyOf(consumerBlocks.map(providerOf));
  const [busiest, busiestCount] = [...providers].sort((a, b) => b[1] - a[1])[0] ?? ["", 0];
  const topConsumer = topCategory(consumerBlocks, category);
  // One provider failing alone, on every sending IP alike, with no sender-side wording: that provider is down
  // (timeouts, unreachable MX hosts), and no other provider or organisation sees anything.
  const oneProviderDown =
    senderDrafts().length === 0 &&
    busiestCount >= PROVIDER_OUTAGE_SHARE * consumerBlocks.length &&
    !SENDER_WORDING.has(topConsumer as Category) &&
    ipMixDivergence(c.attempts.filter((a) => a.event.consumer && providerOf(a.event) === busiest)) < 0.1;
  if (consumerBlocks.length >= thresholds.minHardBounces && oneProviderDown) {
    for (const e of consumerBlocks) claimed.add(e);
    drafts.push({
      verdict: "recipient_filter",
      side: "recipient",
      basis: "recipient_cluster",
      events: consumerBlocks,
      localisation: null,
      absorbed: [],
      unitTest: c.consumerTest,
      ipMixDivergence: ipMixDivergence(
        c.attempts.filter((a) => a.event.consumer && providerOf(a.event) === busiest),
      ),
      breadth: 1,
    });
  } else if (
    consumerBlocks.length >= thresholds.minHardBounces &&
    (consumerSpike || senderDrafts().length > 0)
  ) {
    const host = closestSender(senderDrafts(), onsetOf(consumerBlocks), onsetOf);
    for (const e of consumerBlocks) claimed.add(e);
    if (host) absorb(host, consumerBlocks);
    else {
      const top = topCategory(consumerBlocks, category);
      drafts.push({
        verdict:
          SENDER_VERDICT[top as Category] ?? (top === "policy_block" ? "sender_reputation" : "unknown"),
        side: "sender",
        basis: "control_group",
        events: consumerBlocks,
        localisation: null,
        absorbed: [],
        unitTest: c.consumerTest,
        ipMixDivergence: ipMixDivergence(c.attempts.filter((a) => a.event.consumer)),
        breadth: new Set(consumerBlocks.map(groupOf)).size,
      });
    }
  }

  // ── recipient clusters: what the sender story does not explain, by gateway ──
  for (const cluster of recipientClusters(c, claimed, thresholds, gatewayOf)) {
    let events = cluster.events;
    const existing = events.filter((e) => input.previouslyDelivered(e)).length / events.length;
    const invalid = events.filter((e) => category(e) === "invalid_recipient").length / events.length;
    const orgSet = new Set(cluster.orgs);
    const clusterAttempts = c.attempts.filter((a) => orgSet.has(a.event.organisation));
    const divergence = ipMixDivergence(clusterAttempts);
    // A gateway's own "user unknown" for mailboxes that were receiving mail, on the sender's usual IPs.
    const standsAlone = existing >= EXISTING_SHARE && invalid >= 0.5 && divergence < 0.1;
    const onset = onsetOf(events);
    const host = closestSender(senderDrafts(), onset, onsetOf);
    const sameStory =
      host !== null &&
      sameOnset(host, onset, clusterAttempts) &&
      sharesFootprint(events, host.events) &&
      !refusesBeyondFootprint(host, orgSet, onset, c.attempts);
    // Same onset and footprint as a sender incident: part of its story. A broken control group alone is not
    // enough (a recipient change can happen on the day of a sender problem); it lowers the confidence instead.
    if (host && !standsAlone && sameStory) {
      // An organisation inside the cluster may still tell its own story: its gateway calling mailboxes that were
      // receiving mail unknown, in numbers list decay does not reach. The rest is the sender's.
      const own = new Set(
        cluster.orgs.filter((org) =>
          orgStandsAlone(
            events.filter((e) => e.organisation === org),
            input.previouslyDelivered,
          ),
        ),
      );
      const shared = events.filter((e) => !own.has(e.organisation));
      for (const e of shared) claimed.add(e);
      absorb(host, shared);
      if (own.size === 0) continue;
      events = events.filter((e) => own.has(e.organisation));
    }
    for (const e of events) claimed.add(e);
    const orgsHere = new Set(events.map((e) => e.organisation));
    const attemptsHere = c.attempts.filter((a) => orgsHere.has(a.event.organisation));
    const invalidHere = events.filter((e) => category(e) === "invalid_recipient").length / events.length;
    const existingHere = events.filter((e) => input.previouslyDelivered(e)).length / events.length;
    const policy = 1 - invalidHere;
    const concentrated = concentratedOnSomeIps(attemptsHere);
    // Departed contacts at a few small organisations ("user unknown", a bounce or two each) are list decay,
    // however recently they received mail: a directory or policy change shows as several per organisation.
    const perOrg = tallyOf(events.map((e) => e.organisation));
    const mostAtOneOrg = Math.max(...perOrg.values());
    const decayLike = invalidHere >= 0.5 && (events.length < MIN_CLUSTER_BOUNCES || mostAtOneOrg < 3);
    let verdict: Verdict =
      !decayLike && (existingHere >= EXISTING_SHARE || policy >= 0.5) ? "recipient_filter" : "list_decay";
    let side: Side = verdict === "recipient_filter" ? "recipient" : "neutral";
    // A gateway refusing some of the sender's IPs and not the others judges those IPs: sender reputation.
    if (concentrated && invalidHere < 0.5) {
      verdict = "sender_reputation";
      side = "sender";
    }
    drafts.push({
      verdict,
      side,
      basis: "recipient_cluster",
      events: [...new Set(events)],
      localisation: null,
      absorbed: [],
      unitTest: c.gwTest.get(cluster.gateway),
      ipMixDivergence: orgsHere.size === orgSet.size ? divergence : ipMixDivergence(attemptsHere),
      breadth: 1,
    });
  }
  return drafts;
}

/** A campaign carrying at least this share of a sender incident's bounces is part of its footprint. */
const FOOTPRINT_CAMPAIGN_SHARE = 0.05;

/**
 * Whether a cluster's organisations refuse the mail a sender incident does not touch: a content block hits its
 * campaigns, so mail of other campaigns still passes elsewhere; a recipient policy refuses everything. Needs the
 * cluster's out-of-footprint mail to bounce at half or more, and three times the rate it has at other
 * organisations (a sender fault on every stream has no mail outside its footprint, or fails it everywhere).
 */
function refusesBeyondFootprint(
  host: IncidentDraft,
  clusterOrgs: ReadonlySet<string>,
  onset: string,
  attempts: readonly Attempt[],
): boolean {
  const byCampaign = tallyOf(host.events.map((e) => e.campaign ?? ""));
  const footprint = new Set(
    [...byCampaign].filter(([, n]) => n >= FOOTPRINT_CAMPAIGN_SHARE * host.events.length).map(([k]) => k),
  );
  let inCluster = 0;
  let inClusterHard = 0;
  let elsewhere = 0;
  let elsewhereHard = 0;
  for (const a of attempts) {
    if (a.event.consumer || a.event.occurredAt < onset || footprint.has(a.event.campaign ?? "")) continue;
    if (clusterOrgs.has(a.event.organisation)) {
      inCluster++;
      if (a.hard) inClusterHard++;
    } else {
      elsewhere++;
      if (a.hard) elsewhereHard++;
    }
  }
  if (inClusterHard < 3) return false;
  const rate = inClusterHard / inCluster;
  const otherRate = (elsewhereHard + 1) / (elsewhere + 2);
  return rate >= 0.5 && rate >= 3 * otherRate;
}

/**
 * One organisation's own evidence inside a cluster that shares a sender incident's onset: its gateway calls
 * mailboxes unknown that were receiving mail, more of them than departed contacts make.
 */
function orgStandsAlone(
  events: readonly NormalizedEvent[],
  previouslyDelivered: (e: NormalizedEvent) => boolean,
): boolean {
  if (events.length < MIN_CLUSTER_BOUNCES) return false;
  const invalid = events.filter((e) => e.classification?.category === "invalid_recipient");
  return (
    invalid.length >= 0.5 * events.length &&
    invalid.filter(previouslyDelivered).length >= EXISTING_SHARE * invalid.length
  );
}

/**
 * Whether a cluster began with the sender incident: within the hour, or at the first mail its organisations got
 * after the sender incident began (sparse traffic reaches a small cluster hours later; no delivery in between).
 */
function sameOnsetAs(
  senderOnset: string,
  clusterOnset: string,
  clusterAttempts: readonly { readonly event: NormalizedEvent; readonly hard: boolean }[],
): boolean {
  const gap = Date.parse(clusterOnset) - Date.parse(senderOnset);
  if (Math.abs(gap) <= HOUR) return true;
  if (gap < 0) return false;
  const between = clusterAttempts.filter(
    (a) => !a.hard && a.event.occurredAt >= senderOnset && a.event.occurredAt < clusterOnset,
  ).length;
  return between <= 2;
}

/** Adds a cluster's bounces and organisations to a sender incident's story. */
function absorb(host: IncidentDraft, events: readonly NormalizedEvent[]): void {
  host.events.push(...events);
  const orgs = new Set(host.absorbed);
  for (const e of events) orgs.add(e.organisation);
  host.absorbed.splice(0, host.absorbed.length, ...[...orgs].sort());
}

interface SenderFinding {
  readonly localisation: Localisation;
  /** The attempts on the chosen elements. */
  readonly attempts: readonly Attempt[];
}

/**
 * The sender dimension whose few elements explain the excess with the most surprise, provided the cause is
 * concentrated (the chosen elements far worse than the rest of the dimension) and broad (unrelated recipient
 * groups, none dominant): a gateway that refuses everything is not a sending-IP problem.
 */
function bestSenderLocalisation(
  attempts: readonly Attempt[],
  groupOf: (e: NormalizedEvent) => string,
): SenderFinding | null {
  const findings: SenderFinding[] = [];
  for (const dimension of SENDER_DIMENSIONS) {
    const stats = elementStats(attempts, dimension);
    if (stats.length < 2) continue;
    const l = localiseDimension(dimension, stats);
    if (!l?.localised) continue;
    // Elements carrying nearly all the mail are not a localisation: the cause may be anything that mail shares.
    if (l.rest.attempts < (1 - MAX_CHOSEN_SHARE) * sum(stats.map((x) => x.attempts))) continue;
    const chosen = new Set(l.elements.map((e) => e.element));
    const on = attempts.filter((a) => chosen.has(a.coordinates[dimension] ?? ""));
    const chosenRatio =
      sum(l.elements.map((e) => e.actual)) / Math.max(sum(l.elements.map((e) => e.expected)), 1);
    const restRatio = l.rest.actual / Math.max(l.rest.expected, 1);
    if (chosenRatio < CONCENTRATION * Math.max(restRatio, 1)) continue;
    const breadth = breadthOf(on, groupOf);
    if (breadth.groups < MIN_BREADTH || breadth.topShare > MAX_GROUP_SHARE) continue;
    findings.push({ localisation: l, attempts: on });
  }
  // The elements that explain the most of the excess are the cause; another dimension's elements localise too when
  // they happen to share the failing mail (a campaign sent from the failing pool). Near ties go to the surprise.
  const power = (f: SenderFinding) => sum(f.localisation.elements.map((e) => e.explanatoryPower));
  const standing = findings.filter((f) => !findings.some((g) => g !== f && explainedBy(f, g)));
  if (standing.length > 0) findings.splice(0, findings.length, ...standing);
  findings.sort((a, b) =>
    Math.abs(power(a) - power(b)) > POWER_TIE
      ? power(b) - power(a)
      : b.localisation.surprise - a.localisation.surprise,
  );
  return findings[0] ?? null;
}

/**
 * Whether another dimension's elements explain a finding: since its bounces began, the finding's own mail outside
 * the other's elements is at baseline (a campaign failing only where it left from the failing pool).
 */
function explainedBy(f: SenderFinding, g: SenderFinding): boolean {
  const times = f.attempts
    .filter((a) => a.hard)
    .map((a) => a.event.occurredAt)
    .sort();
  const onset = times[Math.floor(times.length * 0.05)];
  if (onset === undefined) return false;
  const other = new Set(g.localisation.elements.map((e) => e.element));
  const dimension = g.localisation.dimension;
  const outside = f.attempts.filter(
    (a) => a.event.occurredAt >= onset && !other.has(a.coordinates[dimension] ?? ""),
  );
  if (outside.length < 10) return false;
  const actual = outside.filter((a) => a.hard).length;
  const expected = sum(outside.map((a) => a.expected));
  return actual < CONCENTRATION * Math.max(expected, 1);
}

/** Recipient groups carrying excess bounces among these attempts, and the largest group's share of the excess. */
function breadthOf(
  attempts: readonly Attempt[],
  groupOf: (e: NormalizedEvent) => string,
): { groups: number; topShare: number } {
  const by = new Map<string, number>();
  for (const a of attempts) {
    const g = groupOf(a.event);
    by.set(g, (by.get(g) ?? 0) + (a.hard ? 1 : 0) - a.expected);
  }
  const excesses = [...by.values()].filter((x) => x >= 1);
  const total = sum(excesses);
  return { groups: excesses.length, topShare: total > 0 ? Math.max(...excesses) / total : 1 };
}

/** Verdict of a localised sender cause, from its bounces' wording and the dimension it sits on. */
function localisedVerdict(dimension: Dimension, events: readonly NormalizedEvent[]): Verdict {
  const categories = events.map((e) => e.classification?.category ?? "unknown");
  const internal = events.filter(
    (e) => e.classification?.category === "esp_internal" || (e.smtp?.code == null && !e.smtp?.text),
  ).length;
  if (internal / Math.max(events.length, 1) >= 0.4) return "esp_fault";
  const telling = tallyOf(categories.filter((c) => !NEUTRAL.has(c)));
  const [top] = [...telling].sort((a, b) => b[1] - a[1])[0] ?? [];
  if (top) {
    const mapped = SENDER_VERDICT[top as Category];
    if (mapped) return mapped;
    if (top === "policy_block" || top === "rate_limited")
      return dimension === "campaign" ? "content_block" : "sender_reputation";
  }
  if (dimension === "campaign") return "content_block";
  return "esp_fault";
}

interface RecipientCluster {
  readonly gateway: string;
  readonly orgs: readonly string[];
  readonly events: readonly NormalizedEvent[];
}

/**
 * Organisations and gateways tested again on their unclaimed bounces only, so a sender problem leaves no
 * recipient-side echoes; a gateway-wide change also brings in organisations too small to spike alone. Consumer
 * providers are left out: they are the control group.
 */
function recipientClusters(
  c: WindowCounts,
  claimed: ReadonlySet<NormalizedEvent>,
  thresholds: SpikeThresholds,
  gatewayOf: (org: string) => string,
): RecipientCluster[] {
  const open = c.hardEvents.filter((e) => !e.consumer && !claimed.has(e));
  const byOrg = new Map<string, NormalizedEvent[]>();
  for (const e of open) byOrg.set(e.organisation, [...(byOrg.get(e.organisation) ?? []), e]);
  const residual = (orgs: Iterable<string>): number => {
    let n = 0;
    for (const o of orgs) n += byOrg.get(o)?.length ?? 0;
    return n;
  };
  const orgNames = c.orgNames.filter((o) => !c.orgW.get(o)?.consumer);
  const residualOrgTests = testSpikes(
    orgNames.map((o) => ({ ...c.unit(c.orgW.get(o), c.orgB.get(o)), hardBounces: residual([o]) })),
    c.prior,
    thresholds,
  );
  const corporate = (g: string) => [...(c.gwW.get(g)?.orgs ?? [])].filter((o) => !c.orgW.get(o)?.consumer);
  const residualGwTests = testSpikes(
    c.gwNames.map((g) => ({ ...c.unit(c.gwW.get(g), c.gwB.get(g)), hardBounces: residual(corporate(g)) })),
    c.prior,
    thresholds,
  );
  const byGateway = new Map<string, string[]>();
  orgNames.forEach((org, i) => {
    if (!residualOrgTests[i]?.spike) return;
    const g = gatewayOf(org);
    byGateway.set(g, [...(byGateway.get(g) ?? []), org]);
  });
  c.gwNames.forEach((g, i) => {
    if (!residualGwTests[i]?.spike || byGateway.has(g)) return;
    byGateway.set(
      g,
      corporate(g).filter((o) => residual([o]) > 0),
    );
  });
  for (const [g, orgs] of byGateway) {
    if (g === "unknown" || g === "self_hosted" || orgs.length < 2) continue;
    const inCluster = new Set(orgs);
    const top = topCategory(
      orgs.flatMap((o) => byOrg.get(o) ?? []),
      (e) => e.classification?.category ?? "unknown",
    );
    if (!top || top === "invalid_recipient") continue;
    for (const o of corporate(g))
      if (!inCluster.has(o) && (byOrg.get(o) ?? []).some((e) => e.classification?.category === top))
        inCluster.add(o);
    byGateway.set(g, [...inCluster].sort());
  }
  const clusters: RecipientCluster[] = [];
  for (const [g, orgs] of [...byGateway].sort()) {
    const groupable = g !== "unknown" && g !== "self_hosted" && orgs.length >= 2;
    for (const group of groupable ? [orgs] : orgs.map((o) => [o])) {
      const events = group.flatMap((o) => byOrg.get(o) ?? []);
      if (events.length < thresholds.minHardBounces) continue;
      clusters.push({ gateway: g, orgs: group, events });
    }
  }
  return clusters;
}

/**
 * How far the bounces' spread over sending IPs is from the attempts' (Jensen–Shannon, bits): near 0 when every
 * IP bounces alike, toward 1 when the bounces sit on IPs that carry little of the mail.
 */
export function ipMixDivergence(attempts: readonly Attempt[]): number {
  const sent = new Map<string, number>();
  const bounced = new Map<string, number>();
  let hard = 0;
  for (const a of attempts) {
    const ip = a.coordinates.sendingIp;
    if (ip === null) continue;
    sent.set(ip, (sent.get(ip) ?? 0) + 1);
    if (a.hard) {
      bounced.set(ip, (bounced.get(ip) ?? 0) + 1);
      hard++;
    }
  }
  const total = sum([...sent.values()]);
  if (hard === 0 || total === 0) return 0;
  let js = 0;
  for (const [ip, n] of sent) js += jensenShannon(n / total, (bounced.get(ip) ?? 0) / hard);
  return Math.min(1, js);
}

/** Whether nine in ten of the bounces sit on IPs that carry at most 60% of the attempts. */
function concentratedOnSomeIps(attempts: readonly Attempt[]): boolean {
  const stats = elementStats(attempts, "sendingIp");
  const hard = sum(stats.map((s) => s.actual));
  const total = sum(stats.map((s) => s.attempts));
  if (stats.length < 2 || hard < 5) return false;
  const byRate = [...stats].sort((a, b) => b.actual / b.attempts - a.actual / a.attempts);
  let carried = 0;
  let sent = 0;
  for (const s of byRate) {
    carried += s.actual;
    sent += s.attempts;
    if (carried >= 0.9 * hard) return sent <= 0.6 * total;
  }
  return false;
}

/** Whether a cluster's bounces came from the same campaigns and sending IPs as the sender incident's. */
function sharesFootprint(cluster: readonly NormalizedEvent[], sender: readonly NormalizedEvent[]): boolean {
  const ips = new Set(sender.map((e) => e.sendingIp).filter((x) => x !== null));
  const campaigns = new Set(sender.map((e) => e.campaign).filter((x) => x !== null));
  const onIps = cluster.filter((e) => e.sendingIp === null || ips.has(e.sendingIp)).length;
  const inCampaigns = cluster.filter((e) => e.campaign === null || campaigns.has(e.campaign)).length;
  return onIps >= 0.8 * cluster.length && inCampaigns >= 0.8 * cluster.length;
}

/** The sender incident whose onset is nearest. */
function closestSender(
  senders: readonly IncidentDraft[],
  onset: string,
  onsetOf: (events: readonly NormalizedEvent[]) => string,
): IncidentDraft | null {
  let best: IncidentDraft | null = null;
  let gap = Number.POSITIVE_INFINITY;
  for (const s of senders) {
    const g = Math.abs(Date.parse(onsetOf(s.events)) - Date.parse(onset));
    if (g < gap) {
      gap = g;
      best = s;
    }
  }
  return best;
}

/** The first bounce of the cluster's most common telling category (list decay earlier in the day aside). */
function dominantOnset(
  events: readonly NormalizedEvent[],
  category: (e: NormalizedEvent) => Category | "unknown",
): string {
  const top = topCategory(events, category);
  const times = events
    .filter((e) => top === null || category(e) === top)
    .map((e) => e.occurredAt)
    .sort();
  return times[0] ?? events.map((e) => e.occurredAt).sort()[0] ?? "1970-01-01T00:00:00.000Z";
}

function topCategory(
  events: readonly NormalizedEvent[],
  category: (e: NormalizedEvent) => Category | "unknown",
): Category | "unknown" | null {
  const t = tallyOf(events.map(category));
  return [...t].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])))[0]?.[0] ?? null;
}

export function tallyOf<T>(items: readonly T[]): Map<T, number> {
  const m = new Map<T, number>();
  for (const x of items) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, x) => a + x, 0);
}
