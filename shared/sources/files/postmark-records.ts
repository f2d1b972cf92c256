import { basename } from "node:path";
import type { SourceRecord } from "../../pipeline/ingest/ingest-batch.ts";
import { readNdjsonFile } from "../../store/ndjson-gzip.ts";
import type { RecordReadProgress } from "./export-records.ts";

/*
 * Saved Postmark data, plain or gzipped (recognised by magic bytes):
 *   - one GET /bounces response `{TotalCount, Bounces: [...]}` (or GET /messages/outbound `{TotalCount,
 *     Messages: [...]}`), as saved from the API, possibly pretty-printed; or a JSON array of records;
 *   - NDJSON: one such page, or one record (a Bounce object, a webhook record, an outbound message) per line.
 * Each bounce/message is one record. Map them with mapPostmarkRecord (which tells the shapes apart) or
 * mapPostmarkBounce for bounce-only files. Unparsable input becomes a record with parseError, never dropped.
 */

// Pretty-printed JSON opens with a lone brace or bracket on its first line; NDJSON never does.
const LONE_OPENER = /^\s*[{[]\s*$/;
// NDJSON: progress is reported every this many lines.
const PROGRESS_EVERY = 100;

/** Saved Postmark bounce pages or records (see above) as source records, refs `file:line item i`. */
export async function* postmarkBounceRecords(
  path: string,
  onProgress?: RecordReadProgress,
): AsyncIterable<SourceRecord> {
  const name = basename(path);
  const gathered: Array<{ line: number; text: string }> = [];
  // lines: NDJSON. document: one JSON value over many lines ("opened": it began with a lone brace/bracket).
  let mode: "lines" | "document" | "opened" | null = null;
  let bytes = 0;
  for await (const entry of readNdjsonFile(path)) {
    bytes += Buffer.byteLength(entry.text) + 1;
    if (entry.text.trim() === "") continue;
    if (mode === null) {
      if (LONE_OPENER.test(entry.text)) mode = "opened";
      else mode = parses(entry.text) ? "lines" : "document";
    }
    if (mode !== "lines") {
      // One document (API-sized: ≤ 500 records a page): gathered, parsed once at the end.
      gathered.push(entry);
      continue;
    }
    if (entry.line % PROGRESS_EVERY === 0) onProgress?.(bytes);
    yield* recordsOf(name, entry.line, entry.text);
  }
  const first = gathered[0]?.line ?? 1;
  const whole = gathered.map((l) => l.text).join("\n");
  if (mode === "opened" || (mode === "document" && parses(whole))) {
    // A broken pretty-printed document is one bad record, not one per line.
    yield* recordsOf(name, first, whole);
  } else if (mode === "document") {
    // Its first line is not JSON, nor is the whole: NDJSON with a bad first line. Read line by line.
    for (const l of gathered) yield* recordsOf(name, l.line, l.text);
  }
  onProgress?.(bytes);
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function* recordsOf(name: string, line: number, text: string): Iterable<SourceRecord> {
  const ref = `${name}:${line}`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    yield { ref, value: text, parseError: `line ${line}: not valid JSON (${(e as Error).message})` };
    return;
  }
  const list = Array.isArray(value) ? value : listOf(value);
  if (list !== null) {
    for (const [i, item] of list.entries()) {
      if (isObject(item)) yield { ref: `${ref} item ${i}`, value: item };
      else
        yield {
          ref: `${ref} item ${i}`,
          value: item,
          parseError: `line ${line} item ${i}: not a JSON object`,
        };
    }
    return;
  }
  if (isObject(value) && looksLikeRecord(value)) {
    yield { ref, value };
    return;
  }
  yield { ref, value, parseError: `line ${line}: ${whatIsWrong(value)}` };
}

/** The records of a saved response page; null when `value` is not one. */
function listOf(value: unknown): unknown[] | null {
  if (!isObject(value) || !("TotalCount" in value)) return null;
  for (const key of ["Bounces", "Messages"] as const) {
    const list = value[key];
    if (Array.isArray(list)) return list;
    // Postmark sends null for an empty result.
    if (key in value && list === null) return [];
  }
  return null;
}

function looksLikeRecord(v: Record<string, unknown>): boolean {
  return "RecordType" in v || "BouncedAt" in v || "TypeCode" in v || "MessageID" in v;
}

function whatIsWrong(value: unknown): string {
  if (isObject(value) && "ErrorCode" in value) {
    // A saved error answer rather than data: say so, it is the likeliest mistake.
    return `a Postmark error response (ErrorCode ${JSON.stringify(value.ErrorCode)}: ${JSON.stringify(value.Message ?? null)}), not data`;
  }
  return "neither a Postmark response page ({TotalCount, Bounces} or {TotalCount, Messages}) nor a Postmark record";
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
