import type { SourceRecord } from "../../pipeline/ingest/ingest-batch.ts";
import type { RecordReadProgress } from "./export-records.ts";
import { jsonRecords } from "./json-records.ts";

/**
 * Saved Postmark data, plain or gzipped: GET /bounces pages `{TotalCount, Bounces}`, GET /messages/outbound
 * pages `{TotalCount, Messages}`, arrays of records, or records (Bounce objects, webhook bodies) one per line,
 * pretty-printed or concatenated. Bounce IDs beyond 2^53 arrive as digit strings, exact.
 */
export async function* postmarkBounceRecords(
  path: string,
  onProgress?: RecordReadProgress,
): AsyncIterable<SourceRecord> {
  for await (const r of jsonRecords(path, { listKeys: ["Bounces", "Messages"] }, onProgress)) {
    const v = r.value;
    if (r.parseError === undefined && isObject(v) && "ErrorCode" in v && !("RecordType" in v)) {
      // A saved error answer rather than data: say so, it is the likeliest mistake.
      yield {
        ...r,
        parseError: `a Postmark error response (ErrorCode ${JSON.stringify(v.ErrorCode)}: ${JSON.stringify(v.Message ?? null)}), not data`,
      };
    } else yield r;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
