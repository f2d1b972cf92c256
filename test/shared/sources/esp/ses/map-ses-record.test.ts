import { describe, expect, it } from "vitest";
import {
  type ProviderEvent,
  ProviderEventSchema,
} from "../../../../../shared/domain/events/normalized-event.ts";
import type { MappedRecord } from "../../../../../shared/sources/esp/provider-record.ts";
import { mapSesRecord } from "../../../../../shared/sources/esp/ses/map-ses-record.ts";

// Hand-written records shaped like the SES documentation's examples (docs/sources.md#amazon-ses).
const MESSAGE_ID = "0102018fc1a2b3c4-5d6e7f80-1234-4abc-9def-0123456789ab-000000";
const FEEDBACK_ID = "0100018fc1a2b9aa-1b2c3d4e-5f60-4a1b-8c2d-3e4f5a6b7c8d-000000";

function mail(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    timestamp: "2024-05-29T14:20:59.100Z",
    source: "notifications@mail.sender.example",
    sendingAccountId: "123456789012",
    messageId: MESSAGE_ID,
    destination: ["a.lee@acme-corp.com"],
    tags: {
      "ses:configuration-set": ["prod"],
      "ses:outgoing-ip": ["198.51.100.7"],
      campaign: ["q2-renewal"],
    },
    ...overrides,
  };
}

function bounceRecord(
  bounceType: string,
  bounceSubType: string,
  recipients: Record<string, unknown>[] = [
    {
      emailAddress: "a.lee@acme-corp.com",
      action: "failed",
      status: "5.1.1",
      diagnosticCode: "smtp; 550 5.1.1 <a.lee@acme-corp.com>: Recipient address rejected: User unknown",
    },
  ],
): Record<string, unknown> {
  return {
    eventType: "Bounce",
    bounce: {
      bounceType,
      bounceSubType,
      feedbackId: FEEDBACK_ID,
      timestamp: "2024-05-29T14:21:03.000Z",
      remoteMtaIp: "203.0.113.25",
      reportingMTA: "dns; a1-2.smtp-out.eu-west-1.amazonses.com",
      bouncedRecipients: recipients,
    },
    mail: mail(),
  };
}

function deliveryRecord(recipients = ["a.lee@acme-corp.com"]): Record<string, unknown> {
  return {
    eventType: "Delivery",
    mail: mail({ destination: recipients }),
    delivery: {
      timestamp: "2024-05-29T14:21:01.500Z",
      processingTimeMillis: 2400,
      recipients,
      smtpResponse: "250 2.6.0 Message received",
      reportingMTA: "a8-70.smtp-out.amazonses.com",
      remoteMtaIp: "203.0.113.25",
    },
  };
}

function events(result: MappedRecord): readonly ProviderEvent[] {
  if (!result.ok) throw new Error(`expected ok, got: ${result.reason}`);
  return result.events;
}

function only(result: MappedRecord): ProviderEvent {
  const list = events(result);
  expect(list).toHaveLength(1);
  return list[0] as ProviderEvent;
}

function reason(result: MappedRecord): string {
  if (result.ok) throw new Error(`expected a failure, got ${result.events.length} event(s)`);
  return result.reason;
}

describe("mapSesRecord: event publishing", () => {
  it("maps a Permanent/General bounce with every field", () => {
    expect(only(mapSesRecord(bounceRecord("Permanent", "General")))).toEqual({
      id: `ses:${FEEDBACK_ID}:a.lee@acme-corp.com:bounce`,
      source: "ses",
      occurredAt: "2024-05-29T14:21:03.000Z",
      type: "bounced",
      recipient: "a.lee@acme-corp.com",
      recipientDomain: "acme-corp.com",
      smtp: {
        code: 550,
        enhanced: "5.1.1",
        text: "550 5.1.1 <a.lee@acme-corp.com>: Recipient address rejected: User unknown",
      },
      espClass: "hard",
      mxHost: null,
      sendingIp: "198.51.100.7",
      ipPool: null,
      messageId: MESSAGE_ID,
      campaign: "q2-renewal",
    });
  });

  it.each([
    ["Permanent", "General", "bounced", "hard"],
    ["Permanent", "NoEmail", "bounced", "hard"],
    ["Permanent", "Suppressed", "dropped", null],
    ["Permanent", "OnAccountSuppressionList", "dropped", null],
    ["Transient", "General", "bounced", "soft"],
    ["Transient", "MailboxFull", "bounced", "soft"],
    ["Transient", "MessageTooLarge", "bounced", "soft"],
    ["Transient", "ContentRejected", "bounced", "block"],
    ["Transient", "AttachmentRejected", "bounced", "block"],
    ["Undetermined", "Undetermined", "bounced", "undetermined"],
  ])("maps bounce %s/%s to %s with espClass %s", (bounceType, subType, type, espClass) => {
    const e = only(mapSesRecord(bounceRecord(bounceType, subType)));
    expect(e.type).toBe(type);
    expect(e.espClass).toBe(espClass);
  });

  it("keeps the SES suppression text of a dropped bounce, but drops are not bounces", () => {
    const e = only(
      mapSesRecord(
        bounceRecord("Permanent", "OnAccountSuppressionList", [
          {
            emailAddress: "gone@acme-corp.com",
            action: "failed",
            status: "5.1.1",
            diagnosticCode:
              "Amazon SES did not send the message to this address because it is on the suppression list",
          },
        ]),
      ),
    );
    expect(e).toMatchObject({ type: "dropped", espClass: null, recipient: "gone@acme-corp.com" });
    expect(e.smtp).toEqual({
      code: null,
      enhanced: "5.1.1",
      text: "Amazon SES did not send the message to this address because it is on the suppression list",
    });
  });

  it("maps a delivery with its smtpResponse", () => {
    const e = only(mapSesRecord(deliveryRecord()));
    expect(e).toMatchObject({
      id: `ses:${MESSAGE_ID}:a.lee@acme-corp.com:delivery`,
      type: "delivered",
      occurredAt: "2024-05-29T14:21:01.500Z",
      espClass: null,
      smtp: { code: 250, enhanced: "2.6.0", text: "250 2.6.0 Message received" },
      sendingIp: "198.51.100.7",
    });
  });

  it("maps a delivery delay to deferred/soft with a per-attempt id", () => {
    const e = only(
      mapSesRecord({
        eventType: "DeliveryDelay",
        mail: mail(),
        deliveryDelay: {
          timestamp: "2024-05-29T15:01:00Z",
          delayType: "TransientCommunicationFailure",
          expirationTime: "2024-05-30T14:20:59.100Z",
          delayedRecipients: [
            {
              emailAddress: "a.lee@acme-corp.com",
              status: "4.4.7",
              diagnosticCode: "smtp; 451 4.7.1 Greylisting in action",
            },
          ],
        },
      }),
    );
    expect(e).toMatchObject({
      id: `ses:${MESSAGE_ID}:a.lee@acme-corp.com:delay:2024-05-29T15:01:00.000Z`,
      type: "deferred",
      espClass: "soft",
      occurredAt: "2024-05-29T15:01:00.000Z",
      smtp: { code: 451, enhanced: "4.4.7", text: "451 4.7.1 Greylisting in action" },
    });
  });

  it("maps a complaint, and an OnAccountSuppressionList complaint (never sent) as a drop", () => {
    const complaint = (complaintSubType: string | null) => ({
      eventType: "Complaint",
      mail: mail(),
      complaint: {
        feedbackId: FEEDBACK_ID,
        complaintSubType,
        timestamp: "2024-05-30T08:00:00.000Z",
        complainedRecipients: [{ emailAddress: "A.Lee@acme-corp.com" }],
        complaintFeedbackType: "abuse",
      },
    });
    expect(only(mapSesRecord(complaint(null)))).toMatchObject({
      id: `ses:${FEEDBACK_ID}:a.lee@acme-corp.com:complaint`,
      type: "complained",
      espClass: null,
      smtp: null,
      occurredAt: "2024-05-30T08:00:00.000Z",
    });
    expect(only(mapSesRecord(complaint("OnAccountSuppressionList"))).type).toBe("dropped");
  });

  it("maps Send and Reject per destination, at the mail timestamp", () => {
    const destination = ['"A Lee" <A.Lee@Acme-Corp.com>', "b.ng@globex.example"];
    const sent = events(mapSesRecord({ eventType: "Send", mail: mail({ destination }), send: {} }));
    expect(sent.map((e) => [e.id, e.type, e.recipient, e.occurredAt])).toEqual([
      [
        `ses:${MESSAGE_ID}:a.lee@acme-corp.com:send`,
        "sent",
        "a.lee@acme-corp.com",
        "2024-05-29T14:20:59.100Z",
      ],
      [
        `ses:${MESSAGE_ID}:b.ng@globex.example:send`,
        "sent",
        "b.ng@globex.example",
        "2024-05-29T14:20:59.100Z",
      ],
    ]);
    const rejected = events(
      mapSesRecord({ eventType: "Reject", mail: mail({ destination }), reject: { reason: "Bad content" } }),
    );
    expect(rejected.map((e) => [e.id, e.type])).toEqual([
      [`ses:${MESSAGE_ID}:a.lee@acme-corp.com:reject`, "dropped"],
      [`ses:${MESSAGE_ID}:b.ng@globex.example:reject`, "dropped"],
    ]);
  });

  it.each(["Open", "Click", "Subscription"])("yields no events for %s", (eventType) => {
    expect(mapSesRecord({ eventType, mail: mail(), open: {}, click: {} })).toEqual({ ok: true, events: [] });
  });

  it("fans out per recipient, each with its own reply", () => {
    const list = events(
      mapSesRecord(
        bounceRecord("Permanent", "General", [
          {
            emailAddress: "a@contoso.com",
            status: "5.1.10",
            diagnosticCode: "smtp; 550 5.1.10 RESOLVER.ADR.RecipientNotFound",
          },
          {
            emailAddress: "b@contoso.com",
            status: "5.7.606",
            diagnosticCode: "smtp; 550 5.7.606 Access denied, banned sending IP [198.51.100.7]",
          },
          { emailAddress: "c@fabrikam.co.uk" },
        ]),
      ),
    );
    expect(list.map((e) => [e.id, e.recipientDomain, e.smtp?.enhanced ?? null])).toEqual([
      [`ses:${FEEDBACK_ID}:a@contoso.com:bounce`, "contoso.com", "5.1.10"],
      [`ses:${FEEDBACK_ID}:b@contoso.com:bounce`, "contoso.com", "5.7.606"],
      [`ses:${FEEDBACK_ID}:c@fabrikam.co.uk:bounce`, "fabrikam.co.uk", null],
    ]);
    expect(list[2]?.smtp).toBeNull();

    const delivered = events(mapSesRecord(deliveryRecord(["x@a.example", "y@b.example", "z@c.example"])));
    expect(delivered.map((e) => e.id)).toEqual([
      `ses:${MESSAGE_ID}:x@a.example:delivery`,
      `ses:${MESSAGE_ID}:y@b.example:delivery`,
      `ses:${MESSAGE_ID}:z@c.example:delivery`,
    ]);
  });

  it("gives the same ids to the same record seen twice (SQS redelivery, Firehose re-import)", () => {
    const first = events(mapSesRecord(bounceRecord("Permanent", "General")));
    const second = events(mapSesRecord(structuredClone(bounceRecord("Permanent", "General"))));
    expect(second.map((e) => e.id)).toEqual(first.map((e) => e.id));
    expect(second).toEqual(first);
  });

  it("reads replies without a status, with a continuation dash, and other diagnostic types", () => {
    const e = only(
      mapSesRecord(
        bounceRecord("Permanent", "General", [
          {
            emailAddress: "a@gmail.com",
            diagnosticCode:
              "smtp; 550-5.1.1 The email account that you tried to reach does not exist. - gsmtp",
          },
        ]),
      ),
    );
    expect(e.smtp).toEqual({
      code: 550,
      enhanced: "5.1.1",
      text: "550-5.1.1 The email account that you tried to reach does not exist. - gsmtp",
    });
    const mimecast = only(
      mapSesRecord(
        bounceRecord("Permanent", "General", [
          {
            emailAddress: "b@acme.example",
            status: "5.0.0",
            diagnosticCode: "X-Postfix; 550 Administrative prohibition - envelope blocked",
          },
        ]),
      ),
    );
    expect(mimecast.smtp).toEqual({
      code: 550,
      enhanced: "5.0.0",
      text: "550 Administrative prohibition - envelope blocked",
    });
    // Text that does not open with a reply code has no code: a quoted "550" later on is not the reply.
    const odd = only(
      mapSesRecord(
        bounceRecord("Permanent", "General", [
          { emailAddress: "c@x.example", diagnosticCode: "Connection refused (550)" },
        ]),
      ),
    );
    expect(odd.smtp).toEqual({ code: null, enhanced: null, text: "Connection refused (550)" });
  });

  it("leaves sendingIp and campaign null when the tags are absent", () => {
    const e = only(mapSesRecord({ ...deliveryRecord(), mail: mail({ tags: undefined }) }));
    expect(e.sendingIp).toBeNull();
    expect(e.campaign).toBeNull();
  });

  it("produces events that satisfy the shared ProviderEvent contract", () => {
    for (const e of events(mapSesRecord(bounceRecord("Transient", "MailboxFull")))) {
      expect(ProviderEventSchema.safeParse(e).success).toBe(true);
    }
  });
});

describe("mapSesRecord: classic identity notifications", () => {
  const classic = (record: Record<string, unknown>) => {
    const { eventType, ...rest } = record;
    const { tags: _tags, ...untaggedMail } = rest.mail as Record<string, unknown>;
    return { notificationType: eventType, ...rest, mail: untaggedMail };
  };

  it.each([
    ["Permanent", "General", "bounced", "hard"],
    ["Permanent", "NoEmail", "bounced", "hard"],
    ["Permanent", "Suppressed", "dropped", null],
    ["Permanent", "OnAccountSuppressionList", "dropped", null],
    ["Transient", "MailboxFull", "bounced", "soft"],
    ["Transient", "ContentRejected", "bounced", "block"],
    ["Undetermined", "Undetermined", "bounced", "undetermined"],
  ])("maps bounce %s/%s to %s/%s", (bounceType, subType, type, espClass) => {
    const e = only(mapSesRecord(classic(bounceRecord(bounceType, subType))));
    expect(e).toMatchObject({
      type,
      espClass,
      id: `ses:${FEEDBACK_ID}:a.lee@acme-corp.com:bounce`,
      sendingIp: null,
    });
  });

  it("maps Delivery and Complaint the same way as event publishing", () => {
    const d = only(mapSesRecord(classic(deliveryRecord())));
    expect(d).toMatchObject({ type: "delivered", id: `ses:${MESSAGE_ID}:a.lee@acme-corp.com:delivery` });
    const c = only(
      mapSesRecord({
        notificationType: "Complaint",
        mail: { messageId: MESSAGE_ID, timestamp: "2024-05-29T14:20:59.100Z", destination: ["a@b.example"] },
        complaint: {
          feedbackId: FEEDBACK_ID,
          timestamp: "2024-05-30T08:00:00.000Z",
          complainedRecipients: [{ emailAddress: "a@b.example" }],
        },
      }),
    );
    expect(c).toMatchObject({ type: "complained", recipient: "a@b.example" });
  });

  it("treats the subscription-succeeded notice as carrying no events", () => {
    expect(
      mapSesRecord({
        notificationType: "AmazonSnsSubscriptionSucceeded",
        message: "You have successfully subscribed",
      }),
    ).toEqual({ ok: true, events: [] });
  });

  it("rejects types classic notifications never carry", () => {
    expect(reason(mapSesRecord({ notificationType: "DeliveryDelay", mail: mail() }))).toMatch(
      /^notificationType: unknown/,
    );
  });
});

describe("mapSesRecord: envelopes", () => {
  const sns = (inner: unknown) => ({
    Type: "Notification",
    MessageId: "5d2c9e2a-7d0f-5b9f-9d6d-1a2b3c4d5e6f",
    TopicArn: "arn:aws:sns:eu-west-1:123456789012:ses-events",
    Message: typeof inner === "string" ? inner : JSON.stringify(inner),
    Timestamp: "2024-05-29T14:21:04.000Z",
    SignatureVersion: "1",
  });

  it("parses an SNS envelope's Message twice (event publishing and classic)", () => {
    const direct = events(mapSesRecord(bounceRecord("Permanent", "General")));
    expect(events(mapSesRecord(sns(bounceRecord("Permanent", "General"))))).toEqual(direct);
    const classic = events(
      mapSesRecord(sns({ ...deliveryRecord(), eventType: undefined, notificationType: "Delivery" })),
    );
    expect(classic.map((e) => e.type)).toEqual(["delivered"]);
  });

  it("reads an EventBridge event's detail", () => {
    const e = only(
      mapSesRecord({
        version: "0",
        id: "a1b2c3d4-0000-1111-2222-333344445555",
        "detail-type": "Email Bounced",
        source: "aws.ses",
        account: "123456789012",
        time: "2024-05-29T14:21:04Z",
        region: "eu-west-1",
        resources: [],
        detail: bounceRecord("Transient", "ContentRejected"),
      }),
    );
    expect(e).toMatchObject({
      type: "bounced",
      espClass: "block",
      id: `ses:${FEEDBACK_ID}:a.lee@acme-corp.com:bounce`,
    });
  });

  it("names the envelope field when the inside is wrong", () => {
    expect(reason(mapSesRecord(sns("Successfully validated SNS topic")))).toMatch(/^Message: not JSON/);
    expect(reason(mapSesRecord({ ...sns({}), Message: 42 }))).toBe("Message: expected a string, got number");
    expect(
      reason(mapSesRecord(sns(bounceRecord("Permanent", "General", [{ emailAddress: "nobody" }])))),
    ).toBe('Message.bounce.bouncedRecipients[0].emailAddress: not an email address ("nobody")');
    expect(reason(mapSesRecord({ source: "aws.ses", "detail-type": "Email Bounced" }))).toMatch(/^detail: /);
    expect(reason(mapSesRecord({ source: "aws.ses", detail: { eventType: "Bounce", mail: mail() } }))).toBe(
      "detail.bounce: missing",
    );
    expect(
      reason(
        mapSesRecord({
          Type: "SubscriptionConfirmation",
          TopicArn: "arn:aws:sns:eu-west-1:1:t",
          Message: "confirm",
        }),
      ),
    ).toMatch(/^Type: SNS SubscriptionConfirmation/);
  });
});

describe("mapSesRecord: invalid records", () => {
  it.each<[string, unknown, RegExp | string]>([
    ["a string", "not a record", "record: expected a JSON object, got string"],
    ["null", null, "record: expected a JSON object, got null"],
    ["an array", [], "record: expected a JSON object, got an array"],
    ["no type at all", { mail: mail() }, /^eventType: missing/],
    ["an unknown eventType", { eventType: "Bounced", mail: mail() }, 'eventType: unknown value "Bounced"'],
    ["a non-string eventType", { eventType: 7 }, "eventType: expected a string, got number"],
    [
      "no mail.messageId",
      { ...deliveryRecord(), mail: mail({ messageId: undefined }) },
      "mail.messageId: missing",
    ],
    ["no mail", { eventType: "Delivery", delivery: {} }, "mail: missing"],
    ["no delivery object", { eventType: "Delivery", mail: mail() }, "delivery: missing"],
    ["an unknown bounceType", bounceRecord("Soft", "General"), /^bounce\.bounceType: /],
    [
      "no feedbackId",
      { ...bounceRecord("Permanent", "General"), bounce: { bounceType: "Permanent" } },
      /^bounce\./,
    ],
    [
      "a recipient without @",
      bounceRecord("Permanent", "General", [{ emailAddress: "a@b.example" }, { emailAddress: "postmaster" }]),
      'bounce.bouncedRecipients[1].emailAddress: not an email address ("postmaster")',
    ],
    ["an empty recipient list", deliveryRecord([]), /^delivery\.recipients: /],
    [
      "a delivery recipient without a domain",
      deliveryRecord(["a@b.example", "c@"]),
      'delivery.recipients[1]: not an email address ("c@")',
    ],
    [
      "a bad timestamp",
      { ...deliveryRecord(), delivery: { timestamp: "yesterday", recipients: ["a@b.example"] } },
      'delivery.timestamp: not an ISO 8601 timestamp ("yesterday")',
    ],
    [
      "an impossible date",
      { ...deliveryRecord(), delivery: { timestamp: "2024-02-30T10:00:00Z", recipients: ["a@b.example"] } },
      /^delivery\.timestamp: not an ISO 8601 timestamp/,
    ],
    [
      "a timestamp without a zone",
      { ...deliveryRecord(), delivery: { timestamp: "2024-05-29T14:21:01", recipients: ["a@b.example"] } },
      /^delivery\.timestamp: /,
    ],
    [
      "a Send without mail.destination",
      { eventType: "Send", mail: mail({ destination: undefined }), send: {} },
      "mail.destination: missing",
    ],
  ])("rejects %s, naming the field", (_label, record, expected) => {
    const why = reason(mapSesRecord(record));
    if (typeof expected === "string") expect(why).toBe(expected);
    else expect(why).toMatch(expected);
  });

  it("normalises timestamps with an offset to UTC with milliseconds", () => {
    const e = only(
      mapSesRecord({
        ...deliveryRecord(),
        delivery: { timestamp: "2024-05-29T16:21:01+02:00", recipients: ["a@b.example"] },
      }),
    );
    expect(e.occurredAt).toBe("2024-05-29T14:21:01.000Z");
  });
});
