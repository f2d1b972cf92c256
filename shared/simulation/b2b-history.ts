/*
 * A deterministic, realistic B2B sending history with injected incidents, for the analysis scenario suite.
 *
 * The world: a sender (an ESP customer) mails ~250 recipient organisations whose list sizes follow a Zipf-like
 * law (a few with thousands of contacts, most with 2–30, some with 1–2), behind a B2B gateway mix (Microsoft 365
 * ~40%, Google Workspace ~20%, Proofpoint ~12%, Mimecast ~10%, Barracuda, Cisco, Trend Micro, Sophos,
 * self-hosted), plus consumer mailboxes (gmail.com, outlook.com, hotmail.com, yahoo.com, icloud.com; ~15% of
 * recipients) as the control group. MX host names follow the patterns of shared/domain/gateways/catalogue.ts.
 *
 * Sending: a weekly newsletter (Tuesdays, ~70% of the list), a fortnightly promotion (Thursdays, ~30%) and daily
 * transactional mail; one message per recipient per send, spread over two ESP IP pools of three IPs each.
 *
 * Baseline noise: staff turnover (~3% of corporate contacts a month leave; their address bounces "user unknown"
 * in the gateway's own wording at the next send and is then suppressed, so later sends are `dropped`), new contacts
 * with the odd typo (bounce at first send), a stale segment that already left before the history starts, an
 * initial suppression list, mailbox-full soft bounces, greylisting and busy-server deferrals (a `deferred` event
 * followed by the delivery a few minutes later) and a trickle of content/policy blocks. Baseline hard-bounce rate
 * about 0.5–1.5% of attempts.
 *
 * Incidents are injected only inside [at, at + durationHours): see `IncidentKind`. Every incident window gets a
 * campaign: when no regular campaign overlaps it, a "flash" campaign is sent in it, so the injected bounces are
 * statistically visible. Rejection texts are real-looking gateway wordings (docs/sources.md#gateway-rejection-texts) that
 * shared/domain/classify classifies to the category in `InjectedIncident.expected.category`.
 *
 * Tiny organisations: by default three corporate organisations with one or two contacts get a genuine
 * "user unknown" in the last 24 hours (a contact who had a delivery ten days earlier and has since left). They are
 * list decay, never an alert. `tinyOrgBounces(history)` finds them (and any other tiny-org bounce in the last day).
 *
 * The ESP calls every injected block "hard" and suppresses the address (later sends are `dropped`): those are the
 * wrongly suppressed addresses the product has to find. Its own failures (esp_pool_fault) are not suppressed.
 *
 * Evaluation options (all off by default, so existing seeds give what they always gave): other IP pools and the ESP
 * behind each (`ipPools`, `poolSources`: two ESPs), a smaller sender (`volume`), more staff turnover (`turnover`),
 * organisations behind a filter the gateway catalogue does not know (`unrecognisedGateway`), and per incident:
 * rejection texts from outside (`texts`), per-platform rates (`rates`), a gradual onset (`rampHours`) and ESP
 * failures that quote the receiving server's last reply (`remoteReply`). The evaluation's scenario catalogue
 * (scripts/eval/scenario-catalogue.ts) builds on them.
 *
 * Same options → identical output. Random draws are split into independent streams (world, schedule, per-send
 * noise, per-incident), so the same seed gives the same world and baseline draws whatever incidents are injected:
 * every event before the first onset is identical (ids included); after it only the consequences of the injected
 * bounces (suppressed addresses, a flash campaign) differ.
 */

import type { Category } from "../domain/classify/taxonomy.ts";
import type { ProviderEvent } from "../domain/events/normalized-event.ts";
import type { GatewayId } from "../domain/gateways/catalogue.ts";
import { mulberry32 } from "./seeded-random.ts";

/**
 * - gateway_user_unknown_one_org: one mid-size organisation (80–600 contacts, behind Proofpoint or Mimecast unless
 *   told otherwise) answers "user unknown" for about half of its addresses, all of which had deliveries before: its
 *   gateway's directory copy lost them. → recipient_filter / recipient (category invalid_recipient).
 * - gateway_policy_change: a gateway (default Mimecast) rejects with policy wording at most organisations behind it
 *   (at least five), 30–65% of their sends. → recipient_filter / recipient (policy_block).
 * - ip_blocklisted: one sending IP (default 198.51.100.11) is refused with block-list / IP-reputation wording by
 *   30–70% of receivers across all gateways and consumer providers; the other IPs are fine. → sender_reputation.
 * - dmarc_failing: DMARC/SPF rejections on every IP across gateways, strongest at Gmail and Yahoo.
 *   → sender_authentication.
 * - content_block: the biggest campaign in the window is rejected as spam/content by 35–50% of corporate receivers
 *   (Gmail 15%; other consumer providers junk instead). → content_block.
 * - esp_pool_fault: half of the sends on one pool (default pool-b; or only `sendingIps` of it) fail inside the ESP,
 *   no remote reply (smtp code and enhanced null, mxHost null); with `remoteReply` the ESP gives up after retries
 *   and quotes the receiving server's last temporary reply (mxHost known). → esp_fault.
 * - org_policy_block: one organisation's own admin rule (default a mid-size one behind Google Workspace) refuses
 *   60–95% of the sends with policy wording. → recipient_filter / recipient (policy_block).
 * - pool_reputation: every IP of one pool (default pool-a) is refused with block-list / reputation wording, at the
 *   IP_BLOCK_RATE shares. → sender_reputation.
 * - provider_outage: a receiving platform (default Microsoft 365; a consumer one such as outlook_com or yahoo works
 *   too) is unreachable: the ESP gives up on 60% of the sends to every organisation behind it and quotes the
 *   platform's last temporary reply. Not the sender's fault → recipient_filter / recipient (transient).
 */
export type IncidentKind =
  | "gateway_user_unknown_one_org"
  | "gateway_policy_change"
  | "ip_blocklisted"
  | "dmarc_failing"
  | "content_block"
  | "esp_pool_fault"
  | "org_policy_block"
  | "pool_reputation"
  | "provider_outage";

export type ExpectedVerdict =
  | "recipient_filter"
  | "sender_reputation"
  | "sender_authentication"
  | "content_block"
  | "esp_fault";

export interface InjectedIncident {
  kind: IncidentKind;
  start: Date;
  end: Date;
  /** Organisations (registrable domains) that received at least one injected bounce, sorted. */
  organisations: string[];
  /** The gateway for the recipient-side kinds. */
  gateway?: string;
  /** The blocklisted IP (ip_blocklisted), the listed pool's IPs (pool_reputation) or the failing IPs (esp_pool_fault). */
  sendingIps?: string[];
  /** The campaign whose messages were rejected (content_block). */
  campaign?: string;
  /** Injected bounce events (all `bounced`, espClass "hard"). */
  bounces: number;
  /** Their ids, in time order. */
  eventIds: string[];
  /** Sends in the incident's scope during its window (the denominator of its rejection share). */
  scopeSends: number;
  expected: {
    verdict: ExpectedVerdict;
    side: "recipient" | "sender";
    /** What classifyBounce says about the injected texts. */
    category: Category;
  };
}

export interface IncidentSpec {
  kind: IncidentKind;
  /** Onset. */
  at: Date;
  /** Default 24. */
  durationHours?: number;
  /** gateway_user_unknown_one_org: the organisation (default: a mid-size one behind Proofpoint or Mimecast). */
  organisation?: string;
  /** gateway_user_unknown_one_org (candidate gateway) and gateway_policy_change (default "mimecast"). */
  gateway?: string;
  /** ip_blocklisted: the listed IP (default the second IP of pool-a). */
  sendingIp?: string;
  /** esp_pool_fault (default "pool-b") and pool_reputation (default "pool-a"): the pool. */
  ipPool?: string;
  /** esp_pool_fault: only these IPs of the pool fail (default all of them). */
  sendingIps?: readonly string[];
  /** Override the share of in-scope sends (or addresses, for user unknown) rejected; default per kind/gateway. */
  rate?: number;
  /**
   * Share of in-scope sends rejected per recipient platform (a GatewayKey), before `rate` and the kind's own table:
   * `{ gmail: 0.5, yahoo: 0.5 }` with `rate: 0` rejects only there.
   */
  rates?: Readonly<Record<string, number>>;
  /**
   * Rejection texts per recipient platform as templates (see `fillTemplate`); undefined or empty for a platform
   * keeps the built-in wording there.
   */
  texts?: (platform: string) => readonly string[] | undefined;
  /** Gradual onset: the rejected share grows linearly from 0 at `at` to its full value `rampHours` later. */
  rampHours?: number;
  /** esp_pool_fault: the ESP gives up after retries and quotes the receiving server's last reply. */
  remoteReply?: boolean;
}

export interface HistoryOptions {
  seed: number;
  /** First instant of the history (align to 00:00 UTC for calendar-day campaigns). */
  start: Date;
  /** Default 42. */
  days?: number;
  /** Corporate organisations; default 250 (the three largest always have 1,000–4,000 contacts). */
  organisations?: number;
  incidents?: IncidentSpec[];
  /** Tiny organisations (1–2 contacts) given a genuine user-unknown in the last 24 h; default 3. */
  tinyBounces?: number;
  /** Sending IP pools (default `IP_POOLS`); every send picks one of all their IPs at random. */
  ipPools?: Readonly<Record<string, readonly string[]>>;
  /** The ESP (event `source`) behind each pool; default "simulated" for every pool. Two ESPs: two sources. */
  poolSources?: Readonly<Record<string, ProviderEvent["source"]>>;
  /** Multiplies every list size (default 1): 0.1 makes a sender of a few hundred mails a day. */
  volume?: number;
  /** Monthly share of corporate contacts who leave (default 0.03). */
  turnover?: number;
  /**
   * Corporate organisations moved behind a mail platform the gateway catalogue does not know (gateway
   * "unrecognised", MX `<server>.mxrouting.net`); default 0.
   */
  unrecognisedGateway?: number;
}

export interface OrganisationInfo {
  domain: string;
  /** A GatewayId, "self_hosted", or "unrecognised" (a platform the catalogue does not know: self_hosted to it). */
  gateway: string;
  mxHosts: string[];
  consumer: boolean;
  /** Distinct addresses ever on the list (initial plus added during the history). */
  listSize: number;
}

export interface CampaignInfo {
  id: string;
  start: Date;
  end: Date;
  /** Share of the active list it targets. */
  coverage: number;
  sends: number;
}

export interface History {
  events: ProviderEvent[];
  incidents: InjectedIncident[];
  organisations: OrganisationInfo[];
  sendingIps: string[];
  ipPools: Record<string, string[]>;
  /** MX records per organisation domain (corporate and consumer), for test/support/dns-server.ts. */
  zone: Record<string, { mx: Array<{ exchange: string; priority: number }> }>;
  campaigns: CampaignInfo[];
  /** The sender's From domain (named in DMARC rejections). */
  senderDomain: string;
  /** End of the history (exclusive): start + days. */
  end: Date;
}

// ── constants ───────────────────────────────────────────────────────────────────────────────────────────

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MINUTE = 60_000;

export const SENDER_DOMAIN = "news.quillfeather-app.com";
const MESSAGE_ID_HOST = "mta.quillfeather-app.com";

export const IP_POOLS: Readonly<Record<string, readonly string[]>> = {
  "pool-a": ["198.51.100.10", "198.51.100.11", "198.51.100.12"],
  "pool-b": ["203.0.113.20", "203.0.113.21", "203.0.113.22"],
};

const EXPECTED: Readonly<Record<IncidentKind, InjectedIncident["expected"]>> = {
  gateway_user_unknown_one_org: {
    verdict: "recipient_filter",
    side: "recipient",
    category: "invalid_recipient",
  },
  gateway_policy_change: { verdict: "recipient_filter", side: "recipient", category: "policy_block" },
  ip_blocklisted: { verdict: "sender_reputation", side: "sender", category: "reputation_block" },
  dmarc_failing: { verdict: "sender_authentication", side: "sender", category: "auth_failure" },
  content_block: { verdict: "content_block", side: "sender", category: "spam_or_content_block" },
  esp_pool_fault: { verdict: "esp_fault", side: "sender", category: "esp_internal" },
  org_policy_block: { verdict: "recipient_filter", side: "recipient", category: "policy_block" },
  pool_reputation: { verdict: "sender_reputation", side: "sender", category: "reputation_block" },
  provider_outage: { verdict: "recipient_filter", side: "recipient", category: "transient" },
};

type GatewayKey = GatewayId | "self_hosted" | "unrecognised";

/** B2B gateway mix (share of corporate organisations). */
const GATEWAY_MIX: ReadonlyArray<readonly [GatewayKey, number]> = [
  ["microsoft365", 0.4],
  ["google_workspace", 0.2],
  ["proofpoint", 0.12],
  ["mimecast", 0.1],
  ["barracuda", 0.05],
  ["cisco", 0.04],
  ["trend_micro", 0.02],
  ["sophos", 0.02],
  ["self_hosted", 0.05],
];

const CONSUMERS: ReadonlyArray<{
  domain: string;
  gateway: GatewayKey;
  share: number;
  mx: ReadonlyArray<readonly [string, number]>;
}> = [
  {
    domain: "gmail.com",
    gateway: "gmail",
    share: 0.45,
    mx: [
      ["gmail-smtp-in.l.google.com", 5],
      ["alt1.gmail-smtp-in.l.google.com", 10],
      ["alt2.gmail-smtp-in.l.google.com", 20],
      ["alt3.gmail-smtp-in.l.google.com", 30],
      ["alt4.gmail-smtp-in.l.google.com", 40],
    ],
  },
  {
    domain: "outlook.com",
    gateway: "outlook_com",
    share: 0.18,
    mx: [["outlook-com.olc.protection.outlook.com", 5]],
  },
  {
    domain: "hotmail.com",
    gateway: "outlook_com",
    share: 0.1,
    mx: [["hotmail-com.olc.protection.outlook.com", 2]],
  },
  {
    domain: "yahoo.com",
    gateway: "yahoo",
    share: 0.17,
    mx: [
      ["mta5.am0.yahoodns.net", 1],
      ["mta6.am0.yahoodns.net", 1],
      ["mta7.am0.yahoodns.net", 1],
    ],
  },
  {
    domain: "icloud.com",
    gateway: "icloud",
    share: 0.1,
    mx: [
      ["mx01.mail.icloud.com", 10],
      ["mx02.mail.icloud.com", 10],
    ],
  },
];
const CONSUMER_SHARE = 0.15;

// Fictional compound names (kept clear of RFC 2606 names, which the consumer list treats specially).
const NAME_A: readonly string[] = [
  "alderbrook amberline apexfield arborvale asterion basaltic birchmoor bluefin bramblewood",
  "brightwater caldermoor canyonridge cedarholt cobaltine copperleaf corrander crestline driftmark",
  "emberfield everlake fairhollow fenwicke fieldstone foxglade granitefall harbourline",
  "hawthorne-vale heronsgate highmoor ironbark junipero kestrelpoint lakeshire larkspur lindenhall",
  "marlowe-bay meadowbrook millstead northwind oakridge-hill orchardine ospreyfield palisado",
  "pinecrest quarrymoor ravenscroft redfernly riverbend rowanmere saltmarsh sandpiper silverline",
  "stonebridge tamarack thornbury tidewater timberline uplander valewood westbrooke willowmere",
  "wrenfield yarrowdale zephyrine glenhaven ashcombe brackenridge duskwood elmstead frostgate",
]
  .join(" ")
  .split(" ");
const NAME_B: readonly string[] = [
  "logistics traders engineering analytics consulting holdings manufacturing freight legal partners",
  "foods medical systems robotics energy insurance capital architects labs software textiles pharma",
  "packaging industrial marine builders distribution accounting media telecom supply tooling",
  "instruments agritech biotech hospitality retail advisory electric group",
]
  .join(" ")
  .split(" ");
const TLDS: ReadonlyArray<readonly [string, number]> = [
  ["com", 0.5],
  ["co.uk", 0.12],
  ["de", 0.08],
  ["fr", 0.05],
  ["nl", 0.05],
  ["io", 0.04],
  ["com.au", 0.04],
  ["ch", 0.03],
  ["se", 0.03],
  ["ca", 0.03],
  ["ie", 0.03],
];
const FIRST: readonly string[] = [
  "anna ben carla dev elena farid grace hiro ines jonas kim liam maria noah olga pavel quinn rosa",
  "sam tariq uma victor wen ximena yusuf zoe aisha bruno chloe daniel emma felix gita hannah ivan",
  "julia karim lena marco nina oscar priya rafael sofia thomas ursula valentin wiebke yara amir",
  "beatriz conor dalia erik fatima george helga isaac jana kenji laura mehmet nadia owen paula",
  "rohan sara tom vera will lucas mia leo ella",
]
  .join(" ")
  .split(" ");
const LAST: readonly string[] = [
  "lee novak okafor schmidt tanaka garcia murphy rossi dubois smith jones brown muller martin",
  "bernard kowalski nielsen jansen silva santos costa ivanova horvat papadopoulos yilmaz khan patel",
  "singh chen wang kim nguyen sato haddad mensah adeyemi obrien walsh kelly fischer weber wagner",
  "becker hoffmann moreau laurent leroy fontaine ricci marino greco bruno lindqvist berg eriksson",
  "larsen andersen virtanen korhonen nowak wojcik dvorak kovacs nagy popescu petrov taylor wilson",
  "evans thomas roberts walker wright hughes edwards green hall",
]
  .join(" ")
  .split(" ");
const ROLES: readonly string[] = ["info sales accounts procurement office support hr marketing finance"]
  .join(" ")
  .split(" ");
const LOCAL_FORMATS = [
  "first.last",
  "first.last",
  "first.last",
  "flast",
  "first",
  "first_last",
  "firstl",
  "f.last",
];

// ── randomness ──────────────────────────────────────────────────────────────────────────────────────────

type Rng = () => number;

/** A 32-bit hash of a string and a number: seeds for independent streams. */
function hash32(s: string, n = 0): number {
  let h = (0x811c9dc5 ^ n) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}

/** One generator whose state can be reset, so a per-send stream costs no allocation. */
function reseedable(): { next: Rng; reset(seed: number): void } {
  let a = 0;
  return {
    next: () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
    reset: (seed: number) => {
      a = seed >>> 0;
    },
  };
}

const stream = (seed: number, name: string): Rng => mulberry32(hash32(name, seed));
const u32 = (r: Rng): number => Math.floor(r() * 4294967296) >>> 0;

function at<T>(xs: readonly T[], i: number): T {
  const x = xs[i];
  if (x === undefined) throw new Error(`index ${i} out of range (${xs.length})`);
  return x;
}
const pick = <T>(r: Rng, xs: readonly T[]): T => at(xs, Math.floor(r() * xs.length));

function weighted<T>(r: Rng, xs: ReadonlyArray<readonly [T, number]>): T {
  const total = xs.reduce((a, [, w]) => a + w, 0);
  let x = r() * total;
  for (const [v, w] of xs) {
    x -= w;
    if (x < 0) return v;
  }
  return at(xs, xs.length - 1)[0];
}

function gaussian(r: Rng): number {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const b64 = (r: Rng, n: number): string => {
  let s = "";
  for (let i = 0; i < n; i++) s += B64[Math.floor(r() * 64)];
  return s;
};
const digits = (r: Rng, n: number): string => {
  let s = "";
  for (let i = 0; i < n; i++) s += String(Math.floor(r() * 10));
  return s;
};

// ── world ───────────────────────────────────────────────────────────────────────────────────────────────

interface Org {
  readonly domain: string;
  readonly gateway: GatewayKey;
  readonly mx: ReadonlyArray<readonly [string, number]>;
  readonly consumer: boolean;
  /** Region tag in Mimecast reference ids. */
  readonly mcRegion: string;
  /** Outlook-style host names in Microsoft replies. */
  readonly msHost: string;
  listSize: number;
}

interface Rcpt {
  readonly address: string;
  readonly org: number;
  readonly addedAt: number;
  departedAt: number;
  readonly typo: boolean;
  suppressed: boolean;
  lastDelivered: number;
  readonly txRate: number;
}

function mimecastRegion(domain: string): { host: string; tag: string } {
  if (/\.de$/.test(domain)) return { host: "de", tag: "de" };
  if (/\.com\.au$/.test(domain)) return { host: "au", tag: "au" };
  if (/\.(co\.uk|ie)$/.test(domain)) return { host: "eu", tag: "uk" };
  if (/\.(fr|nl|se|ch)$/.test(domain)) return { host: "eu", tag: "eu" };
  return { host: "us", tag: "us" };
}

const EUROPE = /\.(co\.uk|ie|de|fr|nl|se|ch)$/;

function mxFor(domain: string, gateway: GatewayKey, r: Rng): Array<readonly [string, number]> {
  switch (gateway) {
    case "microsoft365":
      return [[`${domain.replace(/\./g, "-")}.mail.protection.outlook.com`, 0]];
    case "google_workspace":
      return r() < 0.3
        ? [["smtp.google.com", 1]]
        : [
            ["aspmx.l.google.com", 1],
            ["alt1.aspmx.l.google.com", 5],
            ["alt2.aspmx.l.google.com", 5],
            ["alt3.aspmx.l.google.com", 10],
            ["alt4.aspmx.l.google.com", 10],
          ];
    case "proofpoint": {
      const id = `00${digits(r, 6)}`;
      return [
        [`mx0a-${id}.pphosted.com`, 10],
        [`mx0b-${id}.pphosted.com`, 10],
      ];
    }
    case "mimecast": {
      const { host } = mimecastRegion(domain);
      return [
        [`${host}-smtp-inbound-1.mimecast.com`, 10],
        [`${host}-smtp-inbound-2.mimecast.com`, 10],
      ];
    }
    case "barracuda": {
      const id = `d${1 + Math.floor(r() * 9)}${digits(r, 8)}`;
      return [
        [`${id}a.ess.barracudanetworks.com`, 10],
        [`${id}b.ess.barracudanetworks.com`, 20],
      ];
    }
    case "cisco": {
      const id = `hc${digits(r, 4)}-${digits(r, 2)}`;
      return [
        [`mx1.${id}.iphmx.com`, 10],
        [`mx2.${id}.iphmx.com`, 10],
      ];
    }
    case "trend_micro":
      return [[`${domain.replace(/\./g, "-")}.in.tmes.trendmicro.${EUROPE.test(domain) ? "eu" : "com"}`, 10]];
    case "sophos": {
      const region = EUROPE.test(domain) ? "eu-central-1" : "us-west-2";
      return [
        [`mx-01-${region}.prod.hydra.sophos.com`, 10],
        [`mx-02-${region}.prod.hydra.sophos.com`, 20],
      ];
    }
    default:
      return r() < 0.5
        ? [[`mail.${domain}`, 10]]
        : [
            [`mail.${domain}`, 10],
            [`mx2.${domain}`, 20],
          ];
  }
}

/** Quota-exact gateway assignment (largest remainder), shuffled over organisations. */
function assignGateways(n: number, r: Rng): GatewayKey[] {
  const quotas = GATEWAY_MIX.map(([g, w]) => ({ g, exact: n * w, k: Math.floor(n * w) }));
  let left = n - quotas.reduce((a, q) => a + q.k, 0);
  for (const q of [...quotas].sort((a, b) => b.exact - b.k - (a.exact - a.k))) {
    if (left <= 0) break;
    q.k++;
    left--;
  }
  const out: GatewayKey[] = quotas.flatMap((q) => Array.from({ length: q.k }, () => q.g));
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [at(out, j), at(out, i)];
  }
  return out;
}

function corporateDomains(n: number, r: Rng): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  while (out.length < n) {
    const name = `${pick(r, NAME_A)}-${pick(r, NAME_B)}`;
    const domain = `${name}.${weighted(r, TLDS)}`;
    if (seen.has(name)) continue;
    seen.add(name);
    out.push(domain);
  }
  return out;
}

/**
 * A hosted mail platform the gateway catalogue does not list: MXroute documents its MX records as
 * `{server}.mxrouting.net` and `{server}-relay.mxrouting.net` (https://mxroute.com/docs/dns-overview/).
 */
const UNRECOGNISED_SERVERS: readonly string[] = [
  "blizzard",
  "safari",
  "lucy",
  "arrow",
  "echo",
  "sunfire",
  "taylor",
];

/** The three largest customers: thousands of contacts each, whatever the seed. */
const TOP_SIZES = [3600, 1700, 1150];

/** Zipf-like list sizes by rank, with log-normal scatter: a few thousands, most 2–30, some 1–2. */
function listSizes(n: number, r: Rng): number[] {
  const sizes: number[] = [];
  for (let k = 1; k <= n; k++) {
    const top = TOP_SIZES[k - 1];
    const s =
      top !== undefined ? top * (1 + 0.12 * (2 * r() - 1)) : (3600 / k ** 1.42) * Math.exp(0.3 * gaussian(r));
    sizes.push(Math.max(1, Math.round(s)));
  }
  return sizes;
}

function localPart(format: string, first: string, last: string): string {
  switch (format) {
    case "flast":
      return `${first[0]}${last}`;
    case "first":
      return first;
    case "first_last":
      return `${first}_${last}`;
    case "firstl":
      return `${first}${last[0]}`;
    case "f.last":
      return `${first[0]}.${last}`;
    default:
      return `${first}.${last}`;
  }
}

function typoOf(local: string, r: Rng): string {
  const i = 1 + Math.floor(r() * Math.max(1, local.length - 2));
  const a = local[i - 1] ?? "";
  const b = local[i] ?? "";
  if (r() < 0.5 && a !== b && a !== "." && b !== ".")
    return local.slice(0, i - 1) + b + a + local.slice(i + 1);
  return local.slice(0, i) + local.slice(i + 1);
}

// ── rejection texts (docs/sources.md#gateway-rejection-texts) ───────────────────────────────────────────────────

interface TextContext {
  r: Rng;
  addr: string;
  ip: string;
  org: Org;
  pool: string;
}
type Template = (c: TextContext) => string;
/** Wording per recipient platform; `default` for platforms without their own. */
type TemplateTable = Readonly<
  Partial<Record<GatewayKey, readonly Template[]>> & { default: readonly Template[] }
>;

const gsmtp = (r: Rng): string => `${b64(r, 10)}${digits(r, 2)}.${digits(r, 3)} - gsmtp`;
const mcRef = (c: TextContext): string =>
  `[${b64(c.r, 22)}.${c.org.mcRegion}${100 + Math.floor(c.r() * 800)}]`;
const MC_DOC = "https://community.mimecast.com/docs/DOC-1369";

const noSuchUser: Template = (c) =>
  `550-5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. For more information, go to https://support.google.com/mail/?p=NoSuchUser ${gsmtp(c.r)}`;

/** Genuine "no such mailbox" answers, per recipient platform. */
const USER_UNKNOWN: TemplateTable = {
  microsoft365: [
    (c) =>
      `550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient ${c.addr} not found by SMTP address lookup [${c.org.msHost}]`,
    (c) =>
      `550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient ${c.addr} not found by SMTP address lookup [${c.org.msHost}]`,
    (c) =>
      `550 5.2.1 STOREDRV.Deliver.Exception:AccountDisabledException.MapiExceptionMailboxDisabled; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot open mailbox. [${c.org.msHost}]`,
  ],
  outlook_com: [
    (c) => `550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [${c.org.msHost}]`,
  ],
  google_workspace: [
    noSuchUser,
    noSuchUser,
    noSuchUser,
    (c) =>
      `550-5.2.1 The email account that you tried to reach is disabled. For more information, go to https://support.google.com/mail/?p=DisabledUser ${gsmtp(c.r)}`,
  ],
  gmail: [noSuchUser],
  proofpoint: [
    (c) => `550 5.1.1 <${c.addr}>: Recipient address rejected: User unknown`,
    () => "550 5.1.1 User Unknown",
  ],
  mimecast: [(c) => `550 Invalid Recipient - ${MC_DOC}#550 ${mcRef(c)}`],
  barracuda: [
    (c) => `550 No such user (${c.addr})`,
    (c) => `550 5.1.1 <${c.addr}>: Recipient address rejected: User unknown`,
  ],
  cisco: [() => "550 #5.1.0 Address rejected."],
  trend_micro: [(c) => `550 5.1.1 <${c.addr}>: Recipient address rejected: Invalid-Recipient.`],
  sophos: [(c) => `550 5.1.1 <${c.addr}>: XGEMAIL_0011 Command rejected due to recipient does not exist`],
  yahoo: [
    (c) =>
      `554 delivery error: dd This user doesn't have a yahoo.com account (${c.addr}) [0] - mta${4000 + Math.floor(c.r() * 999)}.mail.gq1.yahoo.com`,
  ],
  icloud: [(c) => `550 5.1.1 <${c.addr}>: user does not exist`],
  self_hosted: [
    (c) => `550 5.1.1 <${c.addr}>: Recipient address rejected: User unknown in virtual mailbox table`,
    (c) => `550 5.1.1 <${c.addr}>: Recipient address rejected: User unknown in local recipient table`,
  ],
  default: [(c) => `550 5.1.1 <${c.addr}>: Recipient address rejected: User unknown`],
};

/** A gateway's directory copy calling existing users unknown (docs/sources.md#directory-copy-validation). */
const STALE_DIRECTORY: Readonly<Partial<Record<GatewayKey, readonly Template[]>>> = {
  proofpoint: [(c) => `550 5.1.1 <${c.addr}>: Recipient address rejected: User unknown`],
  mimecast: [(c) => `550 Invalid Recipient - ${MC_DOC}#550 ${mcRef(c)}`],
  microsoft365: [
    (c) => `550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [${c.org.msHost}]`,
  ],
  barracuda: [(c) => `550 5.1.1 <${c.addr}>: Recipient address rejected: User unknown`],
  cisco: [() => "550 #5.1.0 Address rejected."],
};

/** A recipient-side policy (admin rule, block list) refusing the sender. */
const POLICY: TemplateTable = {
  mimecast: [
    (c) => `550 Administrative prohibition - envelope blocked - ${MC_DOC}#550 ${mcRef(c)}`,
    (c) => `550 Administrative prohibition - envelope blocked - ${MC_DOC}#550 ${mcRef(c)}`,
    (c) => `550 Envelope rejected - block policy for envelope from address - ${MC_DOC}#550 ${mcRef(c)}`,
  ],
  proofpoint: [() => "550 5.7.1 Message rejected by the recipient organization's security policy"],
  microsoft365: [
    (c) =>
      `550 5.7.1 Delivery not authorized, message refused. Please verify that the message was sent to the right recipient. [${c.org.msHost}]`,
  ],
  google_workspace: [
    (c) =>
      `550-5.7.1 The user or domain that you are sending to (or from) has a policy that prohibited the mail that you sent. Please contact your domain administrator for further details. For more information, go to https://support.google.com/a/answer/172179 ${gsmtp(c.r)}`,
  ],
  barracuda: [(c) => `550 permanent failure for one or more recipients (${c.addr}:blocked)`],
  cisco: [() => "554 5.7.1 Message rejected by policy"],
  trend_micro: [(c) => `554 5.7.1 <${c.addr}>: Recipient address rejected: BLOCK-SEND-ER.`],
  sophos: [() => "550 5.7.1 XGEMAIL_0008 Command rejected due to sender on the admin block list"],
  default: [() => "554 5.7.1 Message refused by local policy"],
};

const spamhaus: Template = (c) =>
  `554 5.7.1 Service unavailable; Client host [${c.ip}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/${c.ip}`;

/** The sending IP on a block list or with a bad reputation. */
const REPUTATION: TemplateTable = {
  microsoft365: [
    (c) =>
      `550 5.7.1 Service unavailable, Client host [${c.ip}] blocked using Spamhaus. To request removal from this list see https://www.spamhaus.org/query/ip/${c.ip} (AS16012611) [${c.org.msHost}]`,
    (c) =>
      `550 5.7.606 Access denied, banned sending IP [${c.ip}]. To request removal from this list please visit https://sender.office.com/ and follow the directions. For more information please go to http://go.microsoft.com/fwlink/?LinkID=526655 (AS16012609) [${c.org.msHost}]`,
  ],
  outlook_com: [
    (c) =>
      `550 5.7.1 Unfortunately, messages from [${c.ip}] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [${c.org.msHost}]`,
  ],
  google_workspace: [
    (c) =>
      `550-5.7.1 [${c.ip}] Our system has detected that this message is likely suspicious due to the very low reputation of the sending IP address. To best protect our users from spam, the message has been blocked. Please visit https://support.google.com/mail/answer/188131 for more information. ${gsmtp(c.r)}`,
  ],
  gmail: [
    (c) =>
      `550-5.7.1 [${c.ip}] Our system has detected that this message is likely suspicious due to the very low reputation of the sending IP address. To best protect our users from spam, the message has been blocked. Please visit https://support.google.com/mail/answer/188131 for more information. ${gsmtp(c.r)}`,
  ],
  proofpoint: [
    (c) => `554 5.7.0 Blocked - see https://ipcheck.proofpoint.com/?ip=${c.ip}`,
    (c) => `550 5.7.1 Service unavailable; client [${c.ip}] blocked using zen.spamhaus.org`,
  ],
  mimecast: [
    (c) => `550 Local CT IP Reputation - (Reject) - ${MC_DOC}#550 ${mcRef(c)}`,
    (c) => `550 csi.mimecast.org Poor Reputation Sender. - ${MC_DOC}#550 ${mcRef(c)}`,
  ],
  barracuda: [
    (c) =>
      `554 Service unavailable; Client host [${c.ip}] blocked using Barracuda Reputation; http://www.barracudanetworks.com/reputation/?r=1&ip=${c.ip}`,
    spamhaus,
  ],
  cisco: [
    () =>
      "554 Your access to this mail system has been rejected due to the sending MTA's poor reputation. If you believe that this failure is in error, please contact the intended recipient via alternate means.",
  ],
  trend_micro: [(c) => `550 5.7.1 <${c.addr}>: Recipient address rejected: ERS-RBL.`],
  sophos: [
    (c) =>
      `550 5.7.1 Service unavailable; Client host [${c.ip}] is blacklisted. Visit https://www.sophos.com/en-us/threat-center/ip-lookup.aspx?ip=${c.ip}`,
  ],
  yahoo: [
    (c) =>
      `553 5.7.1 [BL21] Connections will not be accepted from ${c.ip}, because the ip is in Spamhaus's list; see https://postmaster.yahooinc.com/error-codes`,
  ],
  icloud: [(c) => `550 5.7.0 Blocked - see https://ipcheck.proofpoint.com/?ip=${c.ip}`],
  self_hosted: [
    spamhaus,
    (c) => `550 5.7.1 Service unavailable; client [${c.ip}] blocked using zen.spamhaus.org`,
  ],
  default: [spamhaus],
};

const dmarcGoogle: Template = (c) =>
  `550-5.7.26 Unauthenticated email from ${SENDER_DOMAIN} is not accepted due to domain's DMARC policy. Please contact the administrator of ${SENDER_DOMAIN} domain if this was a legitimate mail. To learn about the DMARC initiative, go to https://support.google.com/mail/?p=DmarcRejection ${gsmtp(c.r)}`;
const dmarcGoogleBulk: Template = (c) =>
  `550-5.7.26 This mail has been blocked because the sender is unauthenticated. Gmail requires all senders to authenticate with either SPF or DKIM. Authentication results: DKIM = did not pass SPF [${SENDER_DOMAIN}] with ip: [${c.ip}] = did not pass For instructions on setting up authentication, go to https://support.google.com/mail/answer/81126#authentication ${gsmtp(c.r)}`;
const dmarcMicrosoft: Template = (c) =>
  `550 5.7.509 Access denied, sending domain [${SENDER_DOMAIN}] does not pass DMARC verification and has a DMARC policy of reject. [${c.org.msHost}]`;

/** SPF/DKIM/DMARC failures. */
const AUTH: TemplateTable = {
  gmail: [dmarcGoogle, dmarcGoogleBulk],
  google_workspace: [dmarcGoogle, dmarcGoogleBulk],
  microsoft365: [dmarcMicrosoft],
  outlook_com: [
    dmarcMicrosoft,
    (c) =>
      `550 5.7.515 Access denied, sending domain ${SENDER_DOMAIN} doesn't meet the required authentication level. The sender's domain in the 5322.From address doesn't meet the authentication requirements defined for the sender. To learn more, see https://go.microsoft.com/fwlink/?linkid=2284116 [${c.org.msHost}]`,
  ],
  yahoo: [
    () =>
      "550 5.7.9 This mail has been blocked because the sender is unauthenticated. Yahoo requires all senders to authenticate with either SPF or DKIM.",
  ],
  proofpoint: [() => `550 5.7.1 Email rejected per DMARC policy for ${SENDER_DOMAIN}`],
  mimecast: [(c) => `550 DMARC Sender Invalid - envelope rejected - ${MC_DOC}#550 ${mcRef(c)}`],
  barracuda: [() => `550 5.7.1 Message rejected: ${SENDER_DOMAIN} failed DMARC and its policy is reject`],
  cisco: [() => "550 #5.7.1 DMARC unauthenticated mail is prohibited."],
  trend_micro: [() => `550 5.7.1 Email rejected per DMARC policy for ${SENDER_DOMAIN}`],
  sophos: [() => "550 5.7.1 XGEMAIL_0003 Command rejected due to DMARC failure"],
  icloud: [
    () =>
      `550 5.7.1 Your message was rejected due to ${SENDER_DOMAIN}'s DMARC policy. See https://support.apple.com/en-us/HT204137`,
  ],
  self_hosted: [() => `550 5.7.1 Rejected by DMARC policy for ${SENDER_DOMAIN}`],
  default: [() => `550 5.7.1 Rejected by DMARC policy for ${SENDER_DOMAIN}`],
};

const ube: Template = (c) =>
  `554 5.7.1 Message content rejected, UBE, id=${digits(c.r, 5)}-${digits(c.r, 2)}`;

/** Content/spam verdicts on the message itself. */
const CONTENT: TemplateTable = {
  microsoft365: [(c) => `550 5.7.1 Message rejected as spam by Content Filtering. [${c.org.msHost}]`],
  gmail: [
    (c) =>
      `550-5.7.1 [${c.ip}] Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked. For more information, go to https://support.google.com/mail/?p=UnsolicitedMessageError ${gsmtp(c.r)}`,
  ],
  google_workspace: [
    (c) =>
      `550-5.7.1 [${c.ip}] Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked. For more information, go to https://support.google.com/mail/?p=UnsolicitedMessageError ${gsmtp(c.r)}`,
  ],
  proofpoint: [() => "550 5.7.1 Message blocked due to spam content in the message."],
  mimecast: [(c) => `554 Email rejected due to security policies - ${MC_DOC}#554 ${mcRef(c)}`],
  barracuda: [() => "554 rejected due to spam URL in content", ube],
  cisco: [() => "554 5.7.1 Message rejected by content filter"],
  trend_micro: [() => "550 5.7.1 Message rejected: spam content detected"],
  sophos: [() => "550 5.7.1 Message rejected due to spam content"],
  self_hosted: [
    ube,
    (c) =>
      `550 5.7.1 Message rejected as spam (SpamAssassin score ${8 + Math.floor(c.r() * 12)}.${digits(c.r, 1)})`,
  ],
  default: [ube],
};

/** The ESP failing on its own: no remote server was reached, so no reply code. */
const ESP_INTERNAL: readonly Template[] = [
  (c) =>
    `ESP internal error while sending: delivery worker on ${c.pool} lost its queue lease; message not attempted`,
  () => "Internal error occurred while sending the message; no connection to the recipient's server was made",
  (c) => `Message was not sent because of an internal error in sending pool ${c.pool}`,
];

const MAILBOX_FULL: TemplateTable = {
  microsoft365: [
    (c) =>
      `554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded; Failed to process message due to a permanent exception [${c.org.msHost}]`,
  ],
  outlook_com: [
    (c) =>
      `554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded; Failed to process message due to a permanent exception [${c.org.msHost}]`,
  ],
  gmail: [
    (c) =>
      `452-4.2.2 The recipient's inbox is out of storage space. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaTemp ${gsmtp(c.r)}`,
  ],
  google_workspace: [
    (c) =>
      `452-4.2.2 The recipient's inbox is out of storage space. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaTemp ${gsmtp(c.r)}`,
  ],
  default: [(c) => `552 5.2.2 <${c.addr}>: Mailbox full - quota exceeded`],
};

/** Deferrals: greylisting, busy servers, throttling; the message is delivered on a later attempt. */
const DEFERRAL: TemplateTable = {
  microsoft365: [
    (c) => `451 4.7.500 Server busy. Please try again later from [${c.ip}]. (AS843) [${c.org.msHost}]`,
  ],
  outlook_com: [
    (c) => `451 4.7.500 Server busy. Please try again later from [${c.ip}]. (AS843) [${c.org.msHost}]`,
  ],
  gmail: [(c) => `421-4.7.0 Try again later, closing connection. (EHLO) ${gsmtp(c.r)}`],
  google_workspace: [(c) => `421-4.7.0 Try again later, closing connection. (EHLO) ${gsmtp(c.r)}`],
  mimecast: [(c) => `451 Internal resources are temporarily unavailable - ${MC_DOC}#451 ${mcRef(c)}`],
  yahoo: [
    (c) =>
      `421 4.7.0 [TSS04] Messages from ${c.ip} temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes`,
  ],
  barracuda: [(c) => `451 4.7.1 <${c.addr}>: Recipient address rejected: Greylisted for 5 minutes`],
  self_hosted: [
    (c) =>
      `450 4.2.0 <${c.addr}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/${c.org.domain}.html`,
  ],
  default: [() => "451 4.3.0 Temporary local problem - please try later"],
};

const SUPPRESSED_TEXT = "Not delivering to previously bounced address";

const templatesFor = (table: TemplateTable, g: GatewayKey): readonly Template[] => table[g] ?? table.default;

/**
 * The ESP giving up after retries and quoting the receiving server's last temporary reply, in SparkPost's
 * (Momentum's) words: "554 5.4.7 [internal] message timeout (last transfail: …)"
 * (https://support.sparkpost.com/docs/faq/understanding-delays-bounces).
 */
const expiredAfter = (g: GatewayKey): readonly Template[] =>
  templatesFor(DEFERRAL, g).map(
    (last) => (c) => `554 5.4.7 [internal] message timeout (last transfail: ${last(c)})`,
  );

/** A fixed context for rendering texts outside a history (same values every time). */
function exampleContext(): TextContext {
  const org: Org = {
    domain: "acme-example-logistics.com",
    gateway: "self_hosted",
    mx: [["mail.acme-example-logistics.com", 10]],
    consumer: false,
    mcRegion: "us",
    msHost: "AM0PR01MB1234.eurprd01.prod.outlook.com",
    listSize: 1,
  };
  return {
    r: mulberry32(1),
    addr: "anna.lee@acme-example-logistics.com",
    ip: "198.51.100.10",
    org,
    pool: "pool-a",
  };
}

/**
 * Every rejection text the simulation can produce by itself, rendered once per template and platform with
 * `exampleContext`: what rules are developed against. The evaluation's text bank keeps texts with the same wording
 * (compare them rendered with `renderTemplateExample`) out of its scoring half.
 */
export function builtInRejectionTexts(): string[] {
  const c = exampleContext();
  const tables: readonly TemplateTable[] = [
    USER_UNKNOWN,
    POLICY,
    REPUTATION,
    AUTH,
    CONTENT,
    MAILBOX_FULL,
    DEFERRAL,
  ];
  const templates = [
    ...tables.flatMap((t) => Object.values(t).flat()),
    ...Object.values(STALE_DIRECTORY).flat(),
    ...ESP_INTERNAL,
    ...(Object.keys(DEFERRAL) as GatewayKey[]).flatMap((g) => expiredAfter(g)),
  ];
  return [...new Set(templates.map((t) => t(c)))];
}

/** A text template (see `fillTemplate`) rendered with the same fixed context as `builtInRejectionTexts`. */
export function renderTemplateExample(template: string): string {
  return fillTemplate(template)(exampleContext());
}

const PLACEHOLDERS: Readonly<Record<string, (c: TextContext) => string>> = {
  addr: (c) => c.addr,
  local: (c) => c.addr.slice(0, Math.max(0, c.addr.indexOf("@"))),
  domain: (c) => c.org.domain,
  ip: (c) => c.ip,
  pool: (c) => c.pool,
  sender: () => SENDER_DOMAIN,
  mx: (c) => c.org.mx[0]?.[0] ?? `mail.${c.org.domain}`,
  mcref: (c) => mcRef(c),
  mshost: (c) => c.org.msHost,
  gsmtp: (c) => gsmtp(c.r),
  n: (c) => digits(c.r, 5),
};

/**
 * A rejection text from outside (the evaluation's text bank) as a template: `{addr}` the recipient, `{local}` its
 * local part, `{domain}` its organisation, `{ip}` and `{pool}` the sending IP and pool, `{sender}` the sender's
 * domain, `{mx}` the organisation's first MX host, `{mcref}` a Mimecast reference, `{mshost}` a Microsoft host
 * name, `{gsmtp}` a Google trace id, `{n}` five random digits.
 */
export function fillTemplate(template: string): Template {
  const parts = template.split(/\{(\w+)\}/);
  for (let i = 1; i < parts.length; i += 2) {
    if (!PLACEHOLDERS[parts[i] ?? ""]) throw new Error(`unknown placeholder {${parts[i]}} in: ${template}`);
  }
  return (c) => parts.map((p, i) => (i % 2 === 0 ? p : (PLACEHOLDERS[p]?.(c) ?? ""))).join("");
}

/** The reply code and enhanced code a text leads with, as the ESP mappers read them. */
function smtpOf(text: string): { code: number | null; enhanced: string | null; text: string } {
  const code = /^([2-5]\d\d)(?=[\s-]|$)/.exec(text)?.[1];
  const enhanced = /^[2-5]\d\d[\s-]+#?([245]\.\d{1,3}\.\d{1,3})(?![\d.])/.exec(text)?.[1] ?? null;
  return { code: code === undefined ? null : Number(code), enhanced, text };
}

// ── incidents ───────────────────────────────────────────────────────────────────────────────────────────

/** Share of in-scope sends each gateway rejects, per kind (ip: on the listed IP; dmarc: all; content: campaign). */
const IP_BLOCK_RATE: Readonly<Partial<Record<GatewayKey, number>>> = {
  microsoft365: 0.5,
  outlook_com: 0.5,
  google_workspace: 0.3,
  gmail: 0.35,
  proofpoint: 0.6,
  mimecast: 0.5,
  barracuda: 0.7,
  cisco: 0.6,
  trend_micro: 0.6,
  sophos: 0.6,
  yahoo: 0.6,
  icloud: 0.5,
  self_hosted: 0.6,
};
const DMARC_RATE: Readonly<Partial<Record<GatewayKey, number>>> = {
  gmail: 0.55,
  yahoo: 0.55,
  google_workspace: 0.45,
  microsoft365: 0.35,
  outlook_com: 0.4,
  proofpoint: 0.4,
  mimecast: 0.4,
  icloud: 0.35,
  self_hosted: 0.2,
};
const CONTENT_RATE: Readonly<Partial<Record<GatewayKey, number>>> = {
  microsoft365: 0.35,
  google_workspace: 0.35,
  gmail: 0.15,
  proofpoint: 0.5,
  mimecast: 0.5,
  barracuda: 0.5,
  cisco: 0.45,
  trend_micro: 0.45,
  sophos: 0.45,
  self_hosted: 0.4,
  // Consumer providers other than Gmail accept and junk.
  outlook_com: 0,
  yahoo: 0,
  icloud: 0,
};

type Stage = "esp" | "connect" | "envelope" | "rcpt" | "data";
const STAGE_OF: Readonly<Record<IncidentKind, Stage>> = {
  esp_pool_fault: "esp",
  ip_blocklisted: "connect",
  gateway_policy_change: "envelope",
  gateway_user_unknown_one_org: "rcpt",
  dmarc_failing: "data",
  content_block: "data",
  org_policy_block: "envelope",
  pool_reputation: "connect",
  provider_outage: "connect",
};

interface SendContext {
  t: number;
  rc: Rcpt;
  org: Org;
  ip: string;
  pool: string;
  campaign: string | null;
}

interface ActiveIncident {
  readonly meta: InjectedIncident;
  readonly stage: Stage;
  readonly startMs: number;
  readonly endMs: number;
  readonly salt: number;
  readonly orgs: Set<string>;
  readonly events: ProviderEvent[];
  /** Probability that this send is rejected (0 when out of scope). */
  probability(s: SendContext): number;
  templates(org: Org): readonly Template[];
  /** Gradual onset: a factor in [0, 1] on the probability at time t (default 1). */
  ramp?(t: number): number;
  /** Whether the event names the receiving MX host (default: not for the ESP's own failures). */
  readonly withMx?: boolean;
  /** Whether the ESP suppresses the address afterwards (default: not after its own failures). */
  readonly suppress?: boolean;
}

/** Sends as columns (no object per send: a history has ~100k of them). */
class SendLog {
  readonly t: number[] = [];
  readonly r: number[] = [];
  readonly campaign: number[] = [];
  readonly u: number[] = [];
  readonly ip: number[] = [];
  readonly clean: boolean[] = [];
  readonly campaigns: string[] = [];

  push(t: number, r: number, campaign: string | null, u: number, ip: number, clean = false): void {
    let c = -1;
    if (campaign !== null) {
      c = this.campaigns.lastIndexOf(campaign);
      if (c < 0) c = this.campaigns.push(campaign) - 1;
    }
    this.t.push(t);
    this.r.push(r);
    this.campaign.push(c);
    this.u.push(u);
    this.ip.push(ip);
    this.clean.push(clean);
  }

  get length(): number {
    return this.t.length;
  }

  read(i: number, into: Send): void {
    into.t = at(this.t, i);
    into.r = at(this.r, i);
    const c = at(this.campaign, i);
    into.campaign = c < 0 ? null : at(this.campaigns, c);
    into.u = at(this.u, i);
    into.ip = at(this.ip, i);
    into.clean = at(this.clean, i);
  }
}

/**
 * Indices of `times` in ascending order (ties in index order). Packs the millisecond offset and the index into one
 * double so the native numeric sort does the work; falls back to a comparator sort when they do not fit.
 */
function timeOrder(times: readonly number[], origin: number): number[] {
  const n = times.length;
  const slots = 2 ** Math.ceil(Math.log2(n + 1));
  let max = 0;
  for (const t of times) max = Math.max(max, Math.floor(t - origin));
  const idx = Array.from({ length: n }, (_, i) => i);
  if (max < 0 || (max + 1) * slots >= 2 ** 53 || times.some((t) => t < origin)) {
    return idx.sort((a, b) => at(times, a) - at(times, b) || a - b);
  }
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = Math.floor(at(times, i) - origin) * slots + i;
  keys.sort();
  for (let i = 0; i < n; i++) idx[i] = (keys[i] ?? 0) % slots;
  return idx;
}

interface Send {
  t: number;
  r: number;
  campaign: string | null;
  u: number;
  ip: number;
  /** Forced sends for the tiny-organisation bounces: no noise, no incidents. */
  clean: boolean;
}

// ── generator ───────────────────────────────────────────────────────────────────────────────────────────

export function generateHistory(o: HistoryOptions): History {
  const seed = o.seed >>> 0;
  const days = o.days ?? 42;
  const nOrgs = o.organisations ?? 250;
  const startMs = o.start.getTime();
  const endMs = startMs + days * DAY;
  const ipPools = o.ipPools ?? IP_POOLS;
  const ips: readonly string[] = Object.values(ipPools).flat();
  const poolOfIp: ReadonlyMap<string, string> = new Map(
    Object.entries(ipPools).flatMap(([pool, list]) => list.map((ip) => [ip, pool] as const)),
  );
  const sourceOf = (pool: string | undefined): ProviderEvent["source"] =>
    (pool !== undefined ? o.poolSources?.[pool] : undefined) ?? "simulated";

  // ── organisations ──
  const wr = stream(seed, "world");
  const domains = corporateDomains(nOrgs, wr);
  const gateways = assignGateways(nOrgs, wr);
  const volume = o.volume ?? 1;
  const drawn = listSizes(nOrgs, wr);
  const sizes = volume === 1 ? drawn : drawn.map((n) => Math.max(1, Math.round(n * volume)));
  // Organisations moved behind a platform the catalogue does not know: drawn from their own stream, and their MX
  // replaced after the world stream has drawn it, so every other organisation stays as it was.
  const unrecognised = new Set<number>();
  const ur = stream(seed, "unrecognised");
  const urServer = pick(ur, UNRECOGNISED_SERVERS);
  const urWanted = Math.min(o.unrecognisedGateway ?? 0, Math.max(0, nOrgs - 3));
  while (unrecognised.size < urWanted) unrecognised.add(3 + Math.floor(ur() * (nOrgs - 3)));
  const orgs: Org[] = [];
  for (let i = 0; i < nOrgs; i++) {
    const domain = at(domains, i);
    const drawnGateway = at(gateways, i);
    const drawnMx = mxFor(domain, drawnGateway, wr);
    const moved = unrecognised.has(i);
    orgs.push({
      domain,
      gateway: moved ? "unrecognised" : drawnGateway,
      mx: moved
        ? [
            [`${urServer}.mxrouting.net`, 10],
            [`${urServer}-relay.mxrouting.net`, 20],
          ]
        : drawnMx,
      consumer: false,
      mcRegion: mimecastRegion(domain).tag,
      msHost: `${pick(wr, ["AM", "DB", "VI", "PA", "BN", "CH", "SN", "DM"])}${digits(wr, 1)}PR${digits(wr, 2)}MB${digits(wr, 4)}.${EUROPE.test(domain) ? "eurprd0" : "namprd0"}${digits(wr, 1)}.prod.outlook.com`,
      listSize: 0,
    });
  }
  const corporateTotal = sizes.reduce((a, b) => a + b, 0);
  const consumerTotal = Math.round((corporateTotal * CONSUMER_SHARE) / (1 - CONSUMER_SHARE));
  for (const c of CONSUMERS) {
    orgs.push({
      domain: c.domain,
      gateway: c.gateway,
      mx: c.mx,
      consumer: true,
      mcRegion: "us",
      msHost: `${pick(wr, ["BN", "CH", "SN", "DM"])}${digits(wr, 1)}PEPF0000${digits(wr, 4)}.namprd0${digits(wr, 1)}.prod.outlook.com`,
      listSize: 0,
    });
    sizes.push(Math.max(1, Math.round(consumerTotal * c.share)));
  }

  // ── recipients ──
  const rcpts: Rcpt[] = [];
  const months = days / 30;
  for (let oi = 0; oi < orgs.length; oi++) {
    const org = at(orgs, oi);
    const initial = at(sizes, oi);
    const format = pick(wr, LOCAL_FORMATS);
    const used = new Set<string>();
    const fresh = (): string => {
      for (;;) {
        let local: string;
        if (org.consumer) {
          const f = pick(wr, FIRST);
          const l = pick(wr, LAST);
          const v = wr();
          local =
            v < 0.4
              ? `${f}.${l}${wr() < 0.6 ? String(Math.floor(wr() * 100)) : ""}`
              : v < 0.7
                ? `${f}${l}${Math.floor(1960 + wr() * 45)}`
                : `${f[0]}${l}${Math.floor(wr() * 1000)}`;
        } else if (initial >= 10 && wr() < 0.04) {
          local = pick(wr, ROLES);
        } else {
          local = localPart(format, pick(wr, FIRST), pick(wr, LAST));
        }
        let candidate = local;
        for (let k = 2; used.has(candidate); k++) candidate = `${local}${k}`;
        used.add(candidate);
        return candidate;
      }
    };
    // Monthly hazards: leaving (B2B staff turnover vs abandoned consumer mailboxes) and new contacts.
    const leaveRate = org.consumer ? 0.005 : (o.turnover ?? 0.03);
    const growth = org.consumer ? 0.02 : 0.025;
    const added = initial + Math.floor(initial * growth * months + wr());
    for (let k = 0; k < added; k++) {
      const isNew = k >= initial;
      const addedAt = isNew ? startMs + wr() * (endMs - startMs - DAY) : Number.NEGATIVE_INFINITY;
      let local = fresh();
      const typo = isNew && wr() < 0.04;
      if (typo) {
        let t = typoOf(local, wr);
        while (used.has(t)) t = `${t}x`;
        used.add(t);
        local = t;
      }
      const stale = !isNew && wr() < (org.consumer ? 0.002 : 0.006);
      const from = Math.max(addedAt, startMs);
      const departedAt = stale
        ? startMs - DAY
        : from + (-Math.log(Math.max(wr(), 1e-12)) / leaveRate) * 30 * DAY;
      const txRate = Math.min(
        0.4,
        Math.max(1e-4, (org.consumer ? 0.012 : 0.022) * -Math.log(Math.max(wr(), 1e-12))),
      );
      rcpts.push({
        address: `${local}@${org.domain}`.toLowerCase(),
        org: oi,
        addedAt,
        departedAt,
        typo,
        suppressed: !isNew && wr() < 0.005,
        lastDelivered: Number.NaN,
        txRate,
      });
    }
    org.listSize = added;
  }

  // ── schedule: campaigns and transactional mail ──
  const sr = stream(seed, "schedule");
  const sends = new SendLog();
  const campaigns: CampaignInfo[] = [];
  const addCampaign = (r: Rng, id: string, t0: number, duration: number, coverage: number): void => {
    const t1 = Math.min(t0 + duration, endMs - 10 * MINUTE);
    let n = 0;
    for (let i = 0; i < rcpts.length; i++) {
      const rc = at(rcpts, i);
      const x = r();
      if (rc.addedAt > t0 || x >= coverage) continue;
      sends.push(t0 + r() * (t1 - t0), i, id, u32(r), Math.floor(r() * ips.length));
      n++;
    }
    campaigns.push({ id, start: new Date(t0), end: new Date(t1), coverage, sends: n });
  };
  let thursdays = 0;
  for (let d = 0; d < days; d++) {
    const dayStart = startMs + d * DAY;
    const date = new Date(dayStart);
    const dow = date.getUTCDay();
    const ymd = date.toISOString().slice(0, 10);
    if (dow === 2)
      addCampaign(
        sr,
        `newsletter-${ymd}`,
        dayStart + 9 * HOUR + sr() * 40 * MINUTE,
        (2.5 + sr() * 1.5) * HOUR,
        0.6 + sr() * 0.2,
      );
    if (dow === 4 && thursdays++ % 2 === 1)
      addCampaign(sr, `promo-${ymd}`, dayStart + 14 * HOUR + sr() * 30 * MINUTE, 2 * HOUR, 0.25 + sr() * 0.1);
  }
  // Transactional mail: each recipient on a weekday with its own daily probability (weekends 15% of it), drawn as
  // geometric gaps between mailing days rather than one draw per recipient and day.
  const xr = stream(seed, "transactional");
  const weekend = Array.from({ length: days }, (_, d) => {
    const dow = new Date(startMs + d * DAY).getUTCDay();
    return dow === 0 || dow === 6;
  });
  const gap = (logq: number) => Math.floor(Math.log(1 - xr()) / logq);
  for (let i = 0; i < rcpts.length; i++) {
    const rc = at(rcpts, i);
    const logq = Math.log(1 - rc.txRate);
    for (let d = gap(logq); d < days; d += 1 + gap(logq)) {
      if (weekend[d] && xr() >= 0.15) continue;
      // Business hours, mostly 07:00–19:00 UTC.
      const hour = Math.min(23.9, Math.max(0, 13 + 3.2 * gaussian(xr)));
      const t = startMs + d * DAY + hour * HOUR;
      if (t < rc.addedAt) continue;
      sends.push(t, i, null, u32(xr), Math.floor(xr() * ips.length));
    }
  }

  // ── tiny organisations with a genuine user-unknown in the last 24 h ──
  const tr = stream(seed, "tiny");
  const specs = o.incidents ?? [];
  const named = new Set(specs.map((s) => s.organisation).filter((x): x is string => !!x));
  const tiny = orgs
    .map((org, i) => ({ org, i }))
    .filter(({ org }) => !org.consumer && org.listSize <= 2 && !named.has(org.domain));
  const tinyCount = Math.min(o.tinyBounces ?? 3, tiny.length);
  for (let k = 0; k < tinyCount && days >= 12; k++) {
    const j = k + Math.floor(tr() * (tiny.length - k));
    [tiny[k], tiny[j]] = [at(tiny, j), at(tiny, k)];
    const oi = at(tiny, k).i;
    const ri = rcpts.findIndex((rc) => rc.org === oi && rc.addedAt === Number.NEGATIVE_INFINITY && !rc.typo);
    const rc = rcpts[ri];
    if (!rc) continue;
    // A delivery ten days before the end, then the contact leaves shortly before the next send, in the last day.
    const u = u32(tr);
    const first = endMs - 10 * DAY + (9 + tr() * 8) * HOUR;
    const last = endMs - (2 + tr() * 18) * HOUR;
    sends.push(first, ri, null, u, u % ips.length, true);
    sends.push(last, ri, null, u32(tr), (u >>> 3) % ips.length, true);
    let previous = first;
    for (let i = 0; i < sends.length; i++) {
      const st = at(sends.t, i);
      if (sends.r[i] === ri && st < last && st > previous) previous = st;
    }
    rc.suppressed = false;
    rc.departedAt = previous + (last - previous) * (0.3 + 0.6 * tr());
  }

  // ── incidents ──
  const active: ActiveIncident[] = [];
  const compiled = new Map<string, Template>();
  const compile = (texts: readonly string[]): Template[] =>
    texts.map((x) => {
      const known = compiled.get(x);
      if (known) return known;
      const t = fillTemplate(x);
      compiled.set(x, t);
      return t;
    });
  specs.forEach((spec, index) => {
    const ir = stream(seed, `incident:${index}:${spec.kind}`);
    const s0 = spec.at.getTime();
    const s1 = Math.min(s0 + (spec.durationHours ?? 24) * HOUR, endMs);
    // Make sure a campaign goes out in the window, so the incident is visible beyond a trickle of transactional mail.
    let inWindow = campaigns.filter((c) => c.start.getTime() < s1 && c.end.getTime() > s0);
    if (inWindow.length === 0 && s1 - s0 >= HOUR) {
      let t0 = s0 + 15 * MINUTE;
      for (let t = t0; t < s1 - 2 * HOUR; t += 15 * MINUTE) {
        const h = new Date(t).getUTCHours();
        if (h >= 8 && h < 16) {
          t0 = t;
          break;
        }
      }
      addCampaign(
        ir,
        `flash-${new Date(t0).toISOString().slice(0, 10)}-${index}`,
        t0,
        Math.min(3 * HOUR, s1 - t0 - 5 * MINUTE),
        0.5 + ir() * 0.15,
      );
      inWindow = campaigns.slice(-1);
    }
    const meta: InjectedIncident = {
      kind: spec.kind,
      start: new Date(s0),
      end: new Date(s1),
      organisations: [],
      bounces: 0,
      eventIds: [],
      scopeSends: 0,
      expected: { ...EXPECTED[spec.kind] },
    };
    const base = {
      meta,
      stage: STAGE_OF[spec.kind],
      startMs: s0,
      endMs: s1,
      salt: u32(ir),
      orgs: new Set<string>(),
      events: [],
    };
    const corporate = orgs.filter((org) => !org.consumer);
    // Texts from outside and a gradual onset apply to every kind; neither draws from the incident's stream.
    const add = (a: ActiveIncident): void => {
      const { texts, rampHours } = spec;
      active.push({
        ...a,
        ...(texts
          ? {
              templates: (x: Org) => {
                const own = texts(x.gateway);
                return own && own.length > 0 ? compile(own) : a.templates(x);
              },
            }
          : {}),
        ...(rampHours
          ? { ramp: (t: number) => Math.min(1, Math.max(0, (t - s0) / (rampHours * HOUR))) }
          : {}),
      });
    };
    const rateOf = (
      table: Readonly<Partial<Record<GatewayKey, number>>>,
      g: GatewayKey,
      fallback: number,
    ): number => spec.rates?.[g] ?? spec.rate ?? table[g] ?? fallback;
    /** A mid-size organisation behind one of `wanted`, or the biggest one when none fits. */
    const midSize = (wanted: readonly string[]): Org => {
      const fits = (min: number, max: number, gws: readonly string[]) =>
        corporate.filter((x) => gws.includes(x.gateway) && x.listSize >= min && x.listSize <= max);
      const candidates = [
        fits(80, 600, wanted),
        fits(30, 600, wanted),
        fits(30, 100_000, wanted),
        fits(10, 100_000, wanted),
        [...corporate].sort((a, b) => b.listSize - a.listSize).slice(0, 1),
      ].find((c) => c.length > 0);
      return pick(ir, candidates ?? corporate);
    };
    switch (spec.kind) {
      case "gateway_user_unknown_one_org": {
        let target = spec.organisation ? orgs.find((x) => x.domain === spec.organisation) : undefined;
        if (spec.organisation && !target) throw new Error(`unknown organisation: ${spec.organisation}`);
        if (!target) {
          const wanted: readonly string[] = spec.gateway ? [spec.gateway] : ["proofpoint", "mimecast"];
          const fits = (min: number, max: number, gws: readonly string[]) =>
            corporate.filter((x) => gws.includes(x.gateway) && x.listSize >= min && x.listSize <= max);
          const candidates = [
            fits(80, 600, wanted),
            fits(30, 600, wanted),
            fits(30, 100_000, wanted),
            fits(30, 400, ["proofpoint", "mimecast", "barracuda", "cisco", "microsoft365"]),
            [...corporate].sort((a, b) => b.listSize - a.listSize).slice(0, 1),
          ].find((c) => c.length > 0);
          target = pick(ir, candidates ?? corporate);
        }
        const org = target;
        meta.gateway = org.gateway;
        const share = spec.rate ?? 0.5;
        const affected = new Set<string>();
        for (const rc of rcpts) if (orgs[rc.org] === org && ir() < share) affected.add(rc.address);
        add({
          ...base,
          probability: (s) => {
            if (s.org !== org) return 0;
            meta.scopeSends++;
            // Only addresses that exist: they had a delivery before (the gateway's directory copy lost them).
            return affected.has(s.rc.address) && s.rc.lastDelivered < s.t ? 1 : 0;
          },
          templates: (x) => STALE_DIRECTORY[x.gateway] ?? templatesFor(USER_UNKNOWN, x.gateway),
        });
        return;
      }
      case "gateway_policy_change": {
        const gateway = spec.gateway ?? "mimecast";
        meta.gateway = gateway;
        const behind = corporate.filter((x) => x.gateway === gateway);
        const rate = new Map<Org, number>();
        const minOrgs = Math.min(5, behind.length);
        behind.forEach((x, i) => {
          if (i < minOrgs || ir() < 0.8) rate.set(x, spec.rate ?? 0.3 + ir() * 0.35);
        });
        add({
          ...base,
          probability: (s) => {
            const p = rate.get(s.org);
            if (p === undefined) return 0;
            meta.scopeSends++;
            return p;
          },
          templates: (x) => templatesFor(POLICY, x.gateway),
        });
        return;
      }
      case "ip_blocklisted": {
        const ip = spec.sendingIp ?? at(at(Object.values(ipPools), 0), 1);
        if (!ips.includes(ip)) throw new Error(`unknown sending IP: ${ip}`);
        meta.sendingIps = [ip];
        add({
          ...base,
          probability: (s) => {
            if (s.ip !== ip) return 0;
            meta.scopeSends++;
            return rateOf(IP_BLOCK_RATE, s.org.gateway, 0.5);
          },
          templates: (x) => templatesFor(REPUTATION, x.gateway),
        });
        return;
      }
      case "dmarc_failing":
        add({
          ...base,
          probability: (s) => {
            meta.scopeSends++;
            return rateOf(DMARC_RATE, s.org.gateway, 0.3);
          },
          templates: (x) => templatesFor(AUTH, x.gateway),
        });
        return;
      case "content_block": {
        const campaign = [...inWindow].sort((a, b) => b.sends - a.sends)[0]?.id ?? null;
        if (campaign) meta.campaign = campaign;
        add({
          ...base,
          probability: (s) => {
            if (s.campaign !== campaign || campaign === null) return 0;
            meta.scopeSends++;
            return rateOf(CONTENT_RATE, s.org.gateway, 0.4);
          },
          templates: (x) => templatesFor(CONTENT, x.gateway),
        });
        return;
      }
      case "esp_pool_fault": {
        const pool = spec.ipPool ?? "pool-b";
        const poolIps = ipPools[pool];
        if (!poolIps) throw new Error(`unknown IP pool: ${pool}`);
        const failing = new Set(spec.sendingIps ?? poolIps);
        for (const ip of failing) if (!poolIps.includes(ip)) throw new Error(`${ip} is not in pool ${pool}`);
        meta.sendingIps = poolIps.filter((ip) => failing.has(ip));
        const all = failing.size === poolIps.length;
        add({
          ...base,
          probability: (s) => {
            if (s.pool !== pool || !(all || failing.has(s.ip))) return 0;
            meta.scopeSends++;
            return spec.rate ?? 0.5;
          },
          templates: (x) => (spec.remoteReply ? expiredAfter(x.gateway) : ESP_INTERNAL),
          ...(spec.remoteReply ? { withMx: true } : {}),
        });
        return;
      }
      case "org_policy_block": {
        const target = spec.organisation ? orgs.find((x) => x.domain === spec.organisation) : undefined;
        if (spec.organisation && !target) throw new Error(`unknown organisation: ${spec.organisation}`);
        const org = target ?? midSize([spec.gateway ?? "google_workspace"]);
        meta.gateway = org.gateway;
        const p = spec.rate ?? 0.6 + ir() * 0.35;
        add({
          ...base,
          probability: (s) => {
            if (s.org !== org) return 0;
            meta.scopeSends++;
            return p;
          },
          templates: (x) => templatesFor(POLICY, x.gateway),
        });
        return;
      }
      case "pool_reputation": {
        const pool = spec.ipPool ?? at(Object.keys(ipPools), 0);
        const poolIps = ipPools[pool];
        if (!poolIps) throw new Error(`unknown IP pool: ${pool}`);
        meta.sendingIps = [...poolIps];
        add({
          ...base,
          probability: (s) => {
            if (s.pool !== pool) return 0;
            meta.scopeSends++;
            return rateOf(IP_BLOCK_RATE, s.org.gateway, 0.5);
          },
          templates: (x) => templatesFor(REPUTATION, x.gateway),
        });
        return;
      }
      case "provider_outage": {
        const gateway = spec.gateway ?? "microsoft365";
        meta.gateway = gateway;
        add({
          ...base,
          probability: (s) => {
            if (s.org.gateway !== gateway) return 0;
            meta.scopeSends++;
            return spec.rates?.[gateway] ?? spec.rate ?? 0.6;
          },
          templates: (x) => expiredAfter(x.gateway),
          withMx: true,
          suppress: false,
        });
        return;
      }
    }
  });
  const stages: readonly Stage[] = ["esp", "connect", "envelope", "rcpt", "data"];
  const byStage = new Map(stages.map((st) => [st, active.filter((a) => a.stage === st)]));

  // ── play the sends in time order ──

  const outT: number[] = [];
  const outE: ProviderEvent[] = [];
  let messages = 0;
  // Per-send state, reused across iterations (no closures per send: this loop runs ~100k times).
  const noise = reseedable();
  const incidentNoise = reseedable();
  const r = noise.next;
  const s: Send = { t: 0, r: 0, campaign: null, u: 0, ip: 0, clean: false };
  let rc = at(rcpts, 0);
  let org = at(orgs, 0);
  let messageId = "";
  let t = 0;
  let ip = "";
  let pool = "";
  let mxHost: string | null = null;
  // Reused for every send (mutated in place).
  const ctx: TextContext = { r, addr: "", ip, org, pool };
  const sctx: SendContext = { t, rc, org, ip, pool, campaign: null };

  const emit = (
    when: number,
    type: ProviderEvent["type"],
    smtp: ProviderEvent["smtp"],
    espClass: ProviderEvent["espClass"],
    withMx: boolean,
    attempted: boolean,
  ): ProviderEvent | null => {
    if (when >= endMs) return null;
    const e: ProviderEvent = {
      id: "",
      source: sourceOf(poolOfIp.get(at(ips, s.ip))),
      occurredAt: "",
      type,
      recipient: rc.address,
      recipientDomain: org.domain,
      smtp,
      espClass,
      mxHost: withMx ? mxHost : null,
      sendingIp: attempted ? ip : null,
      ipPool: attempted ? pool : null,
      messageId,
      campaign: s.campaign,
    };
    outT.push(when);
    outE.push(e);
    return e;
  };
  const hard = (text: string, withMx: boolean): ProviderEvent | null =>
    emit(t, "bounced", smtpOf(text), "hard", withMx, true);
  const injected = (stage: Stage): boolean => {
    if (s.clean) return false;
    for (const inc of byStage.get(stage) ?? []) {
      if (t < inc.startMs || t >= inc.endMs) continue;
      const p = inc.ramp ? inc.probability(sctx) * inc.ramp(t) : inc.probability(sctx);
      incidentNoise.reset(s.u ^ inc.salt);
      const ir = incidentNoise.next;
      if (p <= 0 || ir() >= p) continue;
      const e = hard(pick(ir, inc.templates(org))({ ...ctx, r: ir }), inc.withMx ?? inc.stage !== "esp");
      if (e) inc.events.push(e);
      inc.meta.bounces++;
      inc.orgs.add(org.domain);
      // The ESP suppresses what it calls hard, but not after its own failures.
      if (inc.suppress ?? inc.stage !== "esp") rc.suppressed = true;
      return true;
    }
    return false;
  };

  for (const i of timeOrder(sends.t, startMs)) {
    sends.read(i, s);
    if (s.t < startMs || s.t >= endMs) continue;
    rc = at(rcpts, s.r);
    org = at(orgs, rc.org);
    noise.reset(s.u);
    messages++;
    messageId = `<${s.t.toString(36)}.${messages.toString(36)}.${u32(r).toString(16).padStart(8, "0")}@${MESSAGE_ID_HOST}>`;
    if (rc.suppressed) {
      t = s.t + r() * 2000;
      emit(t, "dropped", { code: null, enhanced: null, text: SUPPRESSED_TEXT }, null, false, false);
      continue;
    }
    ip = at(ips, s.ip);
    pool = poolOfIp.get(ip) ?? "pool-a";
    t = s.t + (1 + r() * 14) * 1000;
    mxHost = r() < 0.5 ? at(org.mx, 0)[0] : null;
    ctx.addr = rc.address;
    ctx.ip = sctx.ip = ip;
    ctx.org = sctx.org = org;
    ctx.pool = sctx.pool = pool;
    sctx.t = t;
    sctx.rc = rc;
    sctx.campaign = s.campaign;

    if (injected("esp") || injected("connect") || injected("envelope")) continue;
    if (t >= rc.departedAt || rc.typo) {
      hard(pick(r, templatesFor(USER_UNKNOWN, org.gateway))(ctx), true);
      rc.suppressed = true;
      continue;
    }
    if (injected("rcpt") || injected("data")) continue;
    if (!s.clean) {
      const x = r();
      const full = org.consumer ? 0.003 : 0.0008;
      if (x < full) {
        emit(t, "bounced", smtpOf(pick(r, templatesFor(MAILBOX_FULL, org.gateway))(ctx)), "soft", true, true);
        continue;
      }
      if (x < full + 0.0005 && !org.consumer) {
        // A trickle of content and policy blocks, which the ESP calls hard too.
        hard(pick(r, templatesFor(r() < 0.6 ? CONTENT : POLICY, org.gateway))(ctx), true);
        rc.suppressed = true;
        continue;
      }
      const deferRate =
        org.gateway === "self_hosted"
          ? 0.04
          : org.gateway === "mimecast" || org.gateway === "yahoo"
            ? 0.015
            : 0.004;
      if (r() < deferRate) {
        emit(t, "deferred", smtpOf(pick(r, templatesFor(DEFERRAL, org.gateway))(ctx)), "soft", true, true);
        const retry = t + (5 + r() * 35) * MINUTE;
        emit(retry, "delivered", null, null, true, true);
        rc.lastDelivered = retry;
        continue;
      }
    }
    emit(t, "delivered", null, null, true, true);
    rc.lastDelivered = t;
  }

  const events = timeOrder(outT, startMs).map((i, n) => {
    const e = at(outE, i);
    e.id = `sim:${seed}:${n}`;
    e.occurredAt = new Date(at(outT, i)).toISOString();
    return e;
  });
  for (const inc of active) {
    inc.meta.organisations = [...inc.orgs].sort();
    inc.meta.eventIds = inc.events.map((e) => e.id);
    inc.meta.bounces = inc.events.length;
  }

  const organisations: OrganisationInfo[] = orgs
    .map((org) => ({
      domain: org.domain,
      gateway: org.gateway,
      mxHosts: org.mx.map(([h]) => h),
      consumer: org.consumer,
      listSize: org.listSize,
    }))
    .sort(
      (a, b) =>
        Number(a.consumer) - Number(b.consumer) ||
        b.listSize - a.listSize ||
        a.domain.localeCompare(b.domain),
    );
  const zone: History["zone"] = {};
  for (const org of orgs)
    zone[org.domain] = { mx: org.mx.map(([exchange, priority]) => ({ exchange, priority })) };

  return {
    events,
    incidents: active.map((a) => a.meta),
    organisations,
    sendingIps: [...ips],
    ipPools: Object.fromEntries(Object.entries(ipPools).map(([k, v]) => [k, [...v]])),
    zone,
    campaigns: campaigns.sort((a, b) => a.start.getTime() - b.start.getTime()),
    senderDomain: SENDER_DOMAIN,
    end: new Date(endMs),
  };
}

/**
 * Bounces at tiny corporate organisations (at most `maxListSize` contacts) since `since` (default: the last 24 h):
 * genuine list decay that must never raise an alert.
 */
export function tinyOrgBounces(h: History, since?: Date, maxListSize = 2): ProviderEvent[] {
  const from = (since ?? new Date(h.end.getTime() - DAY)).toISOString();
  const tiny = new Set(
    h.organisations.filter((o) => !o.consumer && o.listSize <= maxListSize).map((o) => o.domain),
  );
  return h.events.filter((e) => e.type === "bounced" && e.occurredAt >= from && tiny.has(e.recipientDomain));
}
