import { basename } from "node:path";
import type { SourceRecord } from "../../pipeline/ingest/ingest-batch.ts";
import { readNdjsonFile } from "../../store/ndjson-gzip.ts";
import type { RecordReadProgress } from "./export-records.ts";

/*
 * Saved SparkPost data, plain or gzipped (esp-apis.md §4.2):
 *   - an Events API page `{results: [...], links, total_count}`, compact or pretty-printed;
 *   - a webhook batch: a JSON array of `{msys: {message_event: {...}}}` entries, compact or pretty-printed;
 *   - NDJSON with one page, one event, one webhook entry or one webhook batch per line.
 * Each event or webhook entry is one record; anything unreadable is a record with a parse error (quarantined,
 * never dropped). The mapper judges the records themselves.
 */

type Mode = "lines" | "document";

/** `{` or `[` opening a value that the line does not close: the first line of pretty-printed JSON. */
const OPENS_VALUE = /^\s*[{[]/;

export async function* sparkpostEventRecords(
  path: string,
  onProgress?: RecordReadProgress,
): AsyncIterable<SourceRecord> {
  const name = basename(path);
  let bytes = 0;
  let mode: Mode | null = null;
  // The first line, while it alone cannot tell the layout (it does not parse but opens a value).
  let pending: { line: number; text: string } | null = null;
  // Pretty-printed documents are API-sized (a page of at most 10 000 events): gathered, parsed once.
  const document: string[] = [];
  let documentLine = 0;

  for await (const entry of readNdjsonFile(path)) {
    bytes += Buffer.byteLength(entry.text) + 1;
    if (entry.text.trim() === "") {
      if (mode === "document") document.push(entry.text);
      continue;
    }
    if (mode === null) {
      if (pending === null) {
        if (parses(entry.text) || !OPENS_VALUE.test(entry.text)) {
          mode = "lines";
        } else {
          pending = entry;
          continue;
        }
      } else {
        // A second line that is JSON by itself: NDJSON whose first line is broken, not a pretty document.
        mode = parses(entry.text) ? "lines" : "document";
        if (mode === "lines") yield* recordsOfLine(name, pending.line, pending.text);
        else {
          documentLine = pending.line;
          document.push(pending.text);
        }
        pending = null;
      }
    }
    if (mode === "document") {
      document.push(entry.text);
      continue;
    }
    if (entry.line % 1000 === 0) onProgress?.(bytes);
    yield* recordsOfLine(name, entry.line, entry.text);
  }
  // A file of a single line that opens a value and does not parse: one broken record.
  if (pending !== null) yield* recordsOfLine(name, pending.line, pending.text);
  if (mode === "document") yield* recordsOfLine(name, documentLine, document.join("\n"), "document");
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

function* recordsOfLine(
  name: string,
  line: number,
  text: string,
  what: "line" | "document" = "line",
): Iterable<SourceRecord> {
  const ref = `${name}:${line}`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const where = what === "line" ? `line ${line}` : `the JSON document starting at line ${line}`;
    yield { ref, value: text, parseError: `${where}: not valid JSON (${(e as Error).message})` };
    return;
  }
  if (Array.isArray(value)) {
    // A webhook batch (or an array of saved pages).
    for (const [i, entry] of value.entries()) yield* recordsOfValue(`${ref} entry ${i}`, line, entry, false);
    return;
  }
  yield* recordsOfValue(ref, line, value, true);
}

function* recordsOfValue(ref: string, line: number, value: unknown, top: boolean): Iterable<SourceRecord> {
  if (isObject(value) && Array.isArray(value.results)) {
    for (const [i, item] of value.results.entries()) yield { ref: `${ref} result ${i}`, value: item };
    return;
  }
  if (isObject(value) && ("msys" in value || "type" in value || "event_id" in value)) {
    yield { ref, value };
    return;
  }
  // A saved error answer is a common mistake when saving pages by hand: say so plainly.
  const why =
    isObject(value) && Array.isArray(value.errors)
      ? "a SparkPost error response ({errors: [...]}), not events"
      : top
        ? "neither a SparkPost events page ({results, links}), a webhook batch ([{msys}]), nor an event"
        : "neither a webhook entry ({msys}), an events page, nor an event";
  yield { ref, value, parseError: `line ${line}: ${why}` };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
