import { describe, expect, it } from "vitest";
import { formatAlert, SMS_MAX, SUBJECT_MAX, truncate } from "../../../shared/notify/alert-message.ts";
import { CTX, recipientIncident, senderIncident } from "./incident-fixture.ts";

/** A lone surrogate half means a pair was cut. */
const BROKEN_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe("formatAlert: new and escalated", () => {
  it("names kind, verdict and side in subject and SMS for a recipient filter", () => {
    const m = formatAlert("new", recipientIncident(), CTX);
    expect(m.subject).toMatch(/^ALERT: Recipient-side: Proofpoint policy change/);
    expect(m.subject).toContain("don't blame the ESP");
    expect(m.sms).toMatch(/^ALERT: Recipient-side: Proofpoint/);
    expect(m.sms).toContain("acme.com");
    expect(m.attributes).toEqual({ verdict: "recipient_filter", side: "recipient", severity: "critical" });
  });

  it("says WORSE for an escalation and names the sender side", () => {
    const m = formatAlert("escalated", senderIncident(), CTX);
    expect(m.subject).toMatch(/^WORSE: Sender-side: sending IP 198\.51\.100\.7 on a blocklist/);
    expect(m.sms).toMatch(/^WORSE: Sender-side/);
    expect(m.email).toMatch(/^WORSE: incident got worse inc-b81d44e0c9a5/);
    expect(m.attributes.severity).toBe("critical");
  });

  it("grades severity: non-alerting list decay is a warning", () => {
    const m = formatAlert(
      "new",
      recipientIncident({ verdict: "list_decay", side: "neutral", alert: false }),
      CTX,
    );
    expect(m.subject).toMatch(/^ALERT: List decay/);
    expect(m.attributes.severity).toBe("warning");
  });

  it("builds the email body with scope, rates, evidence, samples, actions, suppression and the report location", () => {
    const domains = Array.from({ length: 13 }, (_, i) => `org${i + 1}.example`);
    const m = formatAlert(
      "new",
      recipientIncident({ scope: { domains, gateways: ["proofpoint", "mimecast"], sendingIps: [] } }),
      CTX,
    );
    expect(m.email).toContain("Domains (13): org1.example, org2.example");
    expect(m.email).toContain("org10.example and 3 more");
    expect(m.email).not.toContain("org11.example");
    expect(m.email).toContain("Gateways: Proofpoint, Mimecast");
    expect(m.email).toContain("Window: 13.0% (520 of 4,000 attempts)");
    expect(m.email).toContain("Baseline: 0.40% (120 of 30,000 attempts)");
    expect(m.email).toContain("breadth: 1 organisation behind 1 gateway");
    expect(m.email).toContain("j***@acme.com [policy_block]: 550 5.7.1 Message rejected by policy");
    expect(m.email).toContain("1. Do not migrate ESPs");
    expect(m.email).toContain("3 addresses look wrongly suppressed");
    expect(m.email).toContain(CTX.reportUri);
    expect(m.email).toContain(`Console: ${CTX.consoleUrl}`);
  });

  it("lists at most five samples", () => {
    const samples = Array.from({ length: 8 }, (_, i) => ({
      recipient: "x***@acme.com",
      text: `550 sample number ${i + 1}`,
      category: "policy_block" as const,
    }));
    const m = formatAlert("new", recipientIncident({ samples }), CTX);
    expect(m.email).toContain("sample number 5");
    expect(m.email).not.toContain("sample number 6");
    expect(m.email).toContain("(3 more in the report)");
  });

  it("masks an unmasked address planted in a sample, evidence and actions, and redacts secrets", () => {
    const m = formatAlert(
      "new",
      recipientIncident({
        samples: [
          {
            recipient: "john.doe@acme.com",
            text: "550 5.1.1 <jane.roe@acme.com>: rejected\r\nX-Injected: AKIAIOSFODNN7EXAMPLE password=hunter2",
            category: "policy_block",
          },
        ],
        evidence: [{ signal: "rejection_text", detail: "first seen for ceo@acme.com" }],
        actions: ["Mail postmaster@acme.com with token: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY1"],
      }),
      CTX,
    );
    for (const leaked of [
      "john.doe@",
      "jane.roe@",
      "ceo@",
      "postmaster@",
      "AKIAIOSFODNN7EXAMPLE",
      "hunter2",
      "wJalrXUtnFEMI",
    ]) {
      expect(m.email).not.toContain(leaked);
    }
    expect(m.email).toContain(
      "j***@acme.com [policy_block]: 550 5.1.1 <j***@acme.com>: rejected X-Injected:",
    );
    expect(m.email).toContain("c***@acme.com");
    expect(m.email).not.toMatch(/\r/);
  });

  it("neutralises escape codes, C1 controls and bidi overrides in every field of subject, email and SMS", () => {
    const hostile = "\u001b[31m\u001b]0;title\u0007\u009b2J\u202eevil\u2066x\u2067y\u2068z\u2069";
    const m = formatAlert(
      "new",
      recipientIncident({
        scope: { domains: [`acme${hostile}.com`], gateways: ["proofpoint"], sendingIps: [hostile] },
        samples: [{ recipient: "j***@acme.com", text: `550 5.1.1 ${hostile}`, category: "policy_block" }],
        evidence: [{ signal: "rejection_text", detail: hostile }],
        actions: [hostile],
      }),
      CTX,
    );
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point
    const live = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
    for (const text of [m.subject, m.email, m.sms]) expect(text).not.toMatch(live);
    // Shown as visible escapes (shared/domain/text/safe-text.ts), so the reader sees something was there.
    expect(m.email).toContain("550 5.1.1 \\x1b[31m\\x1b]0;title\\x07\\x9b2J\\u202eevil\\u2066x");
    expect(m.sms).toContain("acme\\x1b[31m");
  });

  it("keeps subject and SMS within their hard limits with very long domains and many gateways", () => {
    const long = `${"very-long-subdomain-label-".repeat(8)}example.com`;
    const gateways = Array.from({ length: 40 }, (_, i) => `gateway-${i}-${"x".repeat(30)}`);
    const incident = recipientIncident({
      scope: {
        domains: [long, ...Array.from({ length: 500 }, (_, i) => `d${i}.${long}`)],
        gateways,
        sendingIps: [],
      },
    });
    for (const kind of ["new", "escalated", "resolved"] as const) {
      const m = formatAlert(kind, incident, CTX);
      expect(m.subject.length).toBeLessThanOrEqual(SUBJECT_MAX);
      expect(m.subject.length).toBeLessThanOrEqual(100);
      expect(m.sms.length).toBeLessThanOrEqual(SMS_MAX);
      expect(m.subject).toMatch(/^[\x20-\x7e]+$/);
      expect(m.subject).not.toMatch(/\n/);
      expect(m.sms).not.toMatch(/\n/);
    }
  });

  it("never splits a surrogate pair when truncating astral-plane text", () => {
    // An unknown gateway id is printed as-is, so emoji reach the headline.
    const gateways = ["🦄".repeat(80), "📮".repeat(80), "🛡️".repeat(40)];
    const m = formatAlert(
      "new",
      recipientIncident({ scope: { domains: ["😀.example"], gateways, sendingIps: [] } }),
      CTX,
    );
    expect(m.sms.length).toBeLessThanOrEqual(SMS_MAX);
    expect(m.sms).not.toMatch(BROKEN_SURROGATE);
    expect(m.sms.endsWith("…")).toBe(true);
    expect(m.subject.length).toBeLessThanOrEqual(SUBJECT_MAX);
    expect(m.subject).not.toMatch(BROKEN_SURROGATE);
    for (let max = 0; max < 12; max++) {
      const t = truncate("a😀😀😀😀😀😀", max);
      expect(t.length).toBeLessThanOrEqual(max);
      expect(t).not.toMatch(BROKEN_SURROGATE);
    }
  });
});

describe("formatAlert: resolved", () => {
  it("is a short all-clear naming the incident and when it started", () => {
    const m = formatAlert("resolved", recipientIncident(), CTX);
    expect(m.subject).toMatch(/^RESOLVED: Recipient-side: Proofpoint policy change/);
    expect(m.sms).toMatch(/^RESOLVED: /);
    expect(m.sms).toContain("started 2025-06-12 06:42 UTC");
    expect(m.email).toMatch(/^RESOLVED: all clear for incident inc-3f9a1c07b2e4/);
    expect(m.email).toContain("It started 2025-06-12 06:42 UTC and is no longer detected.");
    expect(m.email).toContain(CTX.reportUri);
    expect(m.email).not.toContain("Sample rejections");
    expect(m.email.split("\n").length).toBeLessThan(12);
    expect(m.attributes.severity).toBe("info");
  });
});
