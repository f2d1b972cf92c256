import { describe, expect, it } from "vitest";
import {
  AlertPolicySchema,
  applyPlan,
  EMPTY_ALERT_STATE,
  incidentKey,
  planNotifications,
} from "../../../../shared/domain/alerts/incident-lifecycle.ts";
import type { Incident, Report } from "../../../../shared/domain/report/report-schema.ts";

const policy = AlertPolicySchema.parse({});

function incident(over: Partial<Incident> & { domains?: string[]; rate?: number } = {}): Incident {
  const { domains = ["a.com", "b.com"], rate = 0.3, ...rest } = over;
  return {
    id: "inc-1",
    verdict: "recipient_filter",
    side: "recipient",
    confidence: 0.9,
    alert: true,
    firstSeen: "2026-11-20T08:00:00.000Z",
    scope: { domains, gateways: ["mimecast"], sendingIps: [] },
    metrics: {
      attempts: 100,
      hardBounces: Math.round(100 * rate),
      rate,
      baselineRate: 0.01,
      previouslyDelivered: 0.9,
      bouncedAddresses: 30,
    },
    evidence: [],
    samples: [],
    wronglySuppressed: [],
    actions: [],
    ...rest,
  };
}

const report = (...incidents: Incident[]): Report => ({ runId: "r", incidents }) as unknown as Report; // planNotifications reads only the incidents

const at = (h: number) => new Date(Date.UTC(2026, 10, 20, h));

describe("incident lifecycle", () => {
  it("alerts once, stays silent, escalates on growth or a doubled rate, then sends one all-clear", () => {
    let state = EMPTY_ALERT_STATE;
    const step = (r: Report, h: number) => {
      const plan = planNotifications(state, r, policy, at(h));
      state = applyPlan(state, plan, new Set(plan.notifications.map((n) => n.key)));
      return plan.notifications.map((n) => n.kind);
    };
    expect(step(report(incident()), 1)).toEqual(["new"]);
    expect(step(report(incident()), 2)).toEqual([]);
    expect(step(report(incident({ domains: ["a.com", "b.com", "c.com"] })), 3)).toEqual(["escalated"]);
    expect(step(report(incident({ domains: ["a.com", "b.com", "c.com"] })), 4)).toEqual([]);
    expect(step(report(incident({ domains: ["a.com"], rate: 0.7 })), 5)).toEqual(["escalated"]);
    expect(step(report(), 6)).toEqual(["resolved"]);
    expect(step(report(), 7)).toEqual([]);
    expect(state.open).toEqual({});
  });

  it("reminds after the cooldown, and ignores incidents the policy does not page for", () => {
    const first = planNotifications(EMPTY_ALERT_STATE, report(incident()), policy, at(0));
    const state = applyPlan(EMPTY_ALERT_STATE, first, new Set([incidentKey(incident())]));
    expect(planNotifications(state, report(incident()), policy, at(23)).notifications).toEqual([]);
    expect(
      planNotifications(state, report(incident()), policy, at(24)).notifications.map((n) => n.kind),
    ).toEqual(["new"]);
    const quiet = [
      incident({ alert: false }),
      incident({ verdict: "list_decay", side: "neutral" }),
      incident({ confidence: 0.5 }),
    ];
    expect(planNotifications(EMPTY_ALERT_STATE, report(...quiet), policy, at(0)).notifications).toEqual([]);
  });

  it("keeps an undelivered alert pending so the next run sends it", () => {
    const plan = planNotifications(EMPTY_ALERT_STATE, report(incident()), policy, at(1));
    const state = applyPlan(EMPTY_ALERT_STATE, plan, new Set());
    expect(state.open).toEqual({});
    expect(
      planNotifications(state, report(incident()), policy, at(2)).notifications.map((n) => n.kind),
    ).toEqual(["new"]);
  });

  it("keys sender incidents by verdict and recipient clusters by gateway, so a growing scope is the same incident", () => {
    expect(incidentKey(incident())).toBe("recipient_filter|mimecast");
    expect(incidentKey(incident({ domains: ["z.com"] }))).toBe("recipient_filter|mimecast");
    expect(
      incidentKey(
        incident({
          verdict: "sender_reputation",
          side: "sender",
          scope: { domains: [], gateways: ["x"], sendingIps: ["1.2.3.4"] },
        }),
      ),
    ).toBe("sender_reputation");
    expect(
      incidentKey(incident({ scope: { domains: ["solo.com"], gateways: ["unknown"], sendingIps: [] } })),
    ).toBe("recipient_filter|solo.com");
  });
});
