import { createPublicKey } from "node:crypto";
import { isIP } from "node:net";
import type { SignalStatus } from "./reputation-signal.ts";

/*
 * Readers of a sending domain's authentication records: SPF (RFC 7208), DMARC
 * (RFC 7489, with the DMARCbis tags t/np/psd), DKIM keys (RFC 6376, 8301, 8463) and the MTA-STS TXT record
 * (RFC 8461). Each judgement says whether the record, as published, can cause sender-side auth failures.
 * Pure: no DNS here; SPF's nested includes come in through a lookup callback.
 */

/** What one record says about the sender, ready for a ReputationSignal. */
export interface AuthJudgement {
  readonly status: SignalStatus;
  readonly value: string | null;
  readonly detail: string;
}

/**
 * ok: the name has TXT records (each record's character-strings already joined). nxdomain / nodata: no
 * such name / no TXT there. refused / timeout / error: the lookup failed and says nothing about the name.
 */
export type TxtStatus = "ok" | "nxdomain" | "nodata" | "refused" | "timeout" | "error";

export interface TxtAnswer {
  readonly status: TxtStatus;
  readonly records: string[];
  readonly detail?: string;
}

/** A lookup that failed: the answer says nothing about the record, so it is never judged good or bad. */
export function isLookupFailure(answer: TxtAnswer): boolean {
  return answer.status === "refused" || answer.status === "timeout" || answer.status === "error";
}

// ---------------------------------------------------------------------------------------------- SPF

/** RFC 7208 §4.6.4: at most 10 terms that cause DNS queries, nested includes and redirects counted. */
export const SPF_LOOKUP_LIMIT = 10;

export type SpfQualifier = "+" | "-" | "~" | "?";

export type SpfTerm =
  | {
      readonly kind: "mechanism";
      readonly qualifier: SpfQualifier;
      readonly name: string;
      readonly value: string;
    }
  | { readonly kind: "modifier"; readonly name: string; readonly value: string };

export interface SpfRecord {
  readonly terms: SpfTerm[];
  /** Syntax errors; any one makes the record a permerror. */
  readonly errors: string[];
}

/** The TXT records that are SPF records: version section exactly "v=spf1", then a space or the end. */
export function spfRecords(txt: readonly string[]): string[] {
  return txt.filter((r) => /^v=spf1( |$)/i.test(r.trim()));
}

const DOMAIN_SPEC = /^[^\s/]+$/;
const CIDR4 = /^\/(\d{1,2})$/;
const A_MX_ARGS = /^(?::([^\s/]+))?(?:\/(\d{1,2}))?(?:\/\/(\d{1,3}))?$/;

/** Splits one v=spf1 record into terms, collecting syntax errors instead of throwing. */
export function parseSpfRecord(text: string): SpfRecord {
  const terms: SpfTerm[] = [];
  const errors: string[] = [];
  const tokens = text.trim().split(/\s+/).slice(1);
  const seenModifiers = new Set<string>();
  for (const token of tokens) {
    const modifier = /^([a-z][a-z0-9_.-]*)=(.*)$/i.exec(token);
    if (modifier) {
      const name = (modifier[1] ?? "").toLowerCase();
      const value = modifier[2] ?? "";
      if (name === "redirect" || name === "exp") {
        if (seenModifiers.has(name)) errors.push(`${name}= appears twice`);
        if (!DOMAIN_SPEC.test(value)) errors.push(`${name}= has no domain`);
        seenModifiers.add(name);
      }
      // Unknown modifiers are ignored (RFC 7208 §6).
      terms.push({ kind: "modifier", name, value });
      continue;
    }
    const mechanism = /^([+\-~?]?)([a-z][a-z0-9_.-]*)(.*)$/i.exec(token);
    const qualifier = (mechanism?.[1] || "+") as SpfQualifier;
    const name = (mechanism?.[2] ?? "").toLowerCase();
    const rest = mechanism?.[3] ?? "";
    const error = mechanism ? mechanismError(name, rest) : `unreadable term "${token}"`;
    if (error) {
      errors.push(error);
      continue;
    }
    terms.push({ kind: "mechanism", qualifier, name, value: rest.startsWith(":") ? rest.slice(1) : rest });
  }
  return { terms, errors };
}

function mechanismError(name: string, rest: string): string | null {
  switch (name) {
    case "all":
      return rest === "" ? null : `"all${rest}" takes no argument`;
    case "include":
    case "exists":
      return rest.startsWith(":") && DOMAIN_SPEC.test(rest.slice(1)) ? null : `${name} needs :domain`;
    case "a":
    case "mx":
      return A_MX_ARGS.test(rest) ? null : `"${name}${rest}" is malformed`;
    case "ptr":
      return rest === "" || (rest.startsWith(":") && DOMAIN_SPEC.test(rest.slice(1)))
        ? null
        : "ptr is malformed";
    case "ip4": {
      const [addr = "", ...cidr] = rest.slice(1).split("/");
      const cidrOk =
        cidr.length === 0 || (cidr.length === 1 && CIDR4.test(`/${cidr[0]}`) && Number(cidr[0]) <= 32);
      return rest.startsWith(":") && isIP(addr) === 4 && cidrOk
        ? null
        : `"ip4${rest}" is not an IPv4 address`;
    }
    case "ip6": {
      const body = rest.slice(1);
      const slash = body.lastIndexOf("/");
      const addr = slash < 0 ? body : body.slice(0, slash);
      const cidr = slash < 0 ? null : body.slice(slash + 1);
      const cidrOk = cidr === null || (/^\d{1,3}$/.test(cidr) && Number(cidr) <= 128);
      return rest.startsWith(":") && isIP(addr) === 6 && cidrOk
        ? null
        : `"ip6${rest}" is not an IPv6 address`;
    }
    default:
      // RFC 7208 §5: an unknown mechanism is a permerror, not something to skip.
      return `unknown mechanism "${name}"`;
  }
}

export interface SpfEvaluation {
  /** How many v=spf1 records the domain itself publishes. */
  readonly found: number;
  /** DNS-querying terms counted (include, a, mx, ptr, exists, redirect), nested ones included; stops at 11. */
  readonly lookups: number;
  /** The count passed the limit: SPF is a permerror whatever else the record says. */
  readonly exceeded: boolean;
  /** The `all` that ends evaluation, following redirect=; null when there is none; "unknown" behind a redirect not followed. */
  readonly all: SpfQualifier | null | "unknown";
  /** Permanent errors anywhere in the tree ("include:x has no SPF record"). */
  readonly permerrors: string[];
  /** Include/redirect targets whose lookup failed (timeout, refusal): the tree is incomplete. */
  readonly temperrors: string[];
  /** Include/redirect targets the lookup callback had no answer for: fetch them and evaluate again. */
  readonly unresolved: string[];
  /** Targets written with macros (%{i}…), which depend on the message and cannot be followed here. */
  readonly macroTargets: string[];
}

/**
 * Walks a domain's SPF record and, through `lookup`, the records its include: and redirect= name, counting
 * DNS-querying terms across the whole tree as RFC 7208 §4.6.4 does. The callback answers from what is
 * already fetched (undefined = not fetched yet), so the walk stays synchronous and pure; the caller fetches
 * `unresolved` and walks again. Without a callback only the top record is counted.
 *
 * Not checked, because they need the sending IP or A/MX lookups: void lookups (limit 2), the 10-name limits
 * inside mx and ptr, and whether the sending IPs are covered.
 */
export function evaluateSpf(
  records: readonly string[],
  lookup: (name: string) => TxtAnswer | undefined = () => undefined,
): SpfEvaluation {
  const spf = spfRecords(records);
  const permerrors: string[] = [];
  const temperrors: string[] = [];
  const unresolved = new Set<string>();
  const macroTargets = new Set<string>();
  let lookups = 0;
  let exceeded = false;

  // Each include/redirect is counted before it is followed, so a loop ends at the limit instead of recursing forever.
  const count = (): boolean => {
    lookups += 1;
    if (lookups > SPF_LOOKUP_LIMIT) exceeded = true;
    return !exceeded;
  };

  const follow = (target: string, via: string): SpfQualifier | null | "unknown" => {
    const name = target.replace(/\.$/, "").toLowerCase();
    if (name.includes("%")) {
      macroTargets.add(`${via}:${name}`);
      return "unknown";
    }
    const answer = lookup(name);
    if (answer === undefined) {
      unresolved.add(name);
      return "unknown";
    }
    if (isLookupFailure(answer)) {
      temperrors.push(`${via}:${name} ${answer.status}${answer.detail ? ` (${answer.detail})` : ""}`);
      return "unknown";
    }
    const found = spfRecords(answer.records);
    // RFC 7208 §5.2 / §6.1: an include or redirect target without exactly one SPF record is a permerror.
    if (found.length === 0) permerrors.push(`${via}:${name} has no SPF record`);
    else if (found.length > 1) permerrors.push(`${via}:${name} has ${found.length} SPF records`);
    else return visit(found[0] ?? "", `${via}:${name}`);
    return null;
  };

  const visit = (text: string, origin: string): SpfQualifier | null | "unknown" => {
    const record = parseSpfRecord(text);
    if (record.errors.length > 0) {
      permerrors.push(...record.errors.map((e) => (origin ? `${origin}: ${e}` : e)));
      return null;
    }
    let redirect: string | undefined;
    for (const term of record.terms) {
      if (exceeded) return null;
      if (term.kind === "modifier") {
        if (term.name === "redirect") redirect = term.value;
        continue;
      }
      // Terms after `all` are never evaluated (RFC 7208 §5.1), so they query nothing and redirect= is ignored.
      if (term.name === "all") return term.qualifier;
      if (term.name === "include") {
        if (count()) follow(term.value, "include");
      } else if (term.name === "a" || term.name === "mx" || term.name === "ptr" || term.name === "exists") {
        count();
      }
    }
    if (redirect === undefined || exceeded) return null;
    return count() ? follow(redirect, "redirect") : null;
  };

  const all = spf.length === 1 ? visit(spf[0] ?? "", "") : null;
  return {
    found: spf.length,
    lookups,
    exceeded,
    all: exceeded ? null : all,
    permerrors,
    temperrors,
    unresolved: [...unresolved],
    macroTargets: [...macroTargets],
  };
}

/** Judges an SPF evaluation: permerror or +all bad; ?all or no all a warning; ~all / -all good. */
export function judgeSpf(e: SpfEvaluation): AuthJudgement {
  if (e.found === 0) {
    return {
      status: "bad",
      value: "none",
      detail:
        "no v=spf1 record: SPF gives none for every message (Gmail requires SPF or DKIM from every sender, Yahoo and Microsoft require SPF from bulk senders)",
    };
  }
  if (e.found > 1) {
    return {
      status: "bad",
      value: "permerror",
      detail: `${e.found} v=spf1 records: RFC 7208 §4.5 allows exactly one, so SPF is a permerror for every message`,
    };
  }
  if (e.exceeded) {
    return {
      status: "bad",
      value: "permerror",
      detail: `more than ${SPF_LOOKUP_LIMIT} DNS-querying terms (include, a, mx, ptr, exists, redirect) counting nested includes: RFC 7208 §4.6.4 makes that a permerror`,
    };
  }
  if (e.permerrors.length > 0) {
    return { status: "bad", value: "permerror", detail: `SPF permerror: ${e.permerrors.join("; ")}` };
  }
  if (e.temperrors.length > 0) {
    return {
      status: "unknown",
      value: null,
      detail: `could not read the whole SPF tree (${e.temperrors.join("; ")}), so the lookup count and result are unknown`,
    };
  }
  const notes = [`${e.lookups} of ${SPF_LOOKUP_LIMIT} DNS lookups`];
  if (e.unresolved.length > 0)
    notes.push(`includes not followed (${e.unresolved.join(", ")}), so only this record's terms are counted`);
  if (e.macroTargets.length > 0)
    notes.push(`macro targets not followed (${e.macroTargets.join(", ")}): each counted as one lookup`);
  const counted = notes.join("; ");
  switch (e.all) {
    case "+":
      return {
        status: "bad",
        value: "+all",
        detail: `ends +all: every host on the internet passes SPF for this domain, which receivers treat as no SPF (${counted})`,
      };
    case "?":
      return {
        status: "warning",
        value: "?all",
        detail: `ends ?all: unlisted hosts get neutral, neither pass nor fail (${counted})`,
      };
    case null:
      return {
        status: "warning",
        value: "no all",
        detail: `no all mechanism: unlisted hosts get neutral, neither pass nor fail (${counted})`,
      };
    case "unknown":
      return {
        status: "unknown",
        value: null,
        detail: `the result depends on a redirect= not followed (${counted})`,
      };
    default:
      return {
        status: "good",
        value: `${e.all}all`,
        detail: `one v=spf1 record ending ${e.all}all (${counted})`,
      };
  }
}

/** Reads the TXT records at a domain as its SPF policy; `lookup` supplies nested includes (see evaluateSpf). */
export function parseSpf(
  records: readonly string[],
  lookup?: (name: string) => TxtAnswer | undefined,
): AuthJudgement {
  return judgeSpf(evaluateSpf(records, lookup));
}

// -------------------------------------------------------------------------------------------- DMARC

/** TXT records that are DMARC records: the v=DMARC1 tag first (RFC 7489 §6.4; the version is case-sensitive). */
export function dmarcRecords(txt: readonly string[]): string[] {
  return txt.filter((r) => /^v\s*=\s*DMARC1\s*(;|$)/.test(r.trim()));
}

/** A DKIM/DMARC/MTA-STS style tag list ("a=1; b=2") as lower-case tag → trimmed value; the first of a duplicate wins. */
export function parseTagList(text: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of text.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const tag = part.slice(0, eq).trim().toLowerCase();
    if (tag !== "" && !tags.has(tag)) tags.set(tag, part.slice(eq + 1).trim());
  }
  return tags;
}

const DMARC_POLICIES = ["none", "quarantine", "reject"] as const;
type DmarcPolicy = (typeof DMARC_POLICIES)[number];

function dmarcPolicy(value: string | undefined): DmarcPolicy | undefined {
  const v = value?.toLowerCase();
  return DMARC_POLICIES.find((p) => p === v);
}

export interface DmarcContext {
  /** Where the records were read ("_dmarc.example.com"), for the detail. */
  readonly name?: string;
  /** Set when the records are the organisational domain's, read for a subdomain: its sp= then applies. */
  readonly inheritedFrom?: string;
}

/**
 * Judges the TXT records at `_dmarc.<domain>`: p=none is a warning (monitoring only), quarantine/reject good;
 * no record, two records (RFC 7489 §6.6.3: no policy applies) or an unusable p= bad, since Gmail, Yahoo and
 * Microsoft require DMARC from bulk senders. Reads both RFC 7489 (pct) and DMARCbis (t, np, psd) tags.
 */
export function parseDmarc(records: readonly string[], context: DmarcContext = {}): AuthJudgement {
  const where = context.name ?? "_dmarc";
  const found = dmarcRecords(records);
  if (found.length === 0) {
    return {
      status: "bad",
      value: "none",
      detail: `no v=DMARC1 record at ${where}: Gmail, Yahoo and Microsoft reject bulk mail from domains without DMARC (p=none at least)`,
    };
  }
  if (found.length > 1) {
    return {
      status: "bad",
      value: "multiple",
      detail: `${found.length} v=DMARC1 records at ${where}: receivers then apply no DMARC policy at all (RFC 7489 §6.6.3), as if there were none`,
    };
  }
  const tags = parseTagList(found[0] ?? "");
  const p = dmarcPolicy(tags.get("p"));
  const sp = dmarcPolicy(tags.get("sp"));
  const np = dmarcPolicy(tags.get("np"));
  const rua = tags.get("rua");
  const ruaValid = (rua ?? "").split(",").some((u) => /^[a-z][a-z0-9+.-]*:\S+$/i.test(u.trim()));

  const notes: string[] = [];
  if (context.inheritedFrom) notes.push(`inherited from the organisational domain ${context.inheritedFrom}`);
  const pctRaw = tags.get("pct");
  if (pctRaw !== undefined) {
    const pct = /^\d{1,3}$/.test(pctRaw) ? Number(pctRaw) : Number.NaN;
    if (!(pct >= 0 && pct <= 100)) notes.push(`pct=${pctRaw} is invalid and read as 100`);
    else if (pct < 100) notes.push(`pct=${pct}: the policy applies to only ${pct}% of failing mail`);
  }
  if (tags.get("t")?.toLowerCase() === "y")
    notes.push("t=y: testing (DMARCbis, ≈ pct=0), receivers apply one level less strict");
  if (sp && !context.inheritedFrom) notes.push(`sp=${sp} for subdomains`);
  if (np) notes.push(`np=${np} for non-existent subdomains`);
  if (tags.get("psd")?.toLowerCase() === "y") notes.push("psd=y: a public suffix domain's record");
  if (tags.get("adkim")?.toLowerCase() === "s") notes.push("strict DKIM alignment (adkim=s)");
  if (tags.get("aspf")?.toLowerCase() === "s") notes.push("strict SPF alignment (aspf=s)");
  notes.push(ruaValid ? `aggregate reports to ${rua}` : "no rua=, so no aggregate reports");
  const tail = notes.join("; ");

  if (p === undefined) {
    const written = tags.has("p") ? `p=${tags.get("p")} is not none/quarantine/reject` : "no p= tag";
    // RFC 7489 §6.6.3 step 6: with a valid rua= receivers act as if p=none; without one the record is ignored.
    if (ruaValid) {
      return {
        status: "warning",
        value: "p=none",
        detail: `${where}: ${written}, so receivers act as if p=none (monitoring only; RFC 7489 §6.6.3); ${tail}`,
      };
    }
    return {
      status: "bad",
      value: "invalid",
      detail: `${where}: ${written} and no valid rua=, so receivers ignore the record, as if there were no DMARC; ${tail}`,
    };
  }
  // A subdomain under its organisation's record gets sp= (RFC 7489 §6.3), or p= when sp= is absent.
  const effective = context.inheritedFrom ? (sp ?? p) : p;
  const applied = context.inheritedFrom && sp ? `sp=${sp}` : `p=${p}`;
  if (effective === "none") {
    return {
      status: "warning",
      value: "p=none",
      detail: `${where}: ${applied}, monitoring only; it meets the bulk-sender minimum but enforces nothing; ${tail}`,
    };
  }
  return { status: "good", value: `p=${effective}`, detail: `${where}: ${applied}, enforced; ${tail}` };
}

// --------------------------------------------------------------------------------------------- DKIM

/** RSA key sizes (bits): below MIN is unsafe and widely refused; below RECOMMENDED Google asks for more. */
export const DKIM_RSA_MIN_BITS = 1024;
export const DKIM_RSA_RECOMMENDED_BITS = 2048;

/**
 * Judges the TXT records at `<selector>._domainkey.<domain>`: no key, an empty p= (revoked), a key shorter than
 * 1024 bits, a sha1-only h= or a service type other than email are bad; a key shorter than 2048 bits or t=y
 * (testing) a warning. The RSA size is read exactly from the key's DER, not estimated from its length.
 */
export function judgeDkim(
  records: readonly string[],
  context: { readonly name?: string } = {},
): AuthJudgement {
  const where = context.name ?? "the selector";
  const keys = records.filter((r) => /^\s*v\s*=\s*DKIM1\s*(;|$)/i.test(r) || parseTagList(r).has("p"));
  if (keys.length === 0) {
    return {
      status: "bad",
      value: "missing",
      detail: `no DKIM key at ${where}: mail signed with this selector fails DKIM`,
    };
  }
  const judged = judgeDkimKey(keys[0] ?? "", where);
  if (keys.length === 1 || judged.status === "bad") return judged;
  return {
    status: "warning",
    value: judged.value,
    detail: `${keys.length} key records at ${where}, so verifiers may pick either; the first: ${judged.detail}`,
  };
}

function judgeDkimKey(record: string, where: string): AuthJudgement {
  const tags = parseTagList(record);
  const bad = (value: string, why: string): AuthJudgement => ({
    status: "bad",
    value,
    detail: `${where}: ${why}`,
  });
  const v = tags.get("v");
  if (v !== undefined && v !== "DKIM1")
    return bad("invalid", `v=${v} is not DKIM1, so verifiers discard the key`);
  const p = tags.get("p");
  if (p === undefined) return bad("invalid", "no p= tag, so verifiers cannot check signatures");
  const key = p.replace(/\s+/g, "");
  if (key === "") return bad("revoked", "empty p=: the key is revoked and signatures with it fail");
  const hashes = tags
    .get("h")
    ?.toLowerCase()
    .split(":")
    .map((h) => h.trim());
  if (hashes && !hashes.includes("sha256"))
    return bad("sha1-only", `h=${tags.get("h")} allows only sha1, which verifiers must refuse (RFC 8301)`);
  const services = tags
    .get("s")
    ?.toLowerCase()
    .split(":")
    .map((s) => s.trim());
  if (services && !services.includes("*") && !services.includes("email"))
    return bad("not-email", `s=${tags.get("s")} does not allow email`);
  const testing = (tags.get("t") ?? "")
    .toLowerCase()
    .split(":")
    .some((f) => f.trim() === "y");
  const testNote = testing ? "; t=y: testing, verifiers may treat signatures as unsigned" : "";

  const k = (tags.get("k") ?? "rsa").toLowerCase();
  const der = /^[A-Za-z0-9+/]+={0,2}$/.test(key) ? Buffer.from(key, "base64") : null;
  if (k === "ed25519") {
    if (der?.length !== 32) return bad("invalid", "k=ed25519 but p= is not a 32-byte Ed25519 key");
    return {
      status: testing ? "warning" : "good",
      value: "ed25519",
      detail: `${where}: Ed25519 key (RFC 8463); not every receiver verifies Ed25519, so an RSA signature alongside keeps DKIM passing${testNote}`,
    };
  }
  if (k !== "rsa") return bad("invalid", `unknown key type k=${k}, so verifiers ignore the key`);
  const bits = der ? rsaBits(der) : null;
  if (bits === null) return bad("invalid", "p= is not an RSA public key, so signatures cannot verify");
  const value = `rsa-${bits}`;
  if (bits < DKIM_RSA_MIN_BITS)
    return bad(value, `${bits}-bit RSA key, below the ${DKIM_RSA_MIN_BITS} bits verifiers accept (RFC 8301)`);
  if (bits < DKIM_RSA_RECOMMENDED_BITS) {
    return {
      status: "warning",
      value,
      detail: `${where}: ${bits}-bit RSA key, below the ${DKIM_RSA_RECOMMENDED_BITS} bits Google recommends${testNote}`,
    };
  }
  return {
    status: testing ? "warning" : "good",
    value,
    detail: `${where}: ${bits}-bit RSA key (at least ${DKIM_RSA_RECOMMENDED_BITS} recommended)${testNote}`,
  };
}

/** The modulus size of an RSA key published as SubjectPublicKeyInfo (RFC 6376) or, as some do, bare PKCS#1. */
function rsaBits(der: Buffer): number | null {
  for (const type of ["spki", "pkcs1"] as const) {
    try {
      const key = createPublicKey({ key: der, format: "der", type });
      return key.asymmetricKeyType === "rsa" ? (key.asymmetricKeyDetails?.modulusLength ?? null) : null;
    } catch {
      // Not this encoding: try the next.
    }
  }
  return null;
}

// ------------------------------------------------------------------------------------------ MTA-STS

/**
 * Judges the TXT records at `_mta-sts.<domain>`. MTA-STS protects mail sent *to* the domain, so neither its
 * absence nor a broken record can bounce the domain's outbound mail: every outcome is good, and the value
 * ("present", "absent", "invalid") and detail carry the finding.
 */
export function parseMtaStsTxt(
  records: readonly string[],
  context: { readonly name?: string } = {},
): AuthJudgement {
  const where = context.name ?? "_mta-sts";
  const found = records.filter((r) => /^v=STSv1\s*(;|$)/.test(r.trim()));
  const inbound = "it only matters for mail sent to this domain, not for its outbound mail";
  if (found.length === 0)
    return { status: "good", value: "absent", detail: `no v=STSv1 record at ${where}; ${inbound}` };
  // RFC 8461 §3.1: anything but exactly one valid record means senders assume there is no policy.
  if (found.length > 1) {
    return {
      status: "good",
      value: "invalid",
      detail: `${found.length} v=STSv1 records at ${where}, so senders ignore the policy; ${inbound}`,
    };
  }
  const id = parseTagList(found[0] ?? "").get("id");
  if (id === undefined || !/^[A-Za-z0-9]{1,32}$/.test(id)) {
    return {
      status: "good",
      value: "invalid",
      detail: `v=STSv1 at ${where} without a valid id= (1-32 letters or digits), so senders ignore the policy; ${inbound}`,
    };
  }
  return {
    status: "good",
    value: "present",
    detail: `v=STSv1 at ${where} with id=${id} (the HTTPS policy file is not fetched); ${inbound}`,
  };
}
