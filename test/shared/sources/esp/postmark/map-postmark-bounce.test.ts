import { describe, expect, it } from "vitest";
import {
  type ProviderEvent,
  ProviderEventSchema,
} from "../../../../../shared/domain/events/normalized-event.ts";
import {
  mapPostmarkBounce,
  mapPostmarkDelivery,
  mapPostmarkOutboundMessage,
  mapPostmarkRecord,
  postmarkBounceIdOf,
} from "../../../../../shared/sources/esp/postmark/map-postmark-bounce.ts";
import type { MappedRecord } from "../../../../../shared/sources/esp/provider-record.ts";

/** The §3.2 example, the base every case varies. */
function bounce(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    RecordType: "Bounce",
    ID: 4323372036,
    Type: "HardBounce",
    TypeCode: 1,
    Name: "Hard bounce",
    Tag: "invoice",
    MessageID: "d12c2f1c-60f3-4258-b163-d17052546ae4",
    ServerID: 23,
    MessageStream: "outbound",
    Description: "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
    Details:
      "smtp;550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces.",
    Email: "A.Lee@Acme-Corp.com",
    From: "billing@example.com",
    BouncedAt: "2024-05-29T10:21:03.6421112-04:00",
    DumpAvailable: true,
    Inactive: true,
    CanActivate: true,
    Subject: "Your invoice",
    ...extra,
  };
}

function events(r: MappedRecord): readonly ProviderEvent[] {
  if (!r.ok) throw new Error(`expected ok, got: ${r.reason}`);
  // Whatever a mapper returns must satisfy the shared contract.
  for (const e of r.events) expect(ProviderEventSchema.parse(e)).toEqual(e);
  return r.events;
}

function one(record: unknown): ProviderEvent {
  const es = events(mapPostmarkBounce(record));
  expect(es).toHaveLength(1);
  const e = es[0];
  if (!e) throw new Error("no event");
  return e;
}

function reasonOf(r: MappedRecord): string {
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r.events)}`);
  return r.reason;
}

describe("mapPostmarkBounce", () => {
  it("maps a hard bounce with every field", () => {
    expect(one(bounce())).toEqual({
      id: "postmark:4323372036",
      source: "postmark",
      occurredAt: "2024-05-29T14:21:03.642Z",
      type: "bounced",
      recipient: "a.lee@acme-corp.com",
      recipientDomain: "acme-corp.com",
      smtp: {
        code: 550,
        enhanced: "5.1.1",
        text: "550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces.",
      },
      espClass: "hard",
      mxHost: null,
      sendingIp: null,
      ipPool: null,
      messageId: "d12c2f1c-60f3-4258-b163-d17052546ae4",
      campaign: "invoice",
    });
  });

  it.each([
    [
      "SoftBounce",
      4096,
      "smtp;552 5.2.2 The email account that you tried to reach is over quota and inactive.",
      { type: "bounced", espClass: "soft", code: 552, enhanced: "5.2.2" },
    ],
    [
      "Transient",
      2,
      "smtp;451 4.7.1 Greylisting in action, please come back later",
      { type: "deferred", espClass: "soft", code: 451, enhanced: "4.7.1" },
    ],
    [
      "DnsError",
      256,
      "DNS lookup failed for acme-corp.com: SERVFAIL while resolving MX records",
      { type: "bounced", espClass: "soft", code: null, enhanced: null },
    ],
    [
      "SpamNotification",
      512,
      "smtp;550 5.7.1 Message rejected as spam by Content Filtering.",
      { type: "bounced", espClass: "block", code: 550, enhanced: "5.7.1" },
    ],
    [
      "Blocked",
      100006,
      "smtp;554 5.7.1 Service unavailable; Client host [50.31.156.6] blocked using zen.spamhaus.org",
      { type: "bounced", espClass: "block", code: 554, enhanced: "5.7.1" },
    ],
    [
      "DMARCPolicy",
      100009,
      "smtp;550-5.7.26 This mail has been blocked because the sender is unauthenticated. Gmail requires all senders to authenticate with either SPF or DKIM.",
      { type: "bounced", espClass: "block", code: 550, enhanced: "5.7.26" },
    ],
    [
      "Unknown",
      2048,
      "Reporting-MTA: dns; mx.acme-corp.com\nAction: failed\nStatus: 5.0.0\nDiagnostic-Code: smtp; 550 5.0.0 Delivery not authorized",
      { type: "bounced", espClass: "undetermined", code: 550, enhanced: "5.0.0" },
    ],
    [
      "BadEmailAddress",
      100000,
      "Invalid 'To' address: 'a.lee@@acme-corp.com'.",
      { type: "dropped", espClass: null, code: null, enhanced: null },
    ],
    [
      "ManuallyDeactivated",
      100002,
      "Manually deactivated by a user",
      { type: "dropped", espClass: null, code: null, enhanced: null },
    ],
    [
      "SMTPApiError",
      100007,
      "ErrorCode: '406', Message: 'You tried to send to a recipient that has been marked as inactive.'",
      { type: "dropped", espClass: null, code: null, enhanced: null },
    ],
    [
      "TemplateRenderingFailed",
      100010,
      "Template rendering failed: unknown variable 'first_name'",
      { type: "dropped", espClass: null, code: null, enhanced: null },
    ],
  ] as const)("maps %s (%i)", (Type, TypeCode, Details, want) => {
    const e = one(bounce({ Type, TypeCode, Details }));
    expect(e).toMatchObject({ type: want.type, espClass: want.espClass });
    expect(e.smtp).toMatchObject({ code: want.code, enhanced: want.enhanced });
    expect(e.smtp?.text).toBe(Details.replace(/^smtp;/, ""));
  });

  it("maps a spam complaint (API or SpamComplaint webhook) to complained, without a reply", () => {
    for (const RecordType of ["Bounce", "SpamComplaint", undefined]) {
      const e = one(
        bounce({
          RecordType,
          Type: "SpamComplaint",
          TypeCode: 100001,
          Details: "Test spam complaint details",
        }),
      );
      expect(e).toMatchObject({ type: "complained", espClass: null, smtp: null });
    }
  });

  it("yields no event for replies and notices that are not delivery outcomes", () => {
    for (const [Type, TypeCode] of [
      ["Unsubscribe", 16],
      ["Subscribe", 32],
      ["AutoResponder", 64],
      ["AddressChange", 128],
      ["OpenRelayTest", 1024],
      ["VirusNotification", 8192],
      ["ChallengeVerification", 16384],
      ["Unconfirmed", 100003],
      ["InboundError", 100008],
    ] as const) {
      // Even without Email or BouncedAt: nothing is read from them.
      expect(
        events(mapPostmarkBounce(bounce({ Type, TypeCode, Email: undefined, BouncedAt: null }))),
      ).toEqual([]);
    }
  });

  it("finds the reply in Postfix prose and a marked status", () => {
    const said = one(
      bounce({
        Details:
          "host mx1.acme-corp.com[203.0.113.5] said: 550 Requested action not taken: mailbox unavailable (in reply to RCPT TO command)",
      }),
    );
    expect(said.smtp).toMatchObject({ code: 550, enhanced: null });
    const marked = one(bounce({ Details: "Remote server rejected the message #5.1.10 recipient not found" }));
    expect(marked.smtp).toMatchObject({ code: null, enhanced: "5.1.10" });
    // A version number is not an enhanced status.
    const version = one(bounce({ Details: "Postfix 2.10.1 could not deliver the message" }));
    expect(version.smtp).toMatchObject({ code: null, enhanced: null });
  });

  it("takes the type from TypeCode when Type is absent, and the reverse", () => {
    expect(one(bounce({ Type: undefined, TypeCode: 4096 }))).toMatchObject({ espClass: "soft" });
    expect(one(bounce({ Type: "softbounce", TypeCode: undefined }))).toMatchObject({ espClass: "soft" });
  });

  it("accepts a digit-string ID and a UTC BouncedAt, and leaves empty descriptive fields null", () => {
    const e = one(
      bounce({ ID: "4323372036", BouncedAt: "2024-05-29T14:21:03Z", Tag: "", MessageID: null, Details: "" }),
    );
    expect(e).toMatchObject({
      id: "postmark:4323372036",
      occurredAt: "2024-05-29T14:21:03.000Z",
      campaign: null,
      messageId: null,
      smtp: null,
    });
  });

  it("gives the API and webhook copies of a bounce the same id, which gives back the bounce ID", () => {
    const viaApi = one(bounce({ RecordType: undefined }));
    const viaWebhook = one(bounce({ Metadata: { customer: "42" } }));
    expect(viaWebhook.id).toBe(viaApi.id);
    expect(postmarkBounceIdOf(viaApi.id)).toBe("4323372036");
    expect(postmarkBounceIdOf("postmark:delivery:m-1:a@b.example")).toBeNull();
    expect(postmarkBounceIdOf("mailgun:abc:2024-05-29")).toBeNull();
  });

  it.each([
    [null, "record: expected a JSON object, got null"],
    [[bounce()], "record: expected a JSON object, got an array"],
    [bounce({ ID: undefined }), "ID: missing"],
    [bounce({ ID: -4 }), "ID: not a positive integer bounce id (-4)"],
    [bounce({ ID: "12ab" }), 'ID: not a positive integer bounce id ("12ab")'],
    [bounce({ Type: undefined, TypeCode: undefined }), "Type: missing (neither Type nor TypeCode)"],
    [bounce({ Type: "MegaBounce", TypeCode: 7 }), 'Type: unknown value "MegaBounce" (TypeCode 7)'],
    [
      bounce({ Type: "SoftBounce", TypeCode: 1 }),
      'TypeCode: 1 does not match Type "SoftBounce" (expected 4096)',
    ],
    [bounce({ TypeCode: "1" }), "TypeCode: Invalid input: expected number, received string"],
    [bounce({ Email: undefined }), "Email: missing"],
    [bounce({ Email: "not-an-address" }), 'Email: not an email address ("not-an-address")'],
    [bounce({ Email: 42 }), "Email: Invalid input: expected string, received number"],
    [bounce({ BouncedAt: undefined }), "BouncedAt: missing"],
    [
      bounce({ BouncedAt: "2024-05-29T10:21:03" }),
      'BouncedAt: not an ISO 8601 timestamp with a zone ("2024-05-29T10:21:03")',
    ],
    [
      bounce({ BouncedAt: "2024-02-30T10:21:03-05:00" }),
      'BouncedAt: not an ISO 8601 timestamp with a zone ("2024-02-30T10:21:03-05:00")',
    ],
    [
      bounce({ RecordType: "Delivery" }),
      'RecordType: expected "Bounce" or "SpamComplaint" (or none, as in the Bounce API), got "Delivery"',
    ],
  ])("quarantines %j with a reason naming the field", (record, reason) => {
    expect(reasonOf(mapPostmarkBounce(record))).toBe(reason);
  });
});

function delivery(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    RecordType: "Delivery",
    ServerID: 23,
    MessageStream: "outbound",
    MessageID: "883953f4-6105-42a2-a16a-77a8eac79483",
    Recipient: "J.Doe@Globex.example",
    Tag: "welcome",
    DeliveredAt: "2026-05-01T13:45:12-04:00",
    Details: "smtp;250 2.0.0 OK  1746121512 d75a77b69052e-47ae1b2c1a8si123456qtb.12 - gsmtp",
    Metadata: { a_key: "a_value" },
    ...extra,
  };
}

describe("mapPostmarkDelivery", () => {
  it("maps the Delivery webhook to delivered, keyed by message and recipient", () => {
    const [e, ...rest] = events(mapPostmarkDelivery(delivery()));
    expect(rest).toEqual([]);
    expect(e).toEqual({
      id: "postmark:delivery:883953f4-6105-42a2-a16a-77a8eac79483:j.doe@globex.example",
      source: "postmark",
      occurredAt: "2026-05-01T17:45:12.000Z",
      type: "delivered",
      recipient: "j.doe@globex.example",
      recipientDomain: "globex.example",
      smtp: {
        code: 250,
        enhanced: "2.0.0",
        text: "250 2.0.0 OK  1746121512 d75a77b69052e-47ae1b2c1a8si123456qtb.12 - gsmtp",
      },
      espClass: null,
      mxHost: null,
      sendingIp: null,
      ipPool: null,
      messageId: "883953f4-6105-42a2-a16a-77a8eac79483",
      campaign: "welcome",
    });
  });

  it.each([
    [delivery({ RecordType: undefined }), 'RecordType: missing (expected "Delivery")'],
    [delivery({ RecordType: "Bounce" }), 'RecordType: expected "Delivery", got "Bounce"'],
    [delivery({ MessageID: undefined }), "MessageID: missing"],
    [delivery({ MessageID: " " }), "MessageID: empty"],
    [delivery({ Recipient: undefined }), "Recipient: missing"],
    [
      delivery({ DeliveredAt: "yesterday" }),
      'DeliveredAt: not an ISO 8601 timestamp with a zone ("yesterday")',
    ],
  ])("quarantines %j with a reason naming the field", (record, reason) => {
    expect(reasonOf(mapPostmarkDelivery(record))).toBe(reason);
  });
});

function outbound(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    Tag: "welcome",
    MessageID: "0ac29aee-e1cd-480d-b08d-4f48548ff48d",
    MessageStream: "outbound",
    To: [{ Email: "A.Lee@Acme-Corp.com", Name: null }],
    Cc: [{ Email: "b.ng@globex.example", Name: "B Ng" }],
    Bcc: [],
    Recipients: ["A.Lee@Acme-Corp.com", "b.ng@globex.example", "a.lee@acme-corp.com"],
    ReceivedAt: "2026-11-01T01:30:00.1230000-05:00",
    From: '"Example" <notifications@example.com>',
    Subject: "Welcome",
    Attachments: [],
    Status: "Sent",
    TrackOpens: true,
    TrackLinks: "None",
    Metadata: {},
    ...extra,
  };
}

describe("mapPostmarkOutboundMessage", () => {
  it("yields one sent event per distinct recipient", () => {
    const es = events(mapPostmarkOutboundMessage(outbound()));
    expect(es.map((e) => [e.id, e.type, e.recipientDomain, e.occurredAt])).toEqual([
      [
        "postmark:sent:0ac29aee-e1cd-480d-b08d-4f48548ff48d:a.lee@acme-corp.com",
        "sent",
        "acme-corp.com",
        "2026-11-01T06:30:00.123Z",
      ],
      [
        "postmark:sent:0ac29aee-e1cd-480d-b08d-4f48548ff48d:b.ng@globex.example",
        "sent",
        "globex.example",
        "2026-11-01T06:30:00.123Z",
      ],
    ]);
  });

  it("falls back to To/Cc/Bcc, and yields nothing for a queued message", () => {
    const es = events(mapPostmarkOutboundMessage(outbound({ Recipients: undefined })));
    expect(es.map((e) => e.recipient)).toEqual(["a.lee@acme-corp.com", "b.ng@globex.example"]);
    expect(events(mapPostmarkOutboundMessage(outbound({ Status: "Queued" })))).toEqual([]);
  });

  it("quarantines a message without recipients or with a bad one", () => {
    expect(reasonOf(mapPostmarkOutboundMessage(outbound({ Recipients: [], To: [], Cc: [] })))).toBe(
      "Recipients: missing (no Recipients, To, Cc or Bcc)",
    );
    expect(reasonOf(mapPostmarkOutboundMessage(outbound({ Recipients: ["ok@x.example", "nope"] })))).toBe(
      'Recipients[1]: not an email address ("nope")',
    );
    expect(reasonOf(mapPostmarkOutboundMessage(outbound({ ReceivedAt: undefined })))).toBe(
      "ReceivedAt: missing",
    );
  });
});

describe("mapPostmarkRecord", () => {
  it("dispatches on RecordType, or on shape without one", () => {
    expect(events(mapPostmarkRecord(bounce()))[0]?.type).toBe("bounced");
    expect(events(mapPostmarkRecord(bounce({ RecordType: undefined })))[0]?.type).toBe("bounced");
    expect(
      events(
        mapPostmarkRecord(bounce({ RecordType: "SpamComplaint", Type: "SpamComplaint", TypeCode: 100001 })),
      )[0]?.type,
    ).toBe("complained");
    expect(events(mapPostmarkRecord(delivery()))[0]?.type).toBe("delivered");
    expect(events(mapPostmarkRecord(outbound())).map((e) => e.type)).toEqual(["sent", "sent"]);
    for (const RecordType of ["Open", "Click", "SubscriptionChange"]) {
      expect(events(mapPostmarkRecord({ RecordType, MessageID: "x" }))).toEqual([]);
    }
  });

  it("quarantines what it cannot tell apart", () => {
    expect(reasonOf(mapPostmarkRecord({ RecordType: "Inbound" }))).toBe(
      'RecordType: unknown value "Inbound"',
    );
    expect(reasonOf(mapPostmarkRecord({ RecordType: 3 }))).toBe("RecordType: expected a string, got number");
    expect(reasonOf(mapPostmarkRecord({ hello: "world" }))).toMatch(/^record: neither a Postmark bounce/);
    expect(reasonOf(mapPostmarkRecord("text"))).toBe("record: expected a JSON object, got string");
  });
});
