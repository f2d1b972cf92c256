import * as z from "zod";
import { ClassificationSchema, EspClassSchema } from "../classify/taxonomy.ts";

/** The providers bounce-radar reads events from. */
export const SourceSchema = z.enum(["ses", "mailgun", "sendgrid", "postmark", "sparkpost", "simulated"]);
export type Source = z.infer<typeof SourceSchema>;

/**
 * What happened to one message for one recipient. `dropped` is the ESP refusing to attempt delivery
 * (its own suppression list, invalid syntax): it counts in neither numerator nor denominator of bounce rates.
 */
export const EventTypeSchema = z.enum(["delivered", "bounced", "deferred", "dropped", "complained", "sent"]);
export type EventType = z.infer<typeof EventTypeSchema>;

export const SmtpReplySchema = z.object({
  code: z.number().int().min(200).max(599).nullable(),
  enhanced: z
    .string()
    .regex(/^[245]\.\d{1,3}\.\d{1,3}$/)
    .nullable(),
  text: z.string().nullable(),
});
export type SmtpReply = z.infer<typeof SmtpReplySchema>;

const isoInstant = z.iso.datetime({ offset: true });

/** One normalized event: the same record whatever the provider. */
export const NormalizedEventSchema = z.object({
  /** Provider event id made globally unique, or a stable hash of the record when the provider has none. */
  id: z.string().min(1).max(512),
  source: SourceSchema,
  occurredAt: isoInstant,
  type: EventTypeSchema,
  recipient: z.string().min(3).max(320),
  recipientDomain: z.string().min(1).max(253),
  /** Registrable domain of the recipient (Public Suffix List). */
  organisation: z.string().min(1).max(253),
  /** A consumer mailbox provider (gmail.com, outlook.com, ...): the analysis's control group. */
  consumer: z.boolean(),
  smtp: SmtpReplySchema.nullable(),
  /** What the ESP called the failure. */
  espClass: EspClassSchema.nullable(),
  /**
   * The ESP's own finer label for the failure, verbatim (SendGrid `bounce_classification`: "Invalid Address",
   * "Reputation", ...). Additive: absent on events stored before it existed and on providers without one.
   */
  espClassification: z.string().min(1).max(200).nullable().optional(),
  mxHost: z.string().nullable(),
  sendingIp: z.string().nullable(),
  ipPool: z.string().nullable(),
  messageId: z.string().nullable(),
  campaign: z.string().nullable(),
  /** Set on bounced, deferred and dropped events that carry a reply text. */
  /** The classifier's verdict, stored with every failure so reports can explain themselves. */
  classification: ClassificationSchema.nullable(),
});
export type NormalizedEvent = z.infer<typeof NormalizedEventSchema>;

/**
 * What a provider mapping produces before organisation lookup and classification: the pipeline fills in
 * `organisation`, `consumer` and `classification`, so every source gets them the same way.
 */
export const ProviderEventSchema = NormalizedEventSchema.omit({
  organisation: true,
  consumer: true,
  classification: true,
});
export type ProviderEvent = z.infer<typeof ProviderEventSchema>;
