import { basename } from "node:path";
import type { SourceRecord } from "../../pipeline/ingest/ingest-batch.ts";
import { readNdjsonFile } from "../../store/ndjson-gzip.ts";

export type RecordReadProgress = (bytesRead: number) => void;

/**
 * One JSON record per line, as Firehose writes SES events to S3. A line that is not JSON becomes a record
 * with a parse error (quarantined, never dropped); blank lines are skipped.
 */
export async function* ndjsonRecords(
  path: string,
  onProgress?: RecordReadProgress,
): AsyncIterable<SourceRecord> {
  const name = basename(path);
  let bytes = 0;
  for await (const { line, text } of readNdjsonFile(path)) {
    bytes += Buffer.byteLength(text) + 1;
    if (line % 1000 === 0) onProgress?.(bytes);
    if (text.trim() === "") continue;
    const ref = `${name}:${line}`;
    try {
      yield { ref, value: JSON.parse(text) as unknown };
    } catch (e) {
      yield { ref, value: text, parseError: `line ${line}: not valid JSON (${(e as Error).message})` };
    }
  }
  onProgress?.(bytes);
}

interface PageLike {
  items: unknown[];
}
const isPage = (v: unknown): v is PageLike =>
  typeof v === "object" && v !== null && Array.isArray((v as { items?: unknown }).items);

/**
 * Saved Mailgun Events/Logs API responses: a file holding one `{items, paging}` page (as saved from the API,
 * possibly pretty-printed), or NDJSON with one page or one event per line. Each item is one record.
 */
export async function* mailgunPageRecords(
  path: string,
  onProgress?: RecordReadProgress,
): AsyncIterable<SourceRecord> {
  const name = basename(path);
  const lines: Array<{ line: number; text: string }> = [];
  let perLine: boolean | null = null;
  let bytes = 0;
  for await (const entry of readNdjsonFile(path)) {
    bytes += Buffer.byteLength(entry.text) + 1;
    if (entry.text.trim() === "") continue;
    // A pretty-printed page opens with a lone brace; anything else is one JSON value per line.
    if (perLine === null) perLine = !/^\s*[{[]\s*$/.test(entry.text);
    if (!perLine) {
      // A pretty-printed single page: gather it (saved pages are API-sized) and parse once at the end.
      lines.push(entry);
      continue;
    }
    if (entry.line % 100 === 0) onProgress?.(bytes);
    yield* recordsOfLine(name, entry.line, entry.text);
  }
  if (perLine === false) {
    const text = lines.map((l) => l.text).join("\n");
    yield* recordsOfLine(name, lines[0]?.line ?? 1, text);
  }
  onProgress?.(bytes);
}

function* recordsOfLine(name: string, line: number, text: string): Iterable<SourceRecord> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    yield {
      ref: `${name}:${line}`,
      value: text,
      parseError: `line ${line}: not valid JSON (${(e as Error).message})`,
    };
    return;
  }
  if (isPage(value)) {
    for (const [i, item] of value.items.entries()) yield { ref: `${name}:${line} item ${i}`, value: item };
  } else if (typeof value === "object" && value !== null && "event" in value) {
    yield { ref: `${name}:${line}`, value };
  } else {
    yield {
      ref: `${name}:${line}`,
      value,
      parseError: `line ${line}: neither a Mailgun response page ({items, paging}) nor an event`,
    };
  }
}
