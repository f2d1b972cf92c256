import { pipeline } from "node:stream/promises";
import { createGzip, gzipSync } from "node:zlib";
import type { NormalizedEvent, ProviderEvent } from "../../domain/events/normalized-event.ts";
import { keys, utcDate } from "../../store/keys.ts";
import { writeNdjsonGz } from "../../store/ndjson-gzip.ts";
import type { ObjectStore } from "../../store/object-store.ts";
import { Channel } from "./channel.ts";
import { completeEvent } from "./complete-event.ts";
import type { BatchResult, IngestBatch, RawPart, SourceRecord } from "./ingest-batch.ts";
import type { SeenEventIds } from "./seen-event-ids.ts";

/** Quarantined records keep at most this much of the original text. */
const MAX_QUARANTINED_CHARS = 64 * 1024;

export interface QuarantineEntry {
  readonly ref: string;
  readonly reason: string;
  readonly record: unknown;
}

interface PartitionWriter {
  readonly key: string;
  readonly channel: Channel<NormalizedEvent>;
  readonly done: Promise<{ count: number }>;
  readonly otherIds: ReadonlySet<string>;
  readonly previousOwnIds: ReadonlySet<string>;
  readonly ids: Set<string>;
}

/**
 * Lands a batch: raw copy first, then normalized events partitioned by event date, then quarantine. Returns
 * only when everything is durably written; the caller acknowledges the batch (cursor, queue delete) after
 * that, never before. Re-running the same batch writes the same keys with the same content.
 */
export async function writeBatch(
  store: ObjectStore,
  seen: SeenEventIds,
  batch: IngestBatch,
): Promise<BatchResult> {
  const written: string[] = [];
  written.push(...(await landRaw(store, batch)));

  const partitions = new Map<string, PartitionWriter>();
  const quarantine: QuarantineEntry[] = [];
  const inBatch = new Set<string>();
  let records = 0;
  let events = 0;
  let duplicates = 0;
  let ignored = 0;
  const notes: Record<string, number> = {};
  const note = (text: string) => {
    notes[text] = (notes[text] ?? 0) + 1;
  };

  const writerFor = async (dt: string): Promise<PartitionWriter> => {
    const existing = partitions.get(dt);
    if (existing) return existing;
    const key = keys.events(batch.source, dt, batch.batchId);
    const byKey = await seen.partition(batch.source, dt);
    const otherIds = new Set<string>();
    for (const [k, ids] of byKey) if (k !== key) for (const id of ids) otherIds.add(id);
    const channel = new Channel<NormalizedEvent>();
    const writer: PartitionWriter = {
      key,
      channel,
      done: writeNdjsonGz(store, key, channel),
      otherIds,
      previousOwnIds: byKey.get(key) ?? new Set(),
      ids: new Set(),
    };
    // A store failure ends the writer early; fail the channel so the producer's push cannot wait forever.
    writer.done.catch((e: unknown) => channel.fail(e instanceof Error ? e : new Error(String(e))));
    partitions.set(dt, writer);
    return writer;
  };

  let added = 0;
  let failure: Error | null = null;
  try {
    for await (const record of batch.records()) {
      records++;
      const mapped = mapRecord(batch, record);
      if (!mapped.ok) {
        quarantine.push({ ref: record.ref, reason: mapped.reason, record: truncate(record.value) });
        continue;
      }
      if (mapped.events.length === 0) ignored++;
      for (const providerEvent of mapped.events) {
        events++;
        const dt = utcDate(providerEvent.occurredAt);
        const writer = await writerFor(dt);
        if (inBatch.has(providerEvent.id) || writer.otherIds.has(providerEvent.id)) {
          duplicates++;
          continue;
        }
        inBatch.add(providerEvent.id);
        writer.ids.add(providerEvent.id);
        if (writer.previousOwnIds.has(providerEvent.id)) duplicates++;
        else added++;
        await writer.channel.push(completeEvent(providerEvent, note));
      }
    }
  } catch (e) {
    failure = e instanceof Error ? e : new Error(String(e));
    throw failure;
  } finally {
    // On failure the writers abort, so no partial events object is committed; the batch is not acknowledged.
    for (const w of partitions.values()) {
      if (failure) w.channel.fail(failure);
      else w.channel.close();
    }
    if (failure) await Promise.allSettled([...partitions.values()].map((w) => w.done));
  }

  for (const [dt, w] of partitions) {
    await w.done;
    if (w.ids.size === 0) {
      // Everything in this partition was already stored elsewhere: keep no empty object behind.
      await store.delete(w.key);
    } else {
      written.push(w.key);
    }
    seen.replace(batch.source, dt, w.key, w.ids);
  }

  const qKey = keys.quarantine(batch.source, batch.rawDate, batch.batchId);
  if (quarantine.length > 0) {
    await writeNdjsonGz(store, qKey, quarantine);
    written.push(qKey);
  } else {
    await store.delete(qKey);
  }

  return {
    batchId: batch.batchId,
    records,
    events,
    added,
    duplicates,
    quarantined: quarantine.length,
    ignored,
    notes,
    keys: written,
  };
}

function mapRecord(
  batch: IngestBatch,
  record: SourceRecord,
): { ok: true; events: readonly ProviderEvent[] } | { ok: false; reason: string } {
  if (record.parseError !== undefined) return { ok: false, reason: record.parseError };
  try {
    return batch.mapper(record.value);
  } catch (e) {
    // A mapper bug must not lose the record: quarantine it with the error.
    return { ok: false, reason: `mapper failed: ${(e as Error).message}` };
  }
}

async function landRaw(store: ObjectStore, batch: IngestBatch): Promise<string[]> {
  const landed: string[] = [];
  let n = 0;
  for await (const part of batch.rawParts()) {
    const key = keys.raw(batch.source, batch.rawDate, batch.batchId, n++);
    await putGzipped(store, key, part);
    landed.push(key);
  }
  return landed;
}

async function putGzipped(store: ObjectStore, key: string, part: RawPart): Promise<void> {
  if (typeof part === "function") {
    const gzip = createGzip();
    const upload = store.putStream(key, gzip, { contentType: "application/gzip" });
    await Promise.all([pipeline(part(), gzip), upload]);
    return;
  }
  await store.put(key, gzipSync(typeof part === "string" ? Buffer.from(part, "utf8") : part), {
    contentType: "application/gzip",
  });
}

function truncate(value: unknown): unknown {
  if (typeof value === "string")
    return value.length > MAX_QUARANTINED_CHARS ? value.slice(0, MAX_QUARANTINED_CHARS) : value;
  const text = JSON.stringify(value) ?? "undefined";
  return text.length > MAX_QUARANTINED_CHARS ? text.slice(0, MAX_QUARANTINED_CHARS) : value;
}
