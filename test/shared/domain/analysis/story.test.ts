import { describe, expect, it } from "vitest";
import { analyse, type BaselineRow } from "../../../../shared/domain/analysis/analyse.ts";
import type { NormalizedEvent } from "../../../../shared/domain/events/normalized-event.ts";
import { type Report, ReportSchema } from "../../../../shared/domain/report/report-schema.ts";
import { completeEvent } from "../../../../shared/pipeline/ingest/complete-event.ts";

// A sender with a morning newsletter and transactional mail all day: 64 organisations behind four gateways, six
// sending IPs in two pools. The stories below put two causes at one onset, or a cause in words that read neutral.
const GATEWAYS = ["mimecast", "microsoft365", "proofpoint", "google_workspace"];
const ORGS = Array.from({ length: 64 }, (_, i) => `firm${i}.example`);
const POOLS: Record<string, readonly string[]> = {
  "pool-a": ["198.51.100.10", "198.51.100.11", "198.51.100.12"],
  "pool-b": ["203.0.113.20", "203.0.113.21", "203.0.113.22"],
};
const IPS = Object.values(POOLS).flat();
const poolOf = (ip: string) => Object.keys(POOLS).find((p) => POOLS[p]?.includes(ip)) ?? null;
const gatewayOf = new Map<string, string>([
  ...ORGS.map((o, i) => [o, GATEWAYS[i % 4] as string] as const),
  ["gmail.com", "gmail"],
]);
const DAY = "2026-11-20";
const NEWSLETTER = "newsletter-2026-11-20";

function baseline(): BaselineRow[] {
  const rows: BaselineRow[] = [];
  for (let d = 1; d <= 28; d++) {
    const date = `2026-10-${String(d + 3).padStart(2, "0")}`;
    for (const org of [...ORGS, "gmail.com"]) {
      const consumer = org === "gmail.com";
      for (const ip of IPS)
        rows.push({ date, organisation: org, consumer, sendingIp: ip, outcome: "delivered", count: 3 });
      if ((d + org.length) % 4 === 0)
        rows.push({
          date,
          organisation: org,
          consumer,
          sendingIp: IPS[d % IPS.length] ?? null,
          outcome: "hard:invalid_recipient",
          count: 1,
        });
    }
  }
  return rows;
}

interface Mail {
  readonly org: string;
  readonly ip: string;
  readonly campaign: string | null;
  readonly at: string;
  readonly recipient: string;
}

/** The day's mail: the newsletter 08:00–09:59 (five per IP and organisation), transactional 10:00–21:59 (one). */
function day(): Mail[] {
  const out: Mail[] = [];
  let n = 0;
  for (const org of [...ORGS, "gmail.com"]) {
    for (const ip of IPS) {
      for (let k = 0; k < 6; k++) {
        n++;
        const newsletter = k < 5;
        const minute = n % 60;
        const hour = newsletter ? 8 + (n % 2) : 10 + (n % 12);
        out.push({
          org,
          ip,
          campaign: newsletter ? NEWSLETTER : null,
          at: `${DAY}T${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}:00.000Z`,
          recipient: `contact${n}@${org}`,
        });
      }
    }
  }
  return out;
}

let id = 0;
function event(m: Mail, reply: { code: number; text: string } | null): NormalizedEvent {
  id++;
  return completeEvent({
    id: `story:${id}`,
    source: "simulated",
    occurredAt: m.at,
    type: reply ? "bounced" : "delivered",
    recipient: m.recipient,
    recipientDomain: m.org,
    smtp: reply ? { code: reply.code, enhanced: null, text: reply.text } : null,
    espClass: reply ? "hard" : null,
    mxHost: null,
    sendingIp: m.ip,
    ipPool: poolOf(m.ip),
    messageId: `msg-${id}`,
    campaign: m.campaign,
  });
}

function analyseDay(
  reply: (m: Mail, i: number) => { code: number; text: string } | null,
  previouslyDelivered: (e: NormalizedEvent) => boolean = () => false,
): Report {
  const windowEvents = day().map((m, i) => event(m, reply(m, i)));
  return ReportSchema.parse(
    analyse({
      runId: "story",
      generatedAt: `${DAY}T23:59:00.000Z`,
      window: { start: `${DAY}T00:00:00.000Z`, end: `${DAY}T23:59:00.000Z` },
      baseline: { start: "2026-10-04T00:00:00.000Z", end: `${DAY}T00:00:00.000Z` },
      windowEvents,
      baselineRows: baseline(),
      gatewayOf,
      previouslyDelivered,
      maskRecipients: true,
      dataQuality: { sources: [], gaps: [], quarantined: 0 },
    }),
  );
}

const UBE = { code: 554, text: "554 5.7.1 Message content rejected, UBE, id=44321-07" };
// Mimecast refuses the newsletter in policy words: they read policy_block, as a recipient policy would.
const MIMECAST_CONTENT = {
  code: 550,
  text: "550 Administrative prohibition - envelope blocked - https://community.mimecast.com/docs/DOC-1369#550",
};
const contentBlock = (m: Mail, i: number) =>
  m.campaign === NEWSLETTER && i % 5 < 3
    ? gatewayOf.get(m.org) === "mimecast"
      ? MIMECAST_CONTENT
      : UBE
    : null;

describe("story: two causes at one onset", () => {
  it("keeps an organisation's own 'user unknown' for receiving mailboxes apart from a content block it shares a gateway with", () => {
    const target = ORGS.find((o) => gatewayOf.get(o) === "mimecast") as string;
    const unknown = { code: 550, text: "550 5.1.1 User unknown" };
    const report = analyseDay(
      (m, i) => (m.org === target ? unknown : contentBlock(m, i)),
      (e) => e.organisation === target,
    );
    const alerts = report.incidents.filter((i) => i.alert);
    expect(alerts.find((i) => i.side === "sender")?.verdict).toBe("content_block");
    const own = alerts.find((i) => i.scope.domains.includes(target) && i.side === "recipient");
    expect(own).toMatchObject({ verdict: "recipient_filter", scope: { domains: [target] } });
  });

  it("tells a gateway refusing all mail from a content block on the newsletter that began with it", () => {
    const proofpoint = ORGS.filter((o) => gatewayOf.get(o) === "proofpoint");
    const policy = {
      code: 550,
      text: "550 5.7.1 Message rejected by policy - pphosted.com; see https://www.proofpoint.com",
    };
    const report = analyseDay((m, i) =>
      gatewayOf.get(m.org) === "proofpoint" && m.at >= `${DAY}T08:00` ? policy : contentBlock(m, i),
    );
    const alerts = report.incidents.filter((i) => i.alert);
    expect(alerts.find((i) => i.side === "sender")?.verdict).toBe("content_block");
    const recipient = alerts.find((i) => i.side === "recipient");
    expect(recipient).toMatchObject({ verdict: "recipient_filter", scope: { gateways: ["proofpoint"] } });
    expect(recipient?.scope.domains).toEqual([...proofpoint].sort());
  });
});

describe("story: a cause in neutral words", () => {
  it("localises expiries and timeouts on one pool as that pool's fault, not list decay", () => {
    const expired = {
      code: 554,
      text: "554 4.4.7 Message expired: unable to deliver in 840 minutes.<421 4.4.2 Connection timed out>",
    };
    const report = analyseDay((m, i) => (poolOf(m.ip) === "pool-b" && i % 5 !== 0 ? expired : null));
    const alert = report.incidents.find((i) => i.alert);
    expect(alert).toMatchObject({ side: "sender", verdict: "esp_fault" });
    expect(alert?.attribution?.basis).toBe("localised");
    expect(report.incidents.filter((i) => i.alert && i.side !== "sender")).toEqual([]);
  });

  it("blames the pool, not the newsletter that left from it, when the pool fails as the newsletter goes out", () => {
    const refused = {
      code: 550,
      text: "550 5.7.1 Connections not accepted from servers without a valid sender domain. Fix reverse DNS",
    };
    const report = analyseDay((m, i) =>
      poolOf(m.ip) === "pool-b" && m.at >= `${DAY}T08:00` && i % 10 !== 0 ? refused : null,
    );
    const alert = report.incidents.find((i) => i.alert);
    expect(alert?.side).toBe("sender");
    expect(alert?.attribution).toMatchObject({ basis: "localised", dimension: "ipPool" });
    expect(alert?.scope.sendingIps).toEqual([...(POOLS["pool-b"] ?? [])]);
  });
});
