import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { ProviderEvent } from "../../../../shared/domain/events/normalized-event.ts";
import { mapMailgunEvent } from "../../../../shared/sources/esp/mailgun/map-mailgun-event.ts";
import { mapPostmarkRecord } from "../../../../shared/sources/esp/postmark/map-postmark-bounce.ts";
import type { MappedRecord } from "../../../../shared/sources/esp/provider-record.ts";
import { mapSendgridEvent } from "../../../../shared/sources/esp/sendgrid/map-sendgrid-event.ts";
import { mapSesRecord } from "../../../../shared/sources/esp/ses/map-ses-record.ts";
import { mapSparkpostEvent } from "../../../../shared/sources/esp/sparkpost/map-sparkpost-event.ts";

/* Each defect found by mapping the providers' published payloads (test/fixtures/providers/), one test each. */

const fixture = (path: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../../fixtures/providers/${path}`, import.meta.url), "utf8"));

function events(r: MappedRecord): readonly ProviderEvent[] {
  if (!r.ok) throw new Error(`quarantined: ${r.reason}`);
  return r.events;
}
const one = (r: MappedRecord): ProviderEvent => {
  const list = events(r);
  expect(list).toHaveLength(1);
  return list[0] as ProviderEvent;
};

describe("recipient domain from the recipient address, never from routing fields", () => {
  it("SparkPost: routing_domain (where the message was routed) is not the recipient's domain", () => {
    const [entry] = fixture("sparkpost/webhook-sample-batch.json") as Array<{
      msys: { message_event: object };
    }>;
    const bounce = {
      ...entry?.msys.message_event,
      rcpt_to: "nobody@kidbombay.com",
      routing_domain: "google.com",
    };
    expect(one(mapSparkpostEvent(bounce)).recipientDomain).toBe("kidbombay.com");
  });

  it("Mailgun: recipient-domain is not checked against the recipient by Mailgun", () => {
    const failed = fixture("mailgun/events-failed-permanent-suppress-bounce.json") as object;
    const e = one(
      mapMailgunEvent({ ...failed, recipient: "joan@example.com", "recipient-domain": "mailgun.com" }),
    );
    expect(e.recipientDomain).toBe("example.com");
  });
});

describe("SES", () => {
  it("keeps a bounce and a complaint that share a feedbackId apart (the id includes the event type)", () => {
    const bounce = one(mapSesRecord(fixture("ses/firehose-bounce-record.json")));
    const complaint = one(mapSesRecord(fixture("ses/firehose-complaint-record.json")));
    expect(bounce.id).not.toBe(complaint.id);
  });

  it("maps a Rendering Failure to a drop per destination", () => {
    const e = one(mapSesRecord(fixture("ses/firehose-rendering-failure-record.json")));
    expect(e).toMatchObject({ type: "dropped", recipient: "recipient@example.com", smtp: null });
  });

  it("reads the Lambda SNS event's record and an SQS receive-message message", () => {
    const lambda = fixture("ses/wrapper-lambda-sns-event.json") as { Records: unknown[] };
    expect(one(mapSesRecord(lambda.Records[0])).type).toBe("complained");
    const sqs = fixture("ses/wrapper-sqs-receive-message.json") as { Messages: unknown[] };
    expect(one(mapSesRecord(sqs.Messages[0])).type).toBe("delivered");
  });
});

describe("Mailgun", () => {
  it("maps a webhook payload {signature, event-data}", () => {
    const e = one(mapMailgunEvent(fixture("mailgun/webhook-delivered.json")));
    expect(e).toMatchObject({ type: "delivered", recipient: "john@example.com" });
  });

  it("maps a rejected event, which names no recipient, from its To header", () => {
    const e = one(mapMailgunEvent(fixture("mailgun/events-rejected.json")));
    expect(e).toMatchObject({ type: "dropped", recipient: "joan@example.org" });
  });

  it("takes the enhanced code from the text when only there, and strips the `smtp; ` prefix", () => {
    const failed = fixture("mailgun/events-failed-permanent-delayed-bounce.json") as Record<string, unknown>;
    const status = { ...(failed["delivery-status"] as object), "enhanced-code": undefined };
    const e = one(mapMailgunEvent({ ...failed, "delivery-status": status }));
    expect(e.smtp).toEqual({
      code: 550,
      enhanced: "5.1.1",
      text: "550-5.1.1 The email account that you tried to reach does not exist.",
    });
  });

  it("does not store 498 (Mailgun giving up: No MX) as an SMTP reply code", () => {
    const page = fixture("mailgun/events-page-failures.json") as { items: unknown[] };
    expect(one(mapMailgunEvent(page.items[0])).smtp).toMatchObject({
      code: null,
      text: "No MX for [example.com]",
    });
  });
});

describe("Postmark", () => {
  it("keeps an ID beyond 2^53 exactly when it arrives as digits", () => {
    const hook = fixture("postmark/bounce-webhook.json") as Record<string, unknown>;
    const e = one(mapPostmarkRecord({ ...hook, ID: "4323372036854775807" }));
    expect(e.id).toBe("postmark:4323372036854775807");
  });

  it("maps the SpamComplaint webhook (TypeCode 512) as a complaint", () => {
    expect(one(mapPostmarkRecord(fixture("postmark/spam-complaint-webhook.json"))).type).toBe("complained");
  });
});

describe("SendGrid", () => {
  it("keeps bounce_classification", () => {
    const [bounce] = fixture("sendgrid/event-webhook-bounce-classification.json") as unknown[];
    expect(one(mapSendgridEvent(bounce)).espClassification).toBe("Invalid Address");
  });

  it("names a suppression-list export for what it is", () => {
    const [row] = fixture("sendgrid/suppression-bounces-export.json") as unknown[];
    const r = mapSendgridEvent(row);
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.reason).toMatch(/suppression-list entry/);
  });
});
