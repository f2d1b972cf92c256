import { isIP } from "node:net";
import { canonicalIp } from "../text/safe-text.ts";

/** What one block-list lookup says about one target. `unknown` is never read as clean nor as listed. */
export type ListingStatus = "listed" | "clean" | "unknown";

export interface BlocklistZone {
  /** Short name shown in reports ("spamhaus-zen"). */
  readonly id: string;
  /** DNS zone queried ("zen.spamhaus.org", or "<key>.zen.dq.spamhaus.net" with a DQS key). */
  readonly zone: string;
  readonly targets: "ip" | "domain";
  /** Listing codes and what they mean; a code outside this table in 127.0.0.0/8 is a listing "code X". */
  readonly codes: Readonly<Record<string, string>>;
  /** Answers that report a query problem, not a reputation (Spamhaus 127.255.255.x, DBL 127.0.1.255). */
  readonly errorCodes: Readonly<Record<string, string>>;
  /** IPv6 queries are answered (most older lists are IPv4 only). */
  readonly ipv6: boolean;
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
 * Reads a block list's DNS answer (reputation-sources.md §1.1): NXDOMAIN is clean; an A record in
 * 127.0.0.0/8 is a listing whose value carries the meaning; the list's error codes (Spamhaus answers
 * 127.255.255.254 to a query from a public resolver), a refusal, a timeout or a non-loopback answer are
 * unknown. Pure.
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
  const errors = codes.filter((c) => zone.errorCodes[c] !== undefined || c.startsWith("127.255.255."));
  if (errors.length > 0) {
    return {
      status: "unknown",
      codes,
      meaning: errors.map((c) => `${c}: ${zone.errorCodes[c] ?? "list error code"}`).join("; "),
    };
  }
  const foreign = codes.filter((c) => isIP(c) !== 4 || !c.startsWith("127."));
  if (foreign.length > 0 || codes.length === 0) {
    return { status: "unknown", codes, meaning: `not a block-list answer (${codes.join(", ") || "empty"})` };
  }
  return {
    status: "listed",
    codes,
    meaning: codes.map((c) => `${c}: ${zone.codes[c] ?? `code ${c}`}`).join("; "),
  };
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

const SPAMHAUS_ERRORS: Readonly<Record<string, string>> = {
  "127.255.255.250": "DQS key disabled",
  "127.255.255.251": "DQS key in use by another account",
  "127.255.255.252": "typing error in the zone name",
  "127.255.255.254": "query through a public or unattributable resolver (use a DQS key)",
  "127.255.255.255": "too many queries",
};

/** Defaults from reputation-sources.md §1; a DQS key switches Spamhaus to its key-based zones. */
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
      },
      errorCodes: SPAMHAUS_ERRORS,
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
    },
    {
      id: "barracuda",
      zone: "b.barracudacentral.org",
      targets: "ip",
      ipv6: false,
      codes: { "127.0.0.2": "Barracuda Reputation Block List" },
      errorCodes: {},
    },
    {
      id: "spamcop",
      zone: "bl.spamcop.net",
      targets: "ip",
      ipv6: false,
      codes: { "127.0.0.2": "SpamCop Blocking List (user reports, spam traps)" },
      errorCodes: {},
    },
  ];
}
