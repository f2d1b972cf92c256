import type { Side } from "../classify/taxonomy.ts";
import type { NormalizedEvent } from "../events/normalized-event.ts";
import type { Incident, Verdict } from "../report/report-schema.ts";
import type { ReputationObservation } from "../reputation/reputation-observation.ts";
import { latestSignals, type ReputationSignal } from "../reputation/reputation-signal.ts";
import { describeSignal, readSignals } from "../reputation/signal-evidence.ts";
import type { AnalysisInput } from "./analysis-input.ts";

/**
 * Block-list evidence: a listing of an IP that sent these bounces (or of any sending domain) points to the
 * sender; every check clean points away from it. Unknown answers are reported, never weighed. Returns the
 * confidence adjustment.
 */
export function reputationEvidence(
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
export function windowSignals(input: AnalysisInput): ReputationSignal[] {
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
export function signalEvidence(
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
