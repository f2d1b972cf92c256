import { createHash } from "node:crypto";
import type { ProviderEvent } from "../domain/events/normalized-event.ts";
import { toEasternWallClock } from "../sources/esp/postmark/eastern-time.ts";

/*
 * A generated event rendered as the Postmark record that reports it (docs/sources.md#postmark), the inverse of
 * mapPostmarkRecord:
 *   - bounced → a Bounce object (an item of GET /bounces, RecordType "Bounce"): hard → HardBounce (1),
 *     block → Blocked (100006; the mapper reads SpamNotification the same, but that one means "delivered,
 *     then filtered", not a rejection), soft → SoftBounce (4096), undetermined → Unknown (2048);
 *   - deferred → a Transient bounce (2): Postmark's record of a delay it is still retrying;
 *   - complained → a SpamComplaint bounce (100001, RecordType "SpamComplaint");
 *   - delivered → the Delivery webhook (RecordType "Delivery").
 *
 * Not expressible (→ null):
 *   - dropped: Postmark's send API refuses an inactive (suppressed) address outright, so no bounce record
 *     exists (§3.7). The mapper's `dropped` types (BadEmailAddress, ManuallyDeactivated, ...) say something
 *     else, and the generated reason would not survive them.
 *   - sent: lives in GET /messages/outbound, a message listing rather than a per-event record.
 *   - delivered without a messageId: the Delivery webhook's id is built from MessageID.
 *   - bounced with espClass null: the mapper always gives a bounce a class.
 *
 * Differences the format makes unavoidable:
 *   - id: `postmark:${bounceId}` for bounces (the caller's ID; postmarkBounceIdFor derives one), and
 *     `postmark:delivery:${MessageID}:${recipient}` for deliveries (the Delivery webhook has no id).
 *   - mxHost, sendingIp, ipPool: no Postmark record carries them, so all three map back null.
 *   - smtp: read back from `Details`; for a reply without an enhanced code after it, the mapper also finds
 *     one quoted later in the text ("#5.1.1", "status: 5.1.1"), which the generator does not.
 */

/** Name and Description in Postmark's style: descriptive only, the mapper reads Type and TypeCode. */
const BOUNCE_TYPES = {
  HardBounce: {
    TypeCode: 1,
    Name: "Hard bounce",
    Description: "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
  },
  Transient: {
    TypeCode: 2,
    Name: "Message delayed",
    Description:
      "The server could not temporarily deliver your message (ex: Message is delayed due to network troubles).",
  },
  Unknown: {
    TypeCode: 2048,
    Name: "Unknown type",
    Description: "Unable to classify the bounce type.",
  },
  SoftBounce: {
    TypeCode: 4096,
    Name: "Soft bounce",
    Description:
      "Unable to temporarily deliver message (i.e. mailbox full, account disabled, exceeds quota, out of disk space).",
  },
  SpamComplaint: {
    TypeCode: 100001,
    Name: "Spam complaint",
    Description: "The subscriber explicitly marked this message as spam.",
  },
  Blocked: {
    TypeCode: 100006,
    Name: "ISP block",
    Description: "The message was blocked by the ISP or the receiving server.",
  },
} as const;
type BounceType = keyof typeof BOUNCE_TYPES;

const TYPE_OF_CLASS: Readonly<Record<string, BounceType>> = {
  hard: "HardBounce",
  block: "Blocked",
  soft: "SoftBounce",
  undetermined: "Unknown",
};

/** The sender's Postmark server, as every record names it. */
const SERVER_ID = 23;
const FROM = "newsletter@news.quillfeather-app.com";

export function toPostmarkRecord(e: ProviderEvent, bounceId: number): Record<string, unknown> | null {
  switch (e.type) {
    case "delivered":
      // The Delivery webhook's id is built from MessageID, which the mapper therefore requires.
      if (!e.messageId) return null;
      return {
        RecordType: "Delivery",
        ServerID: SERVER_ID,
        MessageStream: "outbound",
        MessageID: e.messageId,
        Recipient: e.recipient,
        ...(e.campaign ? { Tag: e.campaign } : {}),
        DeliveredAt: postmarkTimestamp(Date.parse(e.occurredAt)),
        // Postmark writes the receiver's 250 here; a generated delivery has none, and inventing one would
        // come back as smtp where the original had null.
        ...(e.smtp?.text ? { Details: details(e.smtp.text) } : {}),
        Metadata: {},
      };
    case "bounced": {
      const type = e.espClass ? TYPE_OF_CLASS[e.espClass] : undefined;
      return type ? bounce(e, bounceId, type) : null;
    }
    case "deferred":
      return bounce(e, bounceId, "Transient");
    case "complained":
      return bounce(e, bounceId, "SpamComplaint");
    case "dropped":
    case "sent":
      return null;
  }
}

function bounce(e: ProviderEvent, id: number, type: BounceType): Record<string, unknown> {
  const t = BOUNCE_TYPES[type];
  const complaint = type === "SpamComplaint";
  // Postmark deactivates the address after a hard bounce or a complaint; the others leave it active.
  const inactive = type === "HardBounce" || complaint;
  return {
    RecordType: complaint ? "SpamComplaint" : "Bounce",
    ID: id,
    Type: type,
    TypeCode: t.TypeCode,
    Name: t.Name,
    ...(e.campaign ? { Tag: e.campaign } : {}),
    ...(e.messageId ? { MessageID: e.messageId } : {}),
    ServerID: SERVER_ID,
    MessageStream: "outbound",
    Description: t.Description,
    // A complaint's Details is Postmark's note (the mapper ignores it); a bounce's is the receiver's reply.
    Details: complaint ? "Test spam complaint details" : details(e.smtp?.text ?? null),
    Email: e.recipient,
    From: FROM,
    BouncedAt: postmarkTimestamp(Date.parse(e.occurredAt)),
    DumpAvailable: !complaint,
    Inactive: inactive,
    CanActivate: true,
    Subject: e.campaign ? `Quillfeather: ${e.campaign}` : "Your Quillfeather notification",
  };
}

/** Postmark prefixes an SMTP reply with its diagnostic type; other texts (an ESP's own note) stand alone. */
function details(text: string | null): string {
  if (!text) return "";
  return /^[2-5]\d\d(?=[\s-]|$)/.test(text) ? `smtp;${text}` : text;
}

/**
 * An instant as Postmark writes it: US Eastern wall clock with its offset and seven fraction digits,
 * e.g. `2026-10-05T10:21:03.1230000-04:00`. Milliseconds survive, so the mapper gives back the same instant.
 */
export function postmarkTimestamp(ms: number): string {
  const whole = Math.floor(ms / 1000) * 1000;
  const wall = toEasternWallClock(whole);
  const offsetMin = Math.round((Date.parse(`${wall}Z`) - whole) / 60_000);
  const sign = offsetMin < 0 ? "-" : "+";
  const abs = Math.abs(offsetMin);
  const hh = String(Math.floor(abs / 60)).padStart(2, "0");
  const mm = String(abs % 60).padStart(2, "0");
  return `${wall}.${String(ms - whole).padStart(3, "0")}0000${sign}${hh}:${mm}`;
}

/**
 * A Postmark bounce ID for a generated event: stable, and independent of which other events are rendered, so
 * overlapping fixtures deduplicate like Postmark's own. Ten to fifteen digits (Postmark's are ten today);
 * 48 hash bits make a collision within one history negligible.
 */
export function postmarkBounceIdFor(eventId: string): number {
  return 1_000_000_000 + createHash("sha256").update(eventId).digest().readUIntBE(0, 6);
}
