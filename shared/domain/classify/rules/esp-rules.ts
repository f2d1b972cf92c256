import type { TextRule } from "../rule.ts";

/**
 * The sending ESP's own words, checked before any receiver's: when the ESP refused a message itself, no receiving
 * server was asked, so nothing in the text (a 5.7.1, "spam", "policy", a recipient address) is about the recipient.
 *
 * `esp_refused` is a refusal by the ESP's policy or configuration — its suppression lists, a cancelled campaign,
 * an unconfigured sending domain, a template that did not render. It is not a delivery attempt: the analysis
 * leaves it out of hard-bounce rates and it is evidence for neither side. The ESP failing or throttling itself
 * (`[internal]` routing failures, a suspended sending IP) is `esp_internal`, matched by the generic rules.
 */
export const ESP_RULES: readonly TextRule[] = [
  {
    id: "esp.suppression-list",
    pattern:
      /recipient address was suppressed due to (?:customer|system) policy|not delivering to (?:a )?(?:previously bounced address|unsubscribed address|user who marked your messages as spam)|amazon ses (?:has suppressed sending to this address|did not send the message to this address because it is on the suppression list)|\baddress on (?:the )?suppression list\b|^(?:bounced|unsubscribed|spam reporting) address$/i,
    category: "esp_refused",
    side: "neutral",
    confidence: 0.95,
    evidence:
      "the ESP's suppression lists: SparkPost 'recipient address was suppressed due to customer|system policy' (support.sparkpost.com/docs/user-guide/using-suppression-lists); Mailgun 605/606/607 'Not delivering to …' (help.mailgun.com/hc/en-us/articles/360012287493); SES Suppressed / OnAccountSuppressionList (docs.aws.amazon.com/ses/latest/dg/notification-contents.html); SendGrid drop reasons (twilio.com/docs/sendgrid/for-developers/tracking-events/event)",
  },
  {
    id: "esp.campaign-cancelled",
    pattern: /\[internal\] campaign cancell?ed/i,
    category: "esp_refused",
    side: "neutral",
    confidence: 0.95,
    evidence:
      "SparkPost: a cancelled scheduled transmission bounces with '554 5.7.1 [internal] Campaign cancelled' (support.sparkpost.com/docs/tech-resources/transmissions-api-scheduling)",
  },
  {
    id: "esp.sending-domain",
    pattern:
      /unconfigured sending domain|sending domain (?:is )?(?:not (?:verified|configured)|blacklisted)|is not allowed to send: (?:sandbox subdomains|free accounts) are for test purposes|add the address to authori[sz]ed recipients/i,
    category: "esp_refused",
    side: "neutral",
    confidence: 0.9,
    evidence:
      "the sender's ESP account refuses the From domain or recipient: SparkPost '550 5.7.1 Unconfigured Sending Domain' (support.sparkpost.com/docs/user-guide/unconfigured-sending-domain), Mailgun sandbox 'add the address to authorized recipients'",
  },
  {
    id: "esp.rendering",
    pattern:
      /is not present in the rendering data|rendering failure|template (?:rendering|render) (?:error|failure|failed)|message generation (?:failed|rejected)|substitution (?:data )?error/i,
    category: "esp_refused",
    side: "neutral",
    confidence: 0.85,
    evidence:
      "the ESP could not build the message from its template: SES Rendering Failure ('Attribute … is not present in the rendering data', docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html), SparkPost generation_failure/generation_rejection",
  },
  {
    // SendGrid's resolver found neither MX nor A for the recipient domain; the "PTR" is SendGrid's wording of its
    // own lookup, not a receiver's reverse-DNS check of the sending IP.
    id: "sendgrid.no-mx-info",
    pattern: /unable to get mx info|failed to get ips from ptr record/i,
    category: "invalid_recipient",
    side: "neutral",
    confidence: 0.75,
    evidence:
      "SendGrid 'unable to get mx info: failed to get IPs from PTR record' for a recipient domain that does not resolve (braze.com/docs/user_guide/channels/email/faq/; a SendGrid event for noemail@this.does.not.exist.tld quoted in github.com/discourse/discourse, 'handle the webhook event from sendgrid when the email address's domain is invalid')",
  },
];
