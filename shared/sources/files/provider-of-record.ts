import type { Source } from "../../domain/events/normalized-event.ts";

type Provider = Exclude<Source, "simulated">;

/** What each provider's data is called in messages. */
export const PROVIDER_DATA: Readonly<Record<Provider, string>> = {
  ses: "Amazon SES event data",
  mailgun: "Mailgun event data",
  sendgrid: "SendGrid Event Webhook or suppression data",
  postmark: "Postmark bounce or webhook data",
  sparkpost: "SparkPost event data",
};

/**
 * Which provider a record looks like it came from, by the fields only that provider writes; null when it
 * looks like none (then the mapper says what is wrong with it). Used to tell a user who imported a file with
 * the wrong `--source`, instead of quarantining every record as garbage.
 */
export function providerOfRecord(value: unknown): Provider | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const has = (k: string): boolean => k in value;
  if (has("msys") || (has("event_id") && has("type") && (has("rcpt_to") || has("raw_rcpt_to"))))
    return "sparkpost";
  if (has("sg_event_id") || (has("created") && has("email") && !has("event"))) return "sendgrid";
  if (has("RecordType") || has("BouncedAt") || has("TypeCode")) return "postmark";
  if (
    has("event-data") ||
    (has("event") && has("id") && (has("timestamp") || has("@timestamp")) && has("log-level"))
  )
    return "mailgun";
  if (
    has("eventType") ||
    has("notificationType") ||
    (has("Type") && has("TopicArn")) ||
    (has("EventSource") && has("Sns")) ||
    (has("ReceiptHandle") && has("Body"))
  )
    return "ses";
  return null;
}
