import { createHash } from "node:crypto";
import type { ProviderEvent } from "../domain/events/normalized-event.ts";

/*
 * A generated event rendered as one SendGrid Event Webhook event (docs/sources.md#sendgrid), the inverse of
 * mapSendgridEvent (§1.12), so simulated histories can be saved as webhook batches and ingested through the
 * real mapper.
 *
 * Not expressible (→ null):
 *   - `bounced` with espClass "soft": SendGrid has no soft bounce. A temporary failure is `deferred` while it
 *     retries; `bounce` is either type "bounce" (hard) or "blocked" (block). Rendering it as either would
 *     change the class the analysis rests on.
 *   - `bounced` with espClass null: the mapper always gives a bounce a class.
 *
 * Differences the format makes unavoidable (the mapper gives back everything else):
 *   - id: `sendgrid:${sg_event_id}`, sg_event_id derived from the generated id (sendgridEventIdOf).
 *   - occurredAt: SendGrid's `timestamp` is whole Unix seconds, so milliseconds are truncated.
 *   - ipPool: SendGrid names the pool only on `processed`; every other event maps back with ipPool null.
 *   - sendingIp: `processed` and `spamreport` carry no sending IP (a complaint's `ip` would be the
 *     recipient's), so those map back with sendingIp null.
 *   - mxHost: SendGrid never names the MX host: always null.
 *   - smtp on delivered/deferred: SendGrid writes only `response`; the enhanced code comes back only when the
 *     text carries it after the reply code (as every generated reply does). A reply code is only ever read
 *     from the text, on every event.
 */

/** SendGrid's `sg_event_id`: 22 base64url characters (a UUIDv4's worth), stable for a generated id. */
export function sendgridEventIdOf(id: string): string {
  return createHash("sha256").update(id).digest("base64url").slice(0, 22);
}

// The mapper cuts sg_message_id at the first ".filter…" / ".recvd…". A message id that itself contains one
// would be cut there whatever we append (generated ids never contain one), so it is sent bare.
const SUFFIX_LIKE = /\.(?:filter|recvd)/i;

export function toSendgridEvent(e: ProviderEvent): Record<string, unknown> | null {
  const base: Record<string, unknown> = {
    email: e.recipient,
    timestamp: Math.floor(Date.parse(e.occurredAt) / 1000),
    sg_event_id: sendgridEventIdOf(e.id),
    ...messageIds(e),
    ...(e.campaign ? { category: e.campaign } : {}),
  };
  const ip = e.sendingIp ? { ip: e.sendingIp } : {};
  // Bounce and dropped carry the enhanced code in `status` and the reply in `reason`.
  const statusReason = {
    ...(e.smtp?.enhanced ? { status: e.smtp.enhanced } : {}),
    ...(e.smtp?.text ? { reason: e.smtp.text } : {}),
  };
  // Delivered and deferred carry the reply in `response` only.
  const response = e.smtp?.text ? { response: e.smtp.text } : {};
  switch (e.type) {
    case "sent":
      return {
        ...base,
        event: "processed",
        ...(e.ipPool ? { pool: { name: e.ipPool, id: poolIdOf(e.ipPool) } } : {}),
      };
    case "delivered":
      return { ...base, event: "delivered", ...response, ...ip, tls: 1 };
    case "deferred":
      return { ...base, event: "deferred", ...response, attempt: "1", ...ip, tls: 1 };
    case "dropped":
      return { ...base, event: "dropped", ...statusReason };
    case "complained":
      return { ...base, event: "spamreport" };
    case "bounced": {
      const type = bounceTypeOf(e.espClass);
      if (type === null) return null;
      return {
        ...base,
        event: "bounce",
        // Older payloads have no `type`: the mapper reads that as "SendGrid did not say" (undetermined).
        ...(type === "" ? {} : { type }),
        ...statusReason,
        ...ip,
        tls: 1,
      };
    }
  }
}

/** "" = no `type` field (undetermined); null = not expressible. */
function bounceTypeOf(espClass: ProviderEvent["espClass"]): "bounce" | "blocked" | "" | null {
  switch (espClass) {
    case "hard":
      return "bounce";
    case "block":
      return "blocked";
    case "undetermined":
      return "";
    default:
      return null;
  }
}

/**
 * `sg_message_id` is the X-Message-Id plus a per-recipient suffix the mapper strips; `smtp-id` the RFC 5322
 * Message-ID in angle brackets, as SendGrid relays it.
 */
function messageIds(e: ProviderEvent): Record<string, string> {
  const id = e.messageId;
  if (!id) return {};
  const suffix = SUFFIX_LIKE.test(id) ? "" : `.filterdrecv-${sendgridEventIdOf(id).slice(0, 10)}-1.0`;
  return { sg_message_id: `${id}${suffix}`, "smtp-id": id.startsWith("<") ? id : `<${id}>` };
}

/** SendGrid pool ids are numeric; a stable one per pool name. */
function poolIdOf(name: string): number {
  return createHash("sha256").update(name).digest().readUInt32BE(0) % 100_000;
}
