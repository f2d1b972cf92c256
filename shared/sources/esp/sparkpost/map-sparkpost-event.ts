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
  optionalText,
  RecordError,
  type RecordMapper,
} from "../provider-record.ts";
import { ESP_CLASS_OF_CATEGORY, sparkpostBounceClass } from "./bounce-classes.ts";

/*
 * SparkPost message events (docs/sources.md#sparkpost). One mapper reads both shapes:
 *   - Events API items (`GET /api/v1/events/message` results): the event object itself, ISO `timestamp`;
 *   - webhook batch entries `{"msys": {"message_event": {...}}}` (also `gen_event`, `track_event`, ...),
 *     whose `timestamp` is historically an epoch-seconds string. `{"msys": {}}` is SparkPost's test ping.
 * Fields the verdict rests on (type, id, time, recipient, bounce_class) are checked strictly; descriptive
 * fields (IP, pool, ids, reply text) are read leniently so an oddly typed one never quarantines a bounce.
 *
 * Outcomes:
 *   delivery → delivered; injection → sent; delay → deferred (soft); spam_complaint → complained;
 *   bounce / out_of_band → bounced, espClass from bounce_class. A soft class stays a *bounce*: SparkPost
 *   logs retries as separate `delay` events and emits `bounce` only once it has given up (§0.2 "soft =
 *   final temporary failure"), so it belongs in the denominator, not with deferrals.
 *   Admin classes (25 SparkPost policy, 80 subscribe) → dropped: SparkPost, not a receiver, failed it.
 *   policy_rejection / generation_rejection / generation_failure → dropped: SparkPost never attempted
 *   delivery (its limits, suppression list, template failure; §4.9), so they stay out of bounce rates.
 *   Engagement, relay, A/B and ingest events → no events. Any other type is quarantined, so a new one shows.
 */

const EventSchema = z.looseObject({
  type: z.string().min(1, "empty"),
  event_id: z.unknown().optional(),
  timestamp: z.unknown().optional(),
  rcpt_to: z.string().nullish(),
  raw_rcpt_to: z.string().nullish(),
  bounce_class: z.unknown().optional(),
  error_code: z.unknown().optional(),
  reason: optionalText,
  raw_reason: optionalText,
  sending_ip: optionalText,
  ip_pool: optionalText,
  message_id: optionalText,
  campaign_id: optionalText,
});
type SparkpostEvent = z.infer<typeof EventSchema>;

/** The message-status types we map. */
const MAPPED_TYPES: ReadonlySet<string> = new Set([
  "delivery",
  "bounce",
  "out_of_band",
  "delay",
  "policy_rejection",
  "generation_rejection",
  "generation_failure",
  "spam_complaint",
  "injection",
]);
/** Engagement, unsubscribe, relay (inbound), A/B test and ingest events: nothing about delivery. */
const IGNORED_TYPES: ReadonlySet<string> = new Set([
  "open",
  "initial_open",
  "click",
  "amp_open",
  "amp_initial_open",
  "amp_click",
  "list_unsubscribe",
  "link_unsubscribe",
  "relay_injection",
  "relay_rejection",
  "relay_delivery",
  "relay_tempfail",
  "relay_permfail",
  "ab_test_completion",
  "ab_test_cancellation",
  "sms_status",
]);
/** Webhook event classes that never carry a delivery outcome: skipped whatever their `type`. */
const IGNORED_WEBHOOK_CLASSES: ReadonlySet<string> = new Set([
  "track_event",
  "unsubscribe_event",
  "relay_event",
  "ab_test_event",
  "ingest_event",
]);

// Outside 2000..2100 an epoch-seconds value is almost surely milliseconds or garbage.
const MIN_EPOCH_S = 946_684_800;
const MAX_EPOCH_S = 4_102_444_800;

/**
 * Maps one SparkPost event (Events API item or webhook batch entry) to zero or more provider events. Pure:
 * no clock, no I/O. An unreadable record yields `{ok: false, reason}` naming the field.
 */
export const mapSparkpostEvent: RecordMapper = (record: unknown): MappedRecord =>
  mapRecordSafely(() => mapRecord(record));

function mapRecord(record: unknown): ProviderEvent[] {
  if (!isObject(record)) throw new RecordError(`record: expected a JSON object, got ${kindOf(record)}`);
  if (!("msys" in record)) return mapEvent(record, "");
  // Webhook entry: one event class key (message_event, gen_event, track_event, ...) per entry.
  const msys = record.msys;
  if (!isObject(msys)) throw new RecordError(`msys: expected a JSON object, got ${kindOf(msys)}`);
  const out: ProviderEvent[] = [];
  for (const [key, inner] of Object.entries(msys)) {
    if (IGNORED_WEBHOOK_CLASSES.has(key)) continue;
    const prefix = `msys.${key}.`;
    if (!isObject(inner)) throw new RecordError(`msys.${key}: expected a JSON object, got ${kindOf(inner)}`);
    out.push(...mapEvent(inner, prefix));
  }
  return out;
}

function mapEvent(raw: Record<string, unknown>, prefix: string): ProviderEvent[] {
  // Ignored types are skipped before the full parse: an open's odd field must not quarantine it.
  if (typeof raw.type === "string" && IGNORED_TYPES.has(raw.type)) return [];
  const e = parse(raw, prefix);
  if (!MAPPED_TYPES.has(e.type))
    throw new RecordError(`${prefix}type: unknown value ${JSON.stringify(e.type)}`);

  const eventId = eventIdOf(e.event_id, prefix);
  const occurredAt = occurredAtOf(e.timestamp, prefix);
  const outcome = outcomeOf(e, prefix);
  const recipient = recipientOf(e, prefix);
  const event: ProviderEvent = {
    // event_id is unique across the account: the Events API and a webhook copy of one event share it.
    id: `sparkpost:${eventId}`,
    source: "sparkpost",
    occurredAt,
    type: outcome.type,
    recipient,
    // Always the recipient's own domain: routing_domain names where SparkPost routed the message (the
    // domain whose MX it used, e.g. google.com for a domain hosted at Google), not whose address it is.
    recipientDomain: domainOfAddress(recipient) ?? "",
    smtp: outcome.type === "delivered" || outcome.type === "sent" ? null : smtpOf(e),
    espClass: outcome.espClass,
    // SparkPost names only the IP it delivered to (`ip_address`), never the MX host: the pipeline resolves it.
    mxHost: null,
    sendingIp: e.sending_ip,
    ipPool: e.ip_pool,
    messageId: e.message_id,
    campaign: e.campaign_id,
  };
  const r = ProviderEventSchema.safeParse(event);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new RecordError(
      `${prefix}(event) ${formatPath(issue?.path ?? [])}: ${issue?.message ?? "invalid"}`,
    );
  }
  return [r.data];
}

function parse(record: Record<string, unknown>, prefix: string): SparkpostEvent {
  const r = EventSchema.safeParse(record);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = formatPath(issue?.path ?? []);
  const path = field === "" ? prefix.replace(/\.$/, "") || "record" : `${prefix}${field}`;
  // zod 4 words a missing key as "expected string, received undefined".
  const missing = issue?.code === "invalid_type" && / received undefined$/.test(issue.message);
  throw new RecordError(`${path}: ${missing ? "missing" : (issue?.message ?? "invalid")}`);
}

/** A digit string as SparkPost sends it; a JSON number only while exact (ids run past 2^53). */
function eventIdOf(v: unknown, prefix: string): string {
  if (v === undefined || v === null) throw new RecordError(`${prefix}event_id: missing`);
  if (typeof v === "string" && v.trim() !== "") return v.trim();
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return String(v);
  if (typeof v === "number" && Number.isInteger(v)) {
    throw new RecordError(
      `${prefix}event_id: the number ${v} is beyond 2^53 and has lost digits; SparkPost sends ids as strings`,
    );
  }
  throw new RecordError(`${prefix}event_id: expected a non-empty string, got ${JSON.stringify(v)}`);
}

/** ISO 8601 (Events API) or epoch seconds, string or number (webhooks); becomes `YYYY-MM-DDTHH:mm:ss.sssZ`. */
function occurredAtOf(t: unknown, prefix: string): string {
  const field = `${prefix}timestamp`;
  if (t === undefined || t === null) throw new RecordError(`${field}: missing`);
  const epoch =
    typeof t === "number" ? t : typeof t === "string" && /^\d+(?:\.\d+)?$/.test(t.trim()) ? Number(t) : null;
  if (epoch !== null) {
    if (!Number.isFinite(epoch) || epoch < MIN_EPOCH_S || epoch >= MAX_EPOCH_S) {
      throw new RecordError(`${field}: not epoch seconds between 2000 and 2100 (${JSON.stringify(t)})`);
    }
    // Rounded, not floored: a fraction times 1000 can land a hair below the intended millisecond.
    return new Date(Math.round(epoch * 1000)).toISOString();
  }
  const iso = typeof t === "string" ? t.trim() : "";
  const m = ISO_INSTANT.exec(iso);
  const ms = m ? Date.parse(iso) : Number.NaN;
  // Date.parse rolls 2024-02-30 over to March: check the day exists.
  const dayExists =
    m !== null &&
    new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))).getUTCDate() === Number(m[3]);
  if (Number.isNaN(ms) || !dayExists || ms < MIN_EPOCH_S * 1000 || ms >= MAX_EPOCH_S * 1000) {
    throw new RecordError(`${field}: neither ISO 8601 nor epoch seconds (${JSON.stringify(t)})`);
  }
  return new Date(ms).toISOString();
}

interface Outcome {
  readonly type: EventType;
  readonly espClass: EspClass | null;
}

function outcomeOf(e: SparkpostEvent, prefix: string): Outcome {
  switch (e.type) {
    case "delivery":
      return { type: "delivered", espClass: null };
    case "injection":
      return { type: "sent", espClass: null };
    case "spam_complaint":
      return { type: "complained", espClass: null };
    case "delay":
      // A 4xx SparkPost will retry: never final, kept for latency alarms (as SES DeliveryDelay, Mailgun temporary).
      return { type: "deferred", espClass: "soft" };
    case "policy_rejection":
    case "generation_rejection":
    case "generation_failure":
      return { type: "dropped", espClass: null };
  }
  // bounce, out_of_band
  const code = bounceClassOf(e.bounce_class, prefix);
  const known = sparkpostBounceClass(code);
  // A class SparkPost added after our table: it did not say what kind, the text classifier still reads the reply.
  if (known === undefined) return { type: "bounced", espClass: "undetermined" };
  const espClass = ESP_CLASS_OF_CATEGORY[known.category];
  return espClass === null ? { type: "dropped", espClass: null } : { type: "bounced", espClass };
}

/** `"10"` as SparkPost sends it, or 10. Required on bounces: the ESP's class is half the verdict. */
function bounceClassOf(v: unknown, prefix: string): number {
  const field = `${prefix}bounce_class`;
  if (v === undefined || v === null || v === "") throw new RecordError(`${field}: missing on a bounce`);
  if (typeof v === "number" && Number.isInteger(v) && v > 0) return v;
  if (typeof v === "string" && /^\d{1,4}$/.test(v.trim()) && Number(v) > 0) return Number(v);
  throw new RecordError(`${field}: not a bounce class number (${JSON.stringify(v)})`);
}

/** `rcpt_to` (SparkPost lower-cases it), else `raw_rcpt_to`; the domain normalised like recipientDomain. */
function recipientOf(e: SparkpostEvent, prefix: string): string {
  const given = e.rcpt_to ?? e.raw_rcpt_to;
  const field = `${prefix}${e.rcpt_to != null ? "rcpt_to" : "raw_rcpt_to"}`;
  if (given === undefined || given === null) throw new RecordError(`${prefix}rcpt_to: missing`);
  const bare = given.trim().toLowerCase();
  const at = bare.lastIndexOf("@");
  const domain = domainOfAddress(bare);
  if (at <= 0 || domain === null || domain === "" || /\s/.test(bare)) {
    throw new RecordError(`${field}: not an email address (${JSON.stringify(given)})`);
  }
  return `${bare.slice(0, at)}@${domain}`;
}

const LEADING_REPLY = /^([2-5]\d\d)(?=[\s-]|$)/;
const ENHANCED_AFTER_REPLY = /^[2-5]\d\d[\s-]+#?([245]\.\d{1,3}\.\d{1,3})(?![\d.])/;
const LEADING_ENHANCED = /^([245]\.\d{1,3}\.\d{1,3})(?![\d.])/;

/**
 * The reply: `raw_reason` is the exact remote text (code and enhanced status lead it); `reason` is SparkPost's
 * canonical form (addresses redacted), the fallback. `error_code` fills in a code the text does not lead with.
 */
function smtpOf(e: SparkpostEvent): SmtpReply | null {
  const text = e.raw_reason ?? e.reason;
  const lead = (s: string | null) => {
    if (s === null) return { code: null, enhanced: null };
    const code = LEADING_REPLY.exec(s)?.[1];
    const enhanced = ENHANCED_AFTER_REPLY.exec(s)?.[1] ?? LEADING_ENHANCED.exec(s)?.[1];
    return { code: code === undefined ? null : Number(code), enhanced: enhanced ?? null };
  };
  const raw = lead(e.raw_reason);
  const canonical = lead(e.reason);
  const enhanced = raw.enhanced ?? canonical.enhanced;
  const reply: SmtpReply = {
    code: raw.code ?? errorCodeOf(e.error_code) ?? canonical.code,
    enhanced: enhanced !== null && ENHANCED_STATUS.test(enhanced) ? enhanced : null,
    text,
  };
  return reply.code === null && reply.enhanced === null && reply.text === null ? null : reply;
}

/** `"554"` or 554; anything outside 200..599 is not a remote reply code. */
function errorCodeOf(v: unknown): number | null {
  const n =
    typeof v === "number" ? v : typeof v === "string" && /^\d{3}$/.test(v.trim()) ? Number(v) : Number.NaN;
  return Number.isInteger(n) && n >= 200 && n <= 599 ? n : null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v;
}
