import { describe, expect, it } from "vitest";
import {
  type ProviderEvent,
  ProviderEventSchema,
} from "../../../../../shared/domain/events/normalized-event.ts";
import { mapSendgridEvent } from "../../../../../shared/sources/esp/sendgrid/map-sendgrid-event.ts";

// 2024-05-29T16:26:40.000Z
const TS = 1717000000;
const MSG = "LRzXl66sR2a93ZvKQZg3fg";

/** One webhook event as SendGrid posts it (docs/sources.md#sendgrid), the base every case varies. */
function sg(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    email: "A.Lee@Acme-Corp.com",
    timestamp: TS,
    "smtp-id": `<${MSG}@geopod-ismtpd-4>`,
    event: "bounce",
    type: "bounce",
    category: ["newsletter", "may"],
    sg_event_id: "Zk3hbm91bmNlLTAtMTcxNzAwMDAwMA",
    sg_message_id: `${MSG}.filterdrecv-5bd6f6b5d-8kv2c-1-66575A80-3F.0`,
    reason: "550 5.1.1 The email account that you tried to reach does not exist.",
    status: "5.1.1",
    bounce_classification: "Invalid Address",
    ip: "203.0.113.7",
    tls: 1,
    ...extra,
  };
}

/** A realistic batch: one message's life for several recipients, an open, and a redelivered event. */
const BATCH: Record<string, unknown>[] = [
  sg({
    event: "processed",
    email: "b.kim@globex.example",
    sg_event_id: "cHJvY2Vzc2VkLTEyMzQ1",
    type: undefined,
    reason: undefined,
    status: undefined,
    bounce_classification: undefined,
    ip: undefined,
    tls: undefined,
    pool: { name: "transactional", id: 12 },
  }),
  sg({
    event: "delivered",
    email: "b.kim@globex.example",
    sg_event_id: "ZGVsaXZlcmVkLTEyMzQ1",
    type: undefined,
    reason: undefined,
    status: undefined,
    bounce_classification: undefined,
    response: "250 2.0.0 OK  1717000000 d2e1a72fcca58-70fd3c5e9b1si123456b3a.42 - gsmtp",
  }),
  sg(),
  sg({
    email: "c.diaz@initech.example",
    type: "blocked",
    sg_event_id: "YmxvY2tlZC0xMjM0NQ",
    reason: "554 5.7.1 Service unavailable; Client host [203.0.113.7] blocked using Spamhaus",
    status: "5.7.1",
    bounce_classification: "Reputation",
  }),
  sg({
    event: "deferred",
    email: "d.ng@umbrella.example",
    sg_event_id: "ZGVmZXJyZWQtMTIzNDU",
    type: undefined,
    reason: undefined,
    status: undefined,
    bounce_classification: undefined,
    response: "421 4.7.0 [203.0.113.7] Try again later, closing connection.",
    attempt: "3",
  }),
  sg({
    event: "dropped",
    email: "e.ono@hooli.example",
    sg_event_id: "ZHJvcHBlZC0xMjM0NQ",
    type: undefined,
    reason: "Bounced Address",
    status: "5.0.0",
    bounce_classification: undefined,
    ip: undefined,
  }),
  sg({
    event: "open",
    email: "b.kim@globex.example",
    sg_event_id: "b3Blbi0xMjM0NQ",
    useragent: "Mozilla/5.0",
    ip: "198.51.100.200",
    type: undefined,
  }),
  // SendGrid redelivers: the same event again, byte for byte.
  sg(),
];

function mapAll(records: readonly unknown[]): ProviderEvent[] {
  return records.flatMap((r) => {
    const m = mapSendgridEvent(r);
    if (!m.ok) throw new Error(`expected ok, got: ${m.reason}`);
    for (const e of m.events) expect(ProviderEventSchema.parse(e)).toEqual(e);
    return [...m.events];
  });
}

function one(record: unknown): ProviderEvent {
  const events = mapAll([record]);
  expect(events).toHaveLength(1);
  return events[0] as ProviderEvent;
}

function reasonOf(record: unknown): string {
  const r = mapSendgridEvent(record);
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r.events)}`);
  return r.reason;
}

describe("mapSendgridEvent", () => {
  it("maps a hard bounce with every field", () => {
    expect(one(sg())).toEqual({
      id: "sendgrid:Zk3hbm91bmNlLTAtMTcxNzAwMDAwMA",
      source: "sendgrid",
      occurredAt: "2024-05-29T16:26:40.000Z",
      type: "bounced",
      recipient: "a.lee@acme-corp.com",
      recipientDomain: "acme-corp.com",
      smtp: {
        code: 550,
        enhanced: "5.1.1",
        text: "550 5.1.1 The email account that you tried to reach does not exist.",
      },
      espClass: "hard",
      mxHost: null,
      sendingIp: "203.0.113.7",
      ipPool: null,
      messageId: MSG,
      campaign: "newsletter",
      espClassification: "Invalid Address",
    });
  });

  it("maps a realistic batch, one event per delivery event and none for the open", () => {
    const events = mapAll(BATCH);
    expect(events.map((e) => [e.type, e.espClass, e.recipient])).toEqual([
      ["sent", null, "b.kim@globex.example"],
      ["delivered", null, "b.kim@globex.example"],
      ["bounced", "hard", "a.lee@acme-corp.com"],
      ["bounced", "block", "c.diaz@initech.example"],
      ["deferred", "soft", "d.ng@umbrella.example"],
      ["dropped", null, "e.ono@hooli.example"],
      ["bounced", "hard", "a.lee@acme-corp.com"],
    ]);
    // The redelivered bounce maps to the same id: deduplication downstream keeps one.
    expect(events[6]).toEqual(events[2]);
    expect(new Set(events.map((e) => e.id)).size).toBe(6);
    // Every event of one message shares the X-Message-Id, with the filter suffix stripped.
    expect(new Set(events.map((e) => e.messageId))).toEqual(new Set([MSG]));
  });

  it("reads the reply of delivered and deferred from response, of drops from reason", () => {
    const [sent, delivered, , blocked, deferred, dropped] = mapAll(BATCH);
    expect(sent?.smtp).toBeNull();
    expect(sent?.ipPool).toBe("transactional");
    expect(delivered?.smtp).toMatchObject({ code: 250, enhanced: "2.0.0" });
    expect(blocked?.smtp).toMatchObject({ code: 554, enhanced: "5.7.1" });
    expect(deferred?.smtp).toEqual({
      code: 421,
      enhanced: "4.7.0",
      text: "421 4.7.0 [203.0.113.7] Try again later, closing connection.",
    });
    // A drop reason is SendGrid's own words, not a server reply: no code.
    expect(dropped?.smtp).toEqual({ code: null, enhanced: "5.0.0", text: "Bounced Address" });
  });

  it("treats event blocked (Email Logs status) like a bounce of type blocked", () => {
    expect(one(sg({ event: "blocked", type: undefined }))).toMatchObject({
      type: "bounced",
      espClass: "block",
    });
  });

  it("maps a bounce without a type to undetermined", () => {
    expect(one(sg({ type: undefined }))).toMatchObject({ type: "bounced", espClass: "undetermined" });
  });

  it("keeps a blocked bounce without status (unresolvable domain)", () => {
    const e = one(
      sg({
        type: "blocked",
        status: undefined,
        reason:
          "unable to get mx info: failed to get IPs from PTR record: lookup <nil>: unrecognized address",
        bounce_classification: "Unclassified",
      }),
    );
    expect(e.smtp).toEqual({
      code: null,
      enhanced: null,
      text: "unable to get mx info: failed to get IPs from PTR record: lookup <nil>: unrecognized address",
    });
  });

  it("maps spamreport to complained", () => {
    expect(
      one(sg({ event: "spamreport", type: undefined, reason: undefined, status: undefined })),
    ).toMatchObject({ type: "complained", espClass: null, smtp: null });
  });

  it.each(["open", "click", "unsubscribe", "group_unsubscribe", "group_resubscribe"])(
    "ignores %s, without requiring the fields a delivery event needs",
    (event) => {
      expect(mapSendgridEvent({ event, url: "https://x.example" })).toEqual({ ok: true, events: [] });
    },
  );

  it("reads the enhanced status from the reason when status is missing or odd", () => {
    expect(one(sg({ status: undefined })).smtp?.enhanced).toBe("5.1.1");
    expect(one(sg({ status: "bounce" })).smtp?.enhanced).toBe("5.1.1");
    expect(one(sg({ reason: "smtp; 550 5.1.1 user unknown" })).smtp).toEqual({
      code: 550,
      enhanced: "5.1.1",
      text: "550 5.1.1 user unknown",
    });
  });

  it("takes the campaign from a string category, else the marketing campaign name", () => {
    expect(one(sg({ category: "receipts" })).campaign).toBe("receipts");
    expect(one(sg({ category: [], marketing_campaign_name: "Spring Sale" })).campaign).toBe("Spring Sale");
    expect(one(sg({ category: undefined })).campaign).toBeNull();
  });

  it("falls back to smtp-id for async bounces without sg_message_id, and keeps old-style ids whole", () => {
    expect(one(sg({ sg_message_id: undefined })).messageId).toBe(`${MSG}@geopod-ismtpd-4`);
    expect(one(sg({ sg_message_id: undefined, "smtp-id": undefined })).messageId).toBeNull();
    expect(one(sg({ sg_message_id: "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0" })).messageId).toBe(
      "14c5d75ce93.dfd.64b469",
    );
    expect(one(sg({ sg_message_id: "xYz.recvd-1.0" })).messageId).toBe("xYz");
  });

  it("reads descriptive fields leniently: a custom arg shadowing one never quarantines", () => {
    const e = one(sg({ ip: "not-an-ip", category: 42, pool: "x", sg_message_id: 7 }));
    expect(e).toMatchObject({ sendingIp: null, campaign: null, ipPool: null });
    expect(e.messageId).toBe(`${MSG}@geopod-ismtpd-4`);
  });

  it("accepts a timestamp as digits in a string", () => {
    expect(one(sg({ timestamp: "1717000000" })).occurredAt).toBe("2024-05-29T16:26:40.000Z");
  });

  it("normalises an IDN recipient domain to punycode", () => {
    expect(one(sg({ email: "Jörg@Bücher.example." }))).toMatchObject({
      recipient: "jörg@xn--bcher-kva.example",
      recipientDomain: "xn--bcher-kva.example",
    });
  });

  it.each([
    ["a missing email", { email: undefined }, /^email: missing$/],
    ["an email without @", { email: "nobody" }, /^email: not an email address/],
    ["an email with spaces", { email: "a lee@acme-corp.com" }, /^email: not an email address/],
    ["a non-string email", { email: 42 }, /^email: /],
    ["a missing sg_event_id", { sg_event_id: undefined }, /^sg_event_id: missing$/],
    ["an empty sg_event_id", { sg_event_id: "  " }, /^sg_event_id: /],
    ["a too long sg_event_id", { sg_event_id: "x".repeat(600) }, /^sg_event_id: /],
    ["a missing timestamp", { timestamp: undefined }, /^timestamp: missing$/],
    ["a timestamp in milliseconds", { timestamp: TS * 1000 }, /^timestamp: not epoch seconds/],
    ["a timestamp that is a date string", { timestamp: "2024-05-29" }, /^timestamp: not epoch seconds/],
    ["a missing event", { event: undefined }, /^event: missing$/],
    ["an unknown event", { event: "exploded" }, /^event: unknown value "exploded"$/],
  ])("quarantines %s, naming the field", (_name, extra, reason) => {
    expect(reasonOf(sg(extra))).toMatch(reason);
  });

  it.each([
    [null, "null"],
    [[sg()], "an array"],
    ["text", "string"],
  ])("quarantines a record that is not an object (%j)", (record, kind) => {
    expect(reasonOf(record)).toBe(`record: expected a JSON object, got ${kind}`);
  });
});
