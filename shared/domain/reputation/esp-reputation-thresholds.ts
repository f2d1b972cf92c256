import type { SignalStatus } from "./reputation-signal.ts";

/*
 * How bounce-radar reads the ESPs' own reputation values (SES: https://docs.aws.amazon.com/ses/latest/dg/reputationdashboardmessages.html; SendGrid: https://github.com/twilio/sendgrid-oai; SparkPost: https://www.sparkpost.com/docs/reporting/signals-analytics/). SES publishes its
 * levels; SendGrid and SparkPost publish little, so those cuts are our judgement and the comments say so.
 * Pure: value in, status and one sentence (with the number and the level it was judged against) out.
 */

export interface EspJudgement {
  readonly status: SignalStatus;
  readonly detail: string;
}

export const ESP_THRESHOLDS = {
  // AWS recommends staying at or under 2%; at 5% the account goes under review (pause possible at 10%).
  // Review is what SignalStatus calls bad ("SES under review"), so: < 2% good, 2–5% warning, ≥ 5% bad.
  sesBounceRate: { warning: 0.02, bad: 0.05 },
  // AWS: < 0.1% healthy, ≥ 0.1% review, ≥ 0.5% may pause. Unlike bounces AWS gives no recommended level below
  // review, and 0.1% is a handful of complaints on small volume, so review warns and the pause level is bad.
  sesComplaintRate: { warning: 0.001, bad: 0.005 },
  // Judgement: SendGrid calls its thresholds "secret sauce". A healthy account sits at or near 100 and the
  // score falls with bounces, blocks and spam reports; below 80 is a real loss, not noise.
  sendgridReputation: { warning: 95, bad: 80 },
  // SEQ scores run 1–5, higher better (SendGrid OpenAPI). Judgement: 1–2 is poor, 3 middling, 4–5 good.
  seqScore: { warning: 3, good: 4 },
  // SparkPost: "a good score is anything above 80". Judgement: bad below 60 (SparkPost's own UI paints
  // below 55 as "danger"; we flag a little earlier).
  sparkpostHealthScore: { warning: 0.8, bad: 0.6 },
} as const;

/** SES GetAccount EnforcementStatus (HEALTHY, PROBATION, SHUTDOWN). */
export function judgeSesEnforcementStatus(status: string | undefined, region: string): EspJudgement {
  switch (status) {
    case "HEALTHY":
      return { status: "good", detail: `SES account status in ${region} is HEALTHY: no reputation issues.` };
    case "PROBATION":
      return {
        status: "bad",
        detail: `SES account in ${region} is under review (PROBATION): AWS found a reputation issue and can pause sending if it is not fixed.`,
      };
    case "SHUTDOWN":
      return {
        status: "bad",
        detail: `SES sending is paused in ${region} (SHUTDOWN): AWS stopped the account over its reputation.`,
      };
    default:
      return {
        status: "unknown",
        detail: `SES reported enforcement status ${status === undefined ? "(none)" : JSON.stringify(status)} in ${region}, which is none of HEALTHY, PROBATION or SHUTDOWN.`,
      };
  }
}

/** SES GetAccount SendingEnabled. */
export function judgeSesSendingEnabled(enabled: boolean | undefined, region: string): EspJudgement {
  if (enabled === true) return { status: "good", detail: `SES sending is enabled in ${region}.` };
  if (enabled === false) {
    return {
      status: "bad",
      // Either AWS paused it or someone did (UpdateAccountSendingEnabled): both stop all mail.
      detail: `SES sending is disabled in ${region} (paused by AWS or by the account itself), so no mail leaves it.`,
    };
  }
  return { status: "unknown", detail: `SES did not say whether sending is enabled in ${region}.` };
}

/** CloudWatch AWS/SES Reputation.BounceRate, a fraction in [0, 1]. */
export function judgeSesBounceRate(rate: number): EspJudgement {
  const { warning, bad } = ESP_THRESHOLDS.sesBounceRate;
  if (!isFraction(rate)) return notAFraction("SES bounce rate", rate);
  if (rate >= bad) {
    return {
      status: "bad",
      detail: `SES bounce rate ${percent(rate, bad)} is at or above ${percent(bad)}, where AWS puts the account under review (pause possible at 10%).`,
    };
  }
  if (rate >= warning) {
    return {
      status: "warning",
      detail: `SES bounce rate ${percent(rate, bad)} is at or above the ${percent(warning)} AWS recommends staying under (review at ${percent(bad)}).`,
    };
  }
  return {
    status: "good",
    detail: `SES bounce rate ${percent(rate, warning)} is below the ${percent(warning)} AWS recommends.`,
  };
}

/** CloudWatch AWS/SES Reputation.ComplaintRate, a fraction in [0, 1]. */
export function judgeSesComplaintRate(rate: number): EspJudgement {
  const { warning, bad } = ESP_THRESHOLDS.sesComplaintRate;
  if (!isFraction(rate)) return notAFraction("SES complaint rate", rate);
  if (rate >= bad) {
    return {
      status: "bad",
      detail: `SES complaint rate ${percent(rate, bad)} is at or above ${percent(bad)}, where AWS may pause sending.`,
    };
  }
  if (rate >= warning) {
    return {
      status: "warning",
      detail: `SES complaint rate ${percent(rate, bad)} is at or above ${percent(warning)}, where AWS puts the account under review (pause possible at ${percent(bad)}).`,
    };
  }
  return {
    status: "good",
    detail: `SES complaint rate ${percent(rate, warning)} is below the ${percent(warning)} AWS review level.`,
  };
}

/** A CloudWatch reputation metric with no datapoint in the window. */
export function sesRateNoData(kind: "bounce" | "complaint", configurationSet?: string): EspJudgement {
  const where =
    configurationSet === undefined
      ? ""
      : ` (for configuration set ${configurationSet}, also when its ReputationMetricsEnabled is off)`;
  return {
    status: "no_data",
    detail: `CloudWatch has no value until the account's first ${kind}${where}, and it holds none for the last 24 hours.`,
  };
}

/** SendGrid GET /v3/user/account `reputation`, 0–100. */
export function judgeSendgridReputation(reputation: number): EspJudgement {
  const { warning, bad } = ESP_THRESHOLDS.sendgridReputation;
  if (!Number.isFinite(reputation) || reputation < 0 || reputation > 100) {
    return {
      status: "unknown",
      detail: `SendGrid reported sender reputation ${reputation}, which is not a score in [0, 100].`,
    };
  }
  if (reputation < bad) {
    return {
      status: "bad",
      detail: `SendGrid sender reputation ${reputation} is below ${bad} (our level: SendGrid publishes none).`,
    };
  }
  if (reputation < warning) {
    return {
      status: "warning",
      detail: `SendGrid sender reputation ${reputation} is below ${warning} (our warning level; bad below ${bad}).`,
    };
  }
  return {
    status: "good",
    detail: `SendGrid sender reputation ${reputation} is at or above ${warning} (our warning level).`,
  };
}

export type SeqMetric = "seq_score" | "seq_bounce_classification";

const SEQ_LABEL: Readonly<Record<SeqMetric, string>> = {
  seq_score: "SendGrid Engagement Quality score",
  seq_bounce_classification: "SEQ bounce classification (reputation or spam-like-content bounces)",
};

const SEQ_BAD_MEANS: Readonly<Record<SeqMetric, string>> = {
  seq_score: "poor engagement quality",
  seq_bounce_classification: "mailbox providers are rejecting the mail for reputation or content",
};

/** A SendGrid Engagement Quality value, 1–5 (higher is better). */
export function judgeSeq(metric: SeqMetric, value: number): EspJudgement {
  const { warning, good } = ESP_THRESHOLDS.seqScore;
  const label = SEQ_LABEL[metric];
  if (!Number.isFinite(value) || value < 1 || value > 5) {
    return {
      status: "unknown",
      detail: `${label} was reported as ${value}, which is not a score in [1, 5].`,
    };
  }
  if (value < warning) {
    return {
      status: "bad",
      detail: `${label} ${value} of 5 is at or below 2: ${SEQ_BAD_MEANS[metric]}.`,
    };
  }
  if (value < good) {
    return { status: "warning", detail: `${label} ${value} of 5 is below ${good} (bad at 2 or lower).` };
  }
  return { status: "good", detail: `${label} ${value} of 5 is at or above ${good}.` };
}

/** Why an SEQ day has no value: not computed yet (HTTP 202), left out of the answer, or not eligible. */
export type SeqNoDataReason = "pending" | "absent" | "ineligible";

export function seqNoData(metric: SeqMetric, why: SeqNoDataReason): EspJudgement {
  const label = SEQ_LABEL[metric];
  const detail = {
    pending: `SendGrid has not computed the ${label} for this range yet (HTTP 202).`,
    absent: `SendGrid's answer has no ${label} for this day.`,
    ineligible: `SendGrid gives no ${label} for this day: it needs open tracking and at least 1,000 messages in the previous 30 days.`,
  }[why];
  return { status: "no_data", detail };
}

/** A SparkPost Signals health score as the API gives it, a fraction in [0, 1] (the UI shows it × 100). */
export function judgeSparkpostHealthScore(score: number): EspJudgement {
  const { warning, bad } = ESP_THRESHOLDS.sparkpostHealthScore;
  if (!isFraction(score)) {
    return {
      status: "unknown",
      detail: `SparkPost reported health score ${score}, which is not a fraction in [0, 1].`,
    };
  }
  const [good100, bad100] = [Math.round(warning * 100), Math.round(bad * 100)];
  if (score < bad) {
    return {
      status: "bad",
      detail: `SparkPost health score ${outOf100(score, bad)} is below ${bad100} (our bad level; SparkPost calls above ${good100} good).`,
    };
  }
  if (score < warning) {
    return {
      status: "warning",
      detail: `SparkPost health score ${outOf100(score, warning)} is below ${good100}, SparkPost's good level (bad below ${bad100}).`,
    };
  }
  return {
    status: "good",
    detail: `SparkPost health score ${outOf100(score, warning)} is at or above ${good100}, SparkPost's good level.`,
  };
}

/** A day SparkPost gives no health score for (below its daily volume floor, or no mail). */
export function sparkpostNoData(): EspJudgement {
  return {
    status: "no_data",
    detail:
      "SparkPost has no health score for this day (it needs a minimum daily volume), so it is neither good nor bad.",
  };
}

function isFraction(v: number): boolean {
  return Number.isFinite(v) && v >= 0 && v <= 1;
}

function notAFraction(label: string, v: number): EspJudgement {
  return { status: "unknown", detail: `${label} was reported as ${v}, which is not a rate in [0, 1].` };
}

/** 0.724 → "72.4": one decimal as SparkPost's UI shows it, more when rounding would cross `threshold`. */
function outOf100(score: number, threshold: number): string {
  const side = Math.sign(score - threshold);
  for (let decimals = 1; decimals < 12; decimals++) {
    const shown = Number((score * 100).toFixed(decimals));
    if (Math.sign(shown - Math.round(threshold * 100)) === side) return String(shown);
  }
  return String(score * 100);
}

/**
 * A rate as a percentage with 3 significant digits, more when needed so the shown number sits on the same
 * side of `threshold` as the value (0.04999 is "4.999%", not "5%", against a 5% level).
 */
export function percent(value: number, threshold?: number): string {
  const p = value * 100;
  const side = threshold === undefined ? 0 : Math.sign(value - threshold);
  for (let digits = 3; digits < 15; digits++) {
    const shown = p === 0 ? 0 : Number(p.toPrecision(digits));
    if (threshold === undefined || Math.sign(shown - Number((threshold * 100).toPrecision(15))) === side) {
      return `${shown}%`;
    }
  }
  return `${p}%`;
}
