import { describe, expect, it } from "vitest";
import {
  judgePostmasterCompliance,
  judgePostmasterValue,
  type PostmasterMetric,
  pct,
  postmasterNoData,
} from "../../../../../shared/domain/reputation/postmaster-thresholds.ts";

describe("judgePostmasterValue", () => {
  it.each<[PostmasterMetric, number, string]>([
    // Google: keep under 0.1%, never reach 0.3%.
    ["spam_rate", 0, "good"],
    ["spam_rate", 0.00099, "good"],
    ["spam_rate", 0.001, "warning"],
    ["spam_rate", 0.00299, "warning"],
    ["spam_rate", 0.003, "bad"],
    ["auth_success_rate:dkim", 1, "good"],
    ["auth_success_rate:dkim", 0.98, "good"],
    ["auth_success_rate:spf", 0.9799, "warning"],
    ["auth_success_rate:dmarc", 0.9, "warning"],
    ["auth_success_rate:dmarc", 0.8999, "bad"],
    ["delivery_error_rate", 0.05, "good"],
    ["delivery_error_rate", 0.0501, "warning"],
    ["delivery_error_rate", 1, "warning"],
    ["delivery_error_rate:ip_in_rbls", 0.001, "good"],
    ["delivery_error_rate:ip_in_rbls", 0.0011, "warning"],
    ["delivery_error_rate:low_ip_reputation", 0.01, "warning"],
    ["delivery_error_rate:low_ip_reputation", 0.0101, "bad"],
    ["spam_rate", 1.2, "unknown"],
    ["spam_rate", -0.1, "unknown"],
    ["spam_rate", Number.NaN, "unknown"],
  ])("%s %d is %s", (metric, value, status) => {
    expect(judgePostmasterValue(metric, value).status).toBe(status);
  });

  it("writes one sentence with the percentage and the threshold", () => {
    expect(judgePostmasterValue("spam_rate", 0.0011).detail).toBe(
      "Gmail user-reported spam rate 0.11% is at or above Google's 0.1% guideline (limit 0.3%).",
    );
    expect(judgePostmasterValue("auth_success_rate:dkim", 0.97999).detail).toBe(
      "DKIM authentication success rate at Gmail 97.999% is below the 98% warning level (bad below 90%).",
    );
    expect(judgePostmasterValue("delivery_error_rate:bad_or_missing_ptr_record", 0.024).detail).toBe(
      "Gmail rejection rate for bad or missing ptr record 2.4% is above the 1% bad level.",
    );
    expect(judgePostmasterValue("delivery_error_rate", 0.004).detail).toBe(
      "Gmail delivery error rate (all errors) 0.4% is within the 5% warning level.",
    );
  });

  it("never reads a missing day as a value", () => {
    expect(postmasterNoData("spam_rate")).toEqual({
      status: "no_data",
      detail:
        "Google reports no Gmail user-reported spam rate for this day, as it does below its volume floor (about 50 Gmail recipients a day), so it is neither good nor bad.",
    });
  });
});

describe("judgePostmasterCompliance", () => {
  it.each([
    ["SPF", "COMPLIANT", "good"],
    ["SPF", "NEEDS_WORK", "bad"],
    ["SPF_AND_DKIM", "NEEDS_WORK", "bad"],
    ["DMARC_POLICY", "NEEDS_WORK", "bad"],
    ["DNS_RECORDS", "NEEDS_WORK", "bad"],
    ["ENCRYPTION", "NEEDS_WORK", "bad"],
    ["USER_REPORTED_SPAM_RATE", "NEEDS_WORK", "bad"],
    ["MESSAGE_FORMATTING", "NEEDS_WORK", "warning"],
    ["ONE_CLICK_UNSUBSCRIBE", "NEEDS_WORK", "warning"],
    ["HONOR_UNSUBSCRIBE", "NEEDS_WORK", "warning"],
    ["DKIM", "STATE_UNSPECIFIED", "unknown"],
    ["DKIM", "SOMETHING_NEW", "unknown"],
  ])("%s %s is %s", (requirement, state, status) => {
    expect(judgePostmasterCompliance(requirement, state).status).toBe(status);
  });

  it("names the unsubscribe verdict's reason", () => {
    expect(judgePostmasterCompliance("HONOR_UNSUBSCRIBE", "NEEDS_WORK", "NOT_HONORING").detail).toBe(
      "Gmail sender requirement HONOR_UNSUBSCRIBE NEEDS_WORK (NOT_HONORING), which counts as a warning for this requirement.",
    );
  });
});

describe("pct", () => {
  it("shows three significant digits, more only to stay on the right side of the threshold", () => {
    expect(pct(0.0042)).toBe("0.42%");
    expect(pct(0.99912)).toBe("99.9%");
    expect(pct(0)).toBe("0%");
    expect(pct(0.97999, 0.98)).toBe("97.999%");
    expect(pct(0.0030001, 0.003)).toBe("0.30001%");
    expect(pct(0.003, 0.003)).toBe("0.3%");
  });
});
