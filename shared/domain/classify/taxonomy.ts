import * as z from "zod";
import { GatewayIdSchema } from "../gateways/catalogue.ts";

export const CategorySchema = z.enum([
  "invalid_recipient",
  "policy_block",
  "spam_or_content_block",
  "reputation_block",
  "auth_failure",
  "rate_limited",
  "mailbox_full",
  "message_too_large",
  "transient",
  "esp_internal",
  "esp_refused",
  "unknown",
]);
export type Category = z.infer<typeof CategorySchema>;

/** Which side of the wire caused the failure: the recipient's systems, the sender/ESP, or neither. */
export const SideSchema = z.enum(["recipient", "sender", "neutral"]);
export type Side = z.infer<typeof SideSchema>;

/** What the ESP itself called the failure. */
export const EspClassSchema = z.enum(["hard", "soft", "block", "undetermined"]);
export type EspClass = z.infer<typeof EspClassSchema>;

/**
 * The side a category points to when no rule says otherwise. A genuinely missing mailbox is list decay,
 * nobody's filter, so it is neutral; content, reputation and authentication are the sender's to fix.
 */
export const DEFAULT_SIDE: Readonly<Record<Category, Side>> = {
  invalid_recipient: "neutral",
  policy_block: "recipient",
  spam_or_content_block: "sender",
  reputation_block: "sender",
  auth_failure: "sender",
  rate_limited: "neutral",
  mailbox_full: "recipient",
  message_too_large: "sender",
  transient: "neutral",
  esp_internal: "sender",
  esp_refused: "neutral",
  unknown: "neutral",
};

/**
 * Refusals the ESP made on its own policy (its suppression lists, a cancelled campaign, an unconfigured sending
 * domain, a template that did not render): no receiving server was asked, so they are not delivery attempts.
 * They stay out of bounce rates, like the ESP's drops, and are evidence for neither side.
 */
export const NOT_ATTEMPTED_CATEGORIES: ReadonlySet<Category> = new Set<Category>(["esp_refused"]);

/** Categories that mean the receiver refused the mail on purpose (a block), not that the mailbox is missing. */
export const BLOCK_CATEGORIES: ReadonlySet<Category> = new Set<Category>([
  "policy_block",
  "spam_or_content_block",
  "reputation_block",
  "auth_failure",
  "rate_limited",
]);

export const ClassificationSchema = z.object({
  category: CategorySchema,
  side: SideSchema,
  falseHardBounce: z.boolean(),
  gateway: GatewayIdSchema.nullable(),
  confidence: z.number().min(0).max(1),
  rule: z.string(),
});
export type Classification = z.infer<typeof ClassificationSchema>;

/** What the classifier reads: the rejection text plus whatever structured fields the ESP supplied. */
export const BounceInputSchema = z.object({
  text: z.string(),
  code: z.number().int().min(200).max(599).optional(),
  enhanced: z.string().optional(),
  mxHost: z.string().optional(),
  espClass: EspClassSchema.optional(),
});
export type BounceInput = z.infer<typeof BounceInputSchema>;
