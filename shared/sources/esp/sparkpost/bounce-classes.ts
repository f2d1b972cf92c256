import type { EspClass } from "../../../domain/classify/taxonomy.ts";

/*
 * SparkPost's bounce classification table (https://www.sparkpost.com/docs/deliverability/bounce-classification-codes/; names and descriptions as SparkPost's
 * "Bounce Classification Codes" page words them). Events carry the code as a string in `bounce_class`.
 * SparkPost notes that soft, block and undetermined are usually temporary; only hard and admin are
 * "suppression-level".
 */

/** SparkPost's own category for a class. `admin` is SparkPost's policy, not a receiver's answer. */
export type SparkpostBounceCategory = "hard" | "soft" | "block" | "admin" | "undetermined";

export interface SparkpostBounceClass {
  readonly code: number;
  readonly name: string;
  readonly description: string;
  readonly category: SparkpostBounceCategory;
}

export const SPARKPOST_BOUNCE_CLASSES: readonly SparkpostBounceClass[] = [
  {
    code: 1,
    name: "Undetermined",
    description: "The response text could not be identified.",
    category: "undetermined",
  },
  { code: 10, name: "Invalid Recipient", description: "The recipient is invalid.", category: "hard" },
  { code: 20, name: "Soft Bounce", description: "The message soft bounced.", category: "soft" },
  {
    code: 21,
    name: "DNS Failure",
    description: "The message bounced due to a DNS failure.",
    category: "soft",
  },
  {
    code: 22,
    name: "Mailbox Full",
    description: "The message bounced due to the remote mailbox being over quota.",
    category: "soft",
  },
  {
    code: 23,
    name: "Too Large",
    description: "The message bounced because it was too large for the recipient.",
    category: "soft",
  },
  { code: 24, name: "Timeout", description: "The message timed out.", category: "soft" },
  {
    code: 25,
    name: "Admin Failure",
    description: "The message was failed by SparkPost's configured policies.",
    category: "admin",
  },
  {
    code: 30,
    name: "Generic Bounce: No RCPT",
    description: "No recipient could be determined for the message.",
    category: "hard",
  },
  {
    code: 40,
    name: "Generic Bounce",
    description: "The message failed for unspecified reasons.",
    category: "soft",
  },
  {
    code: 50,
    name: "Mail Block",
    description: "The message was blocked by the receiver.",
    category: "block",
  },
  {
    code: 51,
    name: "Spam Block",
    description: "The message was blocked by the receiver as coming from a known spam source.",
    category: "block",
  },
  {
    code: 52,
    name: "Spam Content",
    description: "The message was blocked by the receiver as spam.",
    category: "block",
  },
  {
    code: 53,
    name: "Prohibited Attachment",
    description: "The message was blocked by the receiver because it contained an attachment.",
    category: "block",
  },
  {
    code: 54,
    name: "Relaying Denied",
    description: "The message was blocked by the receiver because relaying is not allowed.",
    category: "block",
  },
  {
    code: 60,
    name: "Auto-Reply",
    description: "The message is an auto-reply/vacation mail.",
    category: "soft",
  },
  {
    code: 70,
    name: "Transient Failure",
    description: "Message transmission has been temporarily delayed.",
    category: "soft",
  },
  { code: 80, name: "Subscribe", description: "The message is a subscribe request.", category: "admin" },
  // Hard in SparkPost's table, though it is a reply asking to unsubscribe, not a missing mailbox (§4.8).
  { code: 90, name: "Unsubscribe", description: "The message is an unsubscribe request.", category: "hard" },
  {
    code: 100,
    name: "Challenge-Response",
    description: "The message is a challenge-response probe.",
    category: "soft",
  },
];

/**
 * What each SparkPost category means as EspClass. `admin` has none: SparkPost itself failed the message
 * (its policy, a subscribe request), so the mapper records a drop rather than a bounce.
 */
export const ESP_CLASS_OF_CATEGORY: Readonly<Record<SparkpostBounceCategory, EspClass | null>> = {
  hard: "hard",
  soft: "soft",
  block: "block",
  undetermined: "undetermined",
  admin: null,
};

const BY_CODE: ReadonlyMap<number, SparkpostBounceClass> = new Map(
  SPARKPOST_BOUNCE_CLASSES.map((c) => [c.code, c]),
);

/** The class with this code, undefined for a code not in the table. */
export function sparkpostBounceClass(code: number): SparkpostBounceClass | undefined {
  return BY_CODE.get(code);
}

/**
 * EspClass of a bounce class code: null for an admin class (not a receiver's verdict). A code missing from
 * the table (SparkPost adds classes now and then) is `undetermined`: SparkPost did not say what kind in
 * terms we know, and the text classifier still reads the reply.
 */
export function espClassOfBounceClass(code: number): EspClass | null {
  const c = BY_CODE.get(code);
  return c === undefined ? "undetermined" : ESP_CLASS_OF_CATEGORY[c.category];
}
