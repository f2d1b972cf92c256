import type { SourceRecord } from "../../pipeline/ingest/ingest-batch.ts";
import type { RecordReadProgress } from "./export-records.ts";
import { jsonRecords } from "./json-records.ts";

/**
 * Saved SendGrid Event Webhook batches (JSON arrays of events), events one per line, pretty-printed or
 * concatenated, plain or gzipped. Each event is one record; the mapper names what is wrong with a non-event
 * (a suppression-list export among them).
 */
export function sendgridBatchRecords(
  path: string,
  onProgress?: RecordReadProgress,
): AsyncIterable<SourceRecord> {
  return jsonRecords(path, { listKeys: [] }, onProgress);
}
