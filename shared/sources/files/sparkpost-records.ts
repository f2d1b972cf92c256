import type { SourceRecord } from "../../pipeline/ingest/ingest-batch.ts";
import type { RecordReadProgress } from "./export-records.ts";
import { jsonRecords } from "./json-records.ts";

/**
 * Saved SparkPost data, plain or gzipped (https://developers.sparkpost.com/api/events/): Events API pages `{results, links, total_count}`,
 * webhook batches `[{msys: {...}}]`, events one per line, pretty-printed or concatenated. Each event or
 * webhook entry is one record.
 */
export async function* sparkpostEventRecords(
  path: string,
  onProgress?: RecordReadProgress,
): AsyncIterable<SourceRecord> {
  for await (const r of jsonRecords(path, { listKeys: ["results"] }, onProgress)) {
    const v = r.value;
    if (r.parseError === undefined && isObject(v) && Array.isArray(v.errors) && !("msys" in v)) {
      // A saved error answer is a common mistake when saving pages by hand: say so plainly.
      yield { ...r, parseError: "a SparkPost error response ({errors: [...]}), not events" };
    } else yield r;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
