import { basename } from "node:path";
import type { SourceRecord } from "../../pipeline/ingest/ingest-batch.ts";
import { readNdjsonFile } from "../../store/ndjson-gzip.ts";
import type { RecordReadProgress } from "./export-records.ts";

/**
 * Saved SendGrid Event Webhook batches, plain or gzipped (by magic bytes): one batch as SendGrid posts it (a
 * JSON array, possibly pretty-printed), or NDJSON with one batch (array) or one event (object) per line.
 * Each event is one record, ref `file:line item i` (or `file:line` for a line holding one event). Input that
 * cannot be parsed becomes a record with a parse error (quarantined, never dropped); blank lines are skipped.
 */
export async function* sendgridBatchRecords(
  path: string,
  onProgress?: RecordReadProgress,
): AsyncIterable<SourceRecord> {
  const name = basename(path);
  // Lines of a value that spans several lines (pretty-printed), gathered and parsed once at the end.
  const gathered: Line[] = [];
  let perLine: boolean | null = null;
  let bytes = 0;
  for await (const entry of readNdjsonFile(path)) {
    bytes += Buffer.byteLength(entry.text) + 1;
    if (entry.text.trim() === "") continue;
    if (perLine === false) {
      gathered.push(entry);
      continue;
    }
    const parsed = parseJson(entry.text);
    if (perLine === null) {
      // Decided on the first line: a whole JSON value there means one value per line; an opening bracket
      // that does not close on its line means a pretty-printed file (saved batches are webhook-sized).
      perLine = parsed.ok || !/^\s*[[{]/.test(entry.text);
      if (!perLine) {
        gathered.push(entry);
        continue;
      }
    }
    if (entry.line % 100 === 0) onProgress?.(bytes);
    yield* recordsOf(name, entry.line, entry.text, parsed);
  }
  if (perLine === false) yield* recordsOfGathered(name, gathered);
  onProgress?.(bytes);
}

interface Line {
  readonly line: number;
  readonly text: string;
}

type Parsed = { ok: true; value: unknown } | { ok: false; error: string };

function* recordsOfGathered(name: string, lines: readonly Line[]): Iterable<SourceRecord> {
  const first = lines[0]?.line ?? 1;
  const text = lines.map((l) => l.text).join("\n");
  const whole = parseJson(text);
  if (whole.ok) {
    yield* recordsOf(name, first, text, whole);
    return;
  }
  // Not one value. If most later lines stand alone, it was NDJSON whose first line is broken: read it line by
  // line so one bad line does not swallow the good ones. Otherwise it is a broken pretty-printed batch.
  const rest = lines.slice(1).map((l) => ({ ...l, parsed: parseJson(l.text) }));
  if (rest.length > 0 && rest.filter((l) => l.parsed.ok).length * 2 > rest.length) {
    const head = lines[0] as Line;
    yield* recordsOf(name, head.line, head.text, parseJson(head.text));
    for (const l of rest) yield* recordsOf(name, l.line, l.text, l.parsed);
    return;
  }
  yield* recordsOf(name, first, text, whole);
}

function* recordsOf(name: string, line: number, text: string, parsed: Parsed): Iterable<SourceRecord> {
  if (!parsed.ok) {
    yield {
      ref: `${name}:${line}`,
      value: text,
      parseError: `line ${line}: not valid JSON (${parsed.error})`,
    };
    return;
  }
  const value = parsed.value;
  if (Array.isArray(value)) {
    // Each element is a record, whatever it is: the mapper names what is wrong with a non-event.
    for (const [i, item] of value.entries()) yield { ref: `${name}:${line} item ${i}`, value: item };
  } else if (typeof value === "object" && value !== null) {
    yield { ref: `${name}:${line}`, value };
  } else {
    yield {
      ref: `${name}:${line}`,
      value,
      parseError: `line ${line}: neither a SendGrid webhook batch (JSON array) nor an event (JSON object)`,
    };
  }
}

function parseJson(text: string): Parsed {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}
