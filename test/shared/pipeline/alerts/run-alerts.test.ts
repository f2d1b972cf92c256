import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AlertPolicySchema } from "../../../../shared/domain/alerts/incident-lifecycle.ts";
import type { Incident, Report } from "../../../../shared/domain/report/report-schema.ts";
import type { AlertMessage } from "../../../../shared/notify/alert-message.ts";
import { SnsNotifier } from "../../../../shared/notify/sns-notifier.ts";
import { runAlerts } from "../../../../shared/pipeline/alerts/run-alerts.ts";
import { keys } from "../../../../shared/store/keys.ts";
import { LocalObjectStore } from "../../../../shared/store/local-object-store.ts";
import { type SnsServer, snsTestClient, startSnsServer } from "../../../support/sns-server.ts";

const TOPIC = "arn:aws:sns:eu-west-1:123456789012:bounce-radar-alerts";

const incident: Incident = {
  id: "inc-1",
  verdict: "sender_reputation",
  side: "sender",
  confidence: 0.95,
  alert: true,
  firstSeen: "2026-11-20T08:00:00.000Z",
  scope: {
    domains: ["acme-corp.com", "initech.co.uk"],
    gateways: ["mimecast", "proofpoint"],
    sendingIps: ["198.51.100.7"],
  },
  metrics: {
    attempts: 400,
    hardBounces: 120,
    rate: 0.3,
    baselineRate: 0.01,
    previouslyDelivered: 0.9,
    bouncedAddresses: 120,
  },
  evidence: [{ signal: "sending_infrastructure", detail: "concentrated on 198.51.100.7" }],
  samples: [
    {
      recipient: "jane.doe@acme-corp.com",
      text: "550 5.7.1 blocked using zen.spamhaus.org",
      category: "reputation_block",
    },
  ],
  wronglySuppressed: [],
  actions: ["Check block lists for 198.51.100.7."],
};

const report = (incidents: Incident[]): Report =>
  ({
    runId: "run-1",
    window: { start: "2026-11-20T00:00:00.000Z", end: "2026-11-21T00:00:00.000Z" },
    incidents,
  }) as unknown as Report;

describe("runAlerts through SNS", () => {
  let sns: SnsServer;
  let store: LocalObjectStore;
  beforeEach(async () => {
    sns = await startSnsServer();
    store = new LocalObjectStore(await mkdtemp(join(tmpdir(), "br-alerts-")));
  });
  afterEach(async () => {
    await sns.stop();
  });

  const deps = (maxAttempts = 3) => ({
    store,
    notifier: new SnsNotifier({
      topicArn: TOPIC,
      client: snsTestClient(sns),
      maxAttempts,
      sleep: async () => undefined,
    }),
    policy: AlertPolicySchema.parse({}),
    now: () => new Date("2026-11-21T00:05:00.000Z"),
    log: () => undefined,
    reportUri: "s3://bounce-radar-data/reports/2026/11/20/run-1/report.json",
  });

  it("publishes once with masked samples and filterable attributes, and stays silent on the next run", async () => {
    const first = await runAlerts(report([incident]), deps());
    expect(first.sent).toEqual([{ kind: "new", key: "sender_reputation" }]);
    expect(sns.publishes).toHaveLength(1);
    const p = sns.publishes[0];
    expect(p?.attributes).toMatchObject({
      verdict: { stringValue: "sender_reputation" },
      side: { stringValue: "sender" },
      severity: { stringValue: "critical" },
    });
    const message = JSON.parse(p?.message ?? "{}") as { default: string; email: string; sms: string };
    expect(message.sms.length).toBeLessThanOrEqual(140);
    expect(message.email).toContain("j***@acme-corp.com");
    expect(message.email).not.toContain("jane.doe@");
    const second = await runAlerts(report([incident]), deps());
    expect(second.sent).toEqual([]);
    expect(sns.publishes).toHaveLength(1);
  });

  it("retries a failed publish, and when it keeps failing reports it and leaves the incident unalerted", async () => {
    sns.failNext(1, 500);
    expect((await runAlerts(report([incident]), deps())).sent).toHaveLength(1);

    const fresh = new LocalObjectStore(await mkdtemp(join(tmpdir(), "br-alerts-")));
    sns.failNext(2, 500); // both attempts fail
    const failed = await runAlerts(report([incident]), { ...deps(2), store: fresh });
    expect(failed.sent).toEqual([]);
    expect(failed.failed[0]?.error).toContain(TOPIC);
    const retried = await runAlerts(report([incident]), { ...deps(), store: fresh });
    expect(retried.sent).toEqual([{ kind: "new", key: "sender_reputation" }]);
  });

  it("sends nothing while another run holds the lease, and breaks a lease left by a dead run", async () => {
    await store.put(
      keys.alertsLease(),
      JSON.stringify({ runId: "other", expiresAt: "2026-11-21T00:10:00.000Z" }),
    );
    const blocked = await runAlerts(report([incident]), deps());
    expect(blocked.skipped).toMatch(/another run/);
    expect(sns.publishes).toHaveLength(0);
    await store.put(
      keys.alertsLease(),
      JSON.stringify({ runId: "dead", expiresAt: "2026-11-20T23:00:00.000Z" }),
    );
    expect((await runAlerts(report([incident]), deps())).sent).toHaveLength(1);
    expect(await store.get(keys.alertsLease())).toBeNull();
  });
});

describe("runAlerts: only the live window, and a damaged state never gives an all-clear", () => {
  let store: LocalObjectStore;
  let published: AlertMessage[];
  beforeEach(async () => {
    store = new LocalObjectStore(await mkdtemp(join(tmpdir(), "br-alerts-")));
    published = [];
  });

  const windowEnding = (end: string, incidents: Incident[]): Report =>
    ({
      runId: `run-${end}`,
      window: { start: new Date(Date.parse(end) - 86_400_000).toISOString(), end },
      incidents,
    }) as unknown as Report;
  const logs: string[] = [];
  const deps = (extra: { evenIfBehindLiveEdge?: boolean } = {}) => ({
    store,
    notifier: {
      publish: async (m: AlertMessage) => {
        published.push(m);
        return { messageId: String(published.length) };
      },
    },
    policy: AlertPolicySchema.parse({}),
    now: () => new Date("2026-11-21T00:05:00.000Z"),
    log: (line: string) => logs.push(line),
    reportUri: "reports/x/report.json",
    ...extra,
  });
  const stateText = async () => Buffer.from((await store.get(keys.alerts())) ?? []).toString();

  it("a backfill behind the live edge sends nothing and leaves the state byte for byte", async () => {
    await runAlerts(windowEnding("2026-11-21T00:00:00.000Z", [incident]), deps());
    expect(published).toHaveLength(1);
    const before = await stateText();
    expect(JSON.parse(before).liveWindowEnd).toBe("2026-11-21T00:00:00.000Z");
    // Yesterday, before the incident: as a live run this would be the all-clear.
    const backfill = await runAlerts(windowEnding("2026-11-20T00:00:00.000Z", []), deps());
    expect(backfill).toMatchObject({ sent: [], skipped: expect.stringMatching(/a backfill/) });
    expect(published).toHaveLength(1);
    expect(await stateText()).toBe(before);
    // Asked explicitly, it runs the lifecycle, and the live edge stays where it was.
    const forced = await runAlerts(
      windowEnding("2026-11-20T00:00:00.000Z", []),
      deps({ evenIfBehindLiveEdge: true }),
    );
    expect(forced.sent).toEqual([{ kind: "resolved", key: "sender_reputation" }]);
    expect(JSON.parse(await stateText()).liveWindowEnd).toBe("2026-11-21T00:00:00.000Z");
  });

  it.each([
    ["truncated", (s: string) => s.slice(0, s.length / 2), /not JSON/],
    [
      "valid JSON of the wrong shape",
      () => '{"version": 1, "open": [1, 2, 3]}',
      /not an alert state \(open:/,
    ],
    ["an array", () => "[1,2,3]", /not an alert state/],
  ])("a %s state is named, kept aside, and never resolves the open incident", async (_, damage, why) => {
    await runAlerts(windowEnding("2026-11-21T00:00:00.000Z", [incident]), deps());
    const damaged = damage(await stateText());
    await store.put(keys.alerts(), damaged);
    // The next live run no longer sees the incident: with the state intact this is the all-clear.
    const next = await runAlerts(windowEnding("2026-11-21T01:00:00.000Z", []), deps());
    expect(next.sent).toEqual([]);
    expect(published.map((m) => m.subject)).toHaveLength(1);
    expect(next.damagedState).toMatch(why);
    expect(next.damagedState).toMatch(/state\/alerts\.json is damaged.*state\/alerts\.damaged\.json/);
    expect(logs.some((l) => l.includes("WARNING: state/alerts.json is damaged"))).toBe(true);
    expect(Buffer.from((await store.get(keys.alertsDamaged())) ?? []).toString()).toBe(damaged);
  });
});
