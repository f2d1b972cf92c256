import { basename } from "node:path";
import { jsonParser, type Token } from "stream-json/parser.js";
import type { SourceRecord } from "../../pipeline/ingest/ingest-batch.ts";
import type { RecordReadProgress } from "./export-records.ts";
import { openDecompressed } from "./file-batch.ts";

/*
 * Every JSON layout an export or a webhook body comes in, read as one token stream (stream-json), so memory is
 * bounded by the largest record, never by the file:
 *   - one JSON value per line (Firehose with SES's newline), pretty-printed JSON, values concatenated with no
 *     separator (Firehose's default to S3), or any mix;
 *   - a top-level array: each element is a record (webhook batches, saved arrays);
 *   - a top-level object holding a list under one of `listKeys` (`items`, `Records`, `Messages`, `Bounces`,
 *     `results`): each element is a record, streamed; any other object is one record.
 * A record nested deeper than `maxDepth`, larger than `maxRecordChars`, holding bytes that are not UTF-8, or not
 * valid JSON becomes a record with a parse error (quarantined with its reason); the records around it are kept.
 * After a syntax error the reader resumes at the next line.
 */

export interface JsonRecordsOptions {
  /** Keys of a top-level object whose array value is a list of records (a response page, an event wrapper). */
  readonly listKeys: readonly string[];
  /** Nesting allowed inside one record; deeper records are quarantined whole. */
  readonly maxDepth?: number;
  /** Characters (keys, strings, numbers) allowed in one record; larger records are quarantined. */
  readonly maxRecordChars?: number;
}

const DEFAULT_MAX_DEPTH = 64;
const DEFAULT_MAX_RECORD_CHARS = 16 * 1024 * 1024;

type Frame =
  | { kind: "object"; value: Record<string, unknown>; key: string | null }
  | { kind: "array"; value: unknown[] };

interface Current {
  readonly ref: string;
  readonly line: number;
  /** Depth (frames open outside the record) at which the record starts. */
  readonly base: number;
  stack: Frame[];
  value: unknown;
  done: boolean;
  chars: number;
  /** Why the record cannot be kept; once set, the record's tokens are only counted, not built. */
  problem: string | null;
  undecodable: boolean;
  /** Set when the value is a field of a top-level object that is not a wrapper (then that object is the record). */
  fieldOf: string | null;
}

/** The records of a JSON file (plain or gzipped), as described above. */
export async function* jsonRecords(
  path: string,
  options: JsonRecordsOptions,
  onProgress?: RecordReadProgress,
): AsyncIterable<SourceRecord> {
  const name = basename(path);
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxChars = options.maxRecordChars ?? DEFAULT_MAX_RECORD_CHARS;
  const listKeys = new Set(options.listKeys);

  let parser = newParser();
  let line = 1;
  let bytes = 0;
  // Bytes that were not UTF-8 were seen: strings holding U+FFFD from then on are quarantined.
  let sawInvalidUtf8 = false;
  let firstInvalidAt: number | null = null;

  // Where we are outside records: open containers of the top level (an array, or an object with a list).
  let outer: Array<{ kind: "array" | "object" | "list"; line: number; index: number; key: string | null }> =
    [];
  let current: Current | null = null;
  let out: SourceRecord[] = [];
  // After a syntax error: skip to the next line, then resume with a fresh parser.
  let skipping: { line: number; reason: string } | null = null;
  // "lines": every value ends on its line (NDJSON, Firehose); "document": values span lines (pretty-printed).
  let layout: "lines" | "document" | null = null;
  let lineHasContent = false;
  let tokensThisLine = 0;
  // A syntax error held back while the lines after it fail too: one bad stretch is one record.
  let heldError: { ref: string; reason: string; toLine: number } | null = null;
  const releaseError = (): SourceRecord[] => {
    if (heldError === null) return [];
    const { ref, reason, toLine } = heldError;
    heldError = null;
    const through = reason.startsWith(`line ${toLine}:`) ? "" : ` (unreadable through line ${toLine})`;
    return [{ ref, value: "(not kept: not valid JSON)", parseError: `${reason}${through}` }];
  };

  const start = (value: unknown, isContainer: boolean): void => {
    const parent = outer[outer.length - 1];
    const inList = parent !== undefined && (parent.kind === "array" || parent.kind === "list");
    const ref = inList ? `${name}:${parent.line} item ${parent.index++}` : `${name}:${line}`;
    const fieldOf = parent?.kind === "object" ? (fieldKey ?? "") : null;
    current = {
      ref,
      line,
      base: outer.length,
      stack: [],
      value: undefined,
      done: false,
      chars: 0,
      problem: null,
      undecodable: false,
      fieldOf,
    };
    if (isContainer) push(current, value as Frame["value"]);
    else finishScalar(current, value);
  };

  const emit = (c: Current): void => {
    if (c.fieldOf !== null && pendingObject !== null) {
      pendingObject.fields[c.fieldOf] = c.value;
      pendingObject.chars += c.chars;
      if (pendingObject.chars > maxChars) pendingObject.problem ??= `larger than ${maxChars} characters`;
      pendingObject.problem ??= c.problem;
      pendingObject.undecodable ||= c.undecodable;
      current = null;
      return;
    }
    if (c.problem !== null) {
      out.push({ ref: c.ref, value: `(not kept: ${c.problem})`, parseError: `line ${c.line}: ${c.problem}` });
    } else if (c.undecodable) {
      out.push({
        ref: c.ref,
        value: c.value,
        parseError: `line ${c.line}: holds bytes that are not UTF-8 (first at byte ${firstInvalidAt ?? "?"} of the file; shown as U+FFFD)`,
      });
    } else out.push({ ref: c.ref, value: c.value });
    current = null;
  };

  const push = (c: Current, container: Record<string, unknown> | unknown[]): void => {
    if (c.stack.length >= maxDepth) {
      c.problem ??= `nested deeper than ${maxDepth} levels`;
    }
    if (c.problem !== null) {
      c.stack.push({ kind: "array", value: [] });
      return;
    }
    attach(c, container);
    c.stack.push(
      Array.isArray(container)
        ? { kind: "array", value: container }
        : { kind: "object", value: container, key: null },
    );
  };

  const attach = (c: Current, value: unknown): void => {
    const top = c.stack[c.stack.length - 1];
    if (top === undefined) c.value = value;
    else if (top.kind === "array") top.value.push(value);
    else if (top.key !== null) {
      top.value[top.key] = value;
      top.key = null;
    }
  };

  const finishScalar = (c: Current, value: unknown): void => {
    if (c.problem === null) attach(c, value);
    if (c.stack.length === 0) emit(c);
  };

  const count = (c: Current, text: string): void => {
    c.chars += text.length;
    if (c.chars > maxChars) c.problem ??= `larger than ${maxChars} characters`;
    if (sawInvalidUtf8 && text.includes("\uFFFD")) c.undecodable = true;
  };

  const onToken = (t: Token): void => {
    tokensThisLine++;
    const c: Current | null = current;
    if (c !== null) {
      switch (t.name) {
        case "startObject":
          push(c, {});
          return;
        case "startArray":
          push(c, []);
          return;
        case "endObject":
        case "endArray":
          c.stack.pop();
          if (c.stack.length === 0) emit(c);
          return;
        case "keyValue": {
          count(c, t.value);
          const top = c.stack[c.stack.length - 1];
          if (top?.kind === "object" && c.problem === null) top.key = t.value;
          return;
        }
        case "stringValue":
          count(c, t.value);
          finishScalar(c, t.value);
          return;
        case "numberValue":
          count(c, t.value);
          finishScalar(c, numberOf(t.value));
          return;
        case "nullValue":
        case "trueValue":
        case "falseValue":
          finishScalar(c, t.value);
          return;
        default:
          return;
      }
    }
    // Outside a record.
    const parent = outer[outer.length - 1];
    if (parent === undefined) {
      // A top-level value: arrays and objects open a container whose parts decide; scalars are records.
      if (t.name === "startArray") outer.push({ kind: "array", line, index: 0, key: null });
      else if (t.name === "startObject") {
        outer.push({ kind: "object", line, index: 0, key: null });
        pendingObject = { line, fields: {}, lists: 0, problem: null, undecodable: false, chars: 0 };
      } else if (isScalar(t)) {
        start(scalarOf(t), false);
      }
      return;
    }
    if (parent.kind === "array" || parent.kind === "list") {
      if (t.name === "endArray") {
        outer.pop();
        return;
      }
      if (t.name === "startObject") start({}, true);
      else if (t.name === "startArray") start([], true);
      else if (isScalar(t)) start(scalarOf(t), false);
      return;
    }
    // parent is a top-level object: its fields are gathered, lists under listKeys are streamed.
    const pending = pendingObject;
    if (pending === null) return;
    if (t.name === "keyValue") {
      parent.key = t.value;
      pending.chars += t.value.length;
      if (sawInvalidUtf8 && t.value.includes("\uFFFD")) pending.undecodable = true;
      return;
    }
    if (t.name === "endObject") {
      outer.pop();
      pendingObject = null;
      if (pending.lists === 0) {
        // Not a wrapper: the object itself is the record.
        const ref = `${name}:${pending.line}`;
        if (pending.problem !== null) {
          out.push({
            ref,
            value: `(not kept: ${pending.problem})`,
            parseError: `line ${pending.line}: ${pending.problem}`,
          });
        } else if (pending.undecodable) {
          out.push({
            ref,
            value: pending.fields,
            parseError: `line ${pending.line}: holds bytes that are not UTF-8 (first at byte ${firstInvalidAt ?? "?"} of the file; shown as U+FFFD)`,
          });
        } else out.push({ ref, value: pending.fields });
      }
      return;
    }
    const key = parent.key;
    parent.key = null;
    if (key !== null && listKeys.has(key) && t.name === "startArray") {
      pending.lists++;
      outer.push({ kind: "list", line, index: 0, key });
      return;
    }
    // Any other field of the top-level object: built like a record, then stored as the field (see emit).
    fieldKey = key;
    if (t.name === "startObject") start({}, true);
    else if (t.name === "startArray") start([], true);
    else if (isScalar(t)) {
      const v = scalarOf(t);
      if (key !== null) pending.fields[key] = v;
      pending.chars += typeof v === "string" ? v.length : 8;
      if (pending.chars > maxChars) pending.problem ??= `larger than ${maxChars} characters`;
      if (sawInvalidUtf8 && (typeof v === "string" ? v : "").includes("\uFFFD")) pending.undecodable = true;
    }
    fieldKey = null;
  };

  let pendingObject: {
    line: number;
    fields: Record<string, unknown>;
    lists: number;
    problem: string | null;
    undecodable: boolean;
    chars: number;
  } | null = null;
  let fieldKey: string | null = null;

  const drain = function* (): Iterable<SourceRecord> {
    if (out.length > 0) yield* releaseError();
    yield* out;
    out = [];
  };

  const reset = (): void => {
    parser = newParser();
    outer = [];
    current = null;
    pendingObject = null;
    fieldKey = null;
  };

  const feed = (segment: string): string | null => {
    try {
      const tokens = parser(segment);
      forEachToken(tokens, onToken);
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  };

  const decoder = new TextDecoder("utf-8", { fatal: false });
  let carry: Buffer = Buffer.alloc(0);
  const stream = openDecompressed(path);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const text = decoder.decode(chunk, { stream: true });
    if (!sawInvalidUtf8 && text.includes("\uFFFD")) {
      // U+FFFD the decoder made up, not one the file spelt as EF BF BD: the file has undecodable bytes.
      const both = Buffer.concat([carry, chunk]);
      if (countOf(text, "\uFFFD") > countReplacementBytes(both)) {
        sawInvalidUtf8 = true;
        firstInvalidAt = bytes + firstInvalidOffset(chunk);
      }
    }
    carry = chunk.subarray(Math.max(0, chunk.length - 2));
    bytes += chunk.length;
    yield* feedText(text);
    onProgress?.(bytes);
  }
  yield* feedText(decoder.decode());
  // End of input: flush the parser, then anything left open is a truncated record.
  const stillSkipping = skipping as { line: number; reason: string } | null;
  if (stillSkipping === null) {
    const err = feed("");
    const flushErr = err ?? flush();
    if (flushErr !== null || current !== null || outer.length > 0) {
      const c = current as Current | null;
      const where = c?.line ?? outer[0]?.line ?? line;
      const ref = c?.ref ?? `${name}:${where}`;
      out.push({
        ref,
        value: "(not kept: not valid JSON)",
        parseError:
          flushErr !== null && current === null && outer.length === 0
            ? `line ${where}: not valid JSON (${flushErr})`
            : `line ${where}: the file ends inside a JSON value`,
      });
    }
  } else if (heldError !== null) (heldError as { toLine: number }).toLine = line;
  else heldError = { ref: `${name}:${stillSkipping.line}`, reason: stillSkipping.reason, toLine: line };
  yield* releaseError();
  yield* drain();

  function flush(): string | null {
    try {
      const tokens = (parser as unknown as (x: symbol) => unknown)(FLUSH);
      forEachToken(tokens, onToken);
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  }

  function* feedText(text: string): Iterable<SourceRecord> {
    let from = 0;
    while (from < text.length) {
      const nl = text.indexOf("\n", from);
      const segment = nl === -1 ? text.slice(from) : text.slice(from, nl + 1);
      from = nl === -1 ? text.length : nl + 1;
      if (skipping !== null) {
        // The rest of a bad line is skipped; the next line starts afresh.
        if (nl !== -1) endSkip();
        continue;
      }
      if (segment.trim() !== "") lineHasContent = true;
      const err = feed(segment);
      if (err !== null) {
        const c = current as Current | null;
        const at = c?.line ?? outer[0]?.line ?? line;
        skipping = { line: at, reason: `line ${line}: not valid JSON (${err})` };
        if (nl !== -1) endSkip();
        yield* drain();
        continue;
      }
      if (nl !== -1) {
        endOfLine();
        line++;
      }
      yield* drain();
    }
  }

  /** At a line end: the first line with content decides the layout; in one-value-per-line files, an open value is broken. */
  function endOfLine(): void {
    if (!lineHasContent) return;
    const tokens = tokensThisLine;
    tokensThisLine = 0;
    if (layout === "lines" && tokens === 0 && current === null && outer.length === 0) {
      // Text the parser still holds, waiting for more (`not json` might yet become `null`): in a file of one
      // value per line, the line is simply not JSON.
      out.push({
        ref: `${name}:${line}`,
        value: "(not kept: not valid JSON)",
        parseError: `line ${line}: not valid JSON`,
      });
      reset();
      lineHasContent = false;
      return;
    }
    const open = current !== null || outer.length > 0;
    if (layout === null) {
      layout = open ? "document" : "lines";
    } else if (layout === "lines" && open) {
      const c = current as Current | null;
      const at = c?.line ?? outer[0]?.line ?? line;
      out.push({
        ref: c?.ref ?? `${name}:${at}`,
        value: "(not kept: not valid JSON)",
        parseError: `line ${at}: not valid JSON (the line ends inside a value)`,
      });
      reset();
    }
    lineHasContent = false;
  }

  function endSkip(): void {
    tokensThisLine = 0;
    const bad = skipping;
    skipping = null;
    reset();
    // One bad stretch is one record: a broken pretty-printed value fails on line after line until a value parses.
    if (bad !== null) {
      if (heldError !== null) heldError.toLine = line;
      else heldError = { ref: `${name}:${bad.line}`, reason: bad.reason, toLine: line };
    }
    line++;
    lineHasContent = false;
  }
}

// stream-chain's flush marker (`none`): passing it tells the parser the input ended.
const FLUSH = Symbol.for("object-stream.none");

function newParser(): (chunk: string) => unknown {
  return jsonParser({
    jsonStreaming: true,
    packValues: true,
    streamValues: false,
    // Depth is limited per record (quarantined alone), not here: stream-json would abort the whole file.
    maxDepth: Number.POSITIVE_INFINITY,
  }) as unknown as (chunk: string) => unknown;
}

function forEachToken(tokens: unknown, f: (t: Token) => void): void {
  if (tokens === null || tokens === undefined || typeof tokens !== "object") return;
  if (Array.isArray(tokens)) {
    for (const t of tokens) f(t as Token);
    return;
  }
  const many = tokens as { values?: unknown[] };
  if (Array.isArray(many.values)) for (const t of many.values) f(t as Token);
  else if ("name" in tokens) f(tokens as Token);
}

function isScalar(t: Token): boolean {
  return (
    t.name === "stringValue" ||
    t.name === "numberValue" ||
    t.name === "nullValue" ||
    t.name === "trueValue" ||
    t.name === "falseValue"
  );
}

function scalarOf(t: Token): unknown {
  if (t.name === "numberValue") return numberOf(t.value);
  return "value" in t ? t.value : null;
}

/** A JSON number; an integer beyond 2^53 stays its digits, so ids like Postmark's keep every one. */
function numberOf(text: string): number | string {
  const n = Number(text);
  if (/^-?\d+$/.test(text) && !Number.isSafeInteger(n)) return text;
  return n;
}

function countOf(s: string, ch: string): number {
  let n = 0;
  for (let i = s.indexOf(ch); i !== -1; i = s.indexOf(ch, i + 1)) n++;
  return n;
}

/** EF BF BD: a U+FFFD the file itself contains. */
function countReplacementBytes(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(0xef); i !== -1 && i + 2 < b.length; i = b.indexOf(0xef, i + 1)) {
    if (b[i + 1] === 0xbf && b[i + 2] === 0xbd) n++;
  }
  return n;
}

/** Offset of the first byte that cannot start or continue valid UTF-8 here (approximate, for the message). */
function firstInvalidOffset(b: Buffer): number {
  for (let i = 0; i < b.length; i++) {
    const x = b[i] as number;
    if (x >= 0xf8 || (x >= 0x80 && x < 0xc0 && (i === 0 || (b[i - 1] as number) < 0x80))) return i;
    if (x === 0xc0 || x === 0xc1) return i;
  }
  return 0;
}
