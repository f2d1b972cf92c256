import { canonicalIp } from "../text/safe-text.ts";

/** What one block-list lookup says about one target. `unknown` is never read as clean nor as listed. */
export type ListingStatus = "listed" | "clean" | "unknown";

export interface BlocklistZone {
  /** Short name shown in reports ("spamhaus-zen"). */
  readonly id: string;
  /** DNS zone queried ("zen.spamhaus.org", or "<key>.zen.dq.spamhaus.net" with a DQS key). */
  readonly zone: string;
  readonly targets: "ip" | "domain";
  /**
   * The list's documented listing codes and what each means. Only these are listings: any other answer is
   * `unknown` with the reason (an open or public resolver answering in the list's place, a malformed query).
   */
  readonly codes: Readonly<Record<string, string>>;
  /** Answers that report a query problem, not a reputation (Spamhaus 127.255.255.x, DBL 127.0.1.255). */
  readonly errorCodes: Readonly<Record<string, string>>;
  /** Codes the list documents as not in use (Spamhaus XBL 127.0.0.5–.7): unknown, with that said. */
  readonly unusedCodes?: Readonly<Record<string, string>>;
  /** IPv6 queries are answered (most older lists are IPv4 only). */
  readonly ipv6: boolean;
  /** Where the list publishes its return codes (shown with an undocumented answer). */
  readonly reference?: string;
}

/** The lookup's outcome as the resolver saw it. */
export interface DnsAnswer {
  readonly status: "ok" | "nxdomain" | "nodata" | "refused" | "timeout" | "error";
  readonly addresses: readonly string[];
  readonly detail?: string;
}

export interface ListingVerdict {
  readonly status: ListingStatus;
  /** Listing codes returned (A records). */
  readonly codes: string[];
  /** What each code means, or why the answer is unknown. */
  readonly meaning: string;
}

/**
 * Reads a block list's DNS answer (RFC 5782 §2.1 and each list's published table): NXDOMAIN is clean; an A
 * record is a listing only when it is one of the list's documented codes, and then carries that code's
 * meaning. Everything else is unknown, never listed nor clean: the list's error codes (Spamhaus answers
 * 127.255.255.254 to a query from a public resolver), codes it documents as unused, any other answer (an open
 * or public resolver answering in the list's place, a malformed query), a refusal, a timeout. Pure.
 */
export function readListing(zone: BlocklistZone, answer: DnsAnswer): ListingVerdict {
  if (answer.status === "nxdomain") return { status: "clean", codes: [], meaning: "not listed" };
  if (answer.status === "nodata") return { status: "clean", codes: [], meaning: "not listed (no A record)" };
  if (answer.status !== "ok")
    return {
      status: "unknown",
      codes: [],
      meaning: `lookup ${answer.status}${answer.detail ? `: ${answer.detail}` : ""}`,
    };
  const codes = [...new Set(answer.addresses)].sort();
  if (codes.length === 0) return { status: "unknown", codes, meaning: "not a block-list answer (empty)" };
  const errors = codes.filter((c) => zone.errorCodes[c] !== undefined || c.startsWith("127.255.255."));
  if (errors.length > 0) {
    return {
      status: "unknown",
      codes,
      meaning: errors.map((c) => `${c}: ${zone.errorCodes[c] ?? "list error code"}`).join("; "),
    };
  }
  const listings = codes.filter((c) => zone.codes[c] !== undefined);
  const others = codes.filter((c) => zone.codes[c] === undefined);
  const why = others.map((c) => `${c}: ${undocumented(zone, c)}`).join("; ");
  if (listings.length === 0) return { status: "unknown", codes, meaning: why };
  return {
    status: "listed",
    codes,
    meaning: [
      ...listings.map((c) => `${c}: ${zone.codes[c]}`),
      ...(others.length > 0 ? [`not counted: ${why}`] : []),
    ].join("; "),
  };
}

/** Why an answer outside the list's listing codes is not a listing. */
function undocumented(zone: BlocklistZone, code: string): string {
  const unused = zone.unusedCodes?.[code];
  if (unused !== undefined) return `${unused}, so not a listing`;
  const where = zone.reference ? ` (${zone.reference})` : "";
  if (canonicalIp(code)?.version !== 4 || !code.startsWith("127.")) {
    return (
      `not a block-list answer: lists answer in 127.0.0.0/8, so an open or public resolver (or a captive ` +
      `portal) answered in ${zone.id}'s place`
    );
  }
  if (code === "127.0.0.1") {
    return (
      `not a code ${zone.id} documents${where}: 127.0.0.1 is the RFC 5782 test point that is never listed, ` +
      "answered when the query went through an open or public resolver or was malformed (URIBL and SURBL " +
      "answer it to refused queries), so it says nothing about the target"
    );
  }
  return (
    `not a code ${zone.id} documents${where}: the query went through an open or public resolver or was ` +
    "malformed (another list's code, a wrong zone), so it says nothing about the target"
  );
}

/** The name to query: reversed IPv4 octets, reversed IPv6 nibbles, or the domain, then the zone. Null when the list cannot be asked. */
export function blocklistQueryName(zone: BlocklistZone, target: string): string | null {
  const ip = canonicalIp(target);
  if (zone.targets === "domain")
    return ip === null ? `${target.toLowerCase().replace(/\.$/, "")}.${zone.zone}` : null;
  // An IPv4-mapped IPv6 address is asked as the IPv4 host it is (canonicalIp gives version 4).
  if (ip?.version === 4) return `${ip.address.split(".").reverse().join(".")}.${zone.zone}`;
  if (ip?.version === 6 && zone.ipv6) return `${ip.expanded.split("").reverse().join(".")}.${zone.zone}`;
  return null;
}

/*
 * The built-in lists' return-code tables, each as its operator publishes it:
 * - Spamhaus: https://docs.spamhaus.com/datasets/docs/source/10-data-type-documentation/datasets/040-zones.html
 *   (listing codes per zone; 127.0.0.5-.7 and .8 "currently unused"; DBL 127.0.1.255 "IP queries not allowed";
 *   "the last two return codes are associated with invalid DQS keys") and https://www.spamhaus.org/news/article/788/
 *   (the 127.255.255.0/24 error range: .254 query via public/open resolver, .255 excessive number of queries).
 *   127.255.255.250/.251 (the invalid-DQS-key pair) and .252 (typo in the zone name) are the values clients decode,
 *   e.g. https://www.securityzones.net/error-return-codes-for-spamhaus-public-mirrors/.
 * - Barracuda BRBL: 127.0.0.2 only, https://www.barracudacentral.org/rbl/how-to-use.
 * - SpamCop SCBL: 127.0.0.2 only (the RFC 5782 §2.1 convention), https://www.spamcop.net/bl.shtml.
 */
const SPAMHAUS_REFERENCE =
  "https://docs.spamhaus.com/datasets/docs/source/10-data-type-documentation/datasets/040-zones.html";

const SPAMHAUS_ERRORS: Readonly<Record<string, string>> = {
  "127.255.255.250": "invalid DQS key (disabled)",
  "127.255.255.251": "invalid DQS key (in use by another account)",
  "127.255.255.252": "typing error in the zone name",
  "127.255.255.254": "query through a public or unattributable resolver (use a DQS key)",
  "127.255.255.255": "too many queries",
};

/** The built-in lists; a Spamhaus DQS key switches Spamhaus to its key-based zones. */
export function defaultBlocklistZones(spamhausDqsKey?: string): BlocklistZone[] {
  const spamhaus = (list: string) =>
    spamhausDqsKey ? `${spamhausDqsKey}.${list}.dq.spamhaus.net` : `${list}.spamhaus.org`;
  return [
    {
      id: "spamhaus-zen",
      zone: spamhaus("zen"),
      targets: "ip",
      ipv6: true,
      codes: {
        "127.0.0.2": "SBL: Spamhaus-verified spam source",
        "127.0.0.3": "CSS: snowshoe spam detection",
        "127.0.0.4": "XBL: compromised or infected host",
        "127.0.0.9": "DROP: hijacked or criminal netblock",
        "127.0.0.10": "PBL: ISP-maintained policy (dynamic or non-MTA range)",
        "127.0.0.11": "PBL: Spamhaus-maintained policy range",
        "127.0.0.30": "BCL: botnet controller (Spamhaus Botnet Controller List)",
      },
      unusedCodes: {
        "127.0.0.5": "documented by Spamhaus as currently unused (formerly part of XBL)",
        "127.0.0.6": "documented by Spamhaus as currently unused (formerly part of XBL)",
        "127.0.0.7": "documented by Spamhaus as currently unused (formerly part of XBL)",
        "127.0.0.8": "documented by Spamhaus as currently unused",
      },
      errorCodes: SPAMHAUS_ERRORS,
      reference: SPAMHAUS_REFERENCE,
    },
    {
      id: "spamhaus-dbl",
      zone: spamhaus("dbl"),
      targets: "domain",
      ipv6: false,
      codes: {
        "127.0.1.2": "low-reputation domain",
        "127.0.1.4": "phishing domain",
        "127.0.1.5": "malware domain",
        "127.0.1.6": "botnet C&C domain",
        "127.0.1.102": "abused legitimate domain (spam)",
        "127.0.1.103": "abused legitimate domain (redirector)",
        "127.0.1.104": "abused legitimate domain (phishing)",
        "127.0.1.105": "abused legitimate domain (malware)",
        "127.0.1.106": "abused legitimate domain (botnet C&C)",
      },
      errorCodes: { ...SPAMHAUS_ERRORS, "127.0.1.255": "an IP was sent to a domain list" },
      reference: SPAMHAUS_REFERENCE,
    },
    {
      id: "barracuda",
      zone: "b.barracudacentral.org",
      targets: "ip",
      ipv6: false,
      codes: { "127.0.0.2": "Barracuda Reputation Block List" },
      errorCodes: {},
      reference: "https://www.barracudacentral.org/rbl/how-to-use",
    },
    {
      id: "spamcop",
      zone: "bl.spamcop.net",
      targets: "ip",
      ipv6: false,
      codes: { "127.0.0.2": "SpamCop Blocking List (user reports, spam traps)" },
      errorCodes: {},
      reference: "https://www.spamcop.net/bl.shtml",
    },
  ];
}
