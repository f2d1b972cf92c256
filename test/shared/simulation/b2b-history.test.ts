import { beforeAll, describe, expect, it } from "vitest";
import { type NormalizedEvent, ProviderEventSchema } from "../../../shared/domain/events/normalized-event.ts";
import { gatewayOfMxHosts } from "../../../shared/domain/gateways/gateway-of-mx-host.ts";
import { isConsumerProvider } from "../../../shared/domain/organisations/consumer-providers.ts";
import { organisationOf } from "../../../shared/domain/organisations/organisation-of.ts";
import { completeEvent } from "../../../shared/pipeline/ingest/complete-event.ts";
import {
  generateHistory,
  type History,
  type IncidentKind,
  type IncidentSpec,
  tinyOrgBounces,
} from "../../../shared/simulation/b2b-history.ts";

const START = new Date("2026-10-01T00:00:00.000Z");
const DAY = 86_400_000;
const day = (n: number, hour = 0) => new Date(START.getTime() + n * DAY + hour * 3_600_000);

const isAttempt = (e: { type: string }) => e.type === "delivered" || e.type === "bounced";
const isHard = (e: { type: string; espClass: string | null }) =>
  e.type === "bounced" && e.espClass === "hard";

// Every kind once, in separate windows (a Tuesday newsletter, a Thursday promotion and days without a campaign,
// where the generator adds a flash campaign).
const ALL_KINDS: IncidentSpec[] = [
  { kind: "gateway_user_unknown_one_org", at: day(12) },
  { kind: "gateway_policy_change", at: day(15, 6) },
  { kind: "ip_blocklisted", at: day(19) },
  { kind: "dmarc_failing", at: day(25, 12), durationHours: 12 },
  { kind: "content_block", at: day(33) },
  { kind: "esp_pool_fault", at: day(40) },
];

let base: History;
let withIncidents: History;
let completed: Map<string, NormalizedEvent>;

beforeAll(() => {
  base = generateHistory({ seed: 7, start: START });
  withIncidents = generateHistory({ seed: 7, start: START, incidents: ALL_KINDS });
  completed = new Map();
  for (const e of withIncidents.events) if (e.type === "bounced") completed.set(e.id, completeEvent(e));
});

describe("generateHistory: determinism, volume, schema", () => {
  it("is deterministic per seed and differs between seeds", () => {
    const options = {
      start: START,
      days: 14,
      organisations: 60,
      incidents: [{ kind: "ip_blocklisted", at: day(9) } satisfies IncidentSpec],
    };
    const a = generateHistory({ seed: 3, ...options });
    const b = generateHistory({ seed: 3, ...options });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const c = generateHistory({ seed: 4, ...options });
    expect(c.organisations.map((o) => o.domain)).not.toEqual(a.organisations.map((o) => o.domain));
    expect(c.events.length).not.toBe(a.events.length);
  });

  it("keeps the world and the baseline of a seed whatever incidents are injected", () => {
    expect(withIncidents.organisations).toEqual(base.organisations);
    expect(withIncidents.zone).toEqual(base.zone);
    const onset = ALL_KINDS[0]?.at.toISOString() ?? "";
    const untilOnset = (h: History) => h.events.filter((e) => e.occurredAt < onset);
    const prefix = untilOnset(base);
    expect(prefix.length).toBeGreaterThan(10_000);
    expect(untilOnset(withIncidents)).toEqual(prefix);
  });

  // No time limit: a timed assertion fails on a loaded machine (CI, parallel helpers) without a regression.
  it("generates 40k–100k events for 250 organisations × 42 days", () => {
    expect(base.events.length).toBeGreaterThan(40_000);
    expect(base.events.length).toBeLessThan(100_000);
    expect(withIncidents.events.length).toBeLessThan(110_000);
  });

  it("produces valid ProviderEvents with unique stable ids, sorted by time, inside the history", () => {
    const sample = base.events.filter((e, i) => i % 40 === 0 || e.type !== "delivered");
    const invalid = sample.filter((e) => !ProviderEventSchema.safeParse(e).success);
    expect(invalid).toEqual([]);
    const ids = new Set(base.events.map((e) => e.id));
    expect(ids.size).toBe(base.events.length);
    expect(base.events[0]?.id).toBe("sim:7:0");
    const unsorted = base.events.filter(
      (e, i) => i > 0 && (base.events[i - 1]?.occurredAt ?? "") > e.occurredAt,
    );
    expect(unsorted).toEqual([]);
    const first = base.events[0]?.occurredAt ?? "";
    const last = base.events.at(-1)?.occurredAt ?? "";
    expect(first >= START.toISOString()).toBe(true);
    expect(last < base.end.toISOString()).toBe(true);
    const odd = base.events.filter(
      (e) =>
        e.source !== "simulated" ||
        e.recipient !== e.recipient.toLowerCase() ||
        !e.recipient.endsWith(`@${e.recipientDomain}`),
    );
    expect(odd).toEqual([]);
  });

  it("shapes each event type as the ESPs do", () => {
    const types = new Set(base.events.map((e) => e.type));
    expect([...types].sort()).toEqual(["bounced", "deferred", "delivered", "dropped"]);
    const misshapen = base.events.filter((e) => {
      if (e.type === "delivered" && (e.smtp !== null || e.espClass !== null)) return true;
      if (e.type !== "delivered" && !e.smtp?.text) return true;
      if (e.type === "dropped") return e.sendingIp !== null || e.ipPool !== null;
      if (e.type === "bounced" && e.espClass !== "hard" && e.espClass !== "soft") return true;
      return !base.ipPools[e.ipPool ?? ""]?.includes(e.sendingIp ?? "");
    });
    expect(misshapen).toEqual([]);
    // mxHost on about half of the bounces, and always the organisation's first MX.
    const bounces = base.events.filter((e) => e.type === "bounced");
    const withMx = bounces.filter((e) => e.mxHost !== null).length / bounces.length;
    expect(withMx).toBeGreaterThan(0.35);
    expect(withMx).toBeLessThan(0.65);
    const wrongMx = bounces.filter(
      (e) => e.mxHost !== null && e.mxHost !== base.zone[e.recipientDomain]?.mx[0]?.exchange,
    );
    expect(wrongMx).toEqual([]);
    // Every IP carries a similar share.
    const perIp = new Map<string, number>();
    for (const e of base.events) if (e.sendingIp) perIp.set(e.sendingIp, (perIp.get(e.sendingIp) ?? 0) + 1);
    expect(perIp.size).toBe(6);
    const counts = [...perIp.values()];
    expect(Math.min(...counts) / Math.max(...counts)).toBeGreaterThan(0.9);
  });

  it("sends one message per recipient per send: one final outcome per message id", () => {
    const finals = new Map<string, number>();
    for (const e of base.events) {
      if (e.type === "deferred") continue;
      const key = e.messageId ?? "";
      finals.set(key, (finals.get(key) ?? 0) + 1);
    }
    expect(Math.max(...finals.values())).toBe(1);
    // A deferral is followed by the delivery of the same message.
    const delivered = new Set(base.events.filter((e) => e.type === "delivered").map((e) => e.messageId));
    const deferred = base.events.filter((e) => e.type === "deferred");
    expect(deferred.length).toBeGreaterThan(50);
    expect(deferred.filter((e) => delivered.has(e.messageId)).length / deferred.length).toBeGreaterThan(0.95);
  });
});

describe("generateHistory: organisations", () => {
  it("has Zipf-like list sizes: a few thousands, most 2–30, some 1–2", () => {
    const sizes = base.organisations.filter((o) => !o.consumer).map((o) => o.listSize);
    expect(sizes).toHaveLength(250);
    const big = sizes.filter((s) => s >= 1000).length;
    expect(big).toBeGreaterThanOrEqual(2);
    expect(big).toBeLessThanOrEqual(6);
    expect(sizes.filter((s) => s >= 2 && s <= 30).length / sizes.length).toBeGreaterThan(0.6);
    expect(sizes.filter((s) => s <= 2).length).toBeGreaterThanOrEqual(15);
    const sorted = [...sizes].sort((a, b) => b - a);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThanOrEqual(30);
    // log-log slope of size against rank (ranks 1–150): a power law, not a flat or exponential list.
    const pts = sorted.slice(0, 150).map((s, i) => [Math.log(i + 1), Math.log(s)] as const);
    const mx = pts.reduce((a, [x]) => a + x, 0) / pts.length;
    const my = pts.reduce((a, [, y]) => a + y, 0) / pts.length;
    const slope =
      pts.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / pts.reduce((a, [x]) => a + (x - mx) ** 2, 0);
    expect(slope).toBeLessThan(-1);
    expect(slope).toBeGreaterThan(-2);
  });

  it("has a realistic B2B gateway mix, consumer mailboxes as ~15% of recipients", () => {
    const corporate = base.organisations.filter((o) => !o.consumer);
    const share = (g: string) => corporate.filter((o) => o.gateway === g).length / corporate.length;
    expect(share("microsoft365")).toBeCloseTo(0.4, 1);
    expect(share("google_workspace")).toBeCloseTo(0.2, 1);
    expect(share("proofpoint")).toBeCloseTo(0.12, 1);
    expect(share("mimecast")).toBeCloseTo(0.1, 1);
    for (const g of ["barracuda", "cisco", "self_hosted"]) expect(share(g)).toBeGreaterThan(0);
    const consumer = base.organisations.filter((o) => o.consumer);
    expect(consumer.map((o) => o.domain).sort()).toEqual([
      "gmail.com",
      "hotmail.com",
      "icloud.com",
      "outlook.com",
      "yahoo.com",
    ]);
    const total = base.organisations.reduce((a, o) => a + o.listSize, 0);
    const consumerShare = consumer.reduce((a, o) => a + o.listSize, 0) / total;
    expect(consumerShare).toBeGreaterThan(0.12);
    expect(consumerShare).toBeLessThan(0.18);
  });

  it("uses plausible fictional domains and MX hosts the gateway catalogue recognises; the zone covers them", () => {
    for (const o of base.organisations) {
      expect(organisationOf(o.domain)).toBe(o.domain);
      expect(isConsumerProvider(o.domain)).toBe(o.consumer);
      expect(o.domain).not.toMatch(/(^|\.)(example|test|invalid|localhost)(\.|$)/);
      expect(o.mxHosts.length).toBeGreaterThan(0);
      expect(gatewayOfMxHosts(o.mxHosts) ?? "self_hosted").toBe(o.gateway);
      if (o.gateway === "self_hosted") expect(o.mxHosts[0]).toBe(`mail.${o.domain}`);
      const zone = base.zone[o.domain];
      expect(zone?.mx.map((m) => m.exchange)).toEqual(o.mxHosts);
      for (const m of zone?.mx ?? []) expect(Number.isInteger(m.priority)).toBe(true);
    }
    const m365 = base.organisations.find((o) => o.gateway === "microsoft365");
    expect(m365?.mxHosts[0]).toBe(`${m365?.domain.replace(/\./g, "-")}.mail.protection.outlook.com`);
    expect(base.organisations.find((o) => o.gateway === "proofpoint")?.mxHosts[0]).toMatch(
      /^mx0a-00\d{6}\.pphosted\.com$/,
    );
    expect(base.organisations.find((o) => o.gateway === "barracuda")?.mxHosts[0]).toMatch(
      /^d\d{9}a\.ess\.barracudanetworks\.com$/,
    );
    expect(base.organisations.find((o) => o.gateway === "cisco")?.mxHosts[0]).toMatch(
      /^mx1\.hc\d{4}-\d{2}\.iphmx\.com$/,
    );
  });
});

describe("generateHistory: baseline", () => {
  it("has a baseline hard-bounce rate of 0.5–1.5%, mostly genuine invalid recipients", () => {
    const attempts = base.events.filter(isAttempt).length;
    const hard = base.events.filter(isHard);
    const rate = hard.length / attempts;
    expect(rate).toBeGreaterThan(0.005);
    expect(rate).toBeLessThan(0.015);
    const categories = new Map<string, number>();
    for (const e of hard) {
      const c = completeEvent(e).classification?.category ?? "none";
      categories.set(c, (categories.get(c) ?? 0) + 1);
    }
    expect((categories.get("invalid_recipient") ?? 0) / hard.length).toBeGreaterThan(0.8);
    // Sender-side categories only appear when injected.
    for (const c of ["reputation_block", "auth_failure", "esp_internal"])
      expect(categories.get(c)).toBeUndefined();
  });

  it("models turnover: departed addresses were delivered before, bounce once, and are then suppressed", () => {
    const delivered = new Map<string, string>();
    const hardAt = new Map<string, string>();
    let previouslyDelivered = 0;
    let userUnknown = 0;
    for (const e of base.events) {
      if (e.type === "delivered" && !delivered.has(e.recipient)) delivered.set(e.recipient, e.occurredAt);
      if (isHard(e)) {
        if (hardAt.has(e.recipient)) throw new Error(`second hard bounce for ${e.recipient}`);
        hardAt.set(e.recipient, e.occurredAt);
        if (completeEvent(e).classification?.category === "invalid_recipient") {
          userUnknown++;
          if (delivered.has(e.recipient)) previouslyDelivered++;
        }
      }
    }
    expect(previouslyDelivered / userUnknown).toBeGreaterThan(0.4);
    expect(previouslyDelivered / userUnknown).toBeLessThan(0.95);
    // After a hard bounce the ESP only drops.
    const mailedAfter = base.events.filter((e) => {
      const at = hardAt.get(e.recipient);
      return at !== undefined && e.occurredAt > at && e.type !== "dropped";
    });
    expect(mailedAfter).toEqual([]);
    expect(base.events.filter((e) => e.type === "dropped").length / base.events.length).toBeLessThan(0.05);
  });

  it("has soft bounces that classify as mailbox full and deferrals as temporary", () => {
    const soft = base.events.filter((e) => e.type === "bounced" && e.espClass === "soft");
    expect(soft.length).toBeGreaterThan(20);
    expect(new Set(soft.map((e) => completeEvent(e).classification?.category))).toEqual(
      new Set(["mailbox_full"]),
    );
    const deferred = base.events.filter((x) => x.type === "deferred");
    const deferredCategories = new Set(deferred.map((e) => completeEvent(e).classification?.category));
    for (const c of deferredCategories)
      expect(["transient", "rate_limited", "reputation_block"]).toContain(c);
  });

  it("has campaigns weekly-ish plus daily transactional mail", () => {
    const newsletters = base.campaigns.filter((c) => c.id.startsWith("newsletter-"));
    expect(newsletters.length).toBe(6);
    for (const c of base.campaigns) expect(new Date(c.start).getUTCHours()).toBeGreaterThanOrEqual(8);
    const transactional = base.events.filter((e) => e.campaign === null && isAttempt(e));
    expect(transactional.length).toBeGreaterThan(3000);
    const daysWithMail = new Set(transactional.map((e) => e.occurredAt.slice(0, 10)));
    expect(daysWithMail.size).toBe(42);
  });

  it("has tiny organisations with a genuine user-unknown in the last day (list decay, not an alert)", () => {
    const tiny = tinyOrgBounces(base);
    expect(tiny.length).toBeGreaterThanOrEqual(3);
    const sizes = new Map(base.organisations.map((o) => [o.domain, o.listSize]));
    for (const e of tiny) {
      expect(sizes.get(e.recipientDomain)).toBeLessThanOrEqual(2);
      expect(completeEvent(e).classification?.category).toBe("invalid_recipient");
      const before = base.events.filter(
        (x) => x.recipient === e.recipient && x.type === "delivered" && x.occurredAt < e.occurredAt,
      );
      expect(before.length).toBeGreaterThan(0);
    }
    expect(new Set(tiny.map((e) => e.recipientDomain)).size).toBeGreaterThanOrEqual(3);
  });
});

describe("generateHistory: injected incidents", () => {
  const SENDER_CATEGORY: Partial<Record<IncidentKind, string>> = {
    ip_blocklisted: "reputation_block",
    dmarc_failing: "auth_failure",
    esp_pool_fault: "esp_internal",
  };

  it.each(ALL_KINDS.map((s) => [s.kind] as const))(
    "%s: bounces only in its window, texts classify as intended",
    (kind) => {
      const inc = withIncidents.incidents.find((i) => i.kind === kind);
      if (!inc) throw new Error(`no ${kind}`);
      expect(inc.bounces).toBe(inc.eventIds.length);
      const share = inc.bounces / inc.scopeSends;
      expect(share).toBeGreaterThan(0.15);
      expect(share).toBeLessThan(0.7);
      const [from, to] = [inc.start.toISOString(), inc.end.toISOString()];
      const events = inc.eventIds.map((id) => completed.get(id));
      const wrong = events.filter(
        (e) =>
          !e ||
          e.occurredAt < from ||
          e.occurredAt >= to ||
          e.type !== "bounced" ||
          e.espClass !== "hard" ||
          e.organisation !== e.recipientDomain ||
          e.classification?.category !== inc.expected.category,
      );
      expect(wrong).toEqual([]);
      const orgs = new Set(inc.organisations);
      const gatewayOf = new Map(withIncidents.organisations.map((o) => [o.domain, o.gateway]));
      const gateways = new Set(inc.organisations.map((o) => gatewayOf.get(o)));
      switch (kind) {
        case "gateway_user_unknown_one_org": {
          expect(inc.expected).toMatchObject({ verdict: "recipient_filter", side: "recipient" });
          expect(orgs.size).toBe(1);
          expect(["proofpoint", "mimecast"]).toContain(inc.gateway);
          const org = withIncidents.organisations.find((o) => o.domain === inc.organisations[0]);
          expect(org?.listSize).toBeGreaterThanOrEqual(30);
          expect(inc.bounces).toBeGreaterThanOrEqual(10);
          // Every address it called unknown had been delivered before.
          const firstDelivery = new Map<string, string>();
          for (const x of withIncidents.events)
            if (x.type === "delivered" && !firstDelivery.has(x.recipient))
              firstDelivery.set(x.recipient, x.occurredAt);
          const neverDelivered = events.filter(
            (e) => !e || (firstDelivery.get(e.recipient) ?? "~") >= e.occurredAt,
          );
          expect(neverDelivered).toEqual([]);
          break;
        }
        case "gateway_policy_change":
          expect(inc.expected).toMatchObject({ verdict: "recipient_filter", side: "recipient" });
          expect(inc.gateway).toBe("mimecast");
          expect(orgs.size).toBeGreaterThanOrEqual(5);
          expect([...gateways]).toEqual(["mimecast"]);
          break;
        case "ip_blocklisted": {
          expect(inc.expected).toMatchObject({ verdict: "sender_reputation", side: "sender" });
          expect(inc.sendingIps).toHaveLength(1);
          expect(new Set(events.map((e) => e?.sendingIp))).toEqual(new Set(inc.sendingIps));
          expect(gateways.size).toBeGreaterThanOrEqual(5);
          expect(orgs.size).toBeGreaterThanOrEqual(20);
          expect(inc.organisations.some((o) => isConsumerProvider(o))).toBe(true);
          break;
        }
        case "dmarc_failing": {
          expect(inc.expected).toMatchObject({ verdict: "sender_authentication", side: "sender" });
          expect(gateways.size).toBeGreaterThanOrEqual(5);
          for (const c of ["gmail.com", "yahoo.com"]) expect(orgs.has(c)).toBe(true);
          expect(new Set(events.map((e) => e?.sendingIp)).size).toBe(6);
          break;
        }
        case "content_block": {
          expect(inc.expected).toMatchObject({ verdict: "content_block", side: "sender" });
          expect(inc.campaign).toBeTruthy();
          expect(new Set(events.map((e) => e?.campaign))).toEqual(new Set([inc.campaign]));
          expect(orgs.size).toBeGreaterThanOrEqual(20);
          break;
        }
        case "esp_pool_fault": {
          expect(inc.expected).toMatchObject({ verdict: "esp_fault", side: "sender" });
          expect(inc.sendingIps).toEqual(withIncidents.ipPools["pool-b"]);
          const remote = events.filter(
            (e) =>
              e?.smtp?.code !== null ||
              e.smtp.enhanced !== null ||
              e.mxHost !== null ||
              e.ipPool !== "pool-b",
          );
          expect(remote).toEqual([]);
          expect(orgs.size).toBeGreaterThanOrEqual(20);
          break;
        }
      }
      // Sender-side categories never appear outside their incident's window.
      const category = SENDER_CATEGORY[kind];
      if (category) {
        const injected = new Set(inc.eventIds);
        const stray = [...completed.values()].filter(
          (e) => e.classification?.category === category && isHard(e) && !injected.has(e.id),
        );
        expect(stray).toEqual([]);
      }
    },
  );

  it("keeps the other sending IPs clean during an IP listing", () => {
    const inc = withIncidents.incidents.find((i) => i.kind === "ip_blocklisted");
    const listed = inc?.sendingIps?.[0];
    const [from, to] = [inc?.start.toISOString() ?? "", inc?.end.toISOString() ?? ""];
    const rate = (pred: (ip: string | null) => boolean) => {
      const w = withIncidents.events.filter(
        (e) => e.occurredAt >= from && e.occurredAt < to && isAttempt(e) && pred(e.sendingIp),
      );
      return w.filter(isHard).length / w.length;
    };
    expect(rate((ip) => ip === listed)).toBeGreaterThan(0.2);
    expect(rate((ip) => ip !== listed)).toBeLessThan(0.03);
  });

  it("honours an explicit organisation, gateway, IP, pool and rate", () => {
    // Same seed and organisation count: the same organisations, whatever the number of days.
    const target = base.organisations.find((o) => o.gateway === "microsoft365" && o.listSize >= 60)?.domain;
    expect(target).toBeDefined();
    const h = generateHistory({
      seed: 7,
      start: START,
      days: 21,
      tinyBounces: 0,
      incidents: [
        { kind: "gateway_user_unknown_one_org", at: day(12), organisation: target },
        { kind: "gateway_policy_change", at: day(14), gateway: "proofpoint", rate: 0.5 },
        { kind: "ip_blocklisted", at: day(16), sendingIp: "203.0.113.21" },
        { kind: "esp_pool_fault", at: day(18), ipPool: "pool-a", durationHours: 6 },
      ],
    });
    expect(h.organisations.map((o) => o.domain).sort()).toEqual(
      base.organisations.map((o) => o.domain).sort(),
    );
    expect(tinyOrgBounces(h)).toEqual([]);
    const [unknown, policy, ip, esp] = h.incidents;
    expect(unknown?.organisations).toEqual([target]);
    expect(unknown?.gateway).toBe("microsoft365");
    expect(policy?.gateway).toBe("proofpoint");
    const gatewayOf = new Map(h.organisations.map((o) => [o.domain, o.gateway]));
    expect(new Set(policy?.organisations.map((o) => gatewayOf.get(o)))).toEqual(new Set(["proofpoint"]));
    expect(ip?.sendingIps).toEqual(["203.0.113.21"]);
    expect(esp?.sendingIps).toEqual(h.ipPools["pool-a"]);
    expect((esp?.end.getTime() ?? 0) - (esp?.start.getTime() ?? 0)).toBe(6 * 3_600_000);
    const byId = new Map(h.events.map((e) => [e.id, e]));
    for (const inc of h.incidents) {
      expect(inc.bounces).toBeGreaterThan(5);
      const categories = new Set(
        inc.eventIds.map((id) => {
          const e = byId.get(id);
          return e ? completeEvent(e).classification?.category : "missing";
        }),
      );
      expect(categories).toEqual(new Set([inc.expected.category]));
    }
    // Microsoft 365's directory copy answers with Directory-Based Edge Blocking (docs/sources.md#directory-copy-validation).
    const texts = (unknown?.eventIds ?? []).map((id) => byId.get(id)?.smtp?.text ?? "");
    const dbeb = /^550 5\.4\.1 Recipient address rejected: Access denied\. AS\(201806281\)/;
    expect(texts.filter((t) => !dbeb.test(t))).toEqual([]);
  });
});

describe("generateHistory: evaluation options", () => {
  const small = { seed: 11, start: START, days: 21, organisations: 80 } as const;

  it("gives the same history when every evaluation option is spelled out at its default", () => {
    const incidents: IncidentSpec[] = [
      { kind: "ip_blocklisted", at: day(18) },
      { kind: "esp_pool_fault", at: day(19) },
    ];
    const plain = generateHistory({ ...small, incidents });
    const explicit = generateHistory({
      ...small,
      incidents: incidents.map((i) => ({ ...i, rates: {} })),
      ipPools: {
        "pool-a": ["198.51.100.10", "198.51.100.11", "198.51.100.12"],
        "pool-b": ["203.0.113.20", "203.0.113.21", "203.0.113.22"],
      },
      poolSources: {},
      volume: 1,
      turnover: 0.03,
      unrecognisedGateway: 0,
    });
    expect(JSON.stringify(explicit)).toBe(JSON.stringify(plain));
  });

  it("scales the sender down with volume: a few hundred attempts a day", () => {
    const h = generateHistory({ ...small, organisations: 40, volume: 0.15 });
    const perDay = h.events.filter(isAttempt).length / 21;
    expect(perDay).toBeGreaterThan(100);
    expect(perDay).toBeLessThan(400);
  });

  it("moves organisations behind a platform the catalogue does not know, keeping the rest of the world", () => {
    const plain = generateHistory(small);
    const h = generateHistory({ ...small, unrecognisedGateway: 5 });
    const moved = h.organisations.filter((o) => o.gateway === "unrecognised");
    expect(moved).toHaveLength(5);
    for (const o of moved) {
      expect(o.mxHosts[0]).toMatch(/^[a-z]+\.mxrouting\.net$/);
      expect(gatewayOfMxHosts(o.mxHosts)).toBeNull();
    }
    const others = (x: History) => x.organisations.filter((o) => !moved.some((m) => m.domain === o.domain));
    expect(others(h)).toEqual(others(plain));
  });

  it("sends through two ESPs, each pool with its own source, and fails only the IPs asked for", () => {
    const h = generateHistory({
      ...small,
      ipPools: { "esp-a": ["198.51.100.10", "198.51.100.11"], "esp-b": ["192.0.2.40", "192.0.2.41"] },
      poolSources: { "esp-b": "sparkpost" },
      incidents: [
        { kind: "esp_pool_fault", at: day(19), ipPool: "esp-b", sendingIps: ["192.0.2.41"], rate: 0.9 },
      ],
    });
    const sourceOfIp = new Map(h.events.filter((e) => e.sendingIp).map((e) => [e.sendingIp, e.source]));
    expect(Object.fromEntries(sourceOfIp)).toEqual({
      "198.51.100.10": "simulated",
      "198.51.100.11": "simulated",
      "192.0.2.40": "sparkpost",
      "192.0.2.41": "sparkpost",
    });
    const inc = h.incidents[0];
    expect(inc?.sendingIps).toEqual(["192.0.2.41"]);
    const failed = h.events.filter((e) => inc?.eventIds.includes(e.id));
    expect(failed.length).toBeGreaterThan(50);
    expect(new Set(failed.map((e) => e.sendingIp))).toEqual(new Set(["192.0.2.41"]));
  });

  it("injects the evaluation's kinds with their scope", () => {
    const h = generateHistory({
      ...small,
      incidents: [
        { kind: "org_policy_block", at: day(19) },
        { kind: "pool_reputation", at: day(19), ipPool: "pool-b" },
        { kind: "provider_outage", at: day(19), gateway: "microsoft365", rate: 0.5 },
      ],
    });
    const [org, pool, outage] = h.incidents;
    expect(org?.organisations).toHaveLength(1);
    expect(org?.gateway).toBe("google_workspace");
    expect(pool?.sendingIps).toEqual(h.ipPools["pool-b"]);
    const gatewayOf = new Map(h.organisations.map((o) => [o.domain, o.gateway]));
    expect(new Set(outage?.organisations.map((o) => gatewayOf.get(o)))).toEqual(new Set(["microsoft365"]));
    const byId = new Map(h.events.map((e) => [e.id, e]));
    for (const inc of h.incidents) expect(inc.bounces).toBeGreaterThan(5);
    const outageEvent = byId.get(outage?.eventIds[0] ?? "");
    expect(outageEvent?.smtp?.text).toMatch(
      /^554 5\.4\.7 \[internal\] message timeout \(last transfail: 451 4\.7\.500/,
    );
  });

  it("fills texts from outside and ramps a gradual onset up", () => {
    const h = generateHistory({
      ...small,
      incidents: [
        {
          kind: "gateway_policy_change",
          at: day(15),
          durationHours: 6 * 24,
          rampHours: 5 * 24,
          gateway: "microsoft365",
          rate: 0.6,
          texts: (g) =>
            g === "microsoft365"
              ? ["550 5.7.1 <{addr}> refused by {domain} for {sender} from [{ip}]"]
              : undefined,
        },
      ],
    });
    const inc = h.incidents[0];
    const byId = new Map(h.events.map((e) => [e.id, e]));
    const injected = (inc?.eventIds ?? []).map((id) => byId.get(id));
    expect(injected.length).toBeGreaterThan(20);
    for (const e of injected) {
      expect(e?.smtp?.text).toBe(
        `550 5.7.1 <${e?.recipient}> refused by ${e?.recipientDomain} for ${h.senderDomain} from [${e?.sendingIp}]`,
      );
    }
    // The share of the scope's attempts rejected grows over the ramp.
    const scope = new Set(inc?.organisations);
    const share = (from: number, to: number) => {
      const [a, b] = [day(from).toISOString(), day(to).toISOString()];
      const within = (e: { occurredAt: string }) => e.occurredAt >= a && e.occurredAt < b;
      const sends = h.events.filter((e) => isAttempt(e) && scope.has(e.recipientDomain) && within(e));
      return injected.filter((e) => e && within(e)).length / Math.max(1, sends.length);
    };
    expect(share(15, 17)).toBeLessThan(share(19, 21) / 2);
  });

  it("refuses a text template with an unknown placeholder", () => {
    expect(() =>
      generateHistory({
        ...small,
        incidents: [{ kind: "dmarc_failing", at: day(19), texts: () => ["550 {nope}"] }],
      }),
    ).toThrow(/unknown placeholder \{nope\}/);
  });
});
