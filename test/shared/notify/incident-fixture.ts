import type { Incident } from "../../../shared/domain/report/report-schema.ts";

export const WINDOW = { start: "2025-06-12T00:00:00Z", end: "2025-06-13T00:00:00Z" };
export const CTX = {
  reportUri: "s3://bounce-radar-reports/runs/2025-06-13/report.json",
  consoleUrl:
    "https://s3.console.aws.amazon.com/s3/object/bounce-radar-reports?prefix=runs/2025-06-13/report.json",
  window: WINDOW,
};

/** A Proofpoint policy change at acme.com, the shape the analysis emits. */
export function recipientIncident(overrides: Partial<Incident> = {}): Incident {
  return {
    id: "inc-3f9a1c07b2e4",
    verdict: "recipient_filter",
    side: "recipient",
    confidence: 0.91,
    alert: true,
    firstSeen: "2025-06-12T06:42:17Z",
    scope: { domains: ["acme.com"], gateways: ["proofpoint"], sendingIps: [] },
    metrics: {
      attempts: 4000,
      hardBounces: 520,
      rate: 0.13,
      baselineRate: 0.004,
      previouslyDelivered: 0.87,
      bouncedAddresses: 480,
      organisations: 1,
      baselineAttempts: 30000,
      baselineHardBounces: 120,
    },
    evidence: [
      { signal: "breadth", detail: "1 organisation behind 1 gateway: proofpoint" },
      { signal: "control_group", detail: "consumer mailboxes normal: 0.3% vs baseline 0.3%" },
    ],
    samples: [
      { recipient: "j***@acme.com", text: "550 5.7.1 Message rejected by policy", category: "policy_block" },
    ],
    wronglySuppressed: ["j***@acme.com", "p***@acme.com", "t***@acme.com"],
    actions: ["Do not migrate ESPs: the rejections come from the recipient's gateway."],
    ...overrides,
  };
}

export function senderIncident(overrides: Partial<Incident> = {}): Incident {
  return recipientIncident({
    id: "inc-b81d44e0c9a5",
    verdict: "sender_reputation",
    side: "sender",
    scope: { domains: ["acme.com", "globex.com"], gateways: [], sendingIps: ["198.51.100.7"] },
    actions: ["Ask the ESP to delist 198.51.100.7 or move to a clean IP pool."],
    ...overrides,
  });
}
