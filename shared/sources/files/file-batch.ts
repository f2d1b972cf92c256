import { createHash } from "node:crypto";
import { closeSync, createReadStream, openSync, readSync } from "node:fs";
import { stat } from "node:fs/promises";
import { pipeline, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import type { Source } from "../../domain/events/normalized-event.ts";
import type { IngestBatch, SourceRecord } from "../../pipeline/ingest/ingest-batch.ts";
import { utcDate } from "../../store/keys.ts";
import type { RecordMapper } from "../esp/provider-record.ts";

/** How many records to look at for a date to file the raw copy under, before falling back to the file's mtime. */
const DATE_PEEK = 200;

export interface FileBatchOptions {
  readonly source: Source;
  readonly path: string;
  readonly mapper: RecordMapper;
  /** Records of the file, in order; must be re-iterable (the file is read again each time). */
  readonly records: (path: string) => AsyncIterable<SourceRecord>;
}

/**
 * An imported export file as one batch. The batch id is the hash of the file's bytes, so importing the same
 * file again writes the same keys; the raw copy is the file itself (decompressed, then gzipped on landing).
 */
export async function fileBatch(options: FileBatchOptions): Promise<IngestBatch> {
  const { path, source, mapper } = options;
  const info = await stat(path);
  if (!info.isFile()) throw new Error(`${path}: not a regular file`);
  const hash = await sha256OfFile(path);
  const rawDate = (await peekDate(options.records(path), mapper)) ?? utcDate(info.mtime);
  return {
    source,
    batchId: `import-${hash.slice(0, 20)}`,
    rawDate,
    rawParts: () => [() => openDecompressed(path)],
    records: () => options.records(path),
    mapper,
  };
}

async function peekDate(records: AsyncIterable<SourceRecord>, mapper: RecordMapper): Promise<string | null> {
  let looked = 0;
  for await (const r of records) {
    if (++looked > DATE_PEEK) break;
    if (r.parseError !== undefined) continue;
    const mapped = mapper(r.value);
    const first = mapped.ok ? mapped.events[0] : undefined;
    if (first) return utcDate(first.occurredAt);
  }
  return null;
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** The file's content, gunzipped when it starts with the gzip magic bytes. */
export function openDecompressed(path: string): Readable {
  const head = Buffer.alloc(2);
  const fd = openSync(path, "r");
  try {
    readSync(fd, head, 0, 2, 0);
  } finally {
    closeSync(fd);
  }
  const file = createReadStream(path);
  if (head[0] !== 0x1f || head[1] !== 0x8b) return file;
  const gunzip = createGunzip();
  pipeline(file, gunzip, (err) => {
    if (err) gunzip.destroy(err);
  });
  return gunzip;
}
