import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayLookup } from "../../../../shared/dns/gateway-lookup.ts";
import { NodeMxResolver } from "../../../../shared/dns/mx-resolver.ts";
import type { Report } from "../../../../shared/domain/report/report-schema.ts";
import { formatAlert } from "../../../../shared/notify/alert-message.ts";
import { runAnalysis } from "../../../../shared/pipeline/analyze/run-analysis.ts";
import {
  generateHistory,
  type History,
  type IncidentKind,
} from "../../../../shared/simulation/b2b-history.ts";
import { LocalObjectStore } from "../../../../shared/store/local-object-store.ts";
import { type DnsServer, startDnsServer } from "../../../support/dns-server.ts";
import { storeHistory } from "../../../support/store-history.ts";

// Scenario suite: six weeks of realistic B2B sending (generated), one injected incident each, analysed through
// the real pipeline (ingest batch writer, daily aggregates, DNS on loopback, spike tests, attribution).
const START = new Date("2026-09-01T00:00:00.000Z");
const DAYS = 42;
const DAY = 86_400_000;
const ONSET = new Date(START.getTime() + 40 * DAY);
const AT = new Date(ONSET.getTime() + DAY);

interface Outcome {
  readonly history: History;
  readonly report: Report;
}

let dns: DnsServer;
const zone: Record<string, { mx: Array<{ exchange: string; priority: number }> }> = {};

beforeAll(async () => {
  dns = await startDnsServer(zone);
});
afterAll(async () => {
  await dns.stop();
});

async function scenario(seed: number, kinds: IncidentKind[]): Promise<Outcome> {
  const history = generateHistory({
    seed,
    start: START,
    days: DAYS,
    organisations: 250,
    incidents: kinds.map((kind) => ({ kind, at: ONSET })),
  });
  Object.assign(zone, history.zone);
  const store = new LocalObjectStore(await mkdtemp(join(tmpdir(), `br-scenario-${seed}-`)));
  await storeHistory(store, history.events, `history-${seed}`);
  const gateways = new GatewayLookup(
    new NodeMxResolver({ servers: [dns.address], timeoutMs: 500, tries: 1 }),
    store,
    {
      now: () => AT,
    },
  );
  const { report } = await runAnalysis(
    { at: AT, windowHours: 24, baselineDays: 28, maskRecipients: true },
    { store, gateways, now: () => AT, log: () => undefined },
  );
  return { history, report };
}

const alerts = (r: Report) => r.incidents.filter((i) => i.alert);

describe("analysis scenarios", () => {
  it("raises no alert on a quiet day, including for tiny organisations with 1-2 genuine bounces", async () => {
    const { history, report } = await scenario(101, []);
    expect(history.events.length).toBeGreaterThan(30_000);
    expect(alerts(report)).toEqual([]);
    const tiny = new Set(history.organisations.filter((o) => o.listSize <= 2).map((o) => o.domain));
    expect(report.organisations.filter((o) => tiny.has(o.domain) && o.spike)).toEqual([]);
  });

  it.each<[IncidentKind, number]>([
    ["gateway_user_unknown_one_org", 201],
    ["gateway_policy_change", 202],
    ["ip_blocklisted", 203],
    ["dmarc_failing", 204],
    ["content_block", 205],
    ["esp_pool_fault", 206],
  ])("finds %s with the right verdict, side and scope, and nothing else alerts", async (kind, seed) => {
    const { history, report } = await scenario(seed, [kind]);
    const injected = history.incidents[0];
    expect(injected).toBeDefined();
    if (!injected) return;
    const found = alerts(report);
    const match = found.find((i) => i.verdict === injected.expected.verdict);
    expect(
      match,
      `alerts: ${JSON.stringify(found.map((i) => [i.verdict, i.confidence, i.scope.gateways, i.scope.sendingIps]))} all: ${JSON.stringify(report.incidents.map((i) => [i.verdict, i.confidence, i.scope.gateways]))}`,
    ).toBeDefined();
    expect(match?.side).toBe(injected.expected.side);
    // No alert blames the other side.
    expect(found.filter((i) => i.side !== injected.expected.side)).toEqual([]);
    if (injected.gateway && injected.expected.side === "recipient") {
      expect(match?.scope.gateways).toEqual([injected.gateway]);
      expect(match?.scope.domains).toEqual(expect.arrayContaining(injected.organisations.slice(0, 1)));
    }
    // Every alert of the suite fits an SMS, whatever its lifecycle stage.
    for (const i of found) {
      for (const stage of ["new", "escalated", "resolved"] as const) {
        const message = formatAlert(stage, i, {
          reportUri: "s3://bucket/reports/latest.json",
          window: report.window,
        });
        expect(message.sms.length).toBeLessThanOrEqual(140);
        expect(message.subject.length).toBeLessThanOrEqual(100);
      }
    }
    if (kind === "ip_blocklisted") expect(match?.scope.sendingIps).toEqual(injected.sendingIps);
    if (kind === "esp_pool_fault") {
      expect(match?.scope.sendingIps.length).toBeGreaterThan(0);
      for (const ip of match?.scope.sendingIps ?? []) expect(injected.sendingIps).toContain(ip);
    }
    if (kind === "gateway_user_unknown_one_org") {
      expect(match?.metrics.previouslyDelivered).toBeGreaterThan(0.5);
      expect(match?.wronglySuppressed.length).toBeGreaterThan(0);
    }
  });
});
