import { classifyBounceCached } from "../../domain/classify/index.ts";
import type { NormalizedEvent, ProviderEvent } from "../../domain/events/normalized-event.ts";
import { isConsumerProvider } from "../../domain/organisations/consumer-providers.ts";
import { organisationOf } from "../../domain/organisations/organisation-of.ts";
import { ipOrNull } from "../../domain/text/safe-text.ts";

/** Types whose reply text is worth classifying: failures and refusals to attempt. */
const CLASSIFIED = new Set<NormalizedEvent["type"]>(["bounced", "deferred", "dropped"]);

/** Said (and counted) when an event's sending IP had to be left out. */
export const INVALID_SENDING_IP_NOTE = "sendingIp is not an IP address: left out, the event is kept";

/**
 * Adds what every source gets the same way: the organisation (registrable domain), whether it is a consumer
 * mailbox provider, and the classifier's verdict for failures that carry a reply text (memoised: a gateway
 * answers thousands of recipients with the same wording). Validates what providers pass through as free text
 * but the analysis reads as data: a sending IP that is not an IP address (Mailgun's envelope.sending-ip, SES's
 * ses:outgoing-ip tag, SparkPost's sending_ip are taken as given) would reach reports, alerts and terminals
 * as it came, escape codes and all; the event is kept without it and `note` is told.
 */
export function completeEvent(
  e: ProviderEvent,
  note: (text: string) => void = () => undefined,
): NormalizedEvent {
  const sendingIp = ipOrNull(e.sendingIp);
  if (e.sendingIp !== null && sendingIp === null) note(INVALID_SENDING_IP_NOTE);
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
  return { ...e, sendingIp, organisation, consumer: isConsumerProvider(organisation), classification };
}
