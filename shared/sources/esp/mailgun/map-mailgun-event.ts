import * as z from "zod";
import type { EspClass } from "../../../domain/classify/taxonomy.ts";
import {
  type EventType,
  type ProviderEvent,
  ProviderEventSchema,
  type SmtpReply,
} from "../../../domain/events/normalized-event.ts";
import { domainOfAddress, normaliseDomain } from "../../../domain/organisations/organisation-of.ts";
import {
  ENHANCED_STATUS,
  formatPath,
  ISO_INSTANT,
  type MappedRecord,
  mapRecordSafely,
  optionalText,
  RecordError,
} from "../provider-record.ts";

/*
 * Mailgun events (docs/sources.md#mailgun). One mapper reads items of both pull APIs:
 *   - Events API (`GET /v3/{domain}/events`): `timestamp` is float epoch seconds;
 *   - Logs API (`POST /v1/analytics/logs`): `@timestamp` is an ISO string, plus a few extra fields.
 * Only `event`, `id` and a timestamp are guaranteed; Mailgun only ever adds fields, so schemas are loose.
 * Fields the verdict rests on (recipient, severity, reason) are checked strictly; descriptive fields (MX
 * host, IP, message id, tags) are read leniently so an oddly typed one never quarantines a bounce.
 */

const DeliveryStatusSchema = z.looseObject({
  // Mailgun sends an int; a numeric string is accepted, anything else is "no code".
  code: z
    .unknown()
    .optional()
    .transform((v) =>
      typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : null,
    ),
  "enhanced-code": optionalText,
  message: optionalText,
  description: optionalText,
  "mx-host": optionalText,
});

const EventSchema = z.looseObject({
  id: z.string().min(1, "empty"),
  event: z.string().min(1, "empty"),
  timestamp: z.unknown().optional(),
  "@timestamp": z.unknown().optional(),
  recipient: z.string().nullish(),
  "recipient-domain": z.string().nullish(),
  severity: z.string().nullish(),
  reason: z.string().nullish(),
  // A delivery-status that is not an object says nothing: treated as absent rather than quarantined.
  "delivery-status": DeliveryStatusSchema.nullish().catch(null),
  envelope: z.looseObject({ "sending-ip": optionalText, "i-ip-pool-id": optionalText }).nullish().catch(null),
  message: z
    .looseObject({
      headers: z.looseObject({ "message-id": optionalText, to: optionalText }).nullish().catch(null),
    })
    .nullish()
    .catch(null),
  tags: z.array(z.unknown()).nullish().catch(null),
  campaigns: z.array(z.unknown()).nullish().catch(null),
});
type MailgunEvent = z.infer<typeof EventSchema>;

/** Mapped event names and what each becomes (`failed` depends on severity and reason). */
const MAPPED_EVENTS = new Set(["delivered", "failed", "rejected", "complained", "accepted"]);
/** Engagement, storage and mailing-list events: nothing about delivery. */
const IGNORED_EVENTS: ReadonlySet<string> = new Set([
  "opened",
  "clicked",
  "unsubscribed",
  "stored",
  "list_member_uploaded",
  "list_member_upload_error",
  "list_uploaded",
]);

/** Mailgun-internal drop codes (docs/sources.md#mailgun): previously bounced, unsubscribed, complained, poor list. */
const DROP_CODES: ReadonlySet<number> = new Set([605, 606, 607, 625]);
// Outside 2000..2100 an epoch-seconds value is almost surely milliseconds or garbage, not a Mailgun time.
const MIN_EPOCH_S = 946_684_800;
const MAX_EPOCH_S = 4_102_444_800;

/**
 * Maps one Mailgun Events API or Logs API item to zero or one provider event. Pure: no clock, no I/O. A record
 * that cannot be read yields `{ok: false, reason}` naming the field, so the pipeline can quarantine it.
 */
export function mapMailgunEvent(record: unknown): MappedRecord {
  return mapRecordSafely(() => mapRecord(record));
}

function mapRecord(given: unknown): ProviderEvent[] {
  const record = unwrapWebhook(given);
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    throw new RecordError(`record: expected a JSON object, got ${record === null ? "null" : typeof record}`);
  }
  const e = parse(record);
  const occurredAt = occurredAtOf(e);
  if (IGNORED_EVENTS.has(e.event)) return [];
  if (!MAPPED_EVENTS.has(e.event)) throw new RecordError(`event: unknown value ${JSON.stringify(e.event)}`);

  const outcome = outcomeOf(e);
  // A `rejected` event (Mailgun refused the API call) names no recipient: the message's To header does.
  const recipient =
    e.event === "rejected" && (e.recipient === undefined || e.recipient === null)
      ? recipientOf(firstAddress(e.message?.headers?.to ?? null), "message.headers.to")
      : recipientOf(e.recipient);
  const status = e["delivery-status"];
  const sendingIp = e.envelope?.["sending-ip"] ?? null;
  const event: ProviderEvent = {
    // Mailgun ids are unique within a day only: the UTC day of the event scopes them. Events and Logs API
    // copies of one event share id and timestamp, so they get the same id and deduplicate.
    id: `mailgun:${e.id}:${occurredAt.slice(0, 10)}`,
    source: "mailgun",
    occurredAt,
    type: outcome.type,
    recipient,
    // From the address itself: `recipient-domain` is a separate field Mailgun does not check against it.
    recipientDomain: domainOfAddress(recipient) ?? "",
    smtp: status ? smtpOf(status) : null,
    espClass: outcome.espClass,
    mxHost: status?.["mx-host"] ? normaliseDomain(status["mx-host"]) : null,
    // Passed on as given: the pipeline checks it, leaves out one that is not an address and counts it (a note).
    sendingIp,
    ipPool: e.envelope?.["i-ip-pool-id"] ?? null,
    messageId: e.message?.headers?.["message-id"] ?? null,
    campaign: campaignOf(e),
  };
  const r = ProviderEventSchema.safeParse(event);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new RecordError(`${formatPath(issue?.path ?? [])}: ${issue?.message ?? "invalid"}`);
  }
  return [r.data];
}

function parse(record: object): MailgunEvent {
  const r = EventSchema.safeParse(record);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = formatPath(issue?.path ?? []) || "record";
  // zod 4 words a missing key as "expected string, received undefined".
  const missing = issue?.code === "invalid_type" && / received undefined$/.test(issue.message);
  throw new RecordError(`${path}: ${missing ? "missing" : (issue?.message ?? "invalid")}`);
}

/** `timestamp` (Events API) wins over `@timestamp` (Logs API); either becomes `YYYY-MM-DDTHH:mm:ss.sssZ`. */
function occurredAtOf(e: MailgunEvent): string {
  if (e.timestamp !== undefined && e.timestamp !== null) {
    const t = e.timestamp;
    if (typeof t !== "number" || !Number.isFinite(t) || t < MIN_EPOCH_S || t >= MAX_EPOCH_S) {
      throw new RecordError(`timestamp: not epoch seconds between 2000 and 2100 (${JSON.stringify(t)})`);
    }
    // Rounded, not floored: 1717000000.123 * 1000 is 1717000000122.9999 in binary floating point.
    return new Date(Math.round(t * 1000)).toISOString();
  }
  const iso = e["@timestamp"];
  if (iso === undefined || iso === null)
    throw new RecordError("timestamp: missing (neither timestamp nor @timestamp)");
  const m = typeof iso === "string" ? ISO_INSTANT.exec(iso.trim()) : null;
  const ms = m && typeof iso === "string" ? Date.parse(iso.trim()) : Number.NaN;
  // Date.parse rolls 2024-02-30 over to March: check the day exists.
  const dayExists =
    m !== null &&
    new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))).getUTCDate() === Number(m[3]);
  if (Number.isNaN(ms) || !dayExists || ms < MIN_EPOCH_S * 1000 || ms >= MAX_EPOCH_S * 1000) {
    throw new RecordError(`@timestamp: not an ISO 8601 timestamp (${JSON.stringify(iso)})`);
  }
  return new Date(ms).toISOString();
}

interface Outcome {
  readonly type: EventType;
  readonly espClass: EspClass | null;
}

/** docs/sources.md#mailgun. Suppression drops are Mailgun not even trying: outside bounce rates. */
function outcomeOf(e: MailgunEvent): Outcome {
  switch (e.event) {
    case "delivered":
      return { type: "delivered", espClass: null };
    case "rejected":
      return { type: "dropped", espClass: null };
    case "complained":
      return { type: "complained", espClass: null };
    case "accepted":
      return { type: "sent", espClass: null };
  }
  // failed
  const severity = e.severity?.trim().toLowerCase();
  if (severity === "temporary") return { type: "deferred", espClass: "soft" };
  if (severity !== "permanent") {
    throw new RecordError(
      `severity: expected "temporary" or "permanent" on a failed event, got ${JSON.stringify(e.severity ?? null)}`,
    );
  }
  const reason = e.reason?.trim().toLowerCase() ?? "";
  const code = e["delivery-status"]?.code;
  if (reason.startsWith("suppress-") || (code != null && DROP_CODES.has(code))) {
    return { type: "dropped", espClass: null };
  }
  if (reason === "bounce") return { type: "bounced", espClass: "hard" };
  // Retry limit reached: a temporary problem Mailgun gave up on.
  if (reason === "old") return { type: "bounced", espClass: "soft" };
  if (reason === "espblock") return { type: "bounced", espClass: "block" };
  // generic, greylisted, a missing reason, or one Mailgun adds later: Mailgun did not say what kind.
  return { type: "bounced", espClass: "undetermined" };
}

/**
 * A webhook POST body `{signature, "event-data"}` (documentation.mailgun.com/docs/mailgun/user-manual/webhooks/
 * webhook-payloads) carries the same event object as the Events API: mapped alike, the signature aside.
 */
function unwrapWebhook(record: unknown): unknown {
  if (typeof record !== "object" || record === null || Array.isArray(record)) return record;
  if (!("event-data" in record)) return record;
  const inner: unknown = (record as Record<string, unknown>)["event-data"];
  if (typeof inner !== "object" || inner === null || Array.isArray(inner)) {
    throw new RecordError(
      `event-data: expected the event object, got ${inner === null ? "null" : typeof inner}`,
    );
  }
  return inner;
}

/** The first address of a header list such as `"A" <a@x.com>, b@y.com`. */
function firstAddress(header: string | null): string | null {
  if (header === null) return null;
  const first = header.split(",")[0]?.trim() ?? "";
  return /<([^<>]*)>/.exec(first)?.[1] ?? (first === "" ? null : first);
}

/** Lower-cased, domain part normalised like recipientDomain (punycode, no trailing dot). */
function recipientOf(raw: string | null | undefined, field = "recipient"): string {
  if (raw === undefined || raw === null) throw new RecordError(`${field}: missing`);
  const bare = raw.trim().toLowerCase();
  const at = bare.lastIndexOf("@");
  const domain = domainOfAddress(bare);
  if (at <= 0 || domain === null || domain === "" || /\s/.test(bare)) {
    throw new RecordError(`${field}: not an email address (${JSON.stringify(raw)})`);
  }
  return `${bare.slice(0, at)}@${domain}`;
}

// RFC 3464 diagnostic-type prefix ("smtp; "): it names the format, not the reply (stripped as SES/SendGrid do).
const DIAGNOSTIC_TYPE = /^\s*(?:smtp|x-[a-z0-9-]+)\s*;\s*/i;
const ENHANCED_AFTER_REPLY = /^[2-5]\d\d[\s-]+#?([245]\.\d{1,3}\.\d{1,3})(?![\d.])/;
const LEADING_ENHANCED = /^([245]\.\d{1,3}\.\d{1,3})(?![\d.])/;
/**
 * Mailgun's own codes, not a receiving server's reply: 498 is Mailgun giving up before any SMTP exchange
 * ("No MX for [example.com]", documentation: api-events "failures" sample), 6xx its drops.
 */
const MAILGUN_INTERNAL_CODES: ReadonlySet<number> = new Set([498]);

function smtpOf(status: NonNullable<MailgunEvent["delivery-status"]>): SmtpReply | null {
  // 6xx (and 0) are Mailgun's own codes, not a receiving server's reply.
  const code =
    status.code !== null &&
    Number.isInteger(status.code) &&
    status.code >= 200 &&
    status.code <= 599 &&
    !MAILGUN_INTERNAL_CODES.has(status.code);
  const raw = status.message ?? status.description ?? null;
  const text = raw === null ? null : raw.replace(DIAGNOSTIC_TYPE, "").trim() || null;
  const given = status["enhanced-code"];
  // Only in the text when Mailgun leaves enhanced-code out: "550-5.1.1 The email account ..."
  const inText =
    text === null ? undefined : (ENHANCED_AFTER_REPLY.exec(text)?.[1] ?? LEADING_ENHANCED.exec(text)?.[1]);
  const enhanced = given !== null && ENHANCED_STATUS.test(given) ? given : (inText ?? null);
  const reply: SmtpReply = {
    code: code ? status.code : null,
    enhanced: enhanced !== null && ENHANCED_STATUS.test(enhanced) ? enhanced : null,
    text,
  };
  return reply.code === null && reply.enhanced === null && reply.text === null ? null : reply;
}

function campaignOf(e: MailgunEvent): string | null {
  const first: unknown = e.campaigns?.[0];
  if (typeof first === "object" && first !== null && "id" in first) {
    const id: unknown = first.id;
    if (typeof id === "string" && id !== "") return id;
  }
  const tag: unknown = e.tags?.[0];
  return typeof tag === "string" && tag !== "" ? tag : null;
}
