import * as z from "zod";
import {
  type EspJudgement,
  judgeSparkpostHealthScore,
  sparkpostNoData,
} from "../../../domain/reputation/esp-reputation-thresholds.ts";
import type { ReputationSignal } from "../../../domain/reputation/reputation-signal.ts";
import {
  jsonBody,
  ProviderHttpClient,
  type ProviderHttpOptions,
} from "../../../http/provider-http-client.ts";
import {
  type BadRowSink,
  IGNORE_BAD_ROWS,
  issuesText,
  lookbackDaysOption,
  type ReputationSource,
} from "../reputation-source.ts";

/*
 * SparkPost Signals health score per sending domain per day (https://www.sparkpost.com/docs/reporting/signals-analytics/). SparkPost publishes
 * no reference for this endpoint: path and shape are what SparkPost's own web app (2web2ui) calls and reads —
 * GET /api/v1/signals/health-score/{facet}?from&to&limit&offset with facet key `sending_domain`, answered
 * {"results": {"total_count", "data": [{sending_domain, sid, history: [{dt, health_score, ...}]}]}} where
 * health_score is a 0–1 fraction, sometimes sent as a string. Parsing is tolerant of both, and of `facet`
 * naming the domain; anything else is a malformed answer.
 */

export type SparkpostRegion = "us" | "eu";

export const SPARKPOST_BASE_URLS: Readonly<Record<SparkpostRegion, string>> = {
  us: "https://api.sparkpost.com",
  eu: "https://api.eu.sparkpost.com",
};

/** The facet segment: 2web2ui's facet key (its internal notes once wrote it "sending-domain"). */
export const SPARKPOST_HEALTH_SCORE_PATH = "/api/v1/signals/health-score/sending_domain";

export type SparkpostHttpOptions = Pick<
  ProviderHttpOptions,
  "fetch" | "sleep" | "random" | "timeoutMs" | "maxAttempts"
>;

export interface SparkpostHealthSourceOptions extends SparkpostHttpOptions {
  readonly apiKey: string;
  readonly region: SparkpostRegion;
  /** Overrides the region's base URL (tests: a local server). */
  readonly baseUrl?: string;
  /**
   * Sending domains to report. Set: only these, and one missing from SparkPost's answer is no_data for every
   * day. Unset: every domain SparkPost returns.
   */
  readonly domains?: readonly string[];
  /** Days read, ending yesterday (UTC): Signals aggregates a day after it ends (default 7; kept 90). */
  readonly lookbackDays?: number;
}

/** SparkPost has no Signals for this account (HTTP 404 on the Signals API). */
export class SparkpostSignalsNotEnabledError extends Error {
  override readonly name = "SparkpostSignalsNotEnabledError";
  constructor(readonly url: string) {
    super(
      `SparkPost Signals is not enabled for this account: ${url} answered HTTP 404. Signals (health score) is a ` +
        "separate SparkPost product; enable it, or check the account's region (us/eu), or drop the SparkPost source.",
    );
  }
}

const PROVIDER = "SparkPost";
const DEFAULT_LOOKBACK_DAYS = 7;
const MAX_LOOKBACK_DAYS = 90;
const PAGE_LIMIT = 100;
const MAX_PAGES = 100;

// Numbers may come as JSON numbers or as decimal strings ("0.7989965677"); null on a day without a score.
const ScoreLike = z.union([z.number(), z.string(), z.null()]);
const HistorySchema = z.looseObject({ dt: z.iso.date(), health_score: ScoreLike.optional() });
// Rows and their history entries are read one by one: one the schema refuses is a bad row, the rest count.
const RowSchema = z.looseObject({
  sending_domain: z.string().min(1).optional(),
  facet: z.string().min(1).optional(),
  sid: z.union([z.number(), z.string()]).optional(),
  history: z.array(z.unknown()).optional(),
});
const AnswerSchema = z.looseObject({
  results: z.looseObject({
    total_count: z.number().int().nonnegative().optional(),
    data: z.array(z.unknown()),
  }),
});
type RawScore = z.infer<typeof ScoreLike> | undefined;

const readAnswer = jsonBody(AnswerSchema);

type Page =
  | { readonly notEnabled: true }
  | { readonly notEnabled: false; readonly rows: unknown[]; readonly total: number | undefined };

export class SparkpostHealthSource implements ReputationSource {
  readonly id = "sparkpost" as const;
  private readonly client: ProviderHttpClient;
  private readonly baseUrl: string;
  private readonly lookbackDays: number;

  constructor(private readonly options: SparkpostHealthSourceOptions) {
    this.lookbackDays = lookbackDaysOption(options.lookbackDays, DEFAULT_LOOKBACK_DAYS, MAX_LOOKBACK_DAYS);
    this.baseUrl = options.baseUrl ?? SPARKPOST_BASE_URLS[options.region];
    const { fetch, sleep, random, timeoutMs, maxAttempts } = options;
    this.client = new ProviderHttpClient({
      fetch,
      sleep,
      random,
      timeoutMs,
      maxAttempts,
      provider: PROVIDER,
      secrets: [options.apiKey],
      authHint: `check the API key, that it may read Signals, and the account's region (${options.region})`,
    });
  }

  async collect(now: Date, badRows: BadRowSink = IGNORE_BAD_ROWS): Promise<ReputationSignal[]> {
    const days = dayRange(now, this.lookbackDays);
    const rows = await this.readRows(days);
    const observedAt = now.toISOString();
    const signals: ReputationSignal[] = [];
    const signal = (domain: string, metric: string, value: number | null, day: string, j: EspJudgement) =>
      signals.push({
        source: "sparkpost",
        subject: domain,
        subjectKind: "domain",
        metric,
        status: j.status,
        value,
        day,
        detail: j.detail,
        observedAt,
      });

    const wanted = this.options.domains?.map((d) => d.toLowerCase());
    // One series per (domain, subaccount); a repeated row (e.g. across pages) adds to it, later days win.
    const series = new Map<string, { domain: string; metric: string; byDay: Map<string, RawScore> }>();
    for (const [i, raw] of rows.entries()) {
      const where = `health-score results.data[${i}]`;
      const parsed = RowSchema.safeParse(raw);
      if (!parsed.success) {
        badRows.badRow({ where, reason: issuesText(parsed.error) });
        continue;
      }
      const row = parsed.data;
      const history = row.history ?? [];
      const domain = (row.sending_domain ?? row.facet ?? "").toLowerCase();
      if (domain === "") {
        // SparkPost's own "no results" answer is a row with an empty history and no facet: nothing to read.
        if (history.length > 0) badRows.badRow({ where, reason: "the row names no sending domain" });
        continue;
      }
      if (wanted !== undefined && !wanted.includes(domain)) continue;
      const metric = metricFor(row.sid);
      const key = `${domain}\u0000${metric}`;
      const entry = series.get(key) ?? { domain, metric, byDay: new Map<string, RawScore>() };
      for (const [j, h] of history.entries()) {
        const day = HistorySchema.safeParse(h);
        if (day.success) entry.byDay.set(day.data.dt, day.data.health_score);
        else badRows.badRow({ where: `${where}.history[${j}]`, reason: issuesText(day.error) });
      }
      series.set(key, entry);
    }
    const seen = new Set<string>();
    for (const { domain, metric, byDay } of series.values()) {
      seen.add(domain);
      for (const day of days) {
        const raw = byDay.get(day);
        const score = toScore(raw);
        if (score !== null) {
          signal(domain, metric, score, day, judgeSparkpostHealthScore(score));
        } else if (raw === undefined || raw === null) {
          signal(domain, metric, null, day, sparkpostNoData());
        } else {
          signal(domain, metric, null, day, {
            status: "unknown",
            detail: `SparkPost answered health score ${JSON.stringify(raw)}, which is not a number.`,
          });
        }
      }
    }
    for (const domain of wanted ?? []) {
      if (seen.has(domain)) continue;
      for (const day of days) {
        signal(domain, "health_score", null, day, {
          status: "no_data",
          detail: `SparkPost returned no health score for ${domain} (no mail from it, or below Signals' daily volume floor), so it is neither good nor bad.`,
        });
      }
    }
    return signals;
  }

  /** Every row of the range, pages followed by offset until total_count (or an empty page). */
  private async readRows(days: readonly string[]): Promise<unknown[]> {
    const rows: unknown[] = [];
    for (let page = 1; ; page++) {
      const url = new URL(SPARKPOST_HEALTH_SCORE_PATH, this.baseUrl);
      url.searchParams.set("from", days[0] as string);
      url.searchParams.set("to", days.at(-1) as string);
      url.searchParams.set("limit", String(PAGE_LIMIT));
      url.searchParams.set("offset", String(rows.length));
      const res = await this.client.request<Page>({
        url,
        // SparkPost takes the bare key, no scheme.
        headers: { Authorization: this.options.apiKey },
        // A 404 is an answer, not a fault to retry: the account has no Signals.
        acceptStatuses: [404],
        parse: (text, status) => {
          if (status === 404) return { notEnabled: true };
          const { results } = readAnswer(text);
          return { notEnabled: false, rows: results.data, total: results.total_count };
        },
      });
      if (res.value.notEnabled) throw new SparkpostSignalsNotEnabledError(this.client.redact(url.href));
      rows.push(...res.value.rows);
      const { total } = res.value;
      if (res.value.rows.length === 0 || total === undefined || rows.length >= total) return rows;
      if (page >= MAX_PAGES) {
        throw new Error(
          `${PROVIDER} Signals paging did not end after ${MAX_PAGES} pages (${rows.length} of ${total} rows)`,
        );
      }
    }
  }
}

/** The primary account's rows keep the plain name; a subaccount's (same domain, other data) get their own. */
function metricFor(sid: number | string | undefined): string {
  const n = sid === undefined ? 0 : Number(sid);
  return Number.isFinite(n) && n <= 0 ? "health_score" : `health_score:subaccount=${sid}`;
}

function toScore(raw: RawScore): number | null {
  if (raw === undefined || raw === null) return null;
  const n = typeof raw === "number" ? raw : raw.trim() === "" ? Number.NaN : Number(raw);
  return Number.isFinite(n) ? n : null;
}

/** D-lookbackDays … D-1 (UTC), oldest first. */
function dayRange(now: Date, lookbackDays: number): string[] {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Array.from({ length: lookbackDays }, (_, i) =>
    new Date(today - (lookbackDays - i) * 86_400_000).toISOString().slice(0, 10),
  );
}
