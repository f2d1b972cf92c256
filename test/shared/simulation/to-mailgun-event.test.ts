import { describe, expect, it } from "vitest";
import type { ProviderEvent } from "../../../shared/domain/events/normalized-event.ts";
import { generateHistory, SENDER_DOMAIN } from "../../../shared/simulation/b2b-history.ts";
import { toMailgunEvent } from "../../../shared/simulation/to-mailgun-event.ts";
import { mapMailgunEvent } from "../../../shared/sources/esp/mailgun/map-mailgun-event.ts";

const START = new Date("2026-10-01T00:00:00.000Z");

describe("toMailgunEvent", () => {
  // Every kind the simulation makes, including an ESP-internal failure with no remote reply.
  const history = generateHistory({
    seed: 5,
    start: START,
    days: 10,
    organisations: 40,
    incidents: [
      { kind: "gateway_policy_change", at: new Date(START.getTime() + 8 * 86_400_000) },
      { kind: "esp_pool_fault", at: new Date(START.getTime() + 9 * 86_400_000) },
    ],
  });

  it("renders every simulated event so the real Mailgun mapper reads back what was simulated", () => {
    const types = new Set<string>();
    for (const e of history.events) {
      const mapped = mapMailgunEvent(toMailgunEvent(e, SENDER_DOMAIN));
      if (!mapped.ok) throw new Error(`${e.id}: ${mapped.reason}`);
      expect(mapped.events).toHaveLength(1);
      const back = mapped.events[0] as ProviderEvent;
      types.add(e.type);
      const expected = {
        type: e.type,
        occurredAt: e.occurredAt,
        recipient: e.recipient,
        recipientDomain: e.recipientDomain,
        sendingIp: e.sendingIp,
        ipPool: e.ipPool,
        messageId: e.messageId,
        campaign: e.campaign,
      };
      expect({
        type: back.type,
        occurredAt: back.occurredAt,
        recipient: back.recipient,
        recipientDomain: back.recipientDomain,
        sendingIp: back.sendingIp,
        ipPool: back.ipPool,
        messageId: back.messageId,
        campaign: back.campaign,
      }).toEqual(expected);
      if (e.type === "bounced") {
        expect(back.espClass).toBe(e.espClass);
        expect(back.smtp).toEqual(e.smtp);
        expect(back.mxHost).toBe(e.mxHost);
      }
    }
    expect([...types].sort()).toEqual(["bounced", "deferred", "delivered", "dropped"]);
  });

  it("gives stable, distinct Mailgun-shaped ids", () => {
    const ids = history.events.map((e) => toMailgunEvent(e, SENDER_DOMAIN).id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids.slice(0, 50)) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(toMailgunEvent(history.events[0] as ProviderEvent, SENDER_DOMAIN).id).toBe(ids[0]);
  });
});
