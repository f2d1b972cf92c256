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
  formatPath,
  ISO_INSTANT,
  type MappedRecord,
  mapRecordSafely,
  optionalText,
  RecordError,
} from "../provider-record.ts";

/*
 * Postmark records (docs/sources.md#postmark). Three shapes, one mapper each, plus a dispatcher for mixed input:
 *   - a Bounce object: an item of GET /bounces, GET /bounces/{id}, or the Bounce / SpamComplaint webhook
 *     (same fields plus RecordType) → mapPostmarkBounce;
 *   - the Delivery webhook (RecordType "Delivery") → mapPostmarkDelivery: the only per-recipient "delivered"
 *     Postmark offers without N+1 calls, i.e. the denominator;
 *   - an item of GET /messages/outbound → mapPostmarkOutboundMessage: "sent" per recipient (handed off, not
 *     confirmed delivered).
 * Schemas are loose (Postmark adds fields). Fields the verdict rests on (ID, Type/TypeCode, Email, BouncedAt)
 * are strict; descriptive ones (Details, Tag, MessageID) are read leniently so an oddly typed one never
 * quarantines a bounce. Postmark bounce records carry no MX host, sending IP or pool: those stay null.
 */

type Outcome =
  | { readonly kind: "event"; readonly type: EventType; readonly espClass: EspClass | null }
  | { readonly kind: "none" };

const event = (type: EventType, espClass: EspClass | null = null): Outcome => ({
  kind: "event",
  type,
  espClass,
});
const NONE: Outcome = { kind: "none" };

/**
 * Every Postmark bounce type (https://postmarkapp.com/developer/api/bounce-api) with its TypeCode and what it becomes. Choices where the
 * reference leaves room:
 *   - Transient: Postmark is still retrying, so it is a deferral (never final, outside rates), class soft.
 *   - DnsError, SoftBounce: Postmark gave up on a temporary problem: a soft bounce.
 *   - SpamNotification: the receiving side filtered the message as spam or policy; a receiver-filter block,
 *     not an address problem, so `block` (outcomes.ts counts it as an attempt but never as hard).
 *   - BadEmailAddress, ManuallyDeactivated, SMTPApiError, TemplateRenderingFailed: Postmark never handed the
 *     message to a receiving server (or no message at all): `dropped`, outside numerator and denominator,
 *     kept so the store shows why mail to the address stops.
 *   - Unsubscribe, Subscribe, AutoResponder, AddressChange, OpenRelayTest, VirusNotification,
 *     ChallengeVerification, Unconfirmed, InboundError: replies and notices that reached the bounce address,
 *     not delivery outcomes (an auto-reply even proves delivery): no event, so they cannot pose as drops.
 */
const BOUNCE_TYPES: Readonly<Record<string, { readonly code: number; readonly outcome: Outcome }>> = {
  HardBounce: { code: 1, outcome: event("bounced", "hard") },
  Transient: { code: 2, outcome: event("deferred", "soft") },
  Unsubscribe: { code: 16, outcome: NONE },
  Subscribe: { code: 32, outcome: NONE },
  AutoResponder: { code: 64, outcome: NONE },
  AddressChange: { code: 128, outcome: NONE },
  DnsError: { code: 256, outcome: event("bounced", "soft") },
  SpamNotification: { code: 512, outcome: event("bounced", "block") },
  OpenRelayTest: { code: 1024, outcome: NONE },
  Unknown: { code: 2048, outcome: event("bounced", "undetermined") },
  SoftBounce: { code: 4096, outcome: event("bounced", "soft") },
  VirusNotification: { code: 8192, outcome: NONE },
  ChallengeVerification: { code: 16384, outcome: NONE },
  BadEmailAddress: { code: 100000, outcome: event("dropped") },
  SpamComplaint: { code: 100001, outcome: event("complained") },
  ManuallyDeactivated: { code: 100002, outcome: event("dropped") },
  Unconfirmed: { code: 100003, outcome: NONE },
  Blocked: { code: 100006, outcome: event("bounced", "block") },
  SMTPApiError: { code: 100007, outcome: event("dropped") },
  InboundError: { code: 100008, outcome: NONE },
  DMARCPolicy: { code: 100009, outcome: event("bounced", "block") },
  TemplateRenderingFailed: { code: 100010, outcome: event("dropped") },
};
const TYPE_BY_LOWER = new Map(Object.keys(BOUNCE_TYPES).map((t) => [t.toLowerCase(), t]));
const TYPE_BY_CODE = new Map(Object.entries(BOUNCE_TYPES).map(([t, v]) => [v.code, t]));

/** Webhook record types that say nothing about delivery. */
const IGNORED_RECORD_TYPES: ReadonlySet<string> = new Set(["Open", "Click", "SubscriptionChange"]);
const BOUNCE_RECORD_TYPES: ReadonlySet<string> = new Set(["Bounce", "SpamComplaint"]);

// Outside 2000..2100 a timestamp is garbage, not a Postmark time.
const MIN_MS = Date.UTC(2000, 0, 1);
const MAX_MS = Date.UTC(2100, 0, 1);

const BounceSchema = z.looseObject({
  RecordType: z.string().nullish(),
  // Checked by bounceIdOf, for a reason that names the problem.
  ID: z.unknown().optional(),
  Type: z.string().nullish(),
  TypeCode: z.number().int().nullish(),
  Email: z.string().nullish(),
  BouncedAt: z.string().nullish(),
  Details: optionalText,
  MessageID: optionalText,
  Tag: optionalText,
});
type Bounce = z.infer<typeof BounceSchema>;

const DeliverySchema = z.looseObject({
  MessageID: z.string().trim().min(1, "empty"),
  Recipient: z.string(),
  DeliveredAt: z.string(),
  Details: optionalText,
  Tag: optionalText,
});

const OutboundMessageSchema = z.looseObject({
  MessageID: z.string().trim().min(1, "empty"),
  ReceivedAt: z.string(),
  Recipients: z.array(z.string()).nullish(),
  // Fallback when Recipients is absent: To/Cc/Bcc as [{Email, Name}].
  To: z.array(z.looseObject({ Email: z.string() })).nullish(),
  Cc: z.array(z.looseObject({ Email: z.string() })).nullish(),
  Bcc: z.array(z.looseObject({ Email: z.string() })).nullish(),
  Status: z.string().nullish(),
  Tag: optionalText,
});

/**
 * One Bounce object (API item or Bounce/SpamComplaint webhook) → zero or one event, id `postmark:${ID}` (the
 * API and webhook copies of a bounce share it, so they deduplicate). Pure: no clock, no I/O.
 */
export function mapPostmarkBounce(record: unknown): MappedRecord {
  return mapRecordSafely(() => mapBounce(record));
}

/**
 * The Postmark bounce ID inside a bounce event id (`postmark:4323372036` → `4323372036`), as
 * PUT /bounces/{id}/activate needs it; null for delivery/sent ids and other sources.
 */
export function postmarkBounceIdOf(eventId: string): string | null {
  return /^postmark:([1-9]\d{0,19})$/.exec(eventId)?.[1] ?? null;
}

/** The Delivery webhook → one `delivered` event, id `postmark:delivery:${MessageID}:${recipient}`. */
export function mapPostmarkDelivery(record: unknown): MappedRecord {
  return mapRecordSafely(() => mapDelivery(record));
}

/**
 * An item of GET /messages/outbound → one `sent` event per recipient, id `postmark:sent:${MessageID}:${recipient}`.
 * `Queued` messages are not sent yet: no event (a later read of the window sees them sent).
 */
export function mapPostmarkOutboundMessage(record: unknown): MappedRecord {
  return mapRecordSafely(() => mapOutbound(record));
}

/**
 * Any Postmark record, dispatched on RecordType (webhook buffers mix them) or, without one, on shape:
 * bounces (BouncedAt/TypeCode) vs outbound messages (ReceivedAt/Recipients). Open, Click and
 * SubscriptionChange webhooks yield no event.
 */
export function mapPostmarkRecord(record: unknown): MappedRecord {
  return mapRecordSafely(() => {
    const obj = asObject(record);
    const rt = obj.RecordType;
    if (rt !== undefined && rt !== null) {
      if (typeof rt !== "string") throw new RecordError(`RecordType: expected a string, got ${kindOf(rt)}`);
      if (BOUNCE_RECORD_TYPES.has(rt)) return mapBounce(obj);
      if (rt === "Delivery") return mapDelivery(obj);
      if (IGNORED_RECORD_TYPES.has(rt)) return [];
      throw new RecordError(`RecordType: unknown value ${JSON.stringify(rt)}`);
    }
    if ("BouncedAt" in obj || "TypeCode" in obj) return mapBounce(obj);
    if ("ReceivedAt" in obj || "Recipients" in obj) return mapOutbound(obj);
    throw new RecordError(
      "record: neither a Postmark bounce (ID, Type, BouncedAt) nor an outbound message (MessageID, Recipients, ReceivedAt)",
    );
  });
}

function mapBounce(record: unknown): ProviderEvent[] {
  const obj = asObject(record);
  const rt = obj.RecordType;
  if (rt !== undefined && rt !== null && !(typeof rt === "string" && BOUNCE_RECORD_TYPES.has(rt))) {
    throw new RecordError(
      `RecordType: expected "Bounce" or "SpamComplaint" (or none, as in the Bounce API), got ${JSON.stringify(rt)}`,
    );
  }
  const b = parse(BounceSchema, obj);
  const id = bounceIdOf(b.ID);
  // The SpamComplaint webhook is a complaint whatever its TypeCode: Postmark's documented example sends 512
  // (https://postmarkapp.com/developer/webhooks/spam-complaint-webhook), which the Bounce API calls SpamNotification.
  const typeName = rt === "SpamComplaint" ? "SpamComplaint" : bounceTypeOf(b);
  const { outcome } = BOUNCE_TYPES[typeName] ?? { outcome: NONE };
  if (outcome.kind === "none") return [];

  const occurredAt = instant(b.BouncedAt, "BouncedAt");
  const recipient = address(b.Email, "Email");
  return [
    validated({
      id: `postmark:${id}`,
      source: "postmark",
      occurredAt,
      type: outcome.type,
      recipient,
      recipientDomain: domainOfAddress(recipient) ?? "",
      // A complaint's Details is Postmark's note, not a server reply.
      smtp: outcome.type === "complained" ? null : smtpReply(b.Details),
      espClass: outcome.espClass,
      mxHost: null,
      sendingIp: null,
      ipPool: null,
      messageId: b.MessageID,
      campaign: b.Tag,
    }),
  ];
}

function mapDelivery(record: unknown): ProviderEvent[] {
  const obj = asObject(record);
  if (obj.RecordType !== "Delivery") {
    throw new RecordError(
      obj.RecordType === undefined
        ? 'RecordType: missing (expected "Delivery")'
        : `RecordType: expected "Delivery", got ${JSON.stringify(obj.RecordType)}`,
    );
  }
  const d = parse(DeliverySchema, obj);
  const recipient = address(d.Recipient, "Recipient");
  return [
    validated({
      id: `postmark:delivery:${d.MessageID}:${recipient}`,
      source: "postmark",
      occurredAt: instant(d.DeliveredAt, "DeliveredAt"),
      type: "delivered",
      recipient,
      recipientDomain: domainOfAddress(recipient) ?? "",
      smtp: smtpReply(d.Details),
      espClass: null,
      mxHost: null,
      sendingIp: null,
      ipPool: null,
      messageId: d.MessageID,
      campaign: d.Tag,
    }),
  ];
}

function mapOutbound(record: unknown): ProviderEvent[] {
  const m = parse(OutboundMessageSchema, asObject(record));
  if (m.Status?.trim().toLowerCase() === "queued") return [];
  const occurredAt = instant(m.ReceivedAt, "ReceivedAt");
  const listed: Array<[string, string]> = m.Recipients
    ? m.Recipients.map((r, i) => [r, `Recipients[${i}]`])
    : (["To", "Cc", "Bcc"] as const).flatMap((f) =>
        (m[f] ?? []).map((r, i): [string, string] => [r.Email, `${f}[${i}].Email`]),
      );
  if (listed.length === 0) throw new RecordError("Recipients: missing (no Recipients, To, Cc or Bcc)");
  const seen = new Set<string>();
  const out: ProviderEvent[] = [];
  for (const [raw, field] of listed) {
    const recipient = address(raw, field);
    // An address in both To and Cc is one delivery attempt.
    if (seen.has(recipient)) continue;
    seen.add(recipient);
    out.push(
      validated({
        id: `postmark:sent:${m.MessageID}:${recipient}`,
        source: "postmark",
        occurredAt,
        type: "sent",
        recipient,
        recipientDomain: domainOfAddress(recipient) ?? "",
        smtp: null,
        espClass: null,
        mxHost: null,
        sendingIp: null,
        ipPool: null,
        messageId: m.MessageID,
        campaign: m.Tag,
      }),
    );
  }
  return out;
}

/**
 * Postmark sends a number, and its documented webhook example is 4323372036854775807, beyond 2^53: the file
 * readers hand such numbers over as digit strings, kept exactly. A number that already lost digits is refused.
 */
function bounceIdOf(raw: unknown): string {
  if (raw === undefined || raw === null) throw new RecordError("ID: missing");
  if (typeof raw === "number" && Number.isSafeInteger(raw) && raw > 0) return String(raw);
  if (typeof raw === "string" && /^[1-9]\d{0,19}$/.test(raw.trim())) return raw.trim();
  if (typeof raw === "number" && raw > Number.MAX_SAFE_INTEGER) {
    throw new RecordError(`ID: the number ${raw} is beyond 2^53 and has lost digits; read the file as text`);
  }
  throw new RecordError(`ID: not a positive integer bounce id (${JSON.stringify(raw)})`);
}

/**
 * The bounce type from `Type`, else `TypeCode`. Both present must agree: a mismatch means a hand-edited or
 * corrupted record, and guessing which one is right would decide hard vs block at random.
 */
function bounceTypeOf(b: Bounce): string {
  const given = b.Type?.trim() ?? "";
  const byName = given === "" ? undefined : TYPE_BY_LOWER.get(given.toLowerCase());
  const code = b.TypeCode ?? null;
  const byCode = code === null ? undefined : TYPE_BY_CODE.get(code);
  if (byName !== undefined && byCode !== undefined && byName !== byCode) {
    throw new RecordError(
      `TypeCode: ${code} does not match Type ${JSON.stringify(given)} (expected ${BOUNCE_TYPES[byName]?.code})`,
    );
  }
  const name = byName ?? byCode;
  if (name !== undefined) return name;
  if (given === "" && code === null) throw new RecordError("Type: missing (neither Type nor TypeCode)");
  throw new RecordError(
    `Type: unknown value ${JSON.stringify(b.Type ?? null)}${code === null ? "" : ` (TypeCode ${code})`}`,
  );
}

function asObject(record: unknown): Record<string, unknown> {
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    throw new RecordError(`record: expected a JSON object, got ${kindOf(record)}`);
  }
  return record as Record<string, unknown>;
}

function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = formatPath(issue?.path ?? []) || "record";
  // zod 4 words a missing key as "expected string, received undefined".
  const missing = issue?.code === "invalid_type" && / received undefined$/.test(issue.message);
  throw new RecordError(`${path}: ${missing ? "missing" : (issue?.message ?? "invalid")}`);
}

/** ISO 8601 with a zone (Postmark writes an offset and up to 7 fraction digits) → `YYYY-MM-DDTHH:mm:ss.sssZ`. */
function instant(value: string | null | undefined, field: string): string {
  if (value === undefined || value === null) throw new RecordError(`${field}: missing`);
  const v = value.trim();
  const m = ISO_INSTANT.exec(v);
  const ms = m ? Date.parse(v) : Number.NaN;
  // Date.parse rolls 2024-02-30 over to March: check the day exists.
  const dayExists =
    m !== null &&
    new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))).getUTCDate() === Number(m[3]);
  if (Number.isNaN(ms) || !dayExists || ms < MIN_MS || ms >= MAX_MS) {
    throw new RecordError(`${field}: not an ISO 8601 timestamp with a zone (${JSON.stringify(value)})`);
  }
  return new Date(ms).toISOString();
}

/** Lower-cased, domain normalised like recipientDomain (punycode, no trailing dot). */
function address(raw: string | null | undefined, field: string): string {
  if (raw === undefined || raw === null) throw new RecordError(`${field}: missing`);
  const bare = raw.trim().toLowerCase();
  const at = bare.lastIndexOf("@");
  const domain = domainOfAddress(bare);
  if (at <= 0 || domain === null || domain === "" || /\s/.test(bare)) {
    throw new RecordError(`${field}: not an email address (${JSON.stringify(raw)})`);
  }
  return `${bare.slice(0, at)}@${domain}`;
}

// RFC 3464 diagnostic-type prefix ("smtp;", "X-Postfix; "): it names the format, not the reply.
const DIAGNOSTIC_TYPE = /^\s*(?:smtp|x-[a-z0-9-]+)\s*;\s*/i;
const LEADING_REPLY = /^([2-5]\d\d)(?=[\s-]|$)/;
const ENHANCED_AFTER_REPLY = /^[2-5]\d\d[\s-]+#?([245]\.\d{1,3}\.\d{1,3})(?![\d.])/;
// A reply quoted inside prose: "... said: 550 5.1.1 ..." or "diagnostic-code: smtp; 550-5.7.1 ...".
const QUOTED_REPLY = /(?:^|[\s;:(])([2-5]\d\d)[\s-]+#?([245]\.\d{1,3}\.\d{1,3})(?![\d.])/;
// Postfix's wording, where the reply may come without an enhanced code.
const SAID_REPLY = /\bsaid:\s*([2-5]\d\d)(?=[\s-]|$)/i;
// A lone enhanced code only with an explicit marker: a bare "2.10.1" may be a version number.
const MARKED_ENHANCED = /(?:\bstatus:\s*|#)([245]\.\d{1,3}\.\d{1,3})(?![\d.])/i;

/** The reply code and enhanced status in a Postmark `Details` text; the text itself without its prefix. */
function smtpReply(details: string | null | undefined): SmtpReply | null {
  const text = details ? details.replace(DIAGNOSTIC_TYPE, "").trim() : "";
  if (text === "") return null;
  let code: string | undefined = LEADING_REPLY.exec(text)?.[1];
  let enhanced: string | undefined;
  if (code !== undefined) {
    enhanced = ENHANCED_AFTER_REPLY.exec(text)?.[1];
  } else {
    const quoted = QUOTED_REPLY.exec(text);
    code = quoted?.[1] ?? SAID_REPLY.exec(text)?.[1];
    enhanced = quoted?.[2];
  }
  enhanced ??= MARKED_ENHANCED.exec(text)?.[1];
  return { code: code === undefined ? null : Number(code), enhanced: enhanced ?? null, text };
}

/** Every produced event must satisfy the shared contract; anything else is odd input. */
function validated(e: ProviderEvent): ProviderEvent {
  const r = ProviderEventSchema.safeParse(e);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new RecordError(`(event) ${formatPath(issue?.path ?? [])}: ${issue?.message ?? "invalid"}`);
}

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v;
}
