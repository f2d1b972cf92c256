import { isIP } from "node:net";
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
  type MappedRecord,
  mapRecordSafely,
  optionalText,
  RecordError,
} from "../provider-record.ts";

/*
 * SendGrid Event Webhook events (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event): one object of a webhook batch (a JSON array).
 * `event`, `sg_event_id`, `timestamp` and `email` are what every delivery event carries; everything else is
 * read leniently, since custom args are merged into the top level and may shadow or oddly type a field we
 * only describe with (category, ip, pool). Only the fields the verdict rests on quarantine a record.
 */

const EventSchema = z.looseObject({
  event: z.string().min(1, "empty"),
  sg_event_id: z.string().trim().min(1, "empty"),
  timestamp: z.unknown().optional(),
  email: z.string().optional(),
  type: optionalText,
  status: optionalText,
  reason: optionalText,
  response: optionalText,
  ip: optionalText,
  sg_message_id: optionalText,
  "smtp-id": optionalText,
  pool: z.looseObject({ name: optionalText }).nullish().catch(null),
  category: z.unknown().optional(),
  marketing_campaign_name: optionalText,
  bounce_classification: optionalText,
});
type SendgridEvent = z.infer<typeof EventSchema>;

/** Engagement and account events: nothing about delivery. Checked before the required fields (see mapRecord). */
const IGNORED_EVENTS: ReadonlySet<string> = new Set([
  "open",
  "click",
  "unsubscribe",
  "group_unsubscribe",
  "group_resubscribe",
  "account_status_change",
]);
const MAPPED_EVENTS: ReadonlySet<string> = new Set([
  "processed",
  "delivered",
  "deferred",
  "bounce",
  "blocked",
  "dropped",
  "spamreport",
]);

// Outside 2000..2100 an epoch-seconds value is almost surely milliseconds or garbage, not a SendGrid time.
const MIN_EPOCH_S = 946_684_800;
const MAX_EPOCH_S = 4_102_444_800;

/**
 * Maps one SendGrid webhook event to zero or one provider event. Pure: no clock, no I/O. Duplicated
 * deliveries of an event share `sg_event_id`, so they map to the same id and deduplicate downstream.
 */
export function mapSendgridEvent(record: unknown): MappedRecord {
  return mapRecordSafely(() => mapRecord(record));
}

function mapRecord(record: unknown): ProviderEvent[] {
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    throw new RecordError(`record: expected a JSON object, got ${kindOf(record)}`);
  }
  const event: unknown = (record as { event?: unknown }).event;
  if (event === undefined && isSuppressionEntry(record)) {
    throw new RecordError(
      "record: a SendGrid suppression-list entry ({created, email, reason, status} as GET /v3/suppression/bounces, blocks, invalid_emails or spam_reports return it), not an Event Webhook event: it says an address is suppressed, not what happened to a message",
    );
  }
  // Opens and clicks are never stored: quarantining one for an odd field would only add noise.
  if (typeof event === "string" && IGNORED_EVENTS.has(event)) return [];
  const e = parse(record);
  if (!MAPPED_EVENTS.has(e.event)) throw new RecordError(`event: unknown value ${JSON.stringify(e.event)}`);
  const occurredAt = epochSecondsToIso(e.timestamp, "timestamp");
  const recipient = emailOf(e.email, "email");
  const outcome = outcomeOf(e);
  const out: ProviderEvent = {
    id: `sendgrid:${e.sg_event_id}`,
    source: "sendgrid",
    occurredAt,
    type: outcome.type,
    recipient,
    recipientDomain: domainOfAddress(recipient) ?? "",
    // Bounce and dropped carry `status` + `reason`; delivered and deferred the reply in `response`.
    smtp: smtpReply(e.status, e.reason ?? e.response),
    espClass: outcome.espClass,
    // SendGrid never names the MX it talked to.
    mxHost: null,
    sendingIp: e.ip !== null && isIP(e.ip) !== 0 ? e.ip : null,
    // Only `processed` carries the pool; other events would need a join by message id.
    ipPool: e.pool?.name ?? null,
    messageId: messageIdOf(e),
    campaign: campaignOf(e),
    // Only where SendGrid gave one: an optional field, absent rather than null on other events.
    ...(e.bounce_classification !== null ? { espClassification: e.bounce_classification } : {}),
  };
  return [validated(out)];
}

/** A suppression export row (docs/sources.md#sendgrid: Bounces API, retrieve all bounces). */
function isSuppressionEntry(record: object): boolean {
  return "created" in record && "email" in record && !("sg_event_id" in record);
}

function parse(record: object): SendgridEvent {
  const r = EventSchema.safeParse(record);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = formatPath(issue?.path ?? []) || "record";
  // zod 4 words a missing key as "expected string, received undefined".
  const missing = issue?.code === "invalid_type" && / received undefined$/.test(issue.message);
  throw new RecordError(`${path}: ${missing ? "missing" : (issue?.message ?? "invalid")}`);
}

interface Outcome {
  readonly type: EventType;
  readonly espClass: EspClass | null;
}

/** docs/sources.md#sendgrid. */
function outcomeOf(e: SendgridEvent): Outcome {
  switch (e.event) {
    case "processed":
      // Like Mailgun's `accepted`: counts "sent", never a delivery outcome.
      return { type: "sent", espClass: null };
    case "delivered":
      return { type: "delivered", espClass: null };
    case "deferred":
      return { type: "deferred", espClass: "soft" };
    case "dropped":
      // SendGrid did not try (suppression hit, invalid address): outside bounce rates.
      return { type: "dropped", espClass: null };
    case "spamreport":
      return { type: "complained", espClass: null };
    case "blocked":
      // Email Logs API status for a bounce with type=blocked.
      return { type: "bounced", espClass: "block" };
  }
  // bounce
  const type = e.type?.toLowerCase() ?? null;
  if (type === "bounce") return { type: "bounced", espClass: "hard" };
  // SendGrid calls a block temporary, but it does not retry it: a final refusal of the sender, not the address.
  if (type === "blocked") return { type: "bounced", espClass: "block" };
  // Older payloads without `type`, or a value SendGrid adds later: SendGrid did not say which kind.
  return { type: "bounced", espClass: "undetermined" };
}

/** Epoch seconds (a number, or digits as text: some relays stringify) to `YYYY-MM-DDTHH:mm:ss.sssZ`. */
export function epochSecondsToIso(value: unknown, field: string): string {
  if (value === undefined || value === null) throw new RecordError(`${field}: missing`);
  const t = typeof value === "string" && /^\d{1,12}(?:\.\d+)?$/.test(value.trim()) ? Number(value) : value;
  if (typeof t !== "number" || !Number.isFinite(t) || t < MIN_EPOCH_S || t >= MAX_EPOCH_S) {
    throw new RecordError(`${field}: not epoch seconds between 2000 and 2100 (${JSON.stringify(value)})`);
  }
  return new Date(Math.round(t * 1000)).toISOString();
}

/** Lower-cased, domain part normalised like recipientDomain (punycode, no trailing dot). */
export function emailOf(raw: string | undefined, field: string): string {
  if (raw === undefined) throw new RecordError(`${field}: missing`);
  const bare = raw.trim().toLowerCase();
  const at = bare.lastIndexOf("@");
  const domain = domainOfAddress(bare);
  if (at <= 0 || domain === null || domain === "" || /\s/.test(bare)) {
    throw new RecordError(`${field}: not an email address (${JSON.stringify(raw)})`);
  }
  return `${bare.slice(0, at)}@${domain}`;
}

// RFC 3464 diagnostic-type prefix ("smtp; "): it names the format, not the reply.
const DIAGNOSTIC_TYPE = /^\s*(?:smtp|x-[a-z0-9-]+)\s*;\s*/i;
const LEADING_REPLY = /^([2-5]\d\d)(?=[\s-]|$)/;
const ENHANCED_AFTER_REPLY = /^[2-5]\d\d[\s-]+#?([245]\.\d{1,3}\.\d{1,3})(?![\d.])/;

/**
 * The reply: `status` is the enhanced code; the text (`reason` / `response`) usually leads with the reply
 * code ("550 5.1.1 ..."). Drop reasons ("Bounced Address") have no code and keep only their text.
 */
export function smtpReply(status: string | null, text: string | null): SmtpReply | null {
  const body = text ? text.replace(DIAGNOSTIC_TYPE, "").trim() : "";
  const given = status ?? "";
  const code = LEADING_REPLY.exec(body)?.[1];
  const enhanced = ENHANCED_STATUS.test(given) ? given : (ENHANCED_AFTER_REPLY.exec(body)?.[1] ?? null);
  if (body === "" && enhanced === null) return null;
  return { code: code === undefined ? null : Number(code), enhanced, text: body === "" ? null : body };
}

// `sg_message_id` is the X-Message-Id returned at send time plus a per-recipient filter/receiver suffix.
const MESSAGE_ID_SUFFIX = /\.(?:filter|recvd)/i;

/** The send's X-Message-Id, so events join to the send and to each other; `smtp-id` when absent. */
function messageIdOf(e: SendgridEvent): string | null {
  const sg = e.sg_message_id;
  if (sg !== null) {
    const cut = sg.search(MESSAGE_ID_SUFFIX);
    // A leading suffix would leave nothing: keep the whole id then.
    return cut > 0 ? sg.slice(0, cut) : sg;
  }
  // Async bounces carry no sg_message_id; smtp-id is the RFC 5322 id in angle brackets.
  const smtpId = e["smtp-id"];
  return smtpId === null ? null : smtpId.replace(/^<(.*)>$/, "$1") || null;
}

/** First category (a string or an array of them), else the Marketing Campaigns name. */
function campaignOf(e: SendgridEvent): string | null {
  const c = e.category;
  const first: unknown = Array.isArray(c) ? c.find((x) => typeof x === "string" && x.trim() !== "") : c;
  if (typeof first === "string" && first.trim() !== "") return first.trim();
  return e.marketing_campaign_name;
}

/** Every produced event must satisfy the shared contract; anything else is odd input. */
function validated(event: ProviderEvent): ProviderEvent {
  const r = ProviderEventSchema.safeParse(event);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = formatPath(issue?.path ?? []);
  // Name the SendGrid field behind the normalized one, so quarantine reasons point at the payload.
  const field = path === "id" ? "sg_event_id" : path === "recipient" ? "email" : path;
  throw new RecordError(`${field}: ${issue?.message ?? "invalid"}`);
}

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v;
}
