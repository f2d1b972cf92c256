import * as z from "zod";
import type { EspClass } from "../../../domain/classify/taxonomy.ts";
import {
  type EventType,
  type ProviderEvent,
  ProviderEventSchema,
  type SmtpReply,
} from "../../../domain/events/normalized-event.ts";
import { domainOfAddress } from "../../../domain/organisations/organisation-of.ts";
import {
  ENHANCED_STATUS,
  formatPath,
  ISO_INSTANT,
  type MappedRecord,
  mapRecordSafely,
  RecordError,
} from "../provider-record.ts";

/*
 * Amazon SES events (docs/sources.md#amazon-ses). One mapper reads every shape SES data reaches us in:
 *   (a) event publishing JSON (`eventType`), from Firehose exports or SQS with raw message delivery;
 *   (b) classic identity notifications (`notificationType`);
 *   (c) an SNS envelope whose `Message` is (a) or (b) as a string;
 *   (d) an EventBridge event (`source: "aws.ses"`) whose `detail` is (a).
 * Schemas are loose: SES adds fields over time and only the ones read here may reject a record.
 */

const RecipientDetailSchema = z.looseObject({
  emailAddress: z.string(),
  status: z.string().nullish(),
  diagnosticCode: z.string().nullish(),
});

const MailSchema = z.looseObject({
  messageId: z.string().min(1),
  timestamp: z.string().optional(),
  destination: z.array(z.string()).optional(),
  // Tags are read leniently (firstTag): a malformed tag we do not use must not quarantine a bounce.
  tags: z.record(z.string(), z.unknown()).nullish(),
});
type Mail = z.infer<typeof MailSchema>;

const BounceSchema = z.looseObject({
  bounceType: z.enum(["Permanent", "Transient", "Undetermined"]),
  bounceSubType: z.string(),
  feedbackId: z.string().min(1),
  timestamp: z.string(),
  bouncedRecipients: z.array(RecipientDetailSchema).min(1),
});

const ComplaintSchema = z.looseObject({
  feedbackId: z.string().min(1),
  timestamp: z.string(),
  complaintSubType: z.string().nullish(),
  complainedRecipients: z.array(z.looseObject({ emailAddress: z.string() })).min(1),
});

const DeliverySchema = z.looseObject({
  timestamp: z.string(),
  recipients: z.array(z.string()).min(1),
  smtpResponse: z.string().nullish(),
});

const DeliveryDelaySchema = z.looseObject({
  timestamp: z.string(),
  delayedRecipients: z.array(RecipientDetailSchema).min(1),
});

// Send and Reject carry no per-recipient data: recipients come from mail.destination.
const SendSchema = z.looseObject({});
const RejectSchema = z.looseObject({ reason: z.string().nullish() });
const DestinationMailSchema = MailSchema.extend({
  timestamp: z.string(),
  destination: z.array(z.string()).min(1),
});

const RECORD_SCHEMAS = {
  Bounce: z.looseObject({ mail: MailSchema, bounce: BounceSchema }),
  Complaint: z.looseObject({ mail: MailSchema, complaint: ComplaintSchema }),
  Delivery: z.looseObject({ mail: MailSchema, delivery: DeliverySchema }),
  DeliveryDelay: z.looseObject({ mail: MailSchema, deliveryDelay: DeliveryDelaySchema }),
  Send: z.looseObject({ mail: DestinationMailSchema, send: SendSchema }),
  Reject: z.looseObject({ mail: DestinationMailSchema, reject: RejectSchema }),
  // SES could not render the template, so it sent nothing: a drop (it never reached a receiver).
  "Rendering Failure": z.looseObject({
    mail: DestinationMailSchema,
    failure: z.looseObject({ errorMessage: z.string().nullish(), templateName: z.string().nullish() }),
  }),
} as const;
type MappedType = keyof typeof RECORD_SCHEMAS;

/** Event publishing types that say nothing about delivery (engagement, template errors, preferences). */
const IGNORED_EVENT_TYPES: ReadonlySet<string> = new Set(["Open", "Click", "Subscription"]);
/** Classic notifications only ever carry these three. */
const NOTIFICATION_TYPES: ReadonlySet<string> = new Set(["Bounce", "Complaint", "Delivery"]);
/** Sent once to a topic when identity notifications are switched on: informational, not an event. */
const SUBSCRIPTION_SUCCEEDED = "AmazonSnsSubscriptionSucceeded";

/**
 * Maps one SES record to zero or more provider events (one per recipient). Pure: no clock, no I/O. A record
 * that cannot be read yields `{ok: false, reason}` naming the field, so the pipeline can quarantine it.
 */
export function mapSesRecord(record: unknown): MappedRecord {
  return mapRecordSafely(() => mapAny(record));
}

function mapAny(record: unknown): ProviderEvent[] {
  if (!isObject(record)) throw new RecordError(`record: expected a JSON object, got ${kindOf(record)}`);
  // One of a Lambda SNS event's `Records` (https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html).
  if (record.EventSource === "aws:sns" && isObject(record.Sns)) return mapSnsEnvelope(record.Sns);
  // One of `aws sqs receive-message`'s `Messages`: the body is the SNS envelope or, with raw message
  // delivery, the SES event itself (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html).
  if (typeof record.Body === "string" && typeof record.ReceiptHandle === "string") {
    const body = parseEmbedded(record.Body, "Body");
    if (!isObject(body)) throw new RecordError(`Body: expected a JSON object, got ${kindOf(body)}`);
    return mapAny(body);
  }
  if (typeof record.Type === "string" && ("Message" in record || "TopicArn" in record)) {
    return mapSnsEnvelope(record);
  }
  if (record.source === "aws.ses") {
    if (!isObject(record.detail)) {
      throw new RecordError(`detail: expected the SES event object, got ${kindOf(record.detail)}`);
    }
    return mapSesJson(record.detail, "detail.");
  }
  return mapSesJson(record, "");
}

function mapSnsEnvelope(envelope: Record<string, unknown>): ProviderEvent[] {
  if (envelope.Type !== "Notification") {
    // SubscriptionConfirmation and the like: quarantined so an operator sees them, never silently lost.
    throw new RecordError(`Type: SNS ${String(envelope.Type)} message carries no SES event`);
  }
  const message = envelope.Message;
  if (typeof message !== "string")
    throw new RecordError(`Message: expected a string, got ${kindOf(message)}`);
  const inner = parseEmbedded(message, "Message");
  if (!isObject(inner)) throw new RecordError(`Message: expected a JSON object, got ${kindOf(inner)}`);
  return mapSesJson(inner, "Message.");
}

// A JSON document nested inside a string field; anything deeper than this is not an SES event.
const MAX_EMBEDDED_DEPTH = 64;

/** Parses JSON carried in a string field, refusing pathological nesting before JSON.parse sees it. */
function parseEmbedded(text: string, field: string): unknown {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_EMBEDDED_DEPTH) {
        throw new RecordError(`${field}: JSON nested deeper than ${MAX_EMBEDDED_DEPTH} levels`);
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RecordError(`${field}: not JSON (${(e as Error).message})`);
  }
}

function mapSesJson(json: Record<string, unknown>, prefix: string): ProviderEvent[] {
  let type: string;
  if ("eventType" in json) {
    if (typeof json.eventType !== "string") {
      throw new RecordError(`${prefix}eventType: expected a string, got ${kindOf(json.eventType)}`);
    }
    if (IGNORED_EVENT_TYPES.has(json.eventType)) return [];
    type = json.eventType;
  } else if ("notificationType" in json) {
    if (json.notificationType === SUBSCRIPTION_SUCCEEDED) return [];
    if (typeof json.notificationType !== "string" || !NOTIFICATION_TYPES.has(json.notificationType)) {
      throw new RecordError(
        `${prefix}notificationType: unknown value ${JSON.stringify(json.notificationType)}`,
      );
    }
    type = json.notificationType;
  } else {
    throw new RecordError(
      `${prefix}eventType: missing (not an SES event, classic notification, SNS envelope or EventBridge event)`,
    );
  }
  if (!isMappedType(type)) throw new RecordError(`${prefix}eventType: unknown value ${JSON.stringify(type)}`);
  return validated(mapTyped(type, json, prefix), prefix);
}

function mapTyped(type: MappedType, json: unknown, prefix: string): ProviderEvent[] {
  switch (type) {
    case "Bounce": {
      const { mail, bounce } = parse(RECORD_SCHEMAS.Bounce, json, prefix);
      const occurredAt = instant(bounce.timestamp, `${prefix}bounce.timestamp`);
      const outcome = bounceOutcome(bounce.bounceType, bounce.bounceSubType);
      return bounce.bouncedRecipients.map((r, i) => {
        const recipient = address(r.emailAddress, `${prefix}bounce.bouncedRecipients[${i}].emailAddress`);
        return event(mail, {
          // The event type is part of the id: SES gives a bounce and a complaint of one message the same feedbackId.
          id: `ses:${bounce.feedbackId}:${recipient}:bounce`,
          occurredAt,
          recipient,
          ...outcome,
          smtp: smtpReply(r.status, r.diagnosticCode),
        });
      });
    }
    case "Complaint": {
      const { mail, complaint } = parse(RECORD_SCHEMAS.Complaint, json, prefix);
      const occurredAt = instant(complaint.timestamp, `${prefix}complaint.timestamp`);
      // OnAccountSuppressionList: SES accepted the message but never sent it, so nobody complained.
      const type: EventType =
        complaint.complaintSubType === "OnAccountSuppressionList" ? "dropped" : "complained";
      return complaint.complainedRecipients.map((r, i) => {
        const recipient = address(
          r.emailAddress,
          `${prefix}complaint.complainedRecipients[${i}].emailAddress`,
        );
        return event(mail, {
          id: `ses:${complaint.feedbackId}:${recipient}:complaint`,
          occurredAt,
          recipient,
          type,
          espClass: null,
          smtp: null,
        });
      });
    }
    case "Delivery": {
      const { mail, delivery } = parse(RECORD_SCHEMAS.Delivery, json, prefix);
      const occurredAt = instant(delivery.timestamp, `${prefix}delivery.timestamp`);
      const smtp = smtpReply(null, delivery.smtpResponse);
      return delivery.recipients.map((raw, i) => {
        const recipient = address(raw, `${prefix}delivery.recipients[${i}]`);
        return event(mail, {
          id: `ses:${mail.messageId}:${recipient}:delivery`,
          occurredAt,
          recipient,
          type: "delivered",
          espClass: null,
          smtp,
        });
      });
    }
    case "DeliveryDelay": {
      const { mail, deliveryDelay } = parse(RECORD_SCHEMAS.DeliveryDelay, json, prefix);
      const occurredAt = instant(deliveryDelay.timestamp, `${prefix}deliveryDelay.timestamp`);
      return deliveryDelay.delayedRecipients.map((r, i) => {
        const recipient = address(
          r.emailAddress,
          `${prefix}deliveryDelay.delayedRecipients[${i}].emailAddress`,
        );
        return event(mail, {
          // SES reports a delay once per retry cycle: the timestamp tells the cycles apart.
          id: `ses:${mail.messageId}:${recipient}:delay:${occurredAt}`,
          occurredAt,
          recipient,
          type: "deferred",
          espClass: "soft",
          smtp: smtpReply(r.status, r.diagnosticCode),
        });
      });
    }
    case "Rendering Failure": {
      const { mail } = parse(RECORD_SCHEMAS["Rendering Failure"], json, prefix);
      const occurredAt = instant(mail.timestamp, `${prefix}mail.timestamp`);
      return mail.destination.map((raw, i) => {
        const recipient = address(raw, `${prefix}mail.destination[${i}]`);
        return event(mail, {
          id: `ses:${mail.messageId}:${recipient}:rendering-failure`,
          occurredAt,
          recipient,
          type: "dropped",
          espClass: null,
          smtp: null,
        });
      });
    }
    case "Send":
    case "Reject": {
      const { mail } =
        type === "Send"
          ? parse(RECORD_SCHEMAS.Send, json, prefix)
          : parse(RECORD_SCHEMAS.Reject, json, prefix);
      // Neither object has a timestamp of its own: both happen when SES accepts the call.
      const occurredAt = instant(mail.timestamp, `${prefix}mail.timestamp`);
      const suffix = type === "Send" ? "send" : "reject";
      return mail.destination.map((raw, i) => {
        const recipient = address(raw, `${prefix}mail.destination[${i}]`);
        return event(mail, {
          id: `ses:${mail.messageId}:${recipient}:${suffix}`,
          occurredAt,
          recipient,
          // A Reject (virus) is SES refusing to attempt delivery: a drop, outside bounce rates.
          type: type === "Send" ? "sent" : "dropped",
          espClass: null,
          smtp: null,
        });
      });
    }
  }
}

interface Outcome {
  readonly type: EventType;
  readonly espClass: EspClass | null;
}

/** https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html (bounce types); suppression-list hits are SES not even trying, so they are drops. */
function bounceOutcome(bounceType: "Permanent" | "Transient" | "Undetermined", subType: string): Outcome {
  if (bounceType === "Undetermined") return { type: "bounced", espClass: "undetermined" };
  if (bounceType === "Permanent") {
    if (subType === "Suppressed" || subType === "OnAccountSuppressionList")
      return { type: "dropped", espClass: null };
    // General, NoEmail, and any subtype SES adds later: SES called it permanent, so it is hard.
    return { type: "bounced", espClass: "hard" };
  }
  if (subType === "ContentRejected" || subType === "AttachmentRejected")
    return { type: "bounced", espClass: "block" };
  return { type: "bounced", espClass: "soft" };
}

interface PerRecipient extends Outcome {
  readonly id: string;
  readonly occurredAt: string;
  readonly recipient: string;
  readonly smtp: SmtpReply | null;
}

function event(mail: Mail, p: PerRecipient): ProviderEvent {
  const domain = domainOfAddress(p.recipient) ?? "";
  return {
    id: p.id,
    source: "ses",
    occurredAt: p.occurredAt,
    type: p.type,
    recipient: p.recipient,
    recipientDomain: domain,
    smtp: p.smtp,
    espClass: p.espClass,
    // SES never names the MX it talked to (remoteMtaIp is an address, not a host), so the pipeline resolves it.
    mxHost: null,
    sendingIp: firstTag(mail.tags, "ses:outgoing-ip"),
    // Not in the payload; deriving it from the configuration set would need the account's set → pool map.
    ipPool: null,
    messageId: mail.messageId,
    campaign: firstTag(mail.tags, "campaign"),
  };
}

/** Every produced event must satisfy the shared contract; anything else is a mapping bug or odd input. */
function validated(events: ProviderEvent[], prefix: string): ProviderEvent[] {
  const seen = new Set<string>();
  const out: ProviderEvent[] = [];
  for (const e of events) {
    // A recipient listed twice (To and Cc) is one delivery attempt: keep one event per id.
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    const r = ProviderEventSchema.safeParse(e);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new RecordError(
        `${prefix}(event for ${e.recipient}) ${formatPath(issue?.path ?? [])}: ${issue?.message ?? "invalid"}`,
      );
    }
    out.push(r.data);
  }
  return out;
}

function parse<S extends z.ZodType>(schema: S, value: unknown, prefix: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (!issue) throw new RecordError(`${prefix || "record"}: invalid`);
  const path = `${prefix}${formatPath(issue.path)}`;
  const missing = issue.code === "invalid_type" && / received undefined$/.test(issue.message);
  throw new RecordError(`${path}: ${missing ? "missing" : issue.message}`);
}

/** ISO 8601 with a zone, normalised to `YYYY-MM-DDTHH:mm:ss.sssZ` so ids and partitions agree. */
function instant(value: string, field: string): string {
  const m = ISO_INSTANT.exec(value.trim());
  const ms = m ? Date.parse(value.trim()) : Number.NaN;
  // Date.parse rolls 2024-02-30 over to March: check the day exists.
  const dayExists =
    m !== null &&
    new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))).getUTCDate() === Number(m[3]);
  if (Number.isNaN(ms) || !dayExists) {
    throw new RecordError(`${field}: not an ISO 8601 timestamp (${JSON.stringify(value)})`);
  }
  return new Date(ms).toISOString();
}

const ANGLE_ADDR = /<([^<>]*)>\s*$/;

/** `"A Lee" <A.Lee@Acme.com>` → `a.lee@acme.com`, the domain normalised like recipientDomain. */
function address(raw: string, field: string): string {
  const angle = ANGLE_ADDR.exec(raw);
  const bare = (angle?.[1] ?? raw).trim().toLowerCase();
  const at = bare.lastIndexOf("@");
  const domain = domainOfAddress(bare);
  if (at <= 0 || domain === null || domain === "" || /\s/.test(bare)) {
    throw new RecordError(`${field}: not an email address (${JSON.stringify(raw)})`);
  }
  return `${bare.slice(0, at)}@${domain}`;
}

// RFC 3464 diagnostic-type prefix ("smtp; ", "X-Postfix; "): it names the format, not the reply.
const DIAGNOSTIC_TYPE = /^\s*(?:smtp|x-[a-z0-9-]+)\s*;\s*/i;
const LEADING_REPLY = /^([2-5]\d\d)(?=[\s-]|$)/;
const ENHANCED_AFTER_REPLY = /^[2-5]\d\d[\s-]+#?([245]\.\d{1,3}\.\d{1,3})(?![\d.])/;

/** The reply a DSN or delivery reported: `status` is the enhanced code; the text leads with the reply code. */
function smtpReply(
  status: string | null | undefined,
  diagnostic: string | null | undefined,
): SmtpReply | null {
  const text = diagnostic ? diagnostic.replace(DIAGNOSTIC_TYPE, "").trim() : "";
  const givenStatus = status?.trim() ?? "";
  const code = LEADING_REPLY.exec(text)?.[1];
  const enhanced = ENHANCED_STATUS.test(givenStatus)
    ? givenStatus
    : (ENHANCED_AFTER_REPLY.exec(text)?.[1] ?? null);
  if (text === "" && enhanced === null) return null;
  return { code: code === undefined ? null : Number(code), enhanced, text: text === "" ? null : text };
}

/** First value of a tag, as event publishing sends tags (`{"name": ["value"]}`); null when absent or odd. */
function firstTag(tags: Record<string, unknown> | null | undefined, name: string): string | null {
  const values = tags?.[name];
  if (!Array.isArray(values)) return null;
  const first: unknown = values[0];
  return typeof first === "string" && first !== "" ? first : null;
}

function isMappedType(type: string): type is MappedType {
  return Object.hasOwn(RECORD_SCHEMAS, type);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v;
}
