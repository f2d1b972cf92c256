import { describe, expect, it } from "vitest";
import { analyse, type BaselineRow } from "../../../../shared/domain/analysis/analyse.ts";
import { type ConfidenceFeatures, probabilityOf } from "../../../../shared/domain/analysis/confidence.ts";
import type { NormalizedEvent } from "../../../../shared/domain/events/normalized-event.ts";
import { type Incident, ReportSchema } from "../../../../shared/domain/report/report-schema.ts";
import type { ReputationSignal } from "../../../../shared/domain/reputation/reputation-signal.ts";
import { completeEvent } from "../../../../shared/pipeline/ingest/complete-event.ts";

// A small hand-built world: 60 corporate organisations behind four gateways plus gmail.com, three sending IPs.
const GATEWAYS = ["mimecast", "microsoft365", "proofpoint", "google_workspace"];
const ORGS = Array.from({ length: 60 }, (_, i) => `corp${i}.co.uk`);
const IPS = ["198.51.100.1", "198.51.100.2", "198.51.100.3"];
const gatewayOf = new Map<string, string>([
  ...ORGS.map((o, i) => [o, GATEWAYS[i % 4] as string] as const),
  ["gmail.com", "gmail"],
]);
const WINDOW = { start: "2026-11-20T00:00:00.000Z", end: "2026-11-21T00:00:00.000Z" };

function baseline(): BaselineRow[] {
  const rows: BaselineRow[] = [];
  for (let d = 1; d <= 28; d++) {
    const date = `2026-10-${String(d + 3).padStart(2, "0")}`;
    for (const org of [...ORGS, "gmail.com"]) {
      const consumer = org === "gmail.com";
      for (const ip of IPS) {
        rows.push({
          date,
          organisation: org,
          consumer,
          sendingIp: ip,
          outcome: "delivered",
          count: consumer ? 30 : 10,
        });
      }
      // About 1% genuine user-unknown, spread out.
      if ((d + org.length) % 3 === 0)
        rows.push({
          date,
          organisation: org,
          consumer,
          sendingIp: IPS[d % 3] ?? null,
          outcome: "hard:invalid_recipient",
          count: 1,
        });
    }
  }
  return rows;
}

let n = 0;
function ev(
  org: string,
  ip: string,
  outcome: "delivered" | { text: string },
  recipient = `user${n}@${org}`,
): NormalizedEvent {
  n++;
  return completeEvent({
    id: `t:${n}`,
    source: "simulated",
    occurredAt: `2026-11-20T${String(n % 24).padStart(2, "0")}:00:00.000Z`,
    type: outcome === "delivered" ? "delivered" : "bounced",
    recipient,
    recipientDomain: org,
    smtp: outcome === "delivered" ? null : { code: 550, enhanced: null, text: outcome.text },
    espClass: outcome === "delivered" ? null : "hard",
    mxHost: null,
    sendingIp: ip,
    ipPool: null,
    messageId: `m${n}`,
    campaign: null,
  });
}

function windowTraffic(
  extra: (org: string, ip: string, i: number) => NormalizedEvent | null,
): NormalizedEvent[] {
  const out: NormalizedEvent[] = [];
  for (const org of [...ORGS, "gmail.com"]) {
    for (const [k, ip] of IPS.entries()) {
      const count = org === "gmail.com" ? 30 : 10;
      for (let i = 0; i < count; i++) out.push(extra(org, ip, k * count + i) ?? ev(org, ip, "delivered"));
    }
  }
  return out;
}

function run(
  windowEvents: NormalizedEvent[],
  existed: (e: NormalizedEvent) => boolean = () => false,
  reputationSignals: ReputationSignal[] = [],
) {
  return ReportSchema.parse(
    analyse({
      runId: "t",
      generatedAt: WINDOW.end,
      window: WINDOW,
      baseline: { start: "2026-10-04T00:00:00.000Z", end: WINDOW.start },
      windowEvents,
      baselineRows: baseline(),
      gatewayOf,
      previouslyDelivered: existed,
      maskRecipients: true,
      dataQuality: { sources: [], gaps: [], quarantined: 0 },
      reputationSignals,
    }),
  );
}

describe("analyse: attribution", () => {
  it("reports nothing on a quiet day", () => {
    const r = run(windowTraffic(() => null));
    expect(r.incidents).toEqual([]);
    expect(r.organisations.some((o) => o.spike)).toBe(false);
  });

  it("blames the Mimecast policy change on the recipient side, with the organisations behind it", () => {
    const MIMECAST_TEXT =
      "550 Administrative prohibition - envelope blocked - https://community.mimecast.com/docs/DOC-1369#550";
    const mimecastOrgs = ORGS.filter((o) => gatewayOf.get(o) === "mimecast");
    const r = run(
      windowTraffic((org, ip, i) =>
        gatewayOf.get(org) === "mimecast" && i % 2 === 0 ? ev(org, ip, { text: MIMECAST_TEXT }) : null,
      ),
    );
    const alerts = r.incidents.filter((i) => i.alert);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      verdict: "recipient_filter",
      side: "recipient",
      scope: { gateways: ["mimecast"], sendingIps: [] },
    });
    expect(alerts[0]?.scope.domains).toEqual(mimecastOrgs.sort());
    expect(alerts[0]?.samples[0]?.recipient).toMatch(/^u\*\*\*@corp\d+\.co\.uk$/);
  });

  it("blames a blocklisted sending IP on the sender side, across gateways and the control group", () => {
    const SPAMHAUS = "550 5.7.1 Service unavailable; client [198.51.100.2] blocked using zen.spamhaus.org";
    const r = run(
      windowTraffic((org, ip, i) =>
        ip === "198.51.100.2" && i % 3 !== 0 ? ev(org, ip, { text: SPAMHAUS }) : null,
      ),
    );
    const alerts = r.incidents.filter((i) => i.alert);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      verdict: "sender_reputation",
      side: "sender",
      scope: { sendingIps: ["198.51.100.2"] },
    });
    expect(alerts[0]?.scope.gateways.length).toBeGreaterThanOrEqual(4);
  });

  it("calls 'user unknown' for addresses delivered last week a recipient filter, and for never-delivered ones list decay", () => {
    const target = "corp2.co.uk"; // behind proofpoint
    const text = "550 5.1.1 <x@corp2.co.uk>: Recipient address rejected: User unknown";
    const events = windowTraffic((org, ip, i) =>
      org === target && i % 2 === 0 ? ev(org, ip, { text }) : null,
    );
    const filter = run(events, (e) => e.organisation === target).incidents.find((i) =>
      i.scope.domains.includes(target),
    );
    expect(filter).toMatchObject({ verdict: "recipient_filter", side: "recipient", alert: true });
    expect(filter?.wronglySuppressed.length).toBeGreaterThan(0);
    const decay = run(events, () => false).incidents.find((i) => i.scope.domains.includes(target));
    expect(decay).toMatchObject({ verdict: "list_decay", alert: false });
  });

  it("counts wrongly suppressed addresses on the full addresses, and masks those quoted in reply texts", () => {
    const target = "corp2.co.uk"; // behind proofpoint, which quotes the address in its reply
    const bounced = new Set<string>();
    const events = windowTraffic((org, ip, i) => {
      if (org !== target || i % 2 !== 0) return null;
      const recipient = `user${i}@${target}`;
      bounced.add(recipient);
      return ev(
        org,
        ip,
        { text: `550 5.1.1 <${recipient}>: Recipient address rejected: User unknown` },
        recipient,
      );
    });
    const report = run(events, (e) => e.organisation === target);
    const filter = report.incidents.find((i) => i.scope.domains.includes(target));
    // Masked, every one of them reads u***@corp2.co.uk; each is still one entry, so the list's length is the count.
    expect(bounced.size).toBe(15);
    expect(filter?.wronglySuppressed).toEqual(Array.from(bounced, () => `u***@${target}`));
    expect(filter?.samples[0]?.text).toMatch(/^550 5\.1\.1 <u\*\*\*@corp2\.co\.uk>: Recipient/);
    const json = JSON.stringify(report);
    for (const address of bounced) expect(json).not.toContain(`<${address}>`);
    expect(json).not.toMatch(/user\d+@/);
  });

  it("does not alert for a tiny organisation with two genuine bounces", () => {
    const tiny = "corp7.co.uk";
    let bounced = 0;
    const r = run(
      windowTraffic((org, ip) =>
        org === tiny && bounced++ < 2 ? ev(org, ip, { text: "550 5.1.1 User unknown" }) : null,
      ),
    );
    expect(r.incidents.filter((i) => i.alert)).toEqual([]);
  });
});

/** An incident's unrounded probability, from the features it reports. */
function probability(incident: Incident | undefined): number {
  const f = incident?.attribution?.features;
  if (!incident || !f) throw new Error("no incident with attribution features");
  return probabilityOf(f as unknown as ConfidenceFeatures, incident.side);
}

describe("analyse: reputation values beyond the block lists", () => {
  const MIMECAST_TEXT =
    "550 Administrative prohibition - envelope blocked - https://community.mimecast.com/docs/DOC-1369#550";
  const SPAMHAUS = "550 5.7.1 Service unavailable; client [198.51.100.2] blocked using zen.spamhaus.org";
  const sig = (over: Partial<ReputationSignal>): ReputationSignal => ({
    source: "snds",
    subject: "198.51.100.2",
    subjectKind: "ip",
    metric: "filter_result",
    status: "good",
    value: "GREEN",
    day: "2026-11-19",
    detail: "GREEN: under 10% of mail judged spam",
    observedAt: "2026-11-20T06:00:00.000Z",
    ...over,
  });
  const mimecast = () =>
    windowTraffic((org, ip, i) =>
      gatewayOf.get(org) === "mimecast" && i % 2 === 0 ? ev(org, ip, { text: MIMECAST_TEXT }) : null,
    );
  const listing = () =>
    windowTraffic((org, ip, i) =>
      ip === "198.51.100.2" && i % 3 !== 0 ? ev(org, ip, { text: SPAMHAUS }) : null,
    );
  const steady = [
    sig({ subject: "198.51.100.1" }),
    sig({}),
    sig({ subject: "198.51.100.3" }),
    sig({
      source: "postmaster",
      subject: "mail.example.com",
      subjectKind: "domain",
      metric: "spam_rate",
      value: 0.0004,
      detail: "spam rate 0.04% (healthy below 0.1%)",
    }),
  ];

  it("cites steady, healthy values as recipient-side evidence and gains confidence from them", () => {
    const without = run(mimecast()).incidents.find((i) => i.alert);
    const withSteady = run(mimecast(), () => false, steady).incidents.find((i) => i.alert);
    expect(withSteady?.side).toBe("recipient");
    const cited = withSteady?.evidence.find((e) => e.signal === "reputation")?.detail ?? "";
    expect(cited).toMatch(/^4 reputation value\(s\) steady and healthy/);
    expect(cited).toContain("spam rate 0.04%");
    // Compared before rounding and the 0.99 cap: an already near-certain verdict still gains.
    expect(probability(withSteady)).toBeGreaterThan(probability(without));
    expect(withSteady?.attribution?.features.reputation).toBeGreaterThan(0);
  });

  it("cites a drop on the sending IP behind a sender-side spike, with the value before it", () => {
    const before = sig({ day: "2026-11-12", observedAt: "2026-11-13T06:00:00.000Z" });
    const red = sig({
      status: "bad",
      value: "RED",
      detail: "RED: over 90% of mail judged spam; 37 trap hits",
    });
    const r = run(listing(), () => false, [before, red]);
    const incident = r.incidents.find((i) => i.alert);
    expect(incident).toMatchObject({ verdict: "sender_reputation", side: "sender" });
    const cited = incident?.evidence.find((e) => e.signal === "reputation")?.detail ?? "";
    expect(cited).toContain("sender reputation worsened: snds 198.51.100.2 filter_result on 2026-11-19: RED");
    expect(cited).toContain("(was good: GREEN");
    expect(r.reputation.map((o) => o.source)).toContain("snds");
  });

  it("weighs a worsened value against a recipient-side reading", () => {
    const drop = [
      sig({ day: "2026-11-12", observedAt: "2026-11-13T06:00:00.000Z", subject: "198.51.100.1" }),
      sig({ subject: "198.51.100.1", status: "bad", value: "RED", detail: "RED" }),
    ];
    const plain = run(mimecast()).incidents.find((i) => i.alert);
    const dropped = run(mimecast(), () => false, drop).incidents.find((i) =>
      i.scope.gateways.includes("mimecast"),
    );
    expect(probability(dropped)).toBeLessThan(probability(plain));
    expect(dropped?.attribution?.features.reputation).toBeLessThan(0);
  });
});

describe("analyse: refusals the ESP made on its own", () => {
  it("keeps a suppression-list surge out of the hard-bounce rate and out of every incident", () => {
    // SparkPost's wording for its customer suppression list (support.sparkpost.com/docs/user-guide/using-suppression-lists).
    const SUPPRESSED = "554 5.7.1 recipient address was suppressed due to customer policy";
    const mimecast = ORGS.filter((o) => gatewayOf.get(o) === "mimecast");
    const r = run(
      windowTraffic((org, ip, i) =>
        gatewayOf.get(org) === "mimecast" && i % 2 === 0 ? ev(org, ip, { text: SUPPRESSED }) : null,
      ),
      () => true,
    );
    expect(r.incidents).toEqual([]);
    for (const org of mimecast) {
      const row = r.organisations.find((o) => o.domain === org);
      expect(row, org).toMatchObject({ hardBounces: 0, attempts: 15, spike: false });
    }
  });
});
