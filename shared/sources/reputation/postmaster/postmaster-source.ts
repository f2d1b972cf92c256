import * as z from "zod";
import { normaliseDomain, organisationOf } from "../../../domain/organisations/organisation-of.ts";
import {
  judgePostmasterCompliance,
  judgePostmasterValue,
  POSTMASTER_AUTH_TYPES,
  POSTMASTER_REJECT_REASONS,
  type PostmasterJudgement,
  type PostmasterMetric,
  postmasterNoData,
} from "../../../domain/reputation/postmaster-thresholds.ts";
import type { ReputationSignal } from "../../../domain/reputation/reputation-signal.ts";
import { jsonBody, ProviderHttpClient } from "../../../http/provider-http-client.ts";
import {
  type BadRowSink,
  IGNORE_BAD_ROWS,
  issuesText,
  keepingSignals,
  lookbackDaysOption,
  type ReputationSource,
} from "../reputation-source.ts";
import {
  exchangeRefreshToken,
  GOOGLE_TOKEN_URL,
  type GoogleHttpOptions,
  secretForms,
} from "./google-oauth.ts";

/*
 * Google Postmaster Tools API v2 (docs/sources.md#google-postmaster-tools): per domain, one domainStats:query for the
 * daily spam, authentication and delivery-error rates of the last days, then the compliance snapshot.
 * v2 has no domain/IP reputation metric, so none is read.
 */

/** The Secrets Manager secret: the OAuth client and the refresh token of a user who can read the domains. */
export const PostmasterCredentialsSchema = z.object({
  client_id: z.string().min(1),
  client_secret: z.string().min(1),
  refresh_token: z.string().min(1),
});
export type PostmasterCredentials = z.infer<typeof PostmasterCredentialsSchema>;

export interface PostmasterSourceOptions extends GoogleHttpOptions {
  readonly credentials: PostmasterCredentials;
  /** Authentication domains registered in Postmaster Tools (DKIM d= or Return-Path domain). */
  readonly domains: readonly string[];
  /** Days read, ending yesterday (UTC) (default 7). */
  readonly lookbackDays?: number;
  readonly baseUrl?: string;
  readonly tokenUrl?: string;
}

export const POSTMASTER_BASE_URL = "https://gmailpostmastertools.googleapis.com";
const PROVIDER = "Google Postmaster Tools";
const DEFAULT_LOOKBACK_DAYS = 7;
const PAGE_SIZE = 200; // the documented maximum
const MAX_PAGES = 100;

export interface PostmasterMetricQuery {
  readonly metric: PostmasterMetric;
  /** The MetricDefinition name: Google keys the answer rows by it. */
  readonly label: string;
  readonly standardMetric: "SPAM_RATE" | "AUTH_SUCCESS_RATE" | "DELIVERY_ERROR_RATE";
  readonly filter?: string;
}

export const POSTMASTER_QUERIES: readonly PostmasterMetricQuery[] = [
  { metric: "spam_rate", label: "spam_rate", standardMetric: "SPAM_RATE" },
  ...POSTMASTER_AUTH_TYPES.map(
    (t): PostmasterMetricQuery => ({
      metric: `auth_success_rate:${t}`,
      label: `auth_${t}`,
      standardMetric: "AUTH_SUCCESS_RATE",
      filter: `auth_type = "${t}"`,
    }),
  ),
  { metric: "delivery_error_rate", label: "delivery_errors", standardMetric: "DELIVERY_ERROR_RATE" },
  ...POSTMASTER_REJECT_REASONS.map(
    (r): PostmasterMetricQuery => ({
      metric: `delivery_error_rate:${r}`,
      label: `reject_${r}`,
      standardMetric: "DELIVERY_ERROR_RATE",
      filter: `error_type = "reject" AND error_reason = "${r}"`,
    }),
  ),
];

// Numbers may come as JSON numbers or, for int64 and NaN/Infinity, as strings (proto3 JSON).
const NumberLike = z.union([z.number(), z.string()]);
const DomainStatSchema = z.looseObject({
  metric: z.string(),
  date: z.looseObject({ year: z.number().int(), month: z.number().int(), day: z.number().int() }),
  value: z
    .looseObject({
      floatValue: NumberLike.optional(),
      doubleValue: NumberLike.optional(),
      intValue: NumberLike.optional(),
      stringValue: z.string().optional(),
    })
    .optional(),
});
type DomainStat = z.infer<typeof DomainStatSchema>;
/** What places a row that cannot be read in full. */
const RowKeySchema = DomainStatSchema.pick({ metric: true, date: true });
// Proto3 JSON leaves out an empty list and an empty token. Rows are read one by one: a row the schema refuses
// is a bad row, the others still count.
const QueryResponseSchema = z.looseObject({
  domainStats: z.array(z.unknown()).optional(),
  nextPageToken: z.string().optional(),
});

const StateSchema = z.looseObject({ status: z.string().optional() }).optional();
const DomainComplianceSchema = z.looseObject({
  domainId: z.string().optional(),
  rowData: z.array(z.looseObject({ requirement: z.string(), status: StateSchema })).optional(),
  oneClickUnsubscribeVerdict: z
    .looseObject({ status: StateSchema, reason: z.string().optional() })
    .optional(),
  honorUnsubscribeVerdict: z.looseObject({ status: StateSchema, reason: z.string().optional() }).optional(),
});
/*
 * DomainComplianceStatus (docs/sources.md#google-postmaster-tools):
 * `complianceData` is "for the registrable domain part of the domain in name"; `subdomainComplianceData` is
 * "calculated specifically for the subdomain in name", present only for a subdomain with data of its own.
 */
const ComplianceSchema = z.looseObject({
  complianceData: DomainComplianceSchema.optional(),
  subdomainComplianceData: DomainComplianceSchema.optional(),
});
type ComplianceStatus = z.infer<typeof ComplianceSchema>;
type ComplianceData = z.infer<typeof DomainComplianceSchema>;

const readStats = jsonBody(QueryResponseSchema);
const readCompliance = jsonBody(ComplianceSchema);

export class PostmasterSource implements ReputationSource {
  readonly id = "postmaster" as const;
  private readonly lookbackDays: number;
  private readonly baseUrl: string;
  private readonly tokenUrl: string;
  private readonly http: GoogleHttpOptions;

  constructor(private readonly options: PostmasterSourceOptions) {
    this.lookbackDays = lookbackDaysOption(options.lookbackDays, DEFAULT_LOOKBACK_DAYS);
    this.baseUrl = options.baseUrl ?? POSTMASTER_BASE_URL;
    this.tokenUrl = options.tokenUrl ?? GOOGLE_TOKEN_URL;
    const { fetch, sleep, random, timeoutMs, maxAttempts } = options;
    this.http = { fetch, sleep, random, timeoutMs, maxAttempts };
  }

  async collect(now: Date, badRows: BadRowSink = IGNORE_BAD_ROWS): Promise<ReputationSignal[]> {
    if (this.options.domains.length === 0) return [];
    const { credentials } = this.options;
    const { accessToken } = await exchangeRefreshToken(credentials, this.tokenUrl, this.http);
    const client = new ProviderHttpClient({
      ...this.http,
      provider: PROVIDER,
      secrets: secretForms(credentials.client_secret, credentials.refresh_token, accessToken),
      authHint:
        "the Google user behind the refresh token must be an owner or reader of the domain in Postmaster Tools, " +
        "and the token must carry the postmaster.traffic.readonly scope",
    });
    const headers = { Authorization: `Bearer ${accessToken}` };
    const days = dayRange(now, this.lookbackDays);
    const observedAt = now.toISOString();
    const signals: ReputationSignal[] = [];
    // A domain Google refuses (or a fault part-way) keeps the values of the domains read before it.
    await keepingSignals(signals, () =>
      this.readDomains(client, headers, days, observedAt, signals, badRows),
    );
    return signals;
  }

  private async readDomains(
    client: ProviderHttpClient,
    headers: Record<string, string>,
    days: readonly string[],
    observedAt: string,
    signals: ReputationSignal[],
    badRows: BadRowSink,
  ): Promise<void> {
    for (const domain of this.options.domains) {
      const signal = (
        metric: string,
        value: number | string | null,
        day: string | null,
        j: PostmasterJudgement,
      ) =>
        signals.push({
          source: "postmaster",
          subject: domain,
          subjectKind: "domain",
          metric,
          status: j.status,
          value,
          day,
          detail: j.detail,
          observedAt,
        });

      const rows = await this.queryStats(client, headers, domain, days, badRows);
      for (const q of POSTMASTER_QUERIES) {
        for (const day of days) {
          const row = rows.get(`${q.label}\u0000${day}`);
          if (row === undefined) {
            signal(q.metric, null, day, postmasterNoData(q.metric));
            continue;
          }
          if ("unreadable" in row) {
            // The row was there but could not be read (counted as a bad row): not a day without data.
            signal(q.metric, null, day, {
              status: "unknown",
              detail: `Google's row for ${q.metric} on ${day} could not be read (${row.unreadable}), so it says neither good nor bad.`,
            });
            continue;
          }
          const value = numericValue(row);
          if (value !== null) {
            signal(q.metric, value, day, judgePostmasterValue(q.metric, value));
          } else if (carriesNoValue(row)) {
            // A row whose StatisticValue sets none of its fields ({} or absent), or NaN (a rate over no
            // messages): Google has no number for the day, the same as leaving the day out.
            signal(q.metric, null, day, {
              ...postmasterNoData(q.metric),
              detail: `Google sent a row for ${q.metric} on ${day} with no number in it (${row.value === undefined ? "no value" : JSON.stringify(row.value)}), which says neither good nor bad.`,
            });
          } else {
            const shown = row.value?.stringValue ?? null;
            signal(q.metric, shown, day, {
              status: "unknown",
              detail: `Google answered ${JSON.stringify(row.value ?? null)} for ${q.metric}, which is not a number.`,
            });
          }
        }
      }

      const compliance = complianceFor(domain, await this.complianceStatus(client, headers, domain));
      for (const c of complianceRows(compliance?.data)) {
        signal(
          `compliance:${c.requirement}`,
          c.state,
          null,
          judgePostmasterCompliance(c.requirement, c.state, c.reason, compliance?.scope),
        );
      }
    }
  }

  /** Every answer row of the range, keyed by label and day; days Google has no data for are absent. */
  private async queryStats(
    client: ProviderHttpClient,
    headers: Record<string, string>,
    domain: string,
    days: readonly string[],
    badRows: BadRowSink,
  ): Promise<Map<string, DomainStat | { readonly unreadable: string }>> {
    const url = new URL(`/v2/domains/${encodeURIComponent(domain)}/domainStats:query`, this.baseUrl);
    const first = days[0] as string;
    const last = days.at(-1) as string;
    const request = {
      metricDefinitions: POSTMASTER_QUERIES.map((q) => ({
        name: q.label,
        baseMetric: { standardMetric: q.standardMetric },
        ...(q.filter === undefined ? {} : { filter: q.filter }),
      })),
      timeQuery: { dateRanges: { dateRanges: [{ start: googleDate(first), end: googleDate(last) }] } },
      aggregationGranularity: "DAILY",
      pageSize: PAGE_SIZE,
    };
    const rows = new Map<string, DomainStat | { readonly unreadable: string }>();
    const seen = new Set<string>();
    let pageToken: string | undefined;
    for (let page = 1; ; page++) {
      const res = await client.request({
        url,
        method: "POST",
        headers: { ...headers, "Content-Type": "application/json" },
        body: JSON.stringify(pageToken === undefined ? request : { ...request, pageToken }),
        parse: readStats,
      });
      for (const [i, raw] of (res.value.domainStats ?? []).entries()) {
        const parsed = DomainStatSchema.safeParse(raw);
        if (!parsed.success) {
          const reason = issuesText(parsed.error);
          badRows.badRow({ where: `domains/${domain} domainStats page ${page} row ${i + 1}`, reason });
          // When the row still says which metric and day it was, that day is unknown, not without data.
          const placed = RowKeySchema.safeParse(raw);
          if (placed.success) {
            const day = isoDate(placed.data.date);
            const key = `${placed.data.metric}\u0000${day}`;
            if (day >= first && day <= last && !rows.has(key)) rows.set(key, { unreadable: reason });
          }
          continue;
        }
        const row = parsed.data;
        const day = isoDate(row.date);
        // Only what was asked: a row for another label or day has no signal to land in.
        if (day >= first && day <= last) rows.set(`${row.metric}\u0000${day}`, row);
      }
      const next = res.value.nextPageToken;
      if (!next) return rows;
      if (seen.has(next) || page >= MAX_PAGES) {
        throw new Error(
          `${PROVIDER} paging loops for ${domain}: ${seen.has(next) ? "a page token came back twice" : `more than ${MAX_PAGES} pages`}`,
        );
      }
      seen.add(next);
      pageToken = next;
    }
  }

  private async complianceStatus(
    client: ProviderHttpClient,
    headers: Record<string, string>,
    domain: string,
  ): Promise<ComplianceStatus> {
    const url = new URL(`/v2/domains/${encodeURIComponent(domain)}/complianceStatus`, this.baseUrl);
    const res = await client.request({ url, headers, parse: readCompliance });
    return res.value;
  }
}

/**
 * The compliance data that judges the queried domain, and a phrase saying whose it is: a subdomain's own
 * verdicts (subdomainComplianceData) when Google has them; otherwise the registrable domain's, said as such.
 */
export function complianceFor(
  queried: string,
  status: ComplianceStatus,
): { readonly data: ComplianceData; readonly scope: string } | null {
  const domain = normaliseDomain(queried);
  const registrable = status.complianceData?.domainId
    ? normaliseDomain(status.complianceData.domainId)
    : organisationOf(domain);
  const sub = status.subdomainComplianceData;
  if (domain !== registrable && sub !== undefined) {
    return { data: sub, scope: `for ${domain} itself (Google's subdomain data)` };
  }
  const reg = status.complianceData;
  if (reg === undefined) return null;
  return {
    data: reg,
    scope:
      domain === registrable
        ? `for ${domain}`
        : `for ${registrable}, the registrable domain of ${domain} (Google has no data for ${domain} itself)`,
  };
}

interface ComplianceRow {
  readonly requirement: string;
  readonly state: string;
  readonly reason?: string;
}

/** The requirement rows, with the unsubscribe verdicts' reasons folded in (or as rows when Google lists none). */
function complianceRows(data: ComplianceData | undefined): ComplianceRow[] {
  if (data === undefined) return [];
  const verdicts = new Map<string, { state: string; reason?: string }>();
  for (const [requirement, v] of [
    ["ONE_CLICK_UNSUBSCRIBE", data.oneClickUnsubscribeVerdict],
    ["HONOR_UNSUBSCRIBE", data.honorUnsubscribeVerdict],
  ] as const) {
    if (v !== undefined) verdicts.set(requirement, { state: stateOf(v.status), reason: v.reason });
  }
  const rows: ComplianceRow[] = (data.rowData ?? []).map((r) => {
    const verdict = verdicts.get(r.requirement);
    verdicts.delete(r.requirement);
    return { requirement: r.requirement, state: stateOf(r.status), reason: verdict?.reason };
  });
  for (const [requirement, v] of verdicts) rows.push({ requirement, ...v });
  return rows;
}

function stateOf(s: { status?: string | undefined } | undefined): string {
  return s?.status || "STATE_UNSPECIFIED";
}

/** No StatisticValue field set (`{}` or no value at all), or a NaN rate: no number for the day. */
function carriesNoValue(row: DomainStat): boolean {
  const v = row.value;
  if (v === undefined) return true;
  const fields = ["floatValue", "doubleValue", "intValue", "stringValue", "stringList"] as const;
  const set = fields.filter((f) => (v as Record<string, unknown>)[f] !== undefined);
  if (set.length === 0) return true;
  return set.every((f) => {
    const raw = (v as Record<string, unknown>)[f];
    return (f === "floatValue" || f === "doubleValue") && (raw === "NaN" || Number.isNaN(raw));
  });
}

/** floatValue, doubleValue or intValue, as a number; null when none is a finite number. */
function numericValue(row: DomainStat): number | null {
  const v = row.value;
  for (const raw of [v?.floatValue, v?.doubleValue, v?.intValue]) {
    if (raw === undefined) continue;
    const n = typeof raw === "number" ? raw : raw.trim() === "" ? Number.NaN : Number(raw);
    if (Number.isFinite(n)) return n;
  }
  return null;
}

/** D-lookbackDays … D-1 (UTC), oldest first. */
function dayRange(now: Date, lookbackDays: number): string[] {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Array.from({ length: lookbackDays }, (_, i) =>
    new Date(today - (lookbackDays - i) * 86_400_000).toISOString().slice(0, 10),
  );
}

function googleDate(day: string): { year: number; month: number; day: number } {
  const [year, month, d] = day.split("-").map(Number) as [number, number, number];
  return { year, month, day: d };
}

function isoDate(d: { year: number; month: number; day: number }): string {
  return `${String(d.year).padStart(4, "0")}-${String(d.month).padStart(2, "0")}-${String(d.day).padStart(2, "0")}`;
}
