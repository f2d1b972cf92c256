import type { TxtAnswer, TxtResolver } from "../../../dns/txt-resolver.ts";
import { normaliseDomain, organisationOf } from "../../../domain/organisations/organisation-of.ts";
import {
  type AuthJudgement,
  dmarcRecords,
  evaluateSpf,
  isLookupFailure,
  judgeDkim,
  judgeSpf,
  parseDmarc,
  parseMtaStsTxt,
  SPF_LOOKUP_LIMIT,
} from "../../../domain/reputation/auth-records.ts";
import type { ReputationSignal, SignalSource } from "../../../domain/reputation/reputation-signal.ts";
import type { ReputationSource } from "../reputation-source.ts";

export interface AuthPostureSourceOptions {
  /** Sending domains to check (From, Return-Path and DKIM d= domains). */
  readonly domains: readonly string[];
  /** DKIM selectors, checked on every domain: DNS cannot list a domain's selectors. */
  readonly dkimSelectors: readonly string[];
  readonly resolver: TxtResolver;
}

/** Rounds of include/redirect fetching; the 10-lookup limit ends any real tree sooner (a loop included). */
const MAX_SPF_ROUNDS = SPF_LOOKUP_LIMIT + 2;
const SELECTOR = /^[a-z0-9_](?:[a-z0-9_-]*)(?:\.[a-z0-9_-]+)*$/i;
const DOMAIN = /^[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9])?$/;

/**
 * The sending domains' authentication posture read from DNS now (RFC 7208, RFC 7489, RFC 6376, RFC 8461): per domain the
 * metrics "spf", "dmarc", "dkim:<selector>" and "mta_sts", as current-state signals (day null). A lookup that
 * fails (timeout, refusal, SERVFAIL) gives that metric `unknown` with the reason; the run throws only when
 * every lookup failed, which means the resolver itself is unreachable.
 *
 * SPF follows include: and redirect= through the resolver and counts lookups over the whole tree (RFC 7208
 * §4.6.4). DMARC falls back from `_dmarc.<sub>` to the organisational domain found with the Public Suffix
 * List (tldts), as RFC 7489 does; DMARCbis's DNS tree walk is not implemented.
 */
export class AuthPostureSource implements ReputationSource {
  readonly id: SignalSource = "auth";
  private readonly domains: string[];
  private readonly selectors: string[];
  private readonly resolver: TxtResolver;

  constructor(options: AuthPostureSourceOptions) {
    this.domains = [...new Set(options.domains.map(normaliseDomain))];
    for (const d of this.domains) {
      if (!DOMAIN.test(d)) throw new Error(`auth posture: invalid domain ${JSON.stringify(d)}`);
    }
    this.selectors = [...new Set(options.dkimSelectors.map((s) => s.trim().toLowerCase()))];
    for (const s of this.selectors) {
      if (!SELECTOR.test(s)) throw new Error(`auth posture: invalid DKIM selector ${JSON.stringify(s)}`);
    }
    this.resolver = options.resolver;
  }

  async collect(now: Date): Promise<ReputationSignal[]> {
    const observedAt = now.toISOString();
    const lookups = new Lookups(this.resolver);
    const perDomain = await Promise.all(
      this.domains.map(async (domain) => {
        const signal = (metric: string, j: AuthJudgement): ReputationSignal => ({
          source: "auth",
          subject: domain,
          subjectKind: "domain",
          metric,
          status: j.status,
          value: j.value,
          day: null,
          detail: j.detail,
          observedAt,
        });
        const [spf, dmarc, mtaSts, ...dkim] = await Promise.all([
          checkSpf(domain, lookups),
          checkDmarc(domain, lookups),
          checkMtaSts(domain, lookups),
          ...this.selectors.map((s) => checkDkim(domain, s, lookups)),
        ]);
        return [
          signal("spf", spf),
          signal("dmarc", dmarc),
          ...this.selectors.map((s, i) => signal(`dkim:${s}`, dkim[i] as AuthJudgement)),
          signal("mta_sts", mtaSts),
        ];
      }),
    );
    lookups.throwIfAllFailed();
    return perDomain.flat();
  }
}

/** One run's TXT lookups: each name asked once (subdomains share their organisation's DMARC, SPF includes repeat), failures counted. */
class Lookups {
  private readonly answers = new Map<string, Promise<TxtAnswer>>();
  private readonly failures: Array<{ name: string; answer: TxtAnswer }> = [];
  private asked = 0;

  constructor(private readonly resolver: TxtResolver) {}

  txt(name: string): Promise<TxtAnswer> {
    const key = name.toLowerCase();
    let answer = this.answers.get(key);
    if (!answer) {
      this.asked += 1;
      answer = this.resolver.txt(key).then((a) => {
        if (isLookupFailure(a)) this.failures.push({ name: key, answer: a });
        return a;
      });
      this.answers.set(key, answer);
    }
    return answer;
  }

  throwIfAllFailed(): void {
    if (this.asked === 0 || this.failures.length < this.asked) return;
    const servers = this.resolver.servers?.length ? this.resolver.servers.join(", ") : "the system resolver";
    const first = this.failures[0];
    const why = first ? ` (first: ${first.name} ${first.answer.status}${detailOf(first.answer)})` : "";
    throw new Error(
      `auth posture: all ${this.asked} DNS lookups failed via ${servers}${why}; the resolver is unreachable or refusing`,
    );
  }
}

function detailOf(a: TxtAnswer): string {
  return a.detail ? `: ${a.detail}` : "";
}

function failed(name: string, a: TxtAnswer): AuthJudgement {
  return {
    status: "unknown",
    value: null,
    detail: `TXT lookup of ${name} failed (${a.status}${detailOf(a)}), which says nothing about the record`,
  };
}

/** An answer's records; nxdomain and nodata mean there are none. */
function recordsOf(a: TxtAnswer): string[] {
  return a.status === "ok" ? a.records : [];
}

async function checkSpf(domain: string, lookups: Lookups): Promise<AuthJudgement> {
  const top = await lookups.txt(domain);
  if (isLookupFailure(top)) return failed(domain, top);
  // Fetch what the walk could not follow, then walk again: each round goes one include level deeper.
  const known = new Map<string, TxtAnswer>();
  let evaluation = evaluateSpf(recordsOf(top), (n) => known.get(n));
  for (let round = 0; evaluation.unresolved.length > 0 && round < MAX_SPF_ROUNDS; round++) {
    const names = evaluation.unresolved;
    const answers = await Promise.all(names.map((n) => lookups.txt(n)));
    names.forEach((n, i) => {
      known.set(n, answers[i] as TxtAnswer);
    });
    evaluation = evaluateSpf(recordsOf(top), (n) => known.get(n));
  }
  return judgeSpf(evaluation);
}

async function checkDmarc(domain: string, lookups: Lookups): Promise<AuthJudgement> {
  const name = `_dmarc.${domain}`;
  const own = await lookups.txt(name);
  if (isLookupFailure(own)) return failed(name, own);
  const org = organisationOf(domain);
  // RFC 7489 §6.6.3: only when the domain has no DMARC record at all does the organisational domain's apply.
  if (dmarcRecords(recordsOf(own)).length > 0 || org === domain) return parseDmarc(recordsOf(own), { name });
  const orgName = `_dmarc.${org}`;
  const inherited = await lookups.txt(orgName);
  if (isLookupFailure(inherited)) return failed(orgName, inherited);
  if (dmarcRecords(recordsOf(inherited)).length === 0)
    return parseDmarc([], { name: `${name} or ${orgName}` });
  return parseDmarc(recordsOf(inherited), { name: orgName, inheritedFrom: org });
}

async function checkDkim(domain: string, selector: string, lookups: Lookups): Promise<AuthJudgement> {
  const name = `${selector}._domainkey.${domain}`;
  const answer = await lookups.txt(name);
  return isLookupFailure(answer) ? failed(name, answer) : judgeDkim(recordsOf(answer), { name });
}

async function checkMtaSts(domain: string, lookups: Lookups): Promise<AuthJudgement> {
  const name = `_mta-sts.${domain}`;
  const answer = await lookups.txt(name);
  return isLookupFailure(answer) ? failed(name, answer) : parseMtaStsTxt(recordsOf(answer), { name });
}
