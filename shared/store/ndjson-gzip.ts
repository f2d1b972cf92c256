import { open } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";
import type { ObjectStore } from "./object-store.ts";

/** Serialized lines are handed to gzip in chunks of about this size (fewer, larger writes). */
const CHUNK_CHARS = 64 * 1024;

const GZIP_MAGIC = [0x1f, 0x8b] as const;

/**
 * Writes records as gzipped NDJSON (one JSON value per line) to `key`, streaming: records are pulled only
 * as fast as gzip and the store take them, so memory stays flat whatever the count. If `records` throws,
 * or the store fails, nothing is committed and the error is rethrown.
 */
export async function writeNdjsonGz(
  store: ObjectStore,
  key: string,
  records: AsyncIterable<unknown> | Iterable<unknown>,
): Promise<{ count: number }> {
  let count = 0;
  // Set when the records themselves fail; any other producer error is a consequence of the store stopping.
  let recordsError: unknown;
  async function* lines(): AsyncIterable<string> {
    let chunk = "";
    // Errors thrown in at a yield come from the stream being torn down, not from the records.
    let yielding = false;
    try {
      for await (const record of records) {
        const json = JSON.stringify(record);
        // undefined, functions and symbols have no JSON form; writing "undefined" would corrupt the file.
        if (json === undefined) throw new Error(`record ${count + 1} for ${key} is not JSON-serializable`);
        chunk += `${json}\n`;
        count++;
        if (chunk.length >= CHUNK_CHARS) {
          yielding = true;
          yield chunk;
          yielding = false;
          chunk = "";
        }
      }
    } catch (e) {
      if (!yielding) recordsError = e;
      throw e;
    }
    if (chunk !== "") yield chunk;
  }

  const gzip = createGzip();
  const upload = store.putStream(key, gzip, { contentType: "application/gzip" });
  // A failed upload stops reading gzip; without this the producer would wait on backpressure forever.
  upload.catch((e: unknown) => gzip.destroy(e instanceof Error ? e : new Error(String(e))));
  const [produced, uploaded] = await Promise.allSettled([pipeline(Readable.from(lines()), gzip), upload]);
  if (recordsError !== undefined) throw recordsError;
  if (uploaded.status === "rejected") throw uploaded.reason;
  if (produced.status === "rejected") throw produced.reason;
  return { count };
}

/**
 * The records of a gzipped NDJSON object, streaming. Lines are numbered from 1 as in the file; blank lines
 * are skipped. Throws if the object does not exist (callers find objects with list) or a line is not JSON.
 */
export async function* readNdjsonGz(
  store: ObjectStore,
  key: string,
): AsyncIterable<{ line: number; value: unknown }> {
  const body = await store.getStream(key);
  if (body === null) throw new Error(`no such object: ${key}`);
  for await (const { line, text } of linesOf(body, true, `${key} (in ${store.location})`)) {
    if (text.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new Error(`${key} line ${line}: not valid JSON (${(e as Error).message})`, { cause: e });
    }
    yield { line, value };
  }
}

/**
 * The lines of a local NDJSON file, plain or gzipped (recognised by its magic bytes, not its name),
 * streaming. Lines are numbered from 1; blank lines are included so numbering and byte counts stay true.
 */
export async function* readNdjsonFile(path: string): AsyncIterable<{ line: number; text: string }> {
  const handle = await open(path, "r");
  let gzipped: boolean;
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    gzipped = bytesRead === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  } catch (e) {
    await handle.close();
    throw e;
  }
  yield* linesOf(handle.createReadStream({ start: 0 }), gzipped, path);
}

/**
 * Splits a byte stream (gunzipped first when asked) into UTF-8 lines without the "\n" or "\r\n". Both
 * streams are destroyed when the caller stops early, so no file handle or socket is left open.
 */
async function* linesOf(
  source: Readable,
  gzipped: boolean,
  name: string,
): AsyncIterable<{ line: number; text: string }> {
  const gunzip = gzipped ? createGunzip() : null;
  if (gunzip) source.on("error", (e) => gunzip.destroy(e));
  const bytes: Readable = gunzip ? source.pipe(gunzip) : source;
  // TextDecoder keeps multi-byte characters split across chunks intact and drops a leading BOM.
  const decoder = new TextDecoder("utf-8");
  // Pieces of a line longer than one chunk, joined once at its end (no quadratic concatenation).
  let partial: string[] = [];
  let line = 0;
  const finish = (text: string): { line: number; text: string } => {
    line++;
    const whole = partial.length === 0 ? text : partial.join("") + text;
    partial = [];
    return { line, text: whole.endsWith("\r") ? whole.slice(0, -1) : whole };
  };
  try {
    for await (const chunk of bytes) {
      const text = decoder.decode(chunk as Buffer, { stream: true });
      let start = 0;
      for (let newline = text.indexOf("\n"); newline !== -1; newline = text.indexOf("\n", start)) {
        yield finish(text.slice(start, newline));
        start = newline + 1;
      }
      if (start < text.length) partial.push(text.slice(start));
    }
    const tail = decoder.decode();
    if (tail !== "") partial.push(tail);
    if (partial.length > 0) yield finish("");
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new Error(`reading ${name} failed after line ${line}: ${message}`, { cause: e });
  } finally {
    source.destroy();
    gunzip?.destroy();
  }
}
