import { analyse, type BaselineRow } from "../../domain/analysis/analyse.ts";
import type { StageMeasure } from "../../domain/analysis/analysis-input.ts";
import { finalEvents } from "../../domain/analysis/outcomes.ts";
import type { SpikeThresholds } from "../../domain/analysis/spike-statistics.ts";
import type { NormalizedEvent } from "../../domain/events/normalized-event.ts";
import { type Report, ReportSchema } from "../../domain/report/report-schema.ts";
import {
  latestObservations,
  ReputationBatchSchema,
  type ReputationObservation,
} from "../../domain/reputation/reputation-observation.ts";
import {
  type ReputationSignal,
  SIGNAL_SOURCES,
  SignalBatchSchema,
} from "../../domain/reputation/reputation-signal.ts";
import { renderReportHtml } from "../../reports/render-html.ts";
import { keys, utcDate } from "../../store/keys.ts";
import { readNdjsonGz } from "../../store/ndjson-gzip.ts";
import type { ObjectStore } from "../../store/object-store.ts";
import { addressHash, type DaySources, readDayEvents } from "./daily-aggregates.ts";
import { DerivedDays, dayInputs, daySources } from "./derived-days.ts";

const DAY = 86_400_000;
/** How far back a delivery proves an address exists. */
const HISTORY_DAYS = 90;

/** Resolves an organisation's recipient gateway; failures answer "unknown", never throw. */
export interface GatewayResolver {
  gatewayOf(domain: string, mxHostFromEsp?: string | null): Promise<{ gateway: string }>;
  save?(): Promise<unknown>;
}

export interface AnalyzeOptions {
  readonly at: Date;
  readonly windowHours: number;
  readonly baselineDays: number;
  readonly maskRecipients: boolean;
  readonly thresholds?: SpikeThresholds;
}

export interface AnalyzeDeps {
  readonly store: ObjectStore;
  readonly gateways: GatewayResolver;
  readonly now: () => Date;
  readonly log: (line: string) => void;
  /** Runs (and may time) each analysis stage: the bench's profiler. */
  readonly measure?: StageMeasure;
}

export interface AnalysisRun {
  readonly report: Report;
  readonly keys: readonly string[];
}

function daysBetween(first: string, last: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${first}T00:00:00Z`); t <= Date.parse(`${last}T00:00:00Z`); t += DAY)
    out.push(utcDate(new Date(t)));
  return out;
}

/**
 * One analysis run: refresh daily aggregates (only days whose events changed), read the window's events,
 * resolve gateways, test, attribute, and write report.json and report.html for the run and as latest.
 */
export async function runAnalysis(options: AnalyzeOptions, deps: AnalyzeDeps): Promise<AnalysisRun> {
  const { store } = deps;
  const end = options.at;
  const start = new Date(end.getTime() - options.windowHours * 3_600_000);
  const firstWindowDay = utcDate(start);
  const lastWindowDay = utcDate(new Date(end.getTime() - 1));
  const dayBefore = utcDate(new Date(Date.parse(`${firstWindowDay}T00:00:00Z`) - DAY));
  const baselineFirst = utcDate(
    new Date(Date.parse(`${firstWindowDay}T00:00:00Z`) - options.baselineDays * DAY),
  );
  const historyFirst = utcDate(new Date(Date.parse(`${firstWindowDay}T00:00:00Z`) - HISTORY_DAYS * DAY));

  // The window's events, read whole days: deliveries before the window's end count as recipient history.
  const raw: NormalizedEvent[] = [];
  const windowDeliveries = new Map<string, string>();
  const windowDays = daysBetween(firstWindowDay, lastWindowDay);
  for (const day of windowDays) {
    for await (const e of readDayEvents(store, day)) {
      const t = Date.parse(e.occurredAt);
      if (t >= start.getTime() && t < end.getTime()) raw.push(e);
      if (e.type === "delivered" && t < end.getTime())
        keepLatest(windowDeliveries, addressHash(e.recipient), e.occurredAt);
    }
  }
  const windowEvents = finalEvents(raw);

  // Whole days before the window: aggregates and last deliveries derived from events/, rebuilt where the
  // events changed or a derived object is damaged; the manifest that commits them is written last.
  const derived = await DerivedDays.open(store, deps.log);
  const pastDays = await mapInOrder(daysBetween(historyFirst, dayBefore), (day) => dayInputs(store, day));
  const rebuilt = await derived.refresh(pastDays);
  if (rebuilt.length > 0) deps.log(`analyze: rebuilt daily aggregates for ${rebuilt.length} day(s)`);
  const baselineRows: BaselineRow[] = [];
  for (const day of pastDays) {
    if (day.date < baselineFirst) continue;
    for (const row of await derived.baselineRows(day)) baselineRows.push(row);
  }
  const bouncedAddresses = new Set<string>();
  for (const e of windowEvents) if (e.type === "bounced") bouncedAddresses.add(addressHash(e.recipient));
  const lastDelivered = await derived.lastDeliveries(pastDays, bouncedAddresses);
  for (const [h, at] of windowDeliveries) if (bouncedAddresses.has(h)) keepLatest(lastDelivered, h, at);
  await derived.commit();
  const windowSources = await mapInOrder(windowDays, (day) => daySources(store, day));

  // Gateways: one lookup per organisation, preferring an MX host the ESP reported.
  const domainOf = new Map<string, { domain: string; mxHost: string | null }>();
  for (const r of baselineRows)
    if (!domainOf.has(r.organisation)) domainOf.set(r.organisation, { domain: r.organisation, mxHost: null });
  for (const e of windowEvents) {
    const known = domainOf.get(e.organisation);
    if (!known || (!known.mxHost && e.mxHost))
      domainOf.set(e.organisation, { domain: e.organisation, mxHost: e.mxHost ?? known?.mxHost ?? null });
  }
  const gatewayOf = new Map<string, string>();
  await Promise.all(
    [...domainOf].map(async ([org, { domain, mxHost }]) => {
      gatewayOf.set(org, (await deps.gateways.gatewayOf(domain, mxHost)).gateway);
    }),
  );
  await deps.gateways.save?.();

  // Recipient history: did each bounced address have a delivery in the 90 days before it bounced?
  const existed = new Set<string>();
  for (const e of windowEvents) {
    if (e.type !== "bounced") continue;
    const last = lastDelivered.get(addressHash(e.recipient));
    if (last && Date.parse(last) >= Date.parse(e.occurredAt) - HISTORY_DAYS * DAY) existed.add(e.id);
  }

  const reputation = await readReputation(store, start, end, deps.log);

  const runId = `run-${end
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z")}-${options.windowHours}h`;
  const report = ReportSchema.parse(
    analyse({
      runId,
      generatedAt: deps.now().toISOString(),
      window: { start: start.toISOString(), end: end.toISOString() },
      baseline: { start: `${baselineFirst}T00:00:00.000Z`, end: `${firstWindowDay}T00:00:00.000Z` },
      windowEvents,
      baselineRows,
      reputation: reputation.observations,
      reputationSignals: reputation.signals,
      gatewayOf,
      previouslyDelivered: (e) => existed.has(e.id),
      maskRecipients: options.maskRecipients,
      ...(deps.measure ? { measure: deps.measure } : {}),
      ...(options.thresholds ? { thresholds: options.thresholds } : {}),
      dataQuality: {
        ...(await dataQuality(store, raw, daysBetween(firstWindowDay, lastWindowDay))),
        gaps: dataGaps([...pastDays.filter((d) => d.date >= baselineFirst), ...windowSources]),
        ...(reputation.runs.length > 0 ? { reputationSources: reputation.runs } : {}),
      },
    }),
  );

  const json = `${JSON.stringify(report, null, 2)}\n`;
  const html = renderReportHtml(report);
  const reportDay = utcDate(new Date(end.getTime() - 1));
  const written = [
    keys.report(reportDay, runId, "report.json"),
    keys.report(reportDay, runId, "report.html"),
    keys.latestReport("latest.json"),
    keys.latestReport("latest.html"),
  ];
  await store.put(written[0] as string, json, { contentType: "application/json" });
  await store.put(written[1] as string, html, { contentType: "text/html; charset=utf-8" });
  await store.put(written[2] as string, json, { contentType: "application/json" });
  await store.put(written[3] as string, html, { contentType: "text/html; charset=utf-8" });
  if (report.incidents.length > 0) {
    await store.put(keys.incidentLog(reportDay, runId), incidentLines(report), {
      contentType: "application/x-ndjson",
    });
  }
  return { report, keys: written };
}

type SourceRunStatus = NonNullable<Report["dataQuality"]["reputationSources"]>[number];

/** How far back signal values are read: far enough to compare the window with the week before it. */
const SIGNAL_LOOKBACK_DAYS = 7;

/**
 * What the reputation runs stored around the window: the latest block-list observation per list and target
 * made up to the window's end and no earlier than a day before its start (reputation runs every few hours);
 * every other source's values from a week before the window to its end (so a drop shows); and the latest run
 * of each source, failed ones included. An unreadable batch is logged and skipped.
 */
async function readReputation(
  store: ObjectStore,
  start: Date,
  end: Date,
  log: (line: string) => void,
): Promise<{ observations: ReputationObservation[]; signals: ReputationSignal[]; runs: SourceRunStatus[] }> {
  const from = start.getTime() - DAY;
  const observations: ReputationObservation[] = [];
  const signals: ReputationSignal[] = [];
  const runs = new Map<string, SourceRunStatus>();
  const noteRun = (
    source: string,
    at: string,
    outcome: "ok" | "failed",
    error: string | null,
    badRows = 0,
  ) => {
    const prev = runs.get(source);
    const lastSuccessAt = outcome === "ok" ? at : null;
    // The latest run's count of unreadable provider rows, said only when there were some.
    const rows = badRows > 0 ? { badRows } : {};
    if (!prev) {
      runs.set(source, { source, lastRunAt: at, outcome, error, lastSuccessAt, ...rows });
      return;
    }
    const success =
      [prev.lastSuccessAt, lastSuccessAt]
        .filter((t): t is string => t !== null)
        .sort()
        .pop() ?? null;
    runs.set(
      source,
      prev.lastRunAt >= at
        ? { ...prev, lastSuccessAt: success }
        : { source, lastRunAt: at, outcome, error, lastSuccessAt: success, ...rows },
    );
  };
  const batches = async function* (source: string, fromMs: number) {
    for (const day of daysBetween(utcDate(new Date(fromMs)), utcDate(end))) {
      for await (const object of store.list(`reputation/source=${source}/dt=${day}/`)) {
        const body = await store.get(object.key);
        if (body) yield { key: object.key, json: Buffer.from(body).toString("utf8") };
      }
    }
  };
  const unreadable = (key: string, e: unknown) =>
    log(`analyze: skipping unreadable reputation batch ${key}: ${(e as Error).message}`);

  for await (const { key, json } of batches("dnsbl", from)) {
    try {
      const batch = ReputationBatchSchema.parse(JSON.parse(json));
      if (Date.parse(batch.observedAt) > end.getTime()) continue;
      noteRun("dnsbl", batch.observedAt, batch.outcome, batch.error);
      for (const o of batch.observations) {
        const t = Date.parse(o.observedAt);
        if (t >= from && t <= end.getTime()) observations.push(o);
      }
    } catch (e) {
      unreadable(key, e);
    }
  }
  for (const source of SIGNAL_SOURCES) {
    for await (const { key, json } of batches(source, start.getTime() - SIGNAL_LOOKBACK_DAYS * DAY)) {
      try {
        const batch = SignalBatchSchema.parse(JSON.parse(json));
        if (Date.parse(batch.observedAt) > end.getTime()) continue;
        noteRun(
          source,
          batch.observedAt,
          batch.outcome,
          batch.error,
          batch.badRowCount ?? batch.badRows?.length ?? 0,
        );
        signals.push(...batch.signals);
      } catch (e) {
        unreadable(key, e);
      }
    }
  }
  return {
    observations: latestObservations(observations),
    signals,
    runs: [...runs.values()].sort((a, b) => a.source.localeCompare(b.source)),
  };
}

/** The incidents of one run, flat, one JSON object per line (the Athena incidents table). */
export function incidentLines(report: Report): string {
  return report.incidents
    .map((i) =>
      JSON.stringify({
        runId: report.runId,
        windowEnd: report.window.end,
        id: i.id,
        verdict: i.verdict,
        side: i.side,
        confidence: i.confidence,
        alert: i.alert,
        firstSeen: i.firstSeen,
        domains: i.scope.domains,
        gateways: i.scope.gateways,
        sendingIps: i.scope.sendingIps,
        attempts: i.metrics.attempts,
        hardBounces: i.metrics.hardBounces,
        rate: i.metrics.rate,
        baselineRate: i.metrics.baselineRate,
      }),
    )
    .map((line) => `${line}\n`)
    .join("");
}

async function dataQuality(
  store: ObjectStore,
  windowEvents: readonly NormalizedEvent[],
  days: readonly string[],
): Promise<Report["dataQuality"]> {
  const bySource = new Map<string, { events: number; last: string | null }>();
  for (const e of windowEvents) {
    const s = bySource.get(e.source) ?? { events: 0, last: null };
    s.events++;
    if (!s.last || e.occurredAt > s.last) s.last = e.occurredAt;
    bySource.set(e.source, s);
  }
  let quarantined = 0;
  for await (const obj of store.list(keys.quarantinePrefix())) {
    if (!days.some((d) => obj.key.includes(`/dt=${d}/`))) continue;
    for await (const _ of readNdjsonGz(store, obj.key)) quarantined++;
  }
  return {
    sources: [...bySource].map(([source, s]) => ({ source, events: s.events, lastEventAt: s.last })),
    gaps: [],
    quarantined,
  };
}

/**
 * Whole days on which a source that had delivered data stored nothing: a stalled connector or a lost export,
 * which would otherwise read as a quiet day.
 */
export function dataGaps(days: readonly DaySources[]): Report["dataQuality"]["gaps"] {
  const gaps: Report["dataQuality"]["gaps"] = [];
  const sources = [...new Set(days.flatMap((d) => d.sources))].sort();
  for (const source of sources) {
    const present = days.map((d) => d.sources.includes(source));
    const first = present.indexOf(true);
    let runStart = -1;
    for (let i = first; i <= present.length; i++) {
      if (i < present.length && !present[i] && runStart < 0) runStart = i;
      if ((i === present.length || present[i]) && runStart >= 0) {
        const from = days[runStart]?.date ?? "";
        // A silence that lasts to the end is the one that matters most: a stalled connector.
        const to = i < days.length ? (days[i]?.date ?? "") : nextDay(days[days.length - 1]?.date ?? from);
        gaps.push({ source, from: `${from}T00:00:00.000Z`, to: `${to}T00:00:00.000Z` });
        runStart = -1;
      }
    }
  }
  return gaps;
}

/** Keeps the later instant of a delivery. */
function keepLatest(map: Map<string, string>, hash: string, at: string): void {
  const prev = map.get(hash);
  if (prev === undefined || at > prev) map.set(hash, at);
}

/** `work` over `items`, a few at a time (each lists several prefixes), results in the items' order. */
async function mapInOrder<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await work(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(8, items.length) }, worker));
  return out;
}

const nextDay = (date: string): string => utcDate(new Date(Date.parse(`${date}T00:00:00Z`) + DAY));
