import {
  type Incident,
  type OrganisationRow,
  type Report,
  ReportSchema,
} from "../../../shared/domain/report/report-schema.ts";

/**
 * A hand-built report for one bad day (2025-06-12): Mimecast tightened a policy at 7 customers, sending IP
 * 198.51.100.7 got block-listed, and an old segment produced ordinary list decay. 40 organisations, 29 days of
 * series (28 baseline days and the window day). Counts are derived from the organisation rows so totals,
 * gateways and incidents agree with each other, as they would in a real report.
 */

export const WINDOW_DAY = "2025-06-12";
export const BLOCKLISTED_IP = "198.51.100.7";
export const MALICIOUS_TEXT = `550 5.7.1 <script>alert("pwned")</script> denied "><img src=x onerror=alert(1)>`;
export const LONG_TEXT = `550 Rejected by header based Anti-Spoofing policy: envelope sender news@mail.sender.example does not match the message header; see https://community.mimecast.com/docs/DOC-1369#550 for the policy reference. ${"Additional diagnostic data from the receiving gateway follows. ".repeat(16)}[Hk2x9QdLNb-gF0m7vS3kQw.uk59]`;

/** Deterministic pseudo-random numbers (a 32-bit LCG): the fixture is the same on every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface OrgSpec {
  domain: string;
  gateway: string;
  consumer?: boolean;
  attempts: number;
  baselineRate: number;
  /** Window hard bounces by category. */
  categories: Record<string, number>;
  spike?: boolean;
}

const MIMECAST_DOMAINS = [
  "hartwell-logistics.co.uk",
  "brightfield-insurance.com",
  "calder-engineering.de",
  "northgate-legal.co.uk",
  "pemberton-health.org",
  "oakridge-capital.com",
  "vantage-retail.co.za",
];
/** Business domains whose gateways use the block list that listed 198.51.100.7. */
const LISTED_AT = [
  "fairmont-pharma.com",
  "kestrel-aviation.com",
  "lindqvist-bygg.se",
  "meridian-foods.com",
  "quarry-partners.com",
  "redwood-analytics.io",
  "solent-marine.co.uk",
  "trident-security.com",
  "upland-energy.com",
];
const DECAY_DOMAINS = ["oldco-manufacturing.com", "hollis-printing.com"];
const OTHER_DOMAINS = [
  "acme-logistics.de",
  "bluepeak-software.com",
  "cobalt-consulting.nl",
  "delta-architects.fr",
  "evergreen-schools.org",
  "foxglove-media.com",
  "granite-bank.ch",
  "harbour-freight.com",
  "ivory-dental.co.uk",
  "juniper-labs.ai",
  "kingfisher-travel.com",
  "lumen-optics.jp",
  "mosaic-designs.it",
  "nimbus-cloud.net",
  "orchid-hotels.com",
  "pioneer-seeds.com",
  "quartz-jewellers.com",
];
const CONSUMERS: [string, string][] = [
  ["gmail.com", "gmail"],
  ["outlook.com", "outlook_com"],
  ["hotmail.com", "outlook_com"],
  ["yahoo.com", "yahoo"],
  ["icloud.com", "icloud"],
];
const OTHER_GATEWAYS = [
  "microsoft365",
  "google_workspace",
  "proofpoint",
  "barracuda",
  "cisco",
  "self_hosted",
];

function orgSpecs(): OrgSpec[] {
  const rnd = lcg(20250612);
  const between = (lo: number, hi: number) => Math.round(lo + rnd() * (hi - lo));
  const specs: OrgSpec[] = [];
  for (const domain of MIMECAST_DOMAINS) {
    const attempts = between(60, 220);
    const policy = Math.round(attempts * (0.16 + rnd() * 0.18));
    specs.push({
      domain,
      gateway: "mimecast",
      attempts,
      baselineRate: 0.004 + rnd() * 0.004,
      categories: { policy_block: policy, invalid_recipient: between(2, 9) },
      spike: true,
    });
  }
  LISTED_AT.forEach((domain, i) => {
    const attempts = between(80, 400);
    specs.push({
      domain,
      gateway: i % 3 === 0 ? "proofpoint" : i % 3 === 1 ? "barracuda" : "cisco",
      attempts,
      baselineRate: 0.003 + rnd() * 0.004,
      // The listed IP carries about a quarter of the traffic, so about a quarter of these bounce.
      categories: {
        reputation_block: Math.round(attempts * (0.2 + rnd() * 0.08)),
        invalid_recipient: between(0, 2),
      },
      spike: true,
    });
  });
  for (const domain of DECAY_DOMAINS) {
    const attempts = between(150, 260);
    specs.push({
      domain,
      gateway: "microsoft365",
      attempts,
      baselineRate: 0.01,
      categories: { invalid_recipient: Math.round(attempts * 0.09) },
      spike: true,
    });
  }
  OTHER_DOMAINS.forEach((domain, i) => {
    const attempts = between(40, 600);
    const gateway = OTHER_GATEWAYS[i % OTHER_GATEWAYS.length] ?? "unknown";
    const hard = between(0, Math.max(1, Math.round(attempts * 0.01)));
    specs.push({
      domain,
      gateway,
      attempts,
      baselineRate: 0.002 + rnd() * 0.006,
      categories: hard > 0 ? { invalid_recipient: hard } : {},
    });
  });
  for (const [domain, gateway] of CONSUMERS) {
    const attempts = between(1500, 4200);
    specs.push({
      domain,
      gateway,
      consumer: true,
      attempts,
      baselineRate: 0.003,
      categories: { invalid_recipient: Math.round(attempts * 0.0032), mailbox_full: between(0, 3) },
    });
  }
  return specs;
}

const sum = (xs: Iterable<number>) => {
  let s = 0;
  for (const x of xs) s += x;
  return s;
};

function organisationRows(): OrganisationRow[] {
  return orgSpecs().map((o) => {
    const hardBounces = sum(Object.values(o.categories));
    const baselineAttempts = o.attempts * 28;
    const baselineHardBounces = Math.round(baselineAttempts * o.baselineRate);
    const rate = hardBounces / o.attempts;
    return {
      domain: o.domain,
      gateway: o.gateway,
      consumer: o.consumer ?? false,
      attempts: o.attempts,
      hardBounces,
      rate,
      baselineAttempts,
      baselineHardBounces,
      baselineRate: baselineHardBounces / baselineAttempts,
      shrunkRate: (hardBounces + 2) / (o.attempts + 400),
      pValue: o.spike ? 1e-7 : 0.4,
      qValue: o.spike ? 3e-6 : 0.9,
      spike: o.spike ?? false,
      categories: o.categories,
    };
  });
}

/** 28 quiet baseline days at the baseline rate, then the window day at the window rate. */
function series(
  attemptsPerDay: number,
  baselineRate: number,
  windowHard: number,
  windowAttempts: number,
  seed: number,
): NonNullable<Incident["series"]> {
  const rnd = lcg(seed);
  const points: NonNullable<Incident["series"]> = [];
  const start = Date.parse("2025-05-15T00:00:00Z");
  for (let d = 0; d < 28; d++) {
    const date = new Date(start + d * 86_400_000).toISOString().slice(0, 10);
    // Weekends send less B2B mail.
    const weekday = new Date(date).getUTCDay();
    const attempts = Math.round(
      attemptsPerDay * (weekday === 0 || weekday === 6 ? 0.35 : 0.85 + rnd() * 0.3),
    );
    points.push({ date, attempts, hardBounces: Math.round(attempts * baselineRate * (0.5 + rnd())) });
  }
  points.push({ date: WINDOW_DAY, attempts: windowAttempts, hardBounces: windowHard });
  return points;
}

function rowsTotals(rows: readonly OrganisationRow[]) {
  const attempts = sum(rows.map((r) => r.attempts));
  const hardBounces = sum(rows.map((r) => r.hardBounces));
  const baselineAttempts = sum(rows.map((r) => r.baselineAttempts));
  const baselineHard = sum(rows.map((r) => r.baselineHardBounces));
  return {
    attempts,
    hardBounces,
    rate: attempts > 0 ? hardBounces / attempts : 0,
    baselineRate: baselineAttempts > 0 ? baselineHard / baselineAttempts : 0,
  };
}

function mask(local: string, domain: string): string {
  return `${local[0] ?? "x"}***@${domain}`;
}

function incidents(rows: readonly OrganisationRow[]): Incident[] {
  const pick = (domains: readonly string[]) => rows.filter((r) => domains.includes(r.domain));
  const names = [
    "james",
    "priya",
    "olga",
    "tom",
    "amara",
    "li",
    "sven",
    "maria",
    "kofi",
    "ana",
    "raj",
    "eve",
  ];

  const mime = pick(MIMECAST_DOMAINS);
  const mimeT = rowsTotals(mime);
  const suppressed = mime.flatMap((r, i) =>
    names.slice(0, 3 + (i % 4)).map((n, j) => mask(`${n}${j > 2 ? j : ""}`, r.domain)),
  );
  const recipient: Incident = {
    id: "inc-3f9a1c07b2e4",
    verdict: "recipient_filter",
    side: "recipient",
    confidence: 0.91,
    alert: true,
    firstSeen: "2025-06-12T06:42:17Z",
    scope: { domains: mime.map((r) => r.domain).sort(), gateways: ["mimecast"], sendingIps: [] },
    metrics: {
      attempts: mimeT.attempts,
      hardBounces: mimeT.hardBounces,
      rate: mimeT.rate,
      baselineRate: mimeT.baselineRate,
      previouslyDelivered: 0.87,
      bouncedAddresses: mimeT.hardBounces - 6,
      organisations: mime.length,
    },
    evidence: [
      { signal: "breadth", detail: "7 organisation(s) behind 1 gateway(s): mimecast" },
      {
        signal: "rejection_text",
        detail: `${mimeT.hardBounces - 31} of ${mimeT.hardBounces} hard bounces classified policy_block`,
      },
      {
        signal: "recipient_history",
        detail: "186 of 214 bounced addresses (86.9%) had a successful delivery in the last 90 days",
      },
      {
        signal: "control_group",
        detail: "consumer mailboxes normal: consumer mailboxes 0.3% vs baseline 0.3%",
      },
      { signal: "sending_infrastructure", detail: "spread across all sending IPs alike" },
      { signal: "onset", detail: "first hard bounce of this cluster at 2025-06-12T06:42:17Z" },
    ],
    samples: [
      {
        recipient: mask("james", "hartwell-logistics.co.uk"),
        text: "550 Administrative prohibition - envelope blocked - https://community.mimecast.com/docs/DOC-1369#550 [Fj3kP0dRMzKq0w2mX8y_QA.uk99]",
        category: "policy_block",
      },
      {
        recipient: mask("priya", "brightfield-insurance.com"),
        text: "550 Invalid Recipient - https://community.mimecast.com/docs/DOC-1369#550 [a8Qz1PqjMxC5d3v0K2eYtA.us241]",
        category: "invalid_recipient",
      },
      { recipient: mask("olga", "calder-engineering.de"), text: MALICIOUS_TEXT, category: "policy_block" },
      { recipient: mask("tom", "northgate-legal.co.uk"), text: LONG_TEXT, category: "policy_block" },
      {
        recipient: mask("amara", "pemberton-health.org"),
        text: "550 Envelope rejected - https://community.mimecast.com/docs/DOC-1369#550 [kQ7mZ2bVn0a9LcXwR4tHsg.uk52]",
        category: "policy_block",
      },
    ],
    wronglySuppressed: suppressed.sort(),
    actions: [
      "Do not migrate ESPs or blame the ESP: the rejections come from the recipients' gateway, not from your sending side.",
      "Confirm with the ESP that your sending reputation is fine (no listings, normal consumer-mailbox delivery).",
      `Contact the IT/postmaster team of ${MIMECAST_DOMAINS.slice(0, 5).join(", ")} through a known-good address (not email to the blocked domain) and send them a sample rejection line from this report.`,
      "Pause, do not delete, the addresses suppressed in this incident; re-enable them once the recipient fixes its policy or directory.",
    ],
    series: series(mimeT.attempts, mimeT.baselineRate, mimeT.hardBounces, mimeT.attempts, 7),
  };

  const listed = pick(LISTED_AT);
  const listedT = rowsTotals(listed);
  const all = rowsTotals(rows);
  const sender: Incident = {
    id: "inc-b81d44e0c9a5",
    verdict: "sender_reputation",
    side: "sender",
    confidence: 0.85,
    alert: true,
    firstSeen: "2025-06-12T05:13:02Z",
    scope: {
      domains: listed.map((r) => r.domain).sort(),
      gateways: ["barracuda", "cisco", "proofpoint"],
      sendingIps: [BLOCKLISTED_IP],
    },
    metrics: {
      attempts: listedT.attempts,
      hardBounces: listedT.hardBounces,
      rate: listedT.rate,
      baselineRate: listedT.baselineRate,
      previouslyDelivered: 0.81,
      bouncedAddresses: listedT.hardBounces,
      organisations: listed.length,
    },
    evidence: [
      { signal: "breadth", detail: "9 organisation(s) behind 3 gateway(s): barracuda, cisco, proofpoint" },
      {
        signal: "rejection_text",
        detail: `${listedT.hardBounces - 9} of ${listedT.hardBounces} hard bounces classified reputation_block`,
      },
      { signal: "control_group", detail: "consumer mailboxes 0.3% vs baseline 0.3%" },
      {
        signal: "sending_infrastructure",
        detail: `concentrated on ${BLOCKLISTED_IP} (97.2% of these bounces)`,
      },
      {
        signal: "reputation",
        detail: `${BLOCKLISTED_IP} listed on b.barracudacentral.org since 2025-06-12T05:05Z — lookup at https://www.barracudacentral.org/lookups`,
      },
      { signal: "onset", detail: "first hard bounce of this cluster at 2025-06-12T05:13:02Z" },
    ],
    samples: [
      {
        recipient: mask("sven", "lindqvist-bygg.se"),
        text: `554 5.7.1 Service unavailable; Client host [${BLOCKLISTED_IP}] blocked using b.barracudacentral.org; https://www.barracudacentral.org/rbl/removal-request/${BLOCKLISTED_IP}`,
        category: "reputation_block",
      },
      {
        recipient: mask("maria", "fairmont-pharma.com"),
        text: `554 Blocked - see https://ipcheck.proofpoint.com/?ip=${BLOCKLISTED_IP}`,
        category: "reputation_block",
      },
      {
        recipient: mask("kofi", "kestrel-aviation.com"),
        text: `554 5.7.1 ${BLOCKLISTED_IP} rejected by reputation filter: Your access to this mail system has been rejected due to the sending MTA's poor reputation. If you believe that this failure is in error, please contact the intended recipient via alternate means.`,
        category: "reputation_block",
      },
    ],
    wronglySuppressed: [],
    actions: [
      `Check block lists for ${BLOCKLISTED_IP} and your sending domain (Spamhaus, Barracuda, Proofpoint, Microsoft SNDS) and follow each delisting procedure.`,
      "Move traffic off the affected IP or pool with your ESP while delisting; slow down and send only to engaged recipients.",
      "Find what triggered the listing (a purchased or stale list, a compromised account, a complaint spike) before resuming volume.",
    ],
    // Sender-side series cover every organisation.
    series: series(all.attempts, all.baselineRate, all.hardBounces, all.attempts, 11),
  };

  const decay = pick(DECAY_DOMAINS);
  const decayT = rowsTotals(decay);
  const listDecay: Incident = {
    id: "inc-07c2d9e6a311",
    verdict: "list_decay",
    side: "neutral",
    confidence: 0.95,
    alert: false,
    firstSeen: "2025-06-12T09:30:55Z",
    scope: { domains: decay.map((r) => r.domain).sort(), gateways: ["microsoft365"], sendingIps: [] },
    metrics: {
      attempts: decayT.attempts,
      hardBounces: decayT.hardBounces,
      rate: decayT.rate,
      baselineRate: decayT.baselineRate,
      previouslyDelivered: 0.04,
      bouncedAddresses: decayT.hardBounces,
      organisations: decay.length,
    },
    evidence: [
      { signal: "breadth", detail: "2 organisation(s) behind 1 gateway(s): microsoft365" },
      {
        signal: "rejection_text",
        detail: `${decayT.hardBounces} of ${decayT.hardBounces} hard bounces classified invalid_recipient`,
      },
      {
        signal: "recipient_history",
        detail: "1 of 38 bounced addresses (2.6%) had a successful delivery in the last 90 days",
      },
    ],
    samples: [
      {
        recipient: mask("raj", "oldco-manufacturing.com"),
        text: "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient r***@oldco-manufacturing.com not found by SMTP address lookup",
        category: "invalid_recipient",
      },
      {
        recipient: mask("eve", "hollis-printing.com"),
        text: "550 5.1.1 <e***@hollis-printing.com>: Recipient address rejected: User unknown in virtual mailbox table",
        category: "invalid_recipient",
      },
    ],
    wronglySuppressed: [],
    actions: [
      "Genuine invalid addresses (people who left, typos): let the suppression stand and review how these addresses were collected or when they were last verified.",
    ],
    series: series(decayT.attempts, decayT.baselineRate, decayT.hardBounces, decayT.attempts, 13),
  };
  // Deliberately not in display order: the renderer sorts.
  return [listDecay, sender, recipient];
}

function gatewayRows(rows: readonly OrganisationRow[]): Report["gateways"] {
  const byGateway = new Map<string, OrganisationRow[]>();
  for (const r of rows) byGateway.set(r.gateway, [...(byGateway.get(r.gateway) ?? []), r]);
  return [...byGateway].map(([gateway, rs]) => {
    const t = rowsTotals(rs);
    const spike = gateway === "mimecast" || gateway === "barracuda";
    return {
      gateway,
      organisations: rs.length,
      attempts: t.attempts,
      hardBounces: t.hardBounces,
      rate: t.rate,
      baselineRate: t.baselineRate,
      pValue: spike ? 1e-9 : 0.3,
      qValue: spike ? 1e-8 : 0.6,
      spike,
    };
  });
}

export function buildFixtureReport(): Report {
  const organisations = organisationRows();
  const all = rowsTotals(organisations);
  const consumers = rowsTotals(organisations.filter((r) => r.consumer));
  return ReportSchema.parse({
    schemaVersion: 1,
    generatedAt: "2025-06-13T00:07:31Z",
    runId: "2025-06-13T00-05-00Z-7f3c2a",
    window: { start: "2025-06-12T00:00:00Z", end: "2025-06-13T00:00:00Z" },
    baseline: { start: "2025-05-15T00:00:00Z", end: "2025-06-12T00:00:00Z" },
    totals: {
      attempts: all.attempts,
      hardBounces: all.hardBounces,
      hardBounceRate: all.rate,
      baselineRate: all.baselineRate,
      organisations: organisations.length,
      consumer: {
        attempts: consumers.attempts,
        hardBounces: consumers.hardBounces,
        rate: consumers.rate,
        baselineRate: consumers.baselineRate,
        spike: false,
      },
      series: series(all.attempts, all.baselineRate, all.hardBounces, all.attempts, 3),
    },
    incidents: incidents(organisations),
    organisations,
    gateways: gatewayRows(organisations),
    reputation: [
      { source: "barracuda-brbl", ip: BLOCKLISTED_IP, listed: true, since: "2025-06-12T05:05:00Z" },
      { source: "spamhaus-zen", ip: BLOCKLISTED_IP, listed: false },
    ],
    dataQuality: {
      sources: [
        { source: "ses", events: 41_208, lastEventAt: "2025-06-12T23:59:41Z" },
        { source: "mailgun", events: 3_977, lastEventAt: "2025-06-12T23:58:02Z" },
      ],
      gaps: [{ source: "mailgun", from: "2025-06-12T03:00:00Z", to: "2025-06-12T03:45:00Z" }],
      quarantined: 12,
    },
  });
}

/** A report for a day with no mail at all: every count zero, every list empty. */
export function buildEmptyReport(): Report {
  return ReportSchema.parse({
    schemaVersion: 1,
    generatedAt: "2025-06-13T00:07:31Z",
    runId: "empty-run",
    window: { start: "2025-06-12T00:00:00Z", end: "2025-06-13T00:00:00Z" },
    baseline: { start: "2025-05-15T00:00:00Z", end: "2025-06-12T00:00:00Z" },
    totals: {
      attempts: 0,
      hardBounces: 0,
      hardBounceRate: 0,
      baselineRate: 0,
      organisations: 0,
      consumer: { attempts: 0, hardBounces: 0, rate: 0, baselineRate: 0, spike: false },
    },
    incidents: [],
    organisations: [],
    gateways: [],
    reputation: [],
    dataQuality: { sources: [], gaps: [], quarantined: 0 },
  });
}
