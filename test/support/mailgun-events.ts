import { mulberry32 } from "../../shared/simulation/seeded-random.ts";

/** An Events API record as the generator makes it (other keys as Mailgun sends them). */
export type MailgunTestEvent = Record<string, unknown> & {
  readonly id: string;
  readonly event: "delivered" | "failed";
  readonly timestamp: number;
  readonly recipient: string;
};

export interface MakeMailgunEventsOptions {
  readonly count: number;
  readonly start: Date;
  readonly seed: number;
  /** Time the events spread over, ascending from `start` (default 24 h). */
  readonly spanMs?: number;
  /** Sending domain, in `domain.name` (default `mg.example.com`). */
  readonly domain?: string;
  /**
   * Mailgun ids are unique within a day only: when set, the k-th event of every UTC day after the first reuses
   * the id of the k-th event of the first day. Otherwise every id is distinct.
   */
  readonly repeatIdsAcrossDays?: boolean;
}

type Gateway =
  | "proofpoint"
  | "mimecast"
  | "m365"
  | "google"
  | "barracuda"
  | "cisco"
  | "self"
  | "gmail"
  | "outlook";

interface RecipientDomain {
  readonly name: string;
  readonly gateway: Gateway;
  readonly mx: string;
}

const CORPORATE: ReadonlyArray<readonly [string, Gateway]> = [
  ["acme-corp.com", "proofpoint"],
  ["globex.com", "m365"],
  ["initech.com", "mimecast"],
  ["umbrella-group.com", "proofpoint"],
  ["hooli.io", "google"],
  ["stark-industries.com", "m365"],
  ["wayne-enterprises.com", "cisco"],
  ["cyberdyne-systems.com", "barracuda"],
  ["soylent-foods.com", "m365"],
  ["tyrell-corp.com", "mimecast"],
  ["wonka-industries.com", "self"],
  ["gringotts-bank.co.uk", "mimecast"],
  ["oceanic-airlines.com", "proofpoint"],
  ["vandelay-industries.com", "m365"],
  ["dunder-mifflin.com", "google"],
  ["prestige-worldwide.com", "barracuda"],
  ["monarch-solutions.de", "m365"],
  ["nakatomi-trading.jp", "cisco"],
  ["blue-sun-corp.com", "proofpoint"],
  ["massive-dynamic.com", "m365"],
  ["pied-piper.net", "google"],
  ["bluth-company.com", "self"],
  ["sterling-cooper.com", "mimecast"],
  ["wernham-hogg.co.uk", "m365"],
  ["aperture-science.com", "proofpoint"],
  ["black-mesa-research.org", "self"],
  ["virtucon.com", "barracuda"],
  ["gekko-partners.com", "m365"],
  ["rekall-inc.com", "cisco"],
  ["omni-consumer-products.com", "proofpoint"],
  ["yoyodyne.com", "m365"],
  ["krusty-krab.biz", "google"],
  ["los-pollos-hermanos.com", "mimecast"],
  ["duff-brewing.com", "m365"],
  ["nordwind-logistik.de", "self"],
  ["fromagerie-dupont.fr", "m365"],
];

function mxFor(name: string, gateway: Gateway, n: number): string {
  const slug = name.replace(/\./g, "-");
  const num = String(100000 + ((n * 7919) % 900000));
  switch (gateway) {
    case "proofpoint":
      return `mx0a-00${num}.pphosted.com`;
    case "mimecast":
      return n % 2 === 0 ? "eu-smtp-inbound-1.mimecast.com" : "us-smtp-inbound-1.mimecast.com";
    case "m365":
      return `${slug}.mail.protection.outlook.com`;
    case "google":
      return "aspmx.l.google.com";
    case "barracuda":
      return `${slug.slice(0, 12)}.ess.barracudanetworks.com`;
    case "cisco":
      return `mx1.${slug.slice(0, 10)}.iphmx.com`;
    case "self":
      return `mail.${name}`;
    case "gmail":
      return "gmail-smtp-in.l.google.com";
    case "outlook":
      return "outlook-com.olc.protection.outlook.com";
  }
}

const RECIPIENT_DOMAINS: readonly RecipientDomain[] = [
  ...CORPORATE.map(([name, gateway], i) => ({ name, gateway, mx: mxFor(name, gateway, i) })),
  { name: "gmail.com", gateway: "gmail", mx: mxFor("gmail.com", "gmail", 0) },
  { name: "outlook.com", gateway: "outlook", mx: mxFor("outlook.com", "outlook", 0) },
];
const CONSUMER_SHARE = 0.3;

const FIRST = (
  "james mary robert patricia john jennifer michael linda david elizabeth william barbara richard " +
  "susan joseph jessica thomas sarah chris karen daniel lisa matthew nancy anthony sandra mark " +
  "ashley paul emily steven donna andrew michelle kevin carol brian amanda george melissa lukas " +
  "anna jonas lea pierre camille hiroshi yuki oliver amelia"
).split(" ");
const LAST = (
  "smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez " +
  "gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson white harris " +
  "sanchez clark ramirez lewis robinson walker young allen king wright scott torres nguyen hill " +
  "flores mueller schmidt schneider dubois moreau tanaka suzuki oconnor kowalski novak"
).split(" ");
const TAGS = ["newsletter", "product-update", "onboarding", "invoice", "webinar-invite"];
const SENDING_IPS = [9, 17, 23, 42, 77, 101, 150, 203].map((n) => `198.51.100.${n}`);
const POOLS = ["pool-marketing", "pool-transactional"];
const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const ID_PAIRS: readonly string[] = [...ID_ALPHABET].flatMap((a) => [...ID_ALPHABET].map((b) => a + b));

interface Reply {
  readonly code: number;
  readonly enhanced: string;
  readonly message: string;
}

/** User-unknown rejections as each gateway words them. */
function hardBounce(gw: Gateway, address: string, ip: string, token: string): Reply {
  switch (gw) {
    case "proofpoint":
      return { code: 550, enhanced: "5.1.1", message: "5.1.1 User Unknown" };
    case "mimecast":
      return {
        code: 550,
        enhanced: "5.0.0",
        message: `Invalid Recipient - https://community.mimecast.com/docs/DOC-1369#550 [${token}.eu${ip.length}]`,
      };
    case "m365":
      return {
        code: 550,
        enhanced: "5.1.10",
        message: `5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient ${address} not found by SMTP address lookup`,
      };
    case "google":
    case "gmail":
      return {
        code: 550,
        enhanced: "5.1.1",
        message:
          "5.1.1 The email account that you tried to reach does not exist. Please try double-checking the " +
          "recipient's email address for typos or unnecessary spaces. For more information, go to " +
          `https://support.google.com/mail/?p=NoSuchUser ${token.slice(0, 16)}.2 - gsmtp`,
      };
    case "barracuda":
      return {
        code: 550,
        enhanced: "5.1.1",
        message: `permanent failure for one or more recipients (${address}:550 5.1.1 <${address}>: user unknown)`,
      };
    case "cisco":
      return { code: 550, enhanced: "5.1.0", message: "#5.1.0 Address rejected." };
    case "self":
      return {
        code: 550,
        enhanced: "5.1.1",
        message: `5.1.1 <${address}>: Recipient address rejected: User unknown in virtual mailbox table`,
      };
    case "outlook":
      return {
        code: 550,
        enhanced: "5.5.0",
        message:
          "5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [AM0PR07MB1234.eurprd07.prod.outlook.com]",
      };
  }
}

function temporaryFailure(gw: Gateway, ip: string, k: number): Reply {
  if (gw === "gmail" || gw === "google") {
    return {
      code: 421,
      enhanced: "4.7.28",
      message: `4.7.28 [${ip}] Our system has detected an unusual rate of unsolicited mail originating from your IP address. - gsmtp`,
    };
  }
  if (gw === "m365" || gw === "outlook") {
    return {
      code: 451,
      enhanced: "4.7.500",
      message: "4.7.500 Server busy. Please try again later from [198.51.100.0]. (S77719)",
    };
  }
  const options: Reply[] = [
    { code: 451, enhanced: "4.7.1", message: "4.7.1 Greylisting in action, please come back later" },
    {
      code: 450,
      enhanced: "4.2.1",
      message: "4.2.1 The user you are trying to contact is receiving mail too quickly",
    },
    { code: 421, enhanced: "4.3.2", message: "4.3.2 Service not available, closing transmission channel" },
    { code: 452, enhanced: "4.2.2", message: "4.2.2 Mailbox full" },
  ];
  return options[k % options.length] as Reply;
}

function policyFailure(ip: string): Reply {
  return {
    code: 554,
    enhanced: "5.7.1",
    message: `5.7.1 Service unavailable; Client host [${ip}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/${ip}`,
  };
}

const BASE62_6 = 62 ** 6;
// Odd and not a multiple of 31, so coprime with 62^6: i ↦ i·M mod 62^6 is a bijection. Exact while i·M < 2^53.
const SCRAMBLE = 2_654_435_761;

/** Six base-62 characters, distinct for every i below 3 million. */
function scrambledIndex(i: number): string {
  let n = (i * SCRAMBLE) % BASE62_6;
  let s = "";
  for (let k = 0; k < 6; k++) {
    s += ID_ALPHABET[n % 62];
    n = Math.floor(n / 62);
  }
  return s;
}

type Kind = "delivered" | "hard" | "temporary" | "suppress" | "old" | "espblock" | "generic";

/** Mailgun's `reason` on a failed event of each kind (temporary failures say `generic`). */
const FAILED_REASON: Readonly<Record<Exclude<Kind, "delivered">, string>> = {
  hard: "bounce",
  temporary: "generic",
  suppress: "suppress-bounce",
  old: "old",
  espblock: "espblock",
  generic: "generic",
};

/** Cumulative shares: a realistic B2B mix, delivered dominating. */
const KINDS: ReadonlyArray<readonly [Kind, number]> = [
  ["delivered", 0.85],
  ["hard", 0.92],
  ["temporary", 0.96],
  ["suppress", 0.98],
  ["old", 0.987],
  ["espblock", 0.993],
  ["generic", 1],
];

/**
 * Realistic Events API `delivered` / `failed` records, ascending in time, deterministic for a seed: hard
 * bounces worded as each recipient gateway words them, temporary failures, suppress-bounce drops (code 605),
 * retry-limit (`old`), ESP blocks and generic permanent failures. Fast enough for 50k-event fixtures.
 */
export function makeMailgunEvents(options: MakeMailgunEventsOptions): MailgunTestEvent[] {
  if (options.count > 3_000_000)
    throw new RangeError("makeMailgunEvents: at most 3 million events (distinct ids)");
  const rnd = mulberry32(options.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const startMs = options.start.getTime();
  const spanMs = options.spanMs ?? 86_400_000;
  const step = options.count > 0 ? spanMs / options.count : 0;
  const sendingDomain = options.domain ?? "mg.example.com";
  const corporate = RECIPIENT_DOMAINS.filter((d) => d.gateway !== "gmail" && d.gateway !== "outlook");
  const consumer = RECIPIENT_DOMAINS.filter((d) => d.gateway === "gmail" || d.gateway === "outlook");

  const firstDayIds: string[] = [];
  let firstDay: string | null = null;
  let currentDayNumber = Number.NaN;
  let currentDay = "";
  let compactDay = "";
  let indexInDay = 0;
  // Two characters per draw: ids dominate the cost of a 50k-event fixture otherwise.
  const randomId = (pairs: number): string => {
    let s = "";
    for (let i = 0; i < pairs; i++) s += ID_PAIRS[Math.floor(rnd() * ID_PAIRS.length)];
    return s;
  };
  // 16 random characters, then the event's index scrambled into 6 more: random-looking, and distinct by
  // construction (no set of issued ids to keep).
  const freshId = (i: number): string => randomId(8) + scrambledIndex(i);

  const out: MailgunTestEvent[] = new Array(options.count);
  for (let i = 0; i < options.count; i++) {
    // Evenly spread with jitter inside each slot: ascending, microsecond precision like Mailgun's floats.
    const ms = startMs + (i + rnd()) * step;
    const timestamp = Math.round(ms * 1000) / 1e6;
    const dayNumber = Math.floor(Math.round(timestamp * 1000) / 86_400_000);
    if (dayNumber !== currentDayNumber) {
      currentDayNumber = dayNumber;
      currentDay = new Date(dayNumber * 86_400_000).toISOString().slice(0, 10);
      compactDay = currentDay.replace(/-/g, "");
      indexInDay = 0;
      firstDay ??= currentDay;
    }
    const day = currentDay;
    let id: string;
    if (options.repeatIdsAcrossDays && day !== firstDay && indexInDay < firstDayIds.length) {
      id = firstDayIds[indexInDay] as string;
    } else {
      id = freshId(i);
      if (day === firstDay) firstDayIds.push(id);
    }
    indexInDay++;

    const rd = rnd() < CONSUMER_SHARE ? pick(consumer) : pick(corporate);
    const first = pick(FIRST);
    const last = pick(LAST);
    const style = Math.floor(rnd() * 3);
    const local = style === 0 ? `${first}.${last}` : style === 1 ? `${first[0]}${last}` : `${first}_${last}`;
    const recipient = `${local}@${rd.name}`;
    const ip = pick(SENDING_IPS);
    const r = rnd();
    const kind = (KINDS.find(([, upTo]) => r < upTo) ?? KINDS[0])?.[0] ?? "delivered";
    const msgHex = Math.floor(rnd() * 0xffffffff)
      .toString(16)
      .padStart(8, "0");
    const messageId = `${compactDay}${String(i % 1_000_000).padStart(6, "0")}.${msgHex}@${sendingDomain}`;
    const tag = pick(TAGS);
    // One object literal per event, no spreads: spreading a shared part dominated the cost of 50k events.
    const envelope: Record<string, string> = {
      transport: "smtp",
      sender: `postmaster@${sendingDomain}`,
      "sending-ip": ip,
      targets: recipient,
    };
    if (rnd() < 0.5) envelope["i-ip-pool-id"] = pick(POOLS);
    const message = {
      headers: {
        to: recipient,
        "message-id": messageId,
        from: `news@${sendingDomain}`,
        subject: `Your ${tag}`,
      },
      attachments: [],
      size: 18_000 + Math.floor(rnd() * 40_000),
    };
    const flags = {
      "is-routed": false,
      "is-authenticated": true,
      "is-system-test": false,
      "is-test-mode": false,
    };
    const session = Math.round(rnd() * 3000) / 1000;

    if (kind === "delivered") {
      out[i] = {
        id,
        event: "delivered",
        timestamp,
        "log-level": "info",
        recipient,
        "recipient-domain": rd.name,
        domain: { name: sendingDomain },
        envelope,
        message,
        flags,
        tags: [tag],
        "user-variables": {},
        campaigns: [],
        "delivery-status": {
          tls: true,
          "mx-host": rd.mx,
          code: 250,
          description: "",
          "session-seconds": session,
          "attempt-no": 1,
          message: "OK",
          "certificate-verified": true,
        },
      };
      continue;
    }

    let status: Record<string, unknown>;
    if (kind === "suppress") {
      // Mailgun never contacts the MX for a suppressed address: no mx-host, its own 605 code.
      status = {
        code: 605,
        "attempt-no": 1,
        message: "",
        description: "Not delivering to previously bounced address",
        "session-seconds": 0,
      };
    } else {
      const reply =
        kind === "hard"
          ? hardBounce(rd.gateway, recipient, ip, randomId(10))
          : kind === "temporary" || kind === "old"
            ? temporaryFailure(rd.gateway, ip, i)
            : policyFailure(ip);
      status = {
        tls: true,
        "mx-host": rd.mx,
        code: reply.code,
        "enhanced-code": reply.enhanced,
        description: kind === "old" ? "Too old" : "",
        "session-seconds": session,
        "attempt-no": kind === "old" ? 8 : kind === "temporary" ? 1 + Math.floor(rnd() * 5) : 1,
        message: reply.message,
        "certificate-verified": true,
      };
      if (kind === "temporary") status["retry-seconds"] = 600;
    }
    out[i] = {
      id,
      event: "failed",
      timestamp,
      "log-level": kind === "temporary" ? "warn" : "error",
      severity: kind === "temporary" ? "temporary" : "permanent",
      reason: FAILED_REASON[kind],
      recipient,
      "recipient-domain": rd.name,
      domain: { name: sendingDomain },
      envelope,
      message,
      flags,
      tags: [tag],
      "user-variables": {},
      campaigns: [],
      "delivery-status": status,
    };
  }
  return out;
}
