import type { ProviderEvent } from "../domain/events/normalized-event.ts";
import { postmarkBounceIdFor, toPostmarkRecord } from "./to-postmark-record.ts";
import { toSendgridEvent } from "./to-sendgrid-event.ts";
import { toSparkpostEvent } from "./to-sparkpost-event.ts";

/*
 * Saved provider payloads built from generated events, for import and ingest tests: the shapes
 * shared/sources/files reads (a SendGrid webhook batch, a Postmark GET /bounces page, a SparkPost events page).
 * Events a provider cannot express are left out (see each renderer). Everything is deterministic: the same
 * events give the same payload, and an event gets the same provider id whichever fixture it lands in.
 */

/** One SendGrid webhook POST body (a JSON array), oldest first as SendGrid batches them. */
export function sendgridWebhookBatch(events: readonly ProviderEvent[]): Record<string, unknown>[] {
  return rendered(chronological(events), toSendgridEvent);
}

/**
 * A Postmark `GET /bounces` response: the bounce records (Delivery webhooks excluded: that endpoint never
 * returns them) newest first as Postmark sorts, `Bounces` cut to `count` after `offset`, `TotalCount` all.
 * IDs come from postmarkBounceIdFor.
 */
export function postmarkBouncesPage(
  events: readonly ProviderEvent[],
  options: { count?: number; offset?: number } = {},
): { TotalCount: number; Bounces: Record<string, unknown>[] } {
  const bounces = chronological(events)
    .reverse()
    .filter((e) => e.type !== "delivered");
  const all = rendered(bounces, (e) => toPostmarkRecord(e, postmarkBounceIdFor(e.id)));
  const offset = options.offset ?? 0;
  return { TotalCount: all.length, Bounces: all.slice(offset, offset + (options.count ?? all.length)) };
}

/** Postmark Delivery webhook records, oldest first: the per-recipient denominator Postmark pushes. */
export function postmarkDeliveryWebhooks(events: readonly ProviderEvent[]): Record<string, unknown>[] {
  // A Delivery record has no bounce ID (its id is MessageID + recipient): the argument is unused.
  const deliveries = chronological(events).filter((e) => e.type === "delivered");
  return rendered(deliveries, (e) => toPostmarkRecord(e, 0));
}

/**
 * One SparkPost Events API page holding every expressible event, newest first as the API sorts, with the
 * `first` link SparkPost always returns and no `next` (a saved export is the whole window).
 */
export function sparkpostEventsPage(events: readonly ProviderEvent[]): {
  results: Record<string, unknown>[];
  links: { href: string; rel: string }[];
  total_count: number;
} {
  const results = rendered(chronological(events).reverse(), toSparkpostEvent);
  return {
    results,
    links: [
      { href: `/api/v1/events/message?cursor=initial&per_page=${Math.max(results.length, 1)}`, rel: "first" },
    ],
    total_count: results.length,
  };
}

/** Rendered records in input order, the events a provider cannot express left out. */
function rendered(
  events: readonly ProviderEvent[],
  render: (e: ProviderEvent) => Record<string, unknown> | null,
): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const e of events) {
    const r = render(e);
    if (r !== null) out.push(r);
  }
  return out;
}

/** By time; the sort is stable, so events at the same instant keep their input order. */
function chronological(events: readonly ProviderEvent[]): ProviderEvent[] {
  return [...events].sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
}
