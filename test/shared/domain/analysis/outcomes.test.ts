import { describe, expect, it } from "vitest";
import { finalEvents } from "../../../../shared/domain/analysis/outcomes.ts";
import type { NormalizedEvent } from "../../../../shared/domain/events/normalized-event.ts";

const base: NormalizedEvent = {
  id: "ses:m1:a@acme.example:delivery",
  source: "ses",
  occurredAt: "2026-11-10T10:00:00.000Z",
  type: "delivered",
  recipient: "a@acme.example",
  recipientDomain: "acme.example",
  organisation: "acme.example",
  consumer: false,
  smtp: { code: 250, enhanced: null, text: "250 OK" },
  espClass: null,
  mxHost: null,
  sendingIp: null,
  ipPool: null,
  messageId: "m1",
  campaign: null,
  classification: null,
};
const delivered = base;
// SES's out-of-office reply: a Transient/General bounce after the Delivery of the same message.
const outOfOffice: NormalizedEvent = {
  ...base,
  id: "ses:fb1:a@acme.example:bounce",
  occurredAt: "2026-11-10T10:05:00.000Z",
  type: "bounced",
  espClass: "soft",
  smtp: null,
};
const hard: NormalizedEvent = { ...outOfOffice, id: "ses:fb2:a@acme.example:bounce", espClass: "hard" };

describe("finalEvents: one outcome per message and recipient", () => {
  it("keeps the delivery beside an out-of-office (soft) bounce, whichever comes first", () => {
    expect(finalEvents([delivered, outOfOffice])).toEqual([delivered]);
    expect(finalEvents([outOfOffice, delivered])).toEqual([delivered]);
  });

  it("lets a hard bounce after a delivery replace it (an asynchronous bounce)", () => {
    expect(finalEvents([delivered, hard])).toEqual([hard]);
    expect(finalEvents([hard, delivered])).toEqual([hard]);
  });
});
