import type { SourceRecord } from "../../pipeline/ingest/ingest-batch.ts";
import { jsonRecords } from "./json-records.ts";

export type RecordReadProgress = (bytesRead: number) => void;

/**
 * Saved Amazon SES data in any shape SES reaches us in: Firehose objects (one record per line, or concatenated
 * with no separator), pretty-printed events, arrays, SNS envelopes, a Lambda SNS event (`Records`) and
 * `aws sqs receive-message` output (`Messages`). The mapper unwraps each record.
 */
export function ndjsonRecords(path: string, onProgress?: RecordReadProgress): AsyncIterable<SourceRecord> {
  return jsonRecords(path, { listKeys: ["Records", "Messages"] }, onProgress);
}

/**
 * Saved Mailgun Events/Logs API pages (`{items, paging}`), events, and webhook bodies
 * (`{signature, event-data}`), one per line, pretty-printed or concatenated. Each item is one record.
 */
export function mailgunPageRecords(
  path: string,
  onProgress?: RecordReadProgress,
): AsyncIterable<SourceRecord> {
  return jsonRecords(path, { listKeys: ["items"] }, onProgress);
}
