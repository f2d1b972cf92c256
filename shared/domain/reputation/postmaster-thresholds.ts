import type { SignalStatus } from "./reputation-signal.ts";

/*
 * How bounce-radar reads Google Postmaster Tools v2 values (docs/sources.md#google-postmaster-tools; thresholds: https://support.google.com/mail/answer/81126). Only the spam
 * rate limits are Google's own; the others are our judgement and say so in the comments. Pure.
 */

export const POSTMASTER_AUTH_TYPES = ["spf", "dkim", "dmarc"] as const;
export type PostmasterAuthType = (typeof POSTMASTER_AUTH_TYPES)[number];

/** The `reject` reasons that point at the sender (MetricDefinition's error_reason values); the others (bad_attachment, other…) are not read. */
export const POSTMASTER_REJECT_REASONS = [
  "low_ip_reputation",
  "low_domain_reputation",
  "ip_in_rbls",
  "bad_or_missing_ptr_record",
  "spammy_content",
] as const;
export type PostmasterRejectReason = (typeof POSTMASTER_REJECT_REASONS)[number];

export type PostmasterMetric =
  | "spam_rate"
  | `auth_success_rate:${PostmasterAuthType}`
  | "delivery_error_rate"
  | `delivery_error_rate:${PostmasterRejectReason}`;

export const POSTMASTER_THRESHOLDS = {
  // Google's sender guidelines: keep below 0.1%, never reach 0.3% (https://support.google.com/mail/answer/81126).
  spamRate: { warning: 0.001, bad: 0.003 },
  // Judgement: a DKIM ratio under 0.98 on a signing stream as a regression; under 0.9 a large
  // share of the mail fails authentication, which Gmail rejects outright (5.7.26 / 5.7.27).
  authSuccessRate: { warning: 0.98, bad: 0.9 },
  // Judgement: any of these reasons is sender-side, so even 0.1% of traffic is worth a look and 1%
  // is a real rejection wave rather than noise.
  rejectReasonRate: { warning: 0.001, bad: 0.01 },
  // Judgement: the overall rate mixes temp_fail deferrals with rejections, so it only warns; the reasons decide.
  deliveryErrorRate: { warning: 0.05 },
} as const;

export interface PostmasterJudgement {
  readonly status: SignalStatus;
  /** One sentence with the value as a percentage and the threshold it was judged against. */
  readonly detail: string;
}

export function postmasterMetricLabel(metric: PostmasterMetric): string {
  if (metric === "spam_rate") return "Gmail user-reported spam rate";
  if (metric === "delivery_error_rate") return "Gmail delivery error rate (all errors)";
  const [kind, sub] = metric.split(":") as [string, string];
  if (kind === "auth_success_rate") return `${sub.toUpperCase()} authentication success rate at Gmail`;
  return `Gmail rejection rate for ${sub.replaceAll("_", " ")}`;
}

/** Judges one daily value; a value that is not a rate in [0, 1] is `unknown`. */
export function judgePostmasterValue(metric: PostmasterMetric, value: number): PostmasterJudgement {
  const label = postmasterMetricLabel(metric);
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    return { status: "unknown", detail: `${label} was reported as ${value}, which is not a rate in [0, 1].` };
  }
  if (metric === "spam_rate") {
    const { warning, bad } = POSTMASTER_THRESHOLDS.spamRate;
    if (value >= bad) {
      return {
        status: "bad",
        detail: `${label} ${pct(value, bad)} is at or above Google's ${pct(bad)} limit.`,
      };
    }
    if (value >= warning) {
      return {
        status: "warning",
        detail: `${label} ${pct(value, warning)} is at or above Google's ${pct(warning)} guideline (limit ${pct(bad)}).`,
      };
    }
    return {
      status: "good",
      detail: `${label} ${pct(value, warning)} is below Google's ${pct(warning)} guideline.`,
    };
  }
  if (metric === "delivery_error_rate") {
    const { warning } = POSTMASTER_THRESHOLDS.deliveryErrorRate;
    return value > warning
      ? {
          status: "warning",
          detail: `${label} ${pct(value, warning)} is above the ${pct(warning)} warning level.`,
        }
      : {
          status: "good",
          detail: `${label} ${pct(value, warning)} is within the ${pct(warning)} warning level.`,
        };
  }
  if (metric.startsWith("auth_success_rate:")) {
    const { warning, bad } = POSTMASTER_THRESHOLDS.authSuccessRate;
    if (value < bad) {
      return { status: "bad", detail: `${label} ${pct(value, bad)} is below the ${pct(bad)} bad level.` };
    }
    if (value < warning) {
      return {
        status: "warning",
        detail: `${label} ${pct(value, warning)} is below the ${pct(warning)} warning level (bad below ${pct(bad)}).`,
      };
    }
    return {
      status: "good",
      detail: `${label} ${pct(value, warning)} is at or above the ${pct(warning)} warning level.`,
    };
  }
  const { warning, bad } = POSTMASTER_THRESHOLDS.rejectReasonRate;
  if (value > bad) {
    return { status: "bad", detail: `${label} ${pct(value, bad)} is above the ${pct(bad)} bad level.` };
  }
  if (value > warning) {
    return {
      status: "warning",
      detail: `${label} ${pct(value, warning)} is above the ${pct(warning)} warning level (bad above ${pct(bad)}).`,
    };
  }
  return {
    status: "good",
    detail: `${label} ${pct(value, warning)} is within the ${pct(warning)} warning level.`,
  };
}

/** A day Google left out: it publishes nothing below its volume floor (statistics only for domains sending to at least 50 users a day: https://developers.google.com/workspace/gmail/postmaster/guides/retrieve-metrics), which says nothing either way. */
export function postmasterNoData(metric: PostmasterMetric): PostmasterJudgement {
  return {
    status: "no_data",
    detail: `Google reports no ${postmasterMetricLabel(metric)} for this day, as it does below its volume floor (about 50 Gmail recipients a day), so it is neither good nor bad.`,
  };
}

// NEEDS_WORK on these is a sender-side fault Gmail acts on (authentication, DNS, TLS, spam rate); on the
// others (formatting, unsubscribe) it is a warning.
const BAD_WHEN_NEEDS_WORK: ReadonlySet<string> = new Set([
  "SPF",
  "DKIM",
  "SPF_AND_DKIM",
  "DMARC_POLICY",
  "DMARC_ALIGNMENT",
  "DNS_RECORDS",
  "ENCRYPTION",
  "USER_REPORTED_SPAM_RATE",
]);

/**
 * Judges one getComplianceStatus requirement; `reason` is an unsubscribe verdict's reason, `scope` says whose
 * data it is ("for mail.example.com itself (Google's subdomain data)").
 */
export function judgePostmasterCompliance(
  requirement: string,
  state: string,
  reason?: string,
  scope?: string,
): PostmasterJudgement {
  const because = reason ? ` (${reason})` : "";
  const name = `Gmail sender requirement ${requirement}${scope ? ` ${scope}` : ""}`;
  if (state === "COMPLIANT") {
    return { status: "good", detail: `${name} is COMPLIANT${because}.` };
  }
  if (state === "NEEDS_WORK") {
    const bad = BAD_WHEN_NEEDS_WORK.has(requirement);
    return {
      status: bad ? "bad" : "warning",
      detail: `${name} NEEDS_WORK${because}, which counts as ${bad ? "bad" : "a warning"} for this requirement.`,
    };
  }
  return {
    status: "unknown",
    detail: `${name} has status ${state || "STATE_UNSPECIFIED"}${because}, which says neither compliant nor needs work.`,
  };
}

/**
 * A rate as a percentage with 3 significant digits, more when needed so the shown number sits on the
 * same side of `threshold` as the value (0.97999 is "97.999%", not "98%", against a 98% level).
 */
export function pct(value: number, threshold?: number): string {
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
