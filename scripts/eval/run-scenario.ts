/**
 * One evaluation scenario through the real pipeline: generate the history, land it through the real batch writer
 * (one batch per ESP source) into a LocalObjectStore in a temporary folder, resolve gateways from the world's own MX
 * zone (no DNS), run the analysis at the end of the history, and match what it reported to what was injected.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GatewayLookup } from "../../shared/dns/gateway-lookup.ts";
import type { ProviderEvent } from "../../shared/domain/events/normalized-event.ts";
import { runAnalysis } from "../../shared/pipeline/analyze/run-analysis.ts";
import { SeenEventIds } from "../../shared/pipeline/ingest/seen-event-ids.ts";
import { writeBatch } from "../../shared/pipeline/ingest/write-batch.ts";
import { generateHistory } from "../../shared/simulation/b2b-history.ts";
import { ZoneMxResolver } from "../../shared/simulation/zone-mx-resolver.ts";
import { LocalObjectStore } from "../../shared/store/local-object-store.ts";
import type { ObjectStore } from "../../shared/store/object-store.ts";
import {
  type InjectedTruth,
  matchReported,
  type ReportedIncident,
  type ScenarioResult,
} from "./attribution-metrics.ts";
import type { TextPicker } from "./attribution-texts.ts";
import { type Scenario, toIncidentSpec } from "./scenario-catalogue.ts";

const HOUR = 3_600_000;

/** Lands events through the real batch writer, one batch per ESP source, as an ingest of each would. */
async function land(store: ObjectStore, events: readonly ProviderEvent[], batchId: string): Promise<void> {
  const bySource = new Map<ProviderEvent["source"], ProviderEvent[]>();
  for (const e of events) {
    const list = bySource.get(e.source);
    if (list) list.push(e);
    else bySource.set(e.source, [e]);
  }
  const seen = new SeenEventIds(store);
  for (const [source, list] of bySource) {
    await writeBatch(store, seen, {
      source,
      batchId: `${batchId}-${source}`,
      rawDate: list[0]?.occurredAt.slice(0, 10) ?? "1970-01-01",
      rawParts: () => [],
      records: () => list.map((value, i) => ({ ref: `event ${i}`, value })),
      mapper: (r) => ({ ok: true, events: [r as ProviderEvent] }),
    });
  }
}

const isHard = (e: ProviderEvent): boolean => e.type === "bounced" && e.espClass === "hard";

export async function runScenario(
  s: Scenario,
  texts: TextPicker,
  tempRoot: string = tmpdir(),
): Promise<ScenarioResult> {
  const t0 = performance.now();
  const at = new Date(s.at);
  const history = generateHistory({
    ...s.world,
    seed: s.seed,
    start: new Date(s.world.start),
    incidents: s.incidents.map((i) => toIncidentSpec(i, (kind, gateway) => texts.texts(kind, gateway))),
  });
  const dir = await mkdtemp(join(tempRoot, `br-eval-${s.index}-`));
  try {
    const store = new LocalObjectStore(dir);
    await land(store, history.events, `history-${s.seed}`);
    const gateways = new GatewayLookup(new ZoneMxResolver(history.zone), store, { now: () => at });
    const { report } = await runAnalysis(
      { at, windowHours: 24, baselineDays: 28, maskRecipients: true },
      { store, gateways, now: () => at, log: () => undefined },
    );

    // What was injected inside the analysis window, per organisation; everything else hard is background.
    const from = new Date(at.getTime() - 24 * HOUR).toISOString();
    const to = at.toISOString();
    const owner = new Map<string, number>();
    history.incidents.forEach((inc, k) => {
      for (const id of inc.eventIds) owner.set(id, k);
    });
    const byOrg = history.incidents.map(() => ({}) as Record<string, number>);
    const background: Record<string, number> = {};
    let windowHard = 0;
    let windowAttempts = 0;
    for (const e of history.events) {
      if (e.occurredAt < from || e.occurredAt >= to) continue;
      if (e.type === "delivered" || e.type === "bounced") windowAttempts++;
      if (!isHard(e)) continue;
      windowHard++;
      const k = owner.get(e.id);
      const counts = k === undefined ? background : (byOrg[k] as Record<string, number>);
      counts[e.recipientDomain] = (counts[e.recipientDomain] ?? 0) + 1;
    }
    const injected: InjectedTruth[] = history.incidents.map((inc, k) => {
      const spec = s.incidents[k];
      if (!spec) throw new Error(`scenario ${s.id}: no spec for incident ${k}`);
      return {
        kind: inc.kind,
        truth: spec.truth,
        start: inc.start.toISOString(),
        end: inc.end.toISOString(),
        byOrg: byOrg[k] ?? {},
        sendingIps: inc.sendingIps ?? [],
        ...(inc.campaign ? { campaign: inc.campaign } : {}),
        ...(inc.gateway ? { gateway: inc.gateway } : {}),
      };
    });
    // Which IPs each pool and ESP source sends from, to read an attribution to a pool or a source.
    const ipsOf = new Map<string, string[]>(Object.entries(history.ipPools));
    for (const e of history.events) {
      if (!e.sendingIp) continue;
      const key = `source:${e.source}`;
      const list = ipsOf.get(key) ?? [];
      if (!list.includes(e.sendingIp)) list.push(e.sendingIp);
      ipsOf.set(key, list);
    }
    const reported = report.incidents.map((i) => {
      // The analysis names a campaign, pool or ESP source in its optional attribution (or a future scope field).
      const named = i.attribution?.elements?.map((x) => x.element) ?? [];
      const dimension = i.attribution?.dimension;
      const scopeCampaigns = (i.scope as { campaigns?: unknown }).campaigns;
      const campaigns = [
        ...(Array.isArray(scopeCampaigns) ? scopeCampaigns.map(String) : []),
        ...(dimension === "campaign" ? named : []),
      ];
      const blamedIps =
        dimension === "ipPool"
          ? named.flatMap((p) => ipsOf.get(p) ?? [])
          : dimension === "source"
            ? named.flatMap((src) => ipsOf.get(`source:${src}`) ?? [])
            : dimension === "sendingIp"
              ? named
              : [];
      const r: ReportedIncident = {
        verdict: i.verdict,
        side: i.side,
        confidence: i.confidence,
        alert: i.alert,
        firstSeen: i.firstSeen,
        domains: i.scope.domains,
        sendingIps: i.scope.sendingIps,
        gateways: i.scope.gateways,
        ...(campaigns.length > 0 ? { campaigns } : {}),
        ...(blamedIps.length > 0 ? { blamedIps } : {}),
        ...(i.attribution
          ? {
              attribution: [i.attribution.basis, dimension, named.join(",")].filter((x) => x).join(" "),
              features: i.attribution.features,
            }
          : {}),
        hardBounces: i.metrics.hardBounces,
      };
      return { ...r, ...matchReported(r, injected, background) };
    });
    return {
      id: s.id,
      family: s.family,
      seed: s.seed,
      injected,
      reported,
      windowHardBounces: windowHard,
      windowAttempts,
      events: history.events.length,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
