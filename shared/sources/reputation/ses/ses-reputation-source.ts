import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
  type MetricDataResult,
} from "@aws-sdk/client-cloudwatch";
import { GetAccountCommand, type GetAccountCommandOutput, type SESv2Client } from "@aws-sdk/client-sesv2";
import {
  type EspJudgement,
  judgeSesBounceRate,
  judgeSesComplaintRate,
  judgeSesEnforcementStatus,
  judgeSesSendingEnabled,
  sesRateNoData,
} from "../../../domain/reputation/esp-reputation-thresholds.ts";
import type { ReputationSignal } from "../../../domain/reputation/reputation-signal.ts";
import { PartialCollectError, type ReputationSource } from "../reputation-source.ts";

/*
 * Amazon SES's own view of the sender (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_GetAccount.html, https://docs.aws.amazon.com/ses/latest/dg/reputationdashboard-cloudwatch-alarm.html), for one region: sesv2 GetAccount (is the
 * account under review or paused?) and the AWS/SES Reputation.BounceRate / Reputation.ComplaintRate CloudWatch
 * metrics, account-wide and per configuration set. All values are current-state snapshots (day null): SES
 * computes its rates over a "representative volume" of recent mail, not over a calendar day.
 */

export interface SesReputationSourceOptions {
  /** The region both clients are configured for: SES reputation is per region. */
  readonly region: string;
  readonly sesv2: SESv2Client;
  readonly cloudwatch: CloudWatchClient;
  /**
   * Configuration sets whose own reputation metrics are read too (published only when the set's
   * ReputationOptions.ReputationMetricsEnabled is true).
   */
  readonly configurationSets?: readonly string[];
}

/** An SES or CloudWatch call that failed; `permission` names the IAM action when AWS refused the credentials. */
export class SesReputationError extends Error {
  override readonly name = "SesReputationError";
  constructor(
    message: string,
    readonly operation: "GetAccount" | "GetMetricData",
    readonly permission: string | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const NAMESPACE = "AWS/SES";
// SES publishes per-configuration-set reputation metrics under this dimension.
const CONFIGURATION_SET_DIMENSION = "ses:configuration-set";
const WINDOW_MS = 24 * 3_600_000;
const PERIOD_S = 3_600;
const MAX_PAGES = 20;

const RATES = [
  { metric: "bounce_rate", metricName: "Reputation.BounceRate", kind: "bounce", judge: judgeSesBounceRate },
  {
    metric: "complaint_rate",
    metricName: "Reputation.ComplaintRate",
    kind: "complaint",
    judge: judgeSesComplaintRate,
  },
] as const;

interface RateQuery {
  readonly id: string;
  readonly rate: (typeof RATES)[number];
  readonly configurationSet: string | undefined;
}

export class SesReputationSource implements ReputationSource {
  readonly id = "ses" as const;

  constructor(private readonly options: SesReputationSourceOptions) {}

  async collect(now: Date): Promise<ReputationSignal[]> {
    const { region } = this.options;
    const queries = this.rateQueries();
    // Both calls run; when one fails, what the other read is kept (a PROBATION status is evidence even when
    // CloudWatch refuses), and the failure is still the run's.
    const [accountCall, ratesCall] = await Promise.allSettled([
      this.getAccount(),
      this.getMetricData(queries, now),
    ]);
    const observedAt = now.toISOString();
    const accountSubject = `ses:${region}`;
    const signal = (subject: string, metric: string, value: number | string | null, j: EspJudgement) => ({
      source: "ses" as const,
      subject,
      subjectKind: "account" as const,
      metric,
      status: j.status,
      value,
      day: null,
      detail: j.detail,
      observedAt,
    });

    const signals: ReputationSignal[] = [];
    if (accountCall.status === "fulfilled") {
      const account = accountCall.value;
      const enforcement = judgeSesEnforcementStatus(account.EnforcementStatus, region);
      signals.push(
        signal(accountSubject, "enforcement_status", account.EnforcementStatus ?? null, {
          ...enforcement,
          detail:
            account.ProductionAccessEnabled === false
              ? enforcement.detail.replace(/\.$/, " (the account is still in the SES sandbox).")
              : enforcement.detail,
        }),
        signal(
          accountSubject,
          "sending_enabled",
          account.SendingEnabled === undefined ? null : String(account.SendingEnabled),
          judgeSesSendingEnabled(account.SendingEnabled, region),
        ),
      );
    }
    const results = ratesCall.status === "fulfilled" ? ratesCall.value : new Map();
    for (const q of ratesCall.status === "fulfilled" ? queries : []) {
      const subject =
        q.configurationSet === undefined
          ? accountSubject
          : `${accountSubject}:configuration-set/${q.configurationSet}`;
      const latest = latestPoint(results.get(q.id));
      if (latest === null) {
        signals.push(signal(subject, q.rate.metric, null, sesRateNoData(q.rate.kind, q.configurationSet)));
        continue;
      }
      const j = q.rate.judge(latest.value);
      signals.push(
        signal(subject, q.rate.metric, latest.value, {
          ...j,
          detail: j.detail.replace(/\.$/, ` (CloudWatch, hour from ${latest.at.toISOString()}).`),
        }),
      );
    }
    const fault =
      accountCall.status === "rejected"
        ? accountCall.reason
        : ratesCall.status === "rejected"
          ? ratesCall.reason
          : null;
    if (fault !== null) throw signals.length > 0 ? new PartialCollectError(fault, signals) : fault;
    return signals;
  }

  private rateQueries(): RateQuery[] {
    const sets: Array<string | undefined> = [undefined, ...(this.options.configurationSets ?? [])];
    // Ids must start with a lower-case letter and hold only letters, digits and underscores.
    return sets.flatMap((configurationSet, i) =>
      RATES.map((rate) => ({ id: `${rate.kind}_${i}`, rate, configurationSet })),
    );
  }

  private async getAccount(): Promise<GetAccountCommandOutput> {
    try {
      return await this.options.sesv2.send(new GetAccountCommand({}));
    } catch (e) {
      throw awsError(e, "SES", "GetAccount", "ses:GetAccount", this.options.region);
    }
  }

  /** Every query's datapoints over the last 24 hours, pages merged. */
  private async getMetricData(
    queries: readonly RateQuery[],
    now: Date,
  ): Promise<Map<string, { timestamps: Date[]; values: number[] }>> {
    const metricDataQueries: MetricDataQuery[] = queries.map((q) => ({
      Id: q.id,
      MetricStat: {
        Metric: {
          Namespace: NAMESPACE,
          MetricName: q.rate.metricName,
          Dimensions:
            q.configurationSet === undefined
              ? []
              : [{ Name: CONFIGURATION_SET_DIMENSION, Value: q.configurationSet }],
        },
        Period: PERIOD_S,
        Stat: "Average",
      },
      ReturnData: true,
    }));
    const out = new Map<string, { timestamps: Date[]; values: number[] }>();
    let nextToken: string | undefined;
    for (let page = 1; ; page++) {
      let results: MetricDataResult[];
      try {
        const res = await this.options.cloudwatch.send(
          new GetMetricDataCommand({
            MetricDataQueries: metricDataQueries,
            StartTime: new Date(now.getTime() - WINDOW_MS),
            EndTime: now,
            ScanBy: "TimestampDescending",
            ...(nextToken === undefined ? {} : { NextToken: nextToken }),
          }),
        );
        results = res.MetricDataResults ?? [];
        nextToken = res.NextToken;
      } catch (e) {
        throw awsError(e, "CloudWatch", "GetMetricData", "cloudwatch:GetMetricData", this.options.region);
      }
      for (const r of results) {
        if (r.Id === undefined) continue;
        if (r.StatusCode === "InternalError" || r.StatusCode === "Forbidden") {
          // Empty results here would read as "no bounces yet", which is exactly what must not be claimed.
          const why = (r.Messages ?? []).map((m) => `${m.Code}: ${m.Value}`).join("; ");
          throw new SesReputationError(
            `CloudWatch GetMetricData in ${this.options.region} answered ${r.StatusCode} for ${r.Label ?? r.Id}${why ? ` (${why})` : ""}`,
            "GetMetricData",
            r.StatusCode === "Forbidden" ? "cloudwatch:GetMetricData" : null,
          );
        }
        const acc = out.get(r.Id) ?? { timestamps: [], values: [] };
        acc.timestamps.push(...(r.Timestamps ?? []));
        acc.values.push(...(r.Values ?? []));
        out.set(r.Id, acc);
      }
      if (!nextToken) return out;
      if (page >= MAX_PAGES) {
        throw new SesReputationError(
          `CloudWatch GetMetricData in ${this.options.region} paged more than ${MAX_PAGES} times`,
          "GetMetricData",
          null,
        );
      }
    }
  }
}

/** The newest datapoint with a finite value; null when there is none. */
function latestPoint(
  series: { timestamps: readonly Date[]; values: readonly number[] } | undefined,
): { at: Date; value: number } | null {
  if (series === undefined) return null;
  let best: { at: Date; value: number } | null = null;
  for (const [i, at] of series.timestamps.entries()) {
    const value = series.values[i];
    if (value === undefined || !Number.isFinite(value)) continue;
    if (best === null || at.getTime() > best.at.getTime()) best = { at, value };
  }
  return best;
}

/** An SDK error as a SesReputationError; a refusal names the IAM action to grant. */
function awsError(
  e: unknown,
  service: string,
  operation: "GetAccount" | "GetMetricData",
  permission: string,
  region: string,
): SesReputationError {
  const name = e instanceof Error ? e.name : "Error";
  const message = e instanceof Error ? e.message : String(e);
  const status = httpStatusOf(e);
  const refused =
    status === 403 ||
    name === "AccessDeniedException" ||
    name === "AccessDenied" ||
    name === "UnauthorizedOperation";
  if (refused) {
    return new SesReputationError(
      `${service} ${operation} in ${region} was refused (${name}: ${message}): the credentials need the IAM permission ${permission}`,
      operation,
      permission,
      { cause: e },
    );
  }
  return new SesReputationError(
    `${service} ${operation} in ${region} failed (${name}${status === null ? "" : `, HTTP ${status}`}: ${message})`,
    operation,
    null,
    { cause: e },
  );
}

function httpStatusOf(e: unknown): number | null {
  if (typeof e !== "object" || e === null) return null;
  const meta: unknown = Reflect.get(e, "$metadata");
  if (typeof meta !== "object" || meta === null) return null;
  const status: unknown = Reflect.get(meta, "httpStatusCode");
  return typeof status === "number" ? status : null;
}
