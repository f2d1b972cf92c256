import type { Readable } from "node:stream";
import type { Source } from "../../domain/events/normalized-event.ts";
import type { RecordMapper } from "../../sources/esp/provider-record.ts";

/** A verbatim provider payload: a response body, a queue message, or an imported file (streamed). */
export type RawPart = Uint8Array | string | (() => Readable);

/** One provider record and where it came from, for quarantine entries and error messages. */
export interface SourceRecord {
  /** e.g. `export.ndjson:123`, `page 3 item 7`, `sqs message 1f2e…` */
  readonly ref: string;
  /** The parsed record, or the text that could not be parsed (`parseError` says why). */
  readonly value: unknown;
  readonly parseError?: string;
}

/**
 * A unit of provider data that is landed, normalized and written together, then acknowledged together
 * (cursor advance, queue delete). `batchId` is derived from the source and its window or content, never
 * from the clock, so re-running the same window writes the same keys.
 */
export interface IngestBatch {
  readonly source: Source;
  readonly batchId: string;
  /** Partition date for the raw copy and for quarantined records that carry no usable date. */
  readonly rawDate: string;
  readonly rawParts: () => AsyncIterable<RawPart> | Iterable<RawPart>;
  readonly records: () => AsyncIterable<SourceRecord> | Iterable<SourceRecord>;
  readonly mapper: RecordMapper;
}

export interface BatchResult {
  readonly batchId: string;
  /** Provider records read (one record may hold several events). */
  readonly records: number;
  /** Events in the batch after mapping. */
  readonly events: number;
  /** Events that were not in the store before this write. */
  readonly added: number;
  /** Events already stored (by an earlier batch or an earlier run of this one), or repeated within it. */
  readonly duplicates: number;
  /** Records that failed to parse or validate; kept under quarantine/ with the reason. */
  readonly quarantined: number;
  /** Records that were valid but carried nothing we track (opens, clicks). */
  readonly ignored: number;
  /**
   * Events stored with a field left out, by what was said about it (e.g. a sending IP that is not one):
   * nothing is dropped silently, and nothing from outside is stored unchecked either.
   */
  readonly notes: Readonly<Record<string, number>>;
  readonly keys: readonly string[];
}

/** The notes of several batches added up. */
export function sumNotes(results: Iterable<Pick<BatchResult, "notes">>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) for (const [note, n] of Object.entries(r.notes)) out[note] = (out[note] ?? 0) + n;
  return out;
}

/** `; 3 × sendingIp is not an IP address: …` for a summary line; empty when nothing was noted. */
export function formatNotes(notes: Readonly<Record<string, number>>): string {
  return Object.entries(notes)
    .map(([note, n]) => `; ${n.toLocaleString("en-US")} × ${note}`)
    .join("");
}
