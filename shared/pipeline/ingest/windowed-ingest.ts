import type { Source } from "../../domain/events/normalized-event.ts";
import type { RecordMapper } from "../../sources/esp/provider-record.ts";
import { utcDate } from "../../store/keys.ts";
import type { ObjectStore } from "../../store/object-store.ts";
import { readCursor, writeCursor } from "./cursor.ts";
import { type BatchResult, formatNotes, type SourceRecord } from "./ingest-batch.ts";
import type { SeenEventIds } from "./seen-event-ids.ts";
import { writeBatch } from "./write-batch.ts";

const MINUTE = 60_000;

/** One response page as fetched: its exact body (landed raw) and its items (the records). */
export interface FetchedPage {
  readonly label: string;
  readonly body: string;
  readonly items: readonly unknown[];
}

export interface WindowedSource {
  readonly id: string;
  readonly provider: Source;
  readonly startAt?: string | undefined;
  readonly lagMinutes: number;
  readonly overlapMinutes: number;
  readonly windowMinutes: number;
  /** Where a source with neither cursor nor startAt begins, back from now. */
  readonly firstRunLookbackMinutes: number;
  /** Every page of one window; throws on a provider fault (the cursor then stays put). */
  fetchWindow(begin: Date, end: Date): Promise<FetchedPage[]>;
  readonly mapper: RecordMapper;
}

export interface WindowedDeps {
  readonly store: ObjectStore;
  readonly now: () => Date;
  readonly log: (message: string) => void;
  readonly shouldStop?: () => boolean;
  readonly onProgress?: (sourceId: string, position: Date) => void;
}

/**
 * A pull API read window by window behind its cursor, never closer to now than the provider's indexing lag,
 * each window re-read with an overlap (duplicates are dropped by event id). A window is one batch: landed raw,
 * normalized, written; only then does the cursor move past it. A fault leaves the cursor where data ends.
 */
export async function ingestWindowed(
  source: WindowedSource,
  deps: WindowedDeps,
  seen: SeenEventIds,
  out: BatchResult[],
): Promise<void> {
  const cursor = await readCursor(deps.store, source.id, deps.now());
  const horizon = deps.now().getTime() - source.lagMinutes * MINUTE;
  let windowStart = cursor
    ? Date.parse(cursor.position)
    : source.startAt
      ? Date.parse(source.startAt)
      : deps.now().getTime() - source.firstRunLookbackMinutes * MINUTE;
  while (windowStart < horizon) {
    if (deps.shouldStop?.()) {
      deps.log(`${source.id}: time budget reached; stopping at ${new Date(windowStart).toISOString()}`);
      return;
    }
    const windowEnd = Math.min(windowStart + source.windowMinutes * MINUTE, horizon);
    const readFrom = windowStart - source.overlapMinutes * MINUTE;
    const pages = await source.fetchWindow(new Date(readFrom), new Date(windowEnd));
    const batchId = `${source.id}-${readFrom / 1000}-${windowEnd / 1000}`;
    const result = await writeBatch(deps.store, seen, {
      source: source.provider,
      batchId,
      rawDate: utcDate(new Date(readFrom)),
      rawParts: () => pages.map((p) => p.body),
      records: () => pagesToRecords(pages),
      mapper: source.mapper,
    });
    // Only now is everything before windowEnd durably written.
    await writeCursor(deps.store, {
      sourceId: source.id,
      position: new Date(windowEnd).toISOString(),
      lastBatch: batchId,
    });
    out.push(result);
    deps.onProgress?.(source.id, new Date(windowEnd));
    deps.log(
      `${source.id}: ${new Date(readFrom).toISOString()} – ${new Date(windowEnd).toISOString()}: ${pages.length} page(s), ${result.added} new event(s), ${result.duplicates} duplicate(s), ${result.quarantined} quarantined${formatNotes(result.notes)}`,
    );
    windowStart = windowEnd;
  }
}

export function* pagesToRecords(pages: readonly FetchedPage[]): Iterable<SourceRecord> {
  for (const page of pages) {
    for (const [i, item] of page.items.entries()) yield { ref: `${page.label} item ${i}`, value: item };
  }
}
