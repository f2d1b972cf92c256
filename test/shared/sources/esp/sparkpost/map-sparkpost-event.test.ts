import { describe, expect, it } from "vitest";
import {
  type ProviderEvent,
  ProviderEventSchema,
} from "../../../../../shared/domain/events/normalized-event.ts";
import { mapSparkpostEvent } from "../../../../../shared/sources/esp/sparkpost/map-sparkpost-event.ts";

/** The §4.3 example with the fields SparkPost adds around it: the base every case varies. */
function bounce(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: "bounce",
    event_id: "92356927693813856",
    timestamp: "2024-05-29T10:21:03.000+00:00",
    message_id: "000443ee14578172be22",
    transmission_id: "7158637206794467322",
    rcpt_to: "a.lee@acme-corp.com",
    raw_rcpt_to: "A.Lee@Acme-Corp.com",
    routing_domain: "acme-corp.com",
    bounce_class: "10",
    error_code: "550",
    reason: "550 5.1.1 ...@... user unknown",
    raw_reason: "550 5.1.1 <a.lee@acme-corp.com>: user unknown",
    sending_ip: "192.0.2.10",
    ip_pool: "transactional",
    campaign_id: "spring-launch",
    subaccount_id: 0,
    num_retries: "0",
    mailbox_provider: "Proofpoint",
    rcpt_meta: {},
    rcpt_tags: ["newsletter"],
    friendly_from: "news@mail.example.com",
    msg_from: "msprvs1=abc@bounces.mail.example.com",
    ...extra,
  };
}

function one(record: unknown): ProviderEvent {
  const r = mapSparkpostEvent(record);
  if (!r.ok) throw new Error(`expected ok, got: ${r.reason}`);
  expect(r.events).toHaveLength(1);
  const e = r.events[0];
  if (!e) throw new Error("no event");
  // Whatever the mapper returns must satisfy the shared contract.
  expect(ProviderEventSchema.parse(e)).toEqual(e);
  return e;
}

function none(record: unknown): void {
  const r = mapSparkpostEvent(record);
  expect(r).toEqual({ ok: true, events: [] });
}

function reasonOf(record: unknown): string {
  const r = mapSparkpostEvent(record);
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r.events)}`);
  return r.reason;
}

describe("mapSparkpostEvent: Events API items", () => {
  it("maps a hard bounce with every field", () => {
    expect(one(bounce())).toEqual({
      id: "sparkpost:92356927693813856",
      source: "sparkpost",
      occurredAt: "2024-05-29T10:21:03.000Z",
      type: "bounced",
      recipient: "a.lee@acme-corp.com",
      recipientDomain: "acme-corp.com",
      smtp: { code: 550, enhanced: "5.1.1", text: "550 5.1.1 <a.lee@acme-corp.com>: user unknown" },
      espClass: "hard",
      mxHost: null,
      sendingIp: "192.0.2.10",
      ipPool: "transactional",
      messageId: "000443ee14578172be22",
      campaign: "spring-launch",
    });
  });

  it("maps each bounce class through the table", () => {
    const cases: ReadonlyArray<readonly [string, string, string | null]> = [
      ["1", "bounced", "undetermined"],
      ["10", "bounced", "hard"],
      ["22", "bounced", "soft"],
      ["24", "bounced", "soft"],
      ["30", "bounced", "hard"],
      ["40", "bounced", "soft"],
      ["51", "bounced", "block"],
      ["54", "bounced", "block"],
      ["90", "bounced", "hard"],
      ["100", "bounced", "soft"],
      // SparkPost's own policy failed it, or it is a subscribe request: no receiver refused anything.
      ["25", "dropped", null],
      ["80", "dropped", null],
      // A class added after the table.
      ["26", "bounced", "undetermined"],
    ];
    for (const [bounceClass, type, espClass] of cases) {
      const e = one(bounce({ bounce_class: bounceClass }));
      expect([bounceClass, e.type, e.espClass]).toEqual([bounceClass, type, espClass]);
    }
    // A JSON number is read like SparkPost's string.
    expect(one(bounce({ bounce_class: 52 })).espClass).toBe("block");
  });

  it("keeps a soft class at final delivery a bounce: SparkPost has given up, retries were delay events", () => {
    const e = one(
      bounce({
        bounce_class: "24",
        error_code: "554",
        num_retries: "6",
        reason: "554 5.4.7 [internal] message timeout (last transfail: 452 4.2.2 mailbox full)",
        raw_reason: "554 5.4.7 [internal] message timeout (last transfail: 452 4.2.2 mailbox full)",
      }),
    );
    expect(e).toMatchObject({
      type: "bounced",
      espClass: "soft",
      smtp: { code: 554, enhanced: "5.4.7" },
    });
  });

  it("maps an out-of-band bounce like an in-band one", () => {
    const e = one(
      bounce({
        type: "out_of_band",
        event_id: "92356927693813999",
        timestamp: "2024-05-29T12:00:00.000+02:00",
        bounce_class: "10",
        error_code: "550",
        raw_reason: "550 5.1.1 The email account that you tried to reach does not exist.",
        reason: "550 5.1.1 The email account that you tried to reach does not exist.",
      }),
    );
    expect(e).toMatchObject({
      id: "sparkpost:92356927693813999",
      occurredAt: "2024-05-29T10:00:00.000Z",
      type: "bounced",
      espClass: "hard",
      smtp: { code: 550, enhanced: "5.1.1" },
    });
  });

  it("maps a block with the remote's words", () => {
    const e = one(
      bounce({
        bounce_class: "51",
        error_code: "554",
        raw_reason:
          "554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using Spamhaus. https://www.spamhaus.org/query/ip/192.0.2.10",
        reason:
          "554 5.7.1 Service unavailable; Client host [...] blocked using Spamhaus. https://www.spamhaus.org/query/ip/...",
      }),
    );
    expect(e.espClass).toBe("block");
    expect(e.smtp?.text).toContain("blocked using Spamhaus");
    expect(e.smtp?.text).toContain("192.0.2.10");
  });

  it("maps a delivery without a reply", () => {
    const e = one({
      type: "delivery",
      event_id: "92356927693813001",
      timestamp: "2024-05-29T10:20:00.000+00:00",
      message_id: "000443ee14578172be22",
      rcpt_to: "b.chan@globex.com",
      routing_domain: "globex.com",
      sending_ip: "192.0.2.11",
      ip_pool: "default",
      ip_address: "203.0.113.25",
      queue_time: "1221",
      num_retries: "0",
      delv_method: "esmtp",
      campaign_id: "",
    });
    expect(e).toEqual({
      id: "sparkpost:92356927693813001",
      source: "sparkpost",
      occurredAt: "2024-05-29T10:20:00.000Z",
      type: "delivered",
      recipient: "b.chan@globex.com",
      recipientDomain: "globex.com",
      smtp: null,
      espClass: null,
      mxHost: null,
      sendingIp: "192.0.2.11",
      ipPool: "default",
      messageId: "000443ee14578172be22",
      campaign: null,
    });
  });

  it("maps a delay as a soft deferral with its 4xx", () => {
    const e = one(
      bounce({
        type: "delay",
        event_id: "92356927693813002",
        bounce_class: "21",
        error_code: "451",
        num_retries: "2",
        reason: "451 4.4.0 [internal] DNS temporary failure",
        raw_reason: "451 4.4.0 [internal] DNS temporary failure",
      }),
    );
    expect(e).toMatchObject({
      type: "deferred",
      espClass: "soft",
      smtp: { code: 451, enhanced: "4.4.0", text: "451 4.4.0 [internal] DNS temporary failure" },
    });
  });

  it("maps SparkPost refusing to send as drops", () => {
    const policy = one({
      type: "policy_rejection",
      event_id: "92356927693813003",
      timestamp: "2024-05-29T10:22:00.000+00:00",
      message_id: "000443ee14578172be23",
      rcpt_to: "c.diaz@initech.com",
      bounce_class: "25",
      error_code: "554",
      reason: "554 5.7.1 [internal] Sending domain mail.example.com is not configured",
      raw_reason: "554 5.7.1 [internal] Sending domain mail.example.com is not configured",
      remote_addr: "203.0.113.9",
    });
    expect(policy).toMatchObject({ type: "dropped", espClass: null, smtp: { code: 554, enhanced: "5.7.1" } });
    const suppressed = one({
      type: "generation_rejection",
      event_id: "92356927693813004",
      timestamp: "2024-05-29T10:22:01.000+00:00",
      rcpt_to: "d.evans@initech.com",
      bounce_class: "25",
      error_code: "554",
      reason: "554 5.7.1 recipient address suppressed due to customer policy",
      raw_reason: "554 5.7.1 recipient address suppressed due to customer policy",
    });
    expect(suppressed).toMatchObject({ type: "dropped", espClass: null });
    expect(
      one({
        type: "generation_failure",
        event_id: "92356927693813005",
        timestamp: "2024-05-29T10:22:02.000+00:00",
        rcpt_to: "e.fox@initech.com",
        error_code: "554",
        reason: "554 5.3.3 [internal] Error while rendering part html: substitution value missing",
      }).type,
    ).toBe("dropped");
  });

  it("maps injection as sent and a complaint as complained", () => {
    const base = {
      event_id: "92356927693813006",
      timestamp: "2024-05-29T10:19:00.000+00:00",
      rcpt_to: "f.gray@hooli.io",
      message_id: "000443ee14578172be24",
    };
    expect(one({ ...base, type: "injection", injection_time: base.timestamp })).toMatchObject({
      type: "sent",
      smtp: null,
      espClass: null,
    });
    expect(one({ ...base, type: "spam_complaint", fbtype: "abuse", report_by: "hooli.io" })).toMatchObject({
      type: "complained",
      espClass: null,
    });
  });

  it("yields nothing for engagement events, even odd ones", () => {
    for (const type of [
      "open",
      "initial_open",
      "click",
      "amp_click",
      "list_unsubscribe",
      "link_unsubscribe",
    ]) {
      none({ type, event_id: "1", timestamp: "2024-05-29T10:21:03.000+00:00", rcpt_to: 42 });
    }
  });

  it("reads the reply from raw_reason, falls back to reason for text and error_code for the code", () => {
    expect(one(bounce({ raw_reason: undefined })).smtp).toEqual({
      code: 550,
      enhanced: "5.1.1",
      text: "550 5.1.1 ...@... user unknown",
    });
    expect(
      one(bounce({ raw_reason: "5.1.1 mailbox does not exist", reason: undefined, error_code: "550" })).smtp,
    ).toEqual({ code: 550, enhanced: "5.1.1", text: "5.1.1 mailbox does not exist" });
    expect(one(bounce({ raw_reason: "mailbox unavailable", reason: "", error_code: 553 })).smtp).toEqual({
      code: 553,
      enhanced: null,
      text: "mailbox unavailable",
    });
    // A code that is not a remote reply is left out; with nothing else there is no reply at all.
    expect(one(bounce({ raw_reason: null, reason: null, error_code: "0" })).smtp).toBeNull();
  });

  it("normalises recipient and domain, preferring routing_domain", () => {
    const e = one(bounce({ rcpt_to: " J.Müller@Bücher.DE ", routing_domain: "Bücher.de." }));
    expect(e.recipient).toBe("j.müller@xn--bcher-kva.de");
    expect(e.recipientDomain).toBe("xn--bcher-kva.de");
    expect(one(bounce({ routing_domain: undefined })).recipientDomain).toBe("acme-corp.com");
    expect(one(bounce({ rcpt_to: undefined })).recipient).toBe("a.lee@acme-corp.com");
  });

  it("accepts a safe numeric event id and epoch timestamps", () => {
    const e = one(bounce({ event_id: 123456789, timestamp: "1716978063" }));
    expect(e.id).toBe("sparkpost:123456789");
    expect(e.occurredAt).toBe("2024-05-29T10:21:03.000Z");
    expect(one(bounce({ timestamp: 1716978063.25 })).occurredAt).toBe("2024-05-29T10:21:03.250Z");
    expect(one(bounce({ timestamp: "2024-05-29T10:21:03Z" })).occurredAt).toBe("2024-05-29T10:21:03.000Z");
  });
});

describe("mapSparkpostEvent: quarantine", () => {
  it("names the field that cannot be read", () => {
    expect(reasonOf([bounce()])).toBe("record: expected a JSON object, got an array");
    expect(reasonOf(null)).toBe("record: expected a JSON object, got null");
    expect(reasonOf(bounce({ type: undefined }))).toBe("type: missing");
    expect(reasonOf(bounce({ type: "bounce_v2" }))).toBe('type: unknown value "bounce_v2"');
    expect(reasonOf(bounce({ event_id: undefined }))).toBe("event_id: missing");
    expect(reasonOf(bounce({ event_id: "" }))).toMatch(/^event_id: expected a non-empty string/);
    expect(reasonOf(bounce({ event_id: 92356927693813856 }))).toMatch(/^event_id: .*beyond 2\^53/);
    expect(reasonOf(bounce({ timestamp: undefined }))).toBe("timestamp: missing");
    expect(reasonOf(bounce({ timestamp: "yesterday" }))).toBe(
      'timestamp: neither ISO 8601 nor epoch seconds ("yesterday")',
    );
    expect(reasonOf(bounce({ timestamp: "2024-02-30T10:00:00Z" }))).toMatch(/^timestamp: neither/);
    expect(reasonOf(bounce({ timestamp: 1716978063000 }))).toMatch(/^timestamp: not epoch seconds/);
    expect(reasonOf(bounce({ rcpt_to: undefined, raw_rcpt_to: undefined }))).toBe("rcpt_to: missing");
    expect(reasonOf(bounce({ rcpt_to: "not an address" }))).toBe(
      'rcpt_to: not an email address ("not an address")',
    );
    expect(reasonOf(bounce({ rcpt_to: 42 }))).toMatch(/^rcpt_to: /);
    expect(reasonOf(bounce({ bounce_class: undefined }))).toBe("bounce_class: missing on a bounce");
    expect(reasonOf(bounce({ type: "out_of_band", bounce_class: "" }))).toBe(
      "bounce_class: missing on a bounce",
    );
    expect(reasonOf(bounce({ bounce_class: "hard" }))).toBe(
      'bounce_class: not a bounce class number ("hard")',
    );
  });

  it("never quarantines for an odd descriptive field", () => {
    const e = one(
      bounce({ sending_ip: 7, ip_pool: ["x"], message_id: {}, campaign_id: null, error_code: true }),
    );
    expect(e).toMatchObject({ sendingIp: null, ipPool: null, messageId: null, campaign: null });
  });
});

describe("mapSparkpostEvent: webhook entries", () => {
  /** The same bounce as a webhook delivers it: wrapped, epoch-seconds string timestamp. */
  const hook = (inner: Record<string, unknown>, key = "message_event") => ({ msys: { [key]: inner } });

  it("maps a webhook-wrapped event to the same event as the Events API item", () => {
    expect(one(hook(bounce({ timestamp: "1716978063" })))).toEqual(one(bounce()));
  });

  it("maps generation events and skips engagement and test pings", () => {
    expect(
      one(
        hook(
          {
            type: "generation_rejection",
            event_id: "92356927693813004",
            timestamp: "1716978121",
            rcpt_to: "d.evans@initech.com",
            bounce_class: "25",
            reason: "554 5.7.1 recipient address suppressed due to customer policy",
          },
          "gen_event",
        ),
      ).type,
    ).toBe("dropped");
    none(hook({ type: "open", event_id: "5", timestamp: "1716978063", rcpt_to: "x@y.com" }, "track_event"));
    none(hook({ type: "link_unsubscribe", event_id: "6", timestamp: "1716978063" }, "unsubscribe_event"));
    none(hook({ type: "success", subject: "batch ok" }, "ingest_event"));
    // SparkPost's "test webhook" button posts [{"msys": {}}].
    none({ msys: {} });
  });

  it("names webhook fields with their full path", () => {
    expect(reasonOf(hook(bounce({ rcpt_to: undefined, raw_rcpt_to: undefined })))).toBe(
      "msys.message_event.rcpt_to: missing",
    );
    expect(reasonOf(hook(bounce({ type: undefined })))).toBe("msys.message_event.type: missing");
    expect(reasonOf(hook(bounce({ bounce_class: "x" })))).toBe(
      'msys.message_event.bounce_class: not a bounce class number ("x")',
    );
    expect(reasonOf({ msys: [] })).toBe("msys: expected a JSON object, got an array");
    expect(reasonOf({ msys: { message_event: "bounce" } })).toBe(
      "msys.message_event: expected a JSON object, got string",
    );
  });
});
