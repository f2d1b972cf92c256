import * as z from "zod";
import {
  type EspJudgement,
  judgeSendgridReputation,
  judgeSeq,
  type SeqMetric,
  type SeqNoDataReason,
  seqNoData,
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
  keepingSignals,
  lookbackDaysOption,
  type ReputationSource,
} from "../reputation-source.ts";

/*
 * SendGrid's own view of the sender (OpenAPI: https://github.com/twilio/sendgrid-oai, tsg_user_v3.json and tsg_seq_v3.json): the account's sender reputation
 * (GET /v3/user/account, a 0–100 snapshot) and, per day, the SendGrid Engagement Quality score and its
 * bounce_classification component (GET /v3/engagementquality/scores), which is the share of bounces caused by
 * reputation or spam-like content: the one SendGrid number that separates blocks from invalid addresses.
 */

export type SendgridRegion = "global" | "eu";

export const SENDGRID_BASE_URLS: Readonly<Record<SendgridRegion, string>> = {
  global: "https://api.sendgrid.com",
  eu: "https://api.eu.sendgrid.com",
};

export type SendgridHttpOptions = Pick<
  ProviderHttpOptions,
  "fetch" | "sleep" | "random" | "timeoutMs" | "maxAttempts"
>;

export interface SendgridReputationSourceOptions extends SendgridHttpOptions {
  /** A key with read access to the account (user.account.read) and, for SEQ, to Engagement Quality. */
  readonly apiKey: string;
  /** Which SendGrid region the account lives in: EU accounts are served by api.eu.sendgrid.com only. */
  readonly region: SendgridRegion;
  /** Overrides the region's base URL (tests: a local server). */
  readonly baseUrl?: string;
  /** Read the Engagement Quality scores too (default true). */
  readonly seq?: boolean;
  /** SEQ days read, ending yesterday (UTC) (default 7; SendGrid keeps 90). */
  readonly lookbackDays?: number;
}

const PROVIDER = "SendGrid";
const SUBJECT = "sendgrid";
const DEFAULT_LOOKBACK_DAYS = 7;
const MAX_LOOKBACK_DAYS = 90; // SendGrid refuses a `from` more than 90 days back

const AccountSchema = z.looseObject({ type: z.string().optional(), reputation: z.number() });
const SeqScoreSchema = z.looseObject({
  user_id: z.union([z.string(), z.number()]).optional(),
  date: z.iso.date(),
  // Both are left out on days the account is not eligible for a score.
  score: z.number().optional(),
  metrics: z.looseObject({ bounce_classification: z.number().optional() }).optional(),
});
// Each row is read on its own: one the schema refuses is a bad row, the others still count.
const SeqScoresSchema = z.looseObject({ result: z.array(z.unknown()) });
type SeqScore = z.infer<typeof SeqScoreSchema>;

const readAccount = jsonBody(AccountSchema);
const readSeqScores = jsonBody(SeqScoresSchema);

type SeqAnswer =
  | { readonly pending: true }
  | { readonly pending: false; readonly result: readonly unknown[] };

export class SendgridReputationSource implements ReputationSource {
  readonly id = "sendgrid" as const;
  private readonly client: ProviderHttpClient;
  private readonly baseUrl: string;
  private readonly lookbackDays: number;

  constructor(private readonly options: SendgridReputationSourceOptions) {
    this.lookbackDays = lookbackDaysOption(options.lookbackDays, DEFAULT_LOOKBACK_DAYS, MAX_LOOKBACK_DAYS);
    this.baseUrl = options.baseUrl ?? SENDGRID_BASE_URLS[options.region];
    const { fetch, sleep, random, timeoutMs, maxAttempts } = options;
    this.client = new ProviderHttpClient({
      fetch,
      sleep,
      random,
      timeoutMs,
      maxAttempts,
      provider: PROVIDER,
      secrets: [options.apiKey],
      authHint:
        `check the API key and its region (${options.region}); it needs the user.account.read scope` +
        (options.seq === false ? "" : " and read access to Engagement Quality (or set seq: false)"),
    });
  }

  async collect(now: Date, rows: BadRowSink = IGNORE_BAD_ROWS): Promise<ReputationSignal[]> {
    const observedAt = now.toISOString();
    const signal = (metric: string, value: number | null, day: string | null, j: EspJudgement) => ({
      source: "sendgrid" as const,
      subject: SUBJECT,
      subjectKind: "account" as const,
      metric,
      status: j.status,
      value,
      day,
      detail: j.detail,
      observedAt,
    });
    const headers = { Authorization: `Bearer ${this.options.apiKey}` };

    const account = await this.client.request({
      url: new URL("/v3/user/account", this.baseUrl),
      headers,
      parse: readAccount,
    });
    const reputation = account.value.reputation;
    const signals: ReputationSignal[] = [
      signal("reputation", reputation, null, judgeSendgridReputation(reputation)),
    ];
    if (this.options.seq === false) return signals;

    const days = dayRange(now, this.lookbackDays);
    const url = new URL("/v3/engagementquality/scores", this.baseUrl);
    url.searchParams.set("from", days[0] as string);
    url.searchParams.set("to", days.at(-1) as string);
    // The account reputation is already read: a failing SEQ request must not take it down with it.
    const seq = await keepingSignals(signals, () =>
      this.client.request<SeqAnswer>({
        url,
        headers,
        // 202: accepted, scores are computed asynchronously and not there yet (SendGrid OpenAPI).
        acceptStatuses: [202],
        parse: (text, status) =>
          status === 202 ? { pending: true } : { pending: false, result: readSeqScores(text).result },
      }),
    );
    const byDay = new Map<string, SeqScore>();
    if (!seq.value.pending) {
      for (const [i, raw] of seq.value.result.entries()) {
        // SendGrid's schema requires only user_id (tsg_seq_v3.json): a row without a date cannot be placed.
        const row = SeqScoreSchema.safeParse(raw);
        if (row.success) byDay.set(row.data.date, row.data);
        else rows.badRow({ where: `engagementquality/scores result[${i}]`, reason: issuesText(row.error) });
      }
    }

    for (const day of days) {
      const row = byDay.get(day);
      const absent: SeqNoDataReason = seq.value.pending ? "pending" : "absent";
      const values: ReadonlyArray<[SeqMetric, number | undefined]> = [
        ["seq_score", row?.score],
        ["seq_bounce_classification", row?.metrics?.bounce_classification],
      ];
      for (const [metric, value] of values) {
        if (value !== undefined) signals.push(signal(metric, value, day, judgeSeq(metric, value)));
        else
          signals.push(
            signal(metric, null, day, seqNoData(metric, row === undefined ? absent : "ineligible")),
          );
      }
    }
    return signals;
  }
}

/** D-lookbackDays … D-1 (UTC), oldest first: SendGrid computes a day's score after it ends. */
function dayRange(now: Date, lookbackDays: number): string[] {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Array.from({ length: lookbackDays }, (_, i) =>
    new Date(today - (lookbackDays - i) * 86_400_000).toISOString().slice(0, 10),
  );
}
