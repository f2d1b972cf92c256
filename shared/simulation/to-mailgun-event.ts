import { createHash } from "node:crypto";
import type { ProviderEvent } from "../domain/events/normalized-event.ts";

/*
 * The simulated ESP's side of the wire: a generated event rendered as the Mailgun Events API would serve it
 * (docs/sources.md#mailgun), so the demo ingests it through the real connector and mapper. The choice of
 * `reason` is the inverse of the mapper's reading of `severity` and `reason`.
 */

const REASON_OF_CLASS: Readonly<Record<string, string>> = {
  hard: "bounce",
  soft: "old",
  block: "espblock",
};

/** Mailgun's own code for "not delivering to a previously bounced address" (§2.8). */
const SUPPRESSED_CODE = 605;

export function toMailgunEvent(e: ProviderEvent, sendingDomain: string): Record<string, unknown> {
  const mx = e.mxHost ? { "mx-host": e.mxHost } : {};
  const reply = e.smtp
    ? {
        code: e.smtp.code ?? 0,
        ...(e.smtp.enhanced ? { "enhanced-code": e.smtp.enhanced } : {}),
        message: e.smtp.text ?? "",
        description: "",
      }
    : null;
  const base: Record<string, unknown> = {
    id: mailgunIdOf(e.id),
    timestamp: Date.parse(e.occurredAt) / 1000,
    recipient: e.recipient,
    "recipient-domain": e.recipientDomain,
    domain: { name: sendingDomain },
    envelope: {
      sender: `bounces@${sendingDomain}`,
      transport: "smtp",
      ...(e.sendingIp ? { "sending-ip": e.sendingIp } : {}),
      ...(e.ipPool ? { "i-ip-pool-id": e.ipPool } : {}),
    },
    message: { headers: e.messageId ? { "message-id": e.messageId } : {} },
    tags: e.campaign ? [e.campaign] : [],
    campaigns: [],
    flags: { "is-authenticated": true, "is-test-mode": false },
  };
  switch (e.type) {
    case "delivered":
      return {
        ...base,
        event: "delivered",
        "delivery-status": { code: 250, message: "OK", description: "", ...mx },
      };
    case "sent":
      return { ...base, event: "accepted" };
    case "complained":
      return { ...base, event: "complained" };
    case "deferred":
      return {
        ...base,
        event: "failed",
        severity: "temporary",
        reason: "generic",
        "delivery-status": { ...(reply ?? { code: 451, message: "" }), ...mx },
      };
    case "dropped":
      return {
        ...base,
        event: "failed",
        severity: "permanent",
        reason: "suppress-bounce",
        "delivery-status": {
          code: SUPPRESSED_CODE,
          message: "",
          description: "Not delivering to previously bounced address",
        },
      };
    case "bounced":
      return {
        ...base,
        event: "failed",
        severity: "permanent",
        reason: REASON_OF_CLASS[e.espClass ?? ""] ?? "generic",
        // An ESP-internal failure has no remote reply: Mailgun then gives only its own description.
        "delivery-status": reply
          ? { ...reply, ...mx }
          : { code: 0, message: "", description: "Unable to deliver: internal sending failure" },
      };
  }
}

/** Mailgun event ids are 22 URL-safe characters; derived from the generator's id so they are stable. */
function mailgunIdOf(id: string): string {
  return createHash("sha256").update(id).digest("base64url").slice(0, 22);
}
