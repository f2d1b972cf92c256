import type { ProviderEvent } from "../../shared/domain/events/normalized-event.ts";
import { SeenEventIds } from "../../shared/pipeline/ingest/seen-event-ids.ts";
import { writeBatch } from "../../shared/pipeline/ingest/write-batch.ts";
import type { ObjectStore } from "../../shared/store/object-store.ts";

/**
 * Lands a generated history through the real batch writer (classification, organisations, partitions), as
 * if a simulated ESP had been ingested.
 */
export async function storeHistory(
  store: ObjectStore,
  events: readonly ProviderEvent[],
  batchId: string,
): Promise<void> {
  await writeBatch(store, new SeenEventIds(store), {
    source: "simulated",
    batchId,
    rawDate: events[0]?.occurredAt.slice(0, 10) ?? "1970-01-01",
    rawParts: () => [],
    records: () => events.map((value, i) => ({ ref: `event ${i}`, value })),
    mapper: (r) => ({ ok: true, events: [r as ProviderEvent] }),
  });
}
