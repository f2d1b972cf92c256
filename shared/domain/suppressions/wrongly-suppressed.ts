import type { NormalizedEvent, Source } from "../events/normalized-event.ts";

/** How far back a delivery proves an address exists (the same 90 days the analysis uses). */
export const PROOF_OF_LIFE_DAYS = 90;
const DAY_MS = 86_400_000;

export interface SuppressionCandidate {
  readonly address: string;
  readonly organisation: string;
  /** The ESP that bounced it, and so suppressed it. */
  readonly provider: Source;
  /** The address's last hard bounce in the incident. */
  readonly lastBounce: {
    readonly eventId: string;
    readonly at: string;
    readonly category: string;
    readonly text: string | null;
  };
  /** Every bounce event id of this address in the incident (Postmark re-activates by bounce id). */
  readonly bounceEventIds: readonly string[];
  readonly lastDeliveredAt: string | null;
}

export type Decision =
  | { readonly action: "reactivate"; readonly why: string }
  | { readonly action: "keep"; readonly why: string };

export interface SuppressionReview {
  readonly reactivate: ReadonlyArray<SuppressionCandidate & { readonly why: string }>;
  readonly keep: ReadonlyArray<SuppressionCandidate & { readonly why: string }>;
}

/**
 * Which hard-bounced addresses of a recipient-side incident were suppressed wrongly: those that had a
 * successful delivery in the 90 days before their last bounce exist, so the gateway's "user unknown" or
 * policy rejection was not about them. An address with no delivery on record is kept suppressed — above all
 * one whose last bounce is a genuine invalid_recipient — and one delivered again since needs nothing.
 * Pure: events and the delivery history are passed in.
 */
export function reviewSuppressions(
  bounces: readonly NormalizedEvent[],
  lastDeliveredAt: (e: NormalizedEvent) => string | null,
): SuppressionReview {
  const byAddress = new Map<string, NormalizedEvent[]>();
  for (const e of bounces) {
    if (e.type !== "bounced") continue;
    const key = `${e.source}\u0000${e.recipient.toLowerCase()}`;
    byAddress.set(key, [...(byAddress.get(key) ?? []), e]);
  }
  const reactivate: Array<SuppressionCandidate & { why: string }> = [];
  const keep: Array<SuppressionCandidate & { why: string }> = [];
  for (const events of byAddress.values()) {
    const sorted = [...events].sort(
      (a, b) => a.occurredAt.localeCompare(b.occurredAt) || a.id.localeCompare(b.id),
    );
    const last = sorted[sorted.length - 1];
    if (!last) continue;
    const delivered = lastDeliveredAt(last);
    const candidate: SuppressionCandidate = {
      address: last.recipient.toLowerCase(),
      organisation: last.organisation,
      provider: last.source,
      lastBounce: {
        eventId: last.id,
        at: last.occurredAt,
        category: last.classification?.category ?? "unknown",
        text: last.smtp?.text ?? null,
      },
      bounceEventIds: sorted.map((e) => e.id),
      lastDeliveredAt: delivered,
    };
    const decision = decide(candidate);
    (decision.action === "reactivate" ? reactivate : keep).push({ ...candidate, why: decision.why });
  }
  const order = (a: SuppressionCandidate, b: SuppressionCandidate) =>
    a.organisation.localeCompare(b.organisation) || a.address.localeCompare(b.address);
  return { reactivate: reactivate.sort(order), keep: keep.sort(order) };
}

export function decide(c: SuppressionCandidate): Decision {
  const bounceAt = Date.parse(c.lastBounce.at);
  if (c.lastDeliveredAt === null) {
    return {
      action: "keep",
      why:
        c.lastBounce.category === "invalid_recipient"
          ? "genuine invalid_recipient: no delivery on record"
          : "no delivery on record proves the address exists",
    };
  }
  const delivered = Date.parse(c.lastDeliveredAt);
  if (delivered > bounceAt) return { action: "keep", why: `delivered again since (${c.lastDeliveredAt})` };
  if (delivered < bounceAt - PROOF_OF_LIFE_DAYS * DAY_MS)
    return {
      action: "keep",
      why: `last delivery ${c.lastDeliveredAt} is older than ${PROOF_OF_LIFE_DAYS} days`,
    };
  return { action: "reactivate", why: `delivered ${c.lastDeliveredAt}, before the incident's bounce` };
}
