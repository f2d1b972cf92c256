import type { Verdict } from "../rule.ts";
import type { EnhancedCode } from "../smtp-reply.ts";

/** A verdict from a status code alone, with the id the classifier reports as its rule. */
export interface CodeVerdict extends Verdict {
  readonly rule: string;
}

type Row = readonly [subject: number, detailFrom: number, detailTo: number, verdict: Verdict, note: string];

const v = (category: Verdict["category"], confidence: number, side?: Verdict["side"]): Verdict =>
  side ? { category, confidence, side } : { category, confidence };

/**
 * Permanent (5.x.x) enhanced status codes: RFC 3463 and the IANA "SMTP Enhanced Status Codes" registry
 * (RFC 5248, 7372, 7505, 8098, 8689), plus Microsoft's documented 5.7.5xx-9xx ranges (docs/sources.md#microsoft-365).
 * Confidence is modest: a code is weaker evidence than wording (docs/sources.md#classifier-heuristics: 550 never proves a missing
 * mailbox). Vendor ranges come first so they win over the generic subject rows below them.
 */
const PERMANENT: readonly Row[] = [
  [7, 606, 649, v("reputation_block", 0.85, "sender"), "Microsoft: banned sending IP"],
  [7, 700, 750, v("reputation_block", 0.7, "sender"), "Microsoft: sending tenant/IP refused"],
  [7, 509, 509, v("auth_failure", 0.85), "Microsoft: DMARC verification failed"],
  [7, 515, 515, v("auth_failure", 0.85), "Microsoft: required authentication level not met"],
  [7, 511, 511, v("reputation_block", 0.8), "Microsoft: banned sender"],
  [7, 506, 506, v("reputation_block", 0.7), "Microsoft: bad HELO"],
  [7, 504, 505, v("invalid_recipient", 0.55), "Microsoft: recipient address not valid"],
  [7, 507, 507, v("policy_block", 0.75), "Microsoft: rejected by recipient"],
  [7, 513, 513, v("policy_block", 0.8), "Microsoft: customer block list"],
  [7, 133, 136, v("policy_block", 0.8), "Microsoft: group accepts only authenticated senders"],
  [7, 124, 124, v("policy_block", 0.8), "Microsoft: sender not in allowed-senders list"],
  [7, 900, 999, v("policy_block", 0.7), "Microsoft: transport rule"],
  [2, 121, 122, v("rate_limited", 0.8), "Microsoft: recipient's per-hour receive limit"],
  [1, 1, 1, v("invalid_recipient", 0.7), "RFC 3463 X.1.1 bad destination mailbox address"],
  [
    1,
    0,
    0,
    v("invalid_recipient", 0.45),
    "RFC 3463 X.1.0 other address status (also used for sender problems)",
  ],
  [1, 2, 2, v("invalid_recipient", 0.75), "RFC 3463 X.1.2 bad destination system address"],
  [1, 3, 3, v("invalid_recipient", 0.65), "RFC 3463 X.1.3 bad destination mailbox address syntax"],
  [1, 4, 4, v("policy_block", 0.4), "RFC 3463 X.1.4 destination mailbox address ambiguous"],
  [1, 6, 6, v("invalid_recipient", 0.75), "RFC 3463 X.1.6 destination mailbox has moved"],
  [1, 7, 8, v("policy_block", 0.65, "sender"), "RFC 3463 X.1.7/X.1.8 bad sender address"],
  [1, 9, 9, v("transient", 0.4), "RFC 3886 X.1.9 message relayed to non-compliant mailer"],
  [1, 10, 10, v("invalid_recipient", 0.7), "RFC 7505 X.1.10 recipient address has null MX"],
  [1, 300, 399, v("invalid_recipient", 0.6), "Exchange 5.1.3xx recipient not found"],
  [2, 0, 0, v("policy_block", 0.4), "RFC 3463 X.2.0 other mailbox status"],
  [2, 1, 1, v("policy_block", 0.45), "RFC 3463 X.2.1 mailbox disabled, not accepting messages"],
  [2, 2, 2, v("mailbox_full", 0.8), "RFC 3463 X.2.2 mailbox full"],
  [2, 3, 3, v("message_too_large", 0.8), "RFC 3463 X.2.3 message length exceeds administrative limit"],
  [2, 4, 4, v("policy_block", 0.4), "RFC 3463 X.2.4 mailing list expansion problem"],
  [3, 4, 4, v("message_too_large", 0.8), "RFC 3463 X.3.4 message too big for system"],
  [3, 0, 3, v("transient", 0.45), "RFC 3463 X.3.0-X.3.3 mail system status"],
  [3, 5, 6, v("transient", 0.45), "RFC 3463 X.3.5/X.3.6 mail system status"],
  [4, 4, 4, v("invalid_recipient", 0.65), "RFC 3463 X.4.4 unable to route (no such domain)"],
  [4, 0, 999, v("transient", 0.5), "RFC 3463 X.4.x network and routing status"],
  [5, 3, 3, v("rate_limited", 0.7), "RFC 3463 X.5.3 too many recipients"],
  [5, 0, 999, v("unknown", 0.3), "RFC 3463 X.5.x mail delivery protocol status"],
  [6, 0, 999, v("spam_or_content_block", 0.6), "RFC 3463 X.6.x message content or media status"],
  [7, 8, 9, v("auth_failure", 0.6), "RFC 4954 X.7.8/X.7.9 authentication credentials / mechanism"],
  [7, 12, 12, v("auth_failure", 0.5), "RFC 4954 X.7.12 password transition needed"],
  [7, 13, 13, v("invalid_recipient", 0.7), "RFC 3463 X.7.13 user account disabled"],
  [7, 14, 15, v("policy_block", 0.5), "RFC 3463 X.7.14/X.7.15 trust relationship / priority"],
  [7, 16, 16, v("message_too_large", 0.7), "RFC 6710 X.7.16 message too big for specified priority"],
  [7, 17, 18, v("invalid_recipient", 0.7), "RFC 7293 X.7.17/X.7.18 mailbox or domain owner has changed"],
  [7, 19, 19, v("unknown", 0.3), "RFC 7293 X.7.19 RRVS test cannot be completed"],
  [7, 20, 24, v("auth_failure", 0.85), "RFC 7372 X.7.20-X.7.24 DKIM / SPF validation failed"],
  [7, 25, 25, v("policy_block", 0.75, "sender"), "RFC 7372 X.7.25 reverse DNS validation failed"],
  [7, 26, 26, v("auth_failure", 0.85), "RFC 7372 X.7.26 multiple authentication checks failed"],
  [7, 27, 27, v("policy_block", 0.6, "sender"), "RFC 7505 X.7.27 sender address has null MX"],
  [7, 28, 28, v("spam_or_content_block", 0.7), "IANA registry X.7.28 mail flood detected"],
  [7, 29, 29, v("auth_failure", 0.8), "RFC 8617 X.7.29 ARC validation failure"],
  [7, 30, 30, v("policy_block", 0.7, "sender"), "RFC 8689 X.7.30 REQUIRETLS support required"],
  [7, 1, 1, v("policy_block", 0.4), "RFC 3463 X.7.1 delivery not authorized, message refused"],
  [7, 0, 999, v("policy_block", 0.35), "RFC 3463 X.7.x security or policy status"],
];

/** Temporary (4.x.x) codes: a retry is expected, so nothing here is a verdict on the mailbox. */
const TEMPORARY: readonly Row[] = [
  [7, 650, 651, v("reputation_block", 0.75, "sender"), "Microsoft: rate limited due to IP reputation"],
  [7, 500, 899, v("rate_limited", 0.6), "Microsoft: throttling of suspicious IPs"],
  [2, 2, 2, v("mailbox_full", 0.7), "RFC 3463 X.2.2 mailbox full"],
  [2, 3, 3, v("message_too_large", 0.7), "RFC 3463 X.2.3 message length exceeds administrative limit"],
  [3, 4, 4, v("message_too_large", 0.7), "RFC 3463 X.3.4 message too big for system"],
  [5, 3, 3, v("rate_limited", 0.7), "RFC 3463 X.5.3 too many recipients"],
  [7, 20, 26, v("auth_failure", 0.75), "RFC 7372 X.7.20-X.7.26 authentication (temporary)"],
  [7, 1, 1, v("transient", 0.4), "RFC 3463 X.7.1 temporary refusal (greylisting or reputation)"],
  [0, 0, 999, v("transient", 0.5), "any other 4.x.x: transient by definition"],
  [1, 0, 999, v("transient", 0.5), "4.1.x: address status, temporary"],
  [2, 0, 999, v("transient", 0.5), "4.2.x: mailbox status, temporary"],
  [3, 0, 999, v("transient", 0.5), "4.3.x: mail system status, temporary"],
  [4, 0, 999, v("transient", 0.6), "4.4.x: network and routing, temporary"],
  [5, 0, 999, v("transient", 0.4), "4.5.x: protocol status, temporary"],
  [6, 0, 999, v("transient", 0.4), "4.6.x: content status, temporary"],
  [7, 0, 999, v("transient", 0.4), "4.7.x: security or policy, temporary"],
];

export function verdictForEnhancedCode(code: EnhancedCode): CodeVerdict | null {
  const rows = code.klass === 5 ? PERMANENT : code.klass === 4 ? TEMPORARY : [];
  for (const [subject, from, to, verdict] of rows) {
    if (code.subject === subject && code.detail >= from && code.detail <= to) {
      return { ...verdict, rule: `enhanced.${code.raw}` };
    }
  }
  return null;
}

/**
 * Basic reply codes (RFC 5321 §4.2.3), the weakest evidence. 550 is deliberately not read as "no such
 * mailbox": RFC 5321 defines it as mailbox unavailable *or* command rejected for policy reasons.
 */
export function verdictForReplyCode(reply: number): CodeVerdict | null {
  const at = (category: Verdict["category"], confidence: number, side?: Verdict["side"]): CodeVerdict => ({
    ...v(category, confidence, side),
    rule: `reply.${reply}`,
  });
  if (reply >= 400 && reply < 500) {
    if (reply === 452) return at("transient", 0.45);
    return at("transient", 0.5);
  }
  switch (reply) {
    case 521:
    case 556:
      return at("invalid_recipient", 0.5); // RFC 7504: the host/domain does not accept mail
    case 551:
      return at("invalid_recipient", 0.55); // user not local
    case 553:
      return at("invalid_recipient", 0.35); // mailbox name not allowed
    case 552:
      return at("mailbox_full", 0.3); // exceeded storage allocation (also used for size)
    case 530:
    case 535:
    case 538:
      return at("auth_failure", 0.5, "sender"); // RFC 4954 authentication required / failed
    case 523:
    case 524:
      return at("policy_block", 0.4, "sender"); // RFC 4954/REQUIRETLS encryption required
    case 525:
      return at("invalid_recipient", 0.5); // RFC 5248 user account disabled
    case 500:
    case 501:
    case 502:
    case 503:
    case 504:
      return at("unknown", 0.2); // syntax: usually the sending MTA's behaviour
    default:
      return reply >= 500 && reply < 600 ? at("unknown", 0.2) : null;
  }
}
