import { createHash } from "node:crypto";
import type { ProviderEvent } from "../domain/events/normalized-event.ts";

/*
 * A generated event rendered as an item of SparkPost's Events API (`GET /api/v1/events/message` results,
 * docs/sources.md#sparkpost), the inverse of mapSparkpostEvent (§4.8):
 *   delivered → delivery, sent → injection, deferred → delay, complained → spam_complaint,
 *   dropped → policy_rejection (SparkPost refusing a suppressed recipient; it never attempts delivery),
 *   bounced → bounce with a bounce_class whose category is the espClass (SPARKPOST_CLASS_OF).
 *
 * Not expressible (→ null): `bounced` with espClass null (every bounce class has a category).
 *
 * Differences the format makes unavoidable:
 *   - id: `sparkpost:${event_id}`, event_id a digit string derived from the generated id (sparkpostEventIdOf).
 *   - mxHost: SparkPost names the IP it delivered to, never the MX host: always null.
 *   - smtp on delivery and injection: the mapper ignores the reply there (null).
 *   - deferred: the mapper calls every delay soft, whatever the generated espClass.
 */

/** Bounce class per espClass: Invalid Recipient, Mail Block, Soft Bounce, Undetermined (bounce-classes.ts). */
export const SPARKPOST_CLASS_OF: Readonly<Record<string, number>> = {
  hard: 10,
  block: 50,
  soft: 20,
  undetermined: 1,
};
// Mailbox full has its own soft class; the text says so through the enhanced code (RFC 3463 X.2.2).
const MAILBOX_FULL_CLASS = 22;

/** SparkPost's `event_id`: a decimal digit string (17 digits or fewer), stable for a generated id. */
export function sparkpostEventIdOf(id: string): string {
  // 56 bits: the size of SparkPost's own ids, and no collision within any history we generate.
  return (createHash("sha256").update(id).digest().readBigUInt64BE(0) >> 8n).toString();
}

export function toSparkpostEvent(e: ProviderEvent): Record<string, unknown> | null {
  const base: Record<string, unknown> = {
    event_id: sparkpostEventIdOf(e.id),
    // The Events API writes ISO 8601 with milliseconds and a numeric offset.
    timestamp: new Date(e.occurredAt).toISOString().replace(/Z$/, "+00:00"),
    rcpt_to: e.recipient,
    raw_rcpt_to: e.recipient,
    routing_domain: e.recipientDomain,
    ...(e.messageId ? { message_id: e.messageId } : {}),
    ...(e.campaign ? { campaign_id: e.campaign } : {}),
    ...(e.sendingIp ? { sending_ip: e.sendingIp } : {}),
    ...(e.ipPool ? { ip_pool: e.ipPool } : {}),
  };
  const reply = {
    ...(e.smtp?.code != null ? { error_code: String(e.smtp.code) } : {}),
    ...(e.smtp?.text ? { raw_reason: e.smtp.text } : {}),
  };
  switch (e.type) {
    case "delivered":
      return { ...base, type: "delivery", num_retries: "0", delv_method: "esmtp" };
    case "sent":
      return { ...base, type: "injection" };
    case "deferred":
      // SparkPost logs each retry as a delay with a (soft) class; the mapper reads only the reply.
      return {
        ...base,
        type: "delay",
        bounce_class: String(SPARKPOST_CLASS_OF.soft),
        ...reply,
        num_retries: "1",
      };
    case "complained":
      // No reply: a complaint is a feedback-loop report, and the mapper finds no smtp in it.
      return { ...base, type: "spam_complaint", fbtype: "abuse" };
    case "dropped":
      return { ...base, type: "policy_rejection", ...reply };
    case "bounced": {
      const cls = bounceClassOf(e);
      if (cls === null) return null;
      return { ...base, type: "bounce", bounce_class: String(cls), ...reply };
    }
  }
}

function bounceClassOf(e: ProviderEvent): number | null {
  if (e.espClass === "soft" && /^[45]\.2\.2$/.test(e.smtp?.enhanced ?? "")) return MAILBOX_FULL_CLASS;
  return e.espClass ? (SPARKPOST_CLASS_OF[e.espClass] ?? null) : null;
}
