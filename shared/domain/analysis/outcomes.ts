import { type Category, NOT_ATTEMPTED_CATEGORIES } from "../classify/taxonomy.ts";
import type { NormalizedEvent } from "../events/normalized-event.ts";

/**
 * What one event contributes to the hard-bounce rate. Only final outcomes count: delivered or bounced.
 * Deferrals are not final, and drops (the ESP's own suppression list) were never attempted, so both stay out
 * of numerator and denominator (docs/sources.md#rate-definitions); so do bounces classified as the ESP's own refusal.
 */
export type Outcome = "delivered" | "soft" | "not_counted" | { readonly hard: Category };

/** The ESP's verdict decides what counts as hard: that is the rate the sender sees and worries about. */
export function outcomeOf(e: NormalizedEvent): Outcome {
  if (e.type === "delivered") return "delivered";
  if (e.type !== "bounced") return "not_counted";
  // A bounce the ESP wrote about its own refusal (suppression list, cancelled campaign) is a drop by another name.
  if (e.classification && NOT_ATTEMPTED_CATEGORIES.has(e.classification.category)) return "not_counted";
  const permanent =
    e.espClass === "hard" ||
    ((e.espClass === null || e.espClass === "undetermined") && (e.smtp?.code ?? 0) >= 500);
  if (!permanent) return "soft";
  return { hard: e.classification?.category ?? "unknown" };
}

/** Which outcome of one attempt wins: a permanent bounce (even after a delivery), then a delivery, then a soft bounce. */
function rank(e: NormalizedEvent): number {
  const o = outcomeOf(e);
  return o === "soft" ? 0 : o === "delivered" ? 1 : 2;
}

/**
 * One final outcome per (message, recipient), so the attempt is counted once: a hard bounce that arrives after a
 * delivery (asynchronous bounce) replaces it; a soft bounce beside a delivery does not (an out-of-office reply
 * comes back as an SES Transient bounce after the Delivery: the message was delivered).
 */
export function finalEvents(events: Iterable<NormalizedEvent>): NormalizedEvent[] {
  const byAttempt = new Map<string, NormalizedEvent>();
  const loose: NormalizedEvent[] = [];
  for (const e of events) {
    const o = outcomeOf(e);
    if (o === "not_counted") continue;
    if (!e.messageId) {
      loose.push(e);
      continue;
    }
    const key = `${e.messageId}\u0000${e.recipient}`;
    const seen = byAttempt.get(key);
    const better = seen === undefined ? 1 : rank(e) - rank(seen);
    if (better > 0 || (better === 0 && seen !== undefined && e.occurredAt > seen.occurredAt)) {
      byAttempt.set(key, e);
    }
  }
  return [...byAttempt.values(), ...loose];
}
