import { createHash } from "node:crypto";
import * as z from "zod";
import { finalEvents, outcomeOf } from "../../domain/analysis/outcomes.ts";
import { type NormalizedEvent, SourceSchema } from "../../domain/events/normalized-event.ts";
import { keys } from "../../store/keys.ts";
import { readNdjsonGz } from "../../store/ndjson-gzip.ts";
import type { ObjectStore } from "../../store/object-store.ts";

/** Attempts of one kind for one organisation, sending IP and campaign on one day. */
export const AggregateRowSchema = z.object({
  organisation: z.string(),
  recipientDomain: z.string(),
  consumer: z.boolean(),
  sendingIp: z.string().nullable(),
  campaign: z.string().nullable(),
  /** "delivered", "soft", or "hard:<category>" */
  outcome: z.string(),
  count: z.number().int().min(1),
  /** An MX host the ESP reported for this domain, if any (gateway evidence without DNS). */
  mxHost: z.string().nullable(),
});
export type AggregateRow = z.infer<typeof AggregateRowSchema>;

/** The sources with stored events on one day (for data-gap detection). */
export interface DaySources {
  readonly date: string;
  readonly sources: readonly string[];
}

/** Stable, non-reversible-at-a-glance key for an address in recipient history. */
export function addressHash(address: string): string {
  return createHash("sha256").update(address.toLowerCase()).digest("hex").slice(0, 16);
}

export async function* readDayEvents(store: ObjectStore, date: string): AsyncIterable<NormalizedEvent> {
  for (const source of SourceSchema.options) {
    for await (const obj of store.list(keys.eventsPartition(source, date))) {
      if (!obj.key.endsWith(".ndjson.gz")) continue;
      for await (const { value } of readNdjsonGz(store, obj.key)) yield value as NormalizedEvent;
    }
  }
}

export function aggregateEvents(events: Iterable<NormalizedEvent>): AggregateRow[] {
  const rows = new Map<string, AggregateRow & { count: number }>();
  for (const e of finalEvents(events)) {
    const o = outcomeOf(e);
    const outcome = typeof o === "string" ? o : `hard:${o.hard}`;
    const key = [e.organisation, e.recipientDomain, e.sendingIp, e.campaign, outcome].join("\u0000");
    const row = rows.get(key);
    if (row) {
      row.count++;
      row.mxHost ??= e.mxHost;
    } else {
      rows.set(key, {
        organisation: e.organisation,
        recipientDomain: e.recipientDomain,
        consumer: e.consumer,
        sendingIp: e.sendingIp,
        campaign: e.campaign,
        outcome,
        count: 1,
        mxHost: e.mxHost,
      });
    }
  }
  return [...rows.values()].sort((a, b) =>
    a.organisation < b.organisation ? -1 : a.organisation > b.organisation ? 1 : 0,
  );
}
