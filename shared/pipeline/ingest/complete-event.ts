import { classifyBounceCached } from "../../domain/classify/index.ts";
import type { NormalizedEvent, ProviderEvent } from "../../domain/events/normalized-event.ts";
import { isConsumerProvider } from "../../domain/organisations/consumer-providers.ts";
import { organisationOf } from "../../domain/organisations/organisation-of.ts";

/** Types whose reply text is worth classifying: failures and refusals to attempt. */
const CLASSIFIED = new Set<NormalizedEvent["type"]>(["bounced", "deferred", "dropped"]);

/**
 * Adds what every source gets the same way: the organisation (registrable domain), whether it is a consumer
 * mailbox provider, and the classifier's verdict for failures that carry a reply text (memoised: a gateway
 * answers thousands of recipients with the same wording).
 */
export function completeEvent(e: ProviderEvent): NormalizedEvent {
  const organisation = organisationOf(e.recipientDomain);
  const text = e.smtp?.text ?? null;
  const classification =
    CLASSIFIED.has(e.type) && text
      ? classifyBounceCached({
          text,
          ...(e.smtp?.code != null ? { code: e.smtp.code } : {}),
          ...(e.smtp?.enhanced != null ? { enhanced: e.smtp.enhanced } : {}),
          ...(e.mxHost ? { mxHost: e.mxHost } : {}),
          ...(e.espClass ? { espClass: e.espClass } : {}),
        })
      : null;
  return { ...e, organisation, consumer: isConsumerProvider(organisation), classification };
}
