import { createHash } from "node:crypto";
import type { MailgunSourceConfig, SesSourceConfig, SourceConfig } from "../../config.ts";
import type { SecretResolver } from "../../secrets/secret-resolver.ts";
import { MailgunClient } from "../../sources/esp/mailgun/mailgun-client.ts";
import { mapMailgunEvent } from "../../sources/esp/mailgun/map-mailgun-event.ts";
import { mapSesRecord } from "../../sources/esp/ses/map-ses-record.ts";
import type { SqsMessage, SqsQueue } from "../../sources/esp/ses/sqs-queue.ts";
import { utcDate } from "../../store/keys.ts";
import type { ObjectStore } from "../../store/object-store.ts";
import { readCursor, writeCursor } from "./cursor.ts";
import type { BatchResult, IngestBatch, SourceRecord } from "./ingest-batch.ts";
import { SeenEventIds } from "./seen-event-ids.ts";
import { writeBatch } from "./write-batch.ts";

const MINUTE = 60_000;
/** Where a Mailgun source with neither cursor nor `startAt` begins: Mailgun keeps at least a day of events. */
const FIRST_RUN_LOOKBACK = 24 * 60 * MINUTE;

export interface IngestDeps {
  readonly store: ObjectStore;
  readonly secrets: SecretResolver;
  readonly now: () => Date;
  readonly log: (message: string) => void;
  /** Builds the queue client for an SES source (SDK client in AWS, endpoint override in tests). */
  readonly sqsQueue: (source: SesSourceConfig) => SqsQueue;
  /**
   * Asked before each window or queue batch: true stops the run there, with everything so far written and
   * its cursor committed (a Lambda nearing its deadline). The next run goes on from the cursor.
   */
  readonly shouldStop?: () => boolean;
  /** Told after each committed batch how far a source's cursor has moved (progress displays). */
  readonly onProgress?: (sourceId: string, position: Date) => void;
  /** Injected for tests: fetch, sleep. */
  readonly mailgunClientOptions?: Partial<ConstructorParameters<typeof MailgunClient>[0]>;
}

export interface SourceRunResult {
  readonly sourceId: string;
  readonly batches: readonly BatchResult[];
  /** Set when the source failed; the other sources still ran and its cursor stayed where data ends. */
  readonly error?: string;
}

/** One scheduled ingest run: every configured source in turn; one source's failure does not stop the others. */
export async function runIngest(
  sources: readonly SourceConfig[],
  deps: IngestDeps,
): Promise<SourceRunResult[]> {
  const seen = new SeenEventIds(deps.store);
  const results: SourceRunResult[] = [];
  for (const source of sources) {
    const batches: BatchResult[] = [];
    try {
      if (source.provider === "mailgun") await ingestMailgun(source, deps, seen, batches);
      else await ingestSes(source, deps, seen, batches);
      results.push({ sourceId: source.id, batches });
    } catch (e) {
      const error = (e as Error).message;
      deps.log(`${source.id}: stopped: ${error}`);
      results.push({ sourceId: source.id, batches, error });
    }
  }
  return results;
}

async function ingestMailgun(
  source: MailgunSourceConfig,
  deps: IngestDeps,
  seen: SeenEventIds,
  out: BatchResult[],
): Promise<void> {
  const key = await deps.secrets.resolve(source.apiKeySecret);
  deps.log(`${source.id}: Mailgun API key from ${key.origin}`);
  const client = new MailgunClient({
    apiKey: key.value,
    region: source.region,
    timeoutMs: source.timeoutMs,
    ...(source.baseUrl ? { baseUrl: source.baseUrl } : {}),
    ...deps.mailgunClientOptions,
  });
  const cursor = await readCursor(deps.store, source.id);
  const horizon = deps.now().getTime() - source.lagMinutes * MINUTE;
  let windowStart = cursor
    ? Date.parse(cursor.position)
    : source.startAt
      ? Date.parse(source.startAt)
      : deps.now().getTime() - FIRST_RUN_LOOKBACK;
  while (windowStart < horizon) {
    if (deps.shouldStop?.()) {
      deps.log(`${source.id}: time budget reached; stopping at ${new Date(windowStart).toISOString()}`);
      return;
    }
    const windowEnd = Math.min(windowStart + source.windowMinutes * MINUTE, horizon);
    const readFrom = windowStart - source.overlapMinutes * MINUTE;
    const pages = await fetchMailgunWindow(client, source, new Date(readFrom), new Date(windowEnd));
    const batchId = `${source.id}-${readFrom / 1000}-${windowEnd / 1000}`;
    const result = await writeBatch(deps.store, seen, {
      source: "mailgun",
      batchId,
      rawDate: utcDate(new Date(readFrom)),
      rawParts: () => pages.map((p) => p.body),
      records: () => pagesToRecords(pages),
      mapper: mapMailgunEvent,
    });
    // Only now is everything before windowEnd durably written.
    await writeCursor(deps.store, {
      sourceId: source.id,
      position: new Date(windowEnd).toISOString(),
      lastBatch: batchId,
    });
    out.push(result);
    deps.onProgress?.(source.id, new Date(windowEnd));
    deps.log(
      `${source.id}: ${new Date(readFrom).toISOString()} – ${new Date(windowEnd).toISOString()}: ${pages.length} page(s), ${result.added} new event(s), ${result.duplicates} duplicate(s), ${result.quarantined} quarantined`,
    );
    windowStart = windowEnd;
  }
}

interface FetchedPage {
  readonly label: string;
  readonly body: string;
  readonly items: readonly unknown[];
}

async function fetchMailgunWindow(
  client: MailgunClient,
  source: MailgunSourceConfig,
  begin: Date,
  end: Date,
): Promise<FetchedPage[]> {
  const pages: FetchedPage[] = [];
  if (source.api === "logs") {
    for await (const p of client.logsPages({ start: begin, end })) {
      pages.push({ label: `logs page ${pages.length + 1}`, body: p.body, items: p.items });
    }
    return pages;
  }
  for (const domain of source.domains) {
    let n = 0;
    for await (const p of client.eventsPages({ domain, begin, end })) {
      pages.push({ label: `${domain} page ${++n}`, body: p.body, items: p.items });
    }
  }
  return pages;
}

function* pagesToRecords(pages: readonly FetchedPage[]): Iterable<SourceRecord> {
  for (const page of pages) {
    for (const [i, item] of page.items.entries()) yield { ref: `${page.label} item ${i}`, value: item };
  }
}

async function ingestSes(
  source: SesSourceConfig,
  deps: IngestDeps,
  seen: SeenEventIds,
  out: BatchResult[],
): Promise<void> {
  const queue = deps.sqsQueue(source);
  let pending: SqsMessage[] = [];
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const messages = pending;
    pending = [];
    const result = await writeBatch(deps.store, seen, sesBatch(messages, deps.now()));
    // Delete from the queue only after the events are written; a failure above leaves them to be redelivered.
    await queue.deleteMessages(messages);
    out.push(result);
    deps.log(
      `${source.id}: ${messages.length} message(s), ${result.added} new event(s), ${result.duplicates} duplicate(s), ${result.quarantined} quarantined`,
    );
  };
  for await (const received of queue.drain({ maxMessages: source.maxMessagesPerRun })) {
    pending.push(...received);
    if (pending.length >= source.batchSize) await flush();
    if (deps.shouldStop?.()) {
      // Unflushed messages stay invisible until their timeout, then come back: flush what is held first.
      deps.log(`${source.id}: time budget reached; stopping after this batch`);
      break;
    }
  }
  await flush();
}

function sesBatch(messages: readonly SqsMessage[], now: Date): IngestBatch {
  const ids = messages.map((m) => m.messageId).sort();
  const hash = createHash("sha256").update(ids.join("\n")).digest("hex").slice(0, 20);
  const records: SourceRecord[] = messages.map((m) => {
    const ref = `sqs message ${m.messageId}`;
    try {
      return { ref, value: JSON.parse(m.body) as unknown };
    } catch (e) {
      return { ref, value: m.body, parseError: `message body is not valid JSON (${(e as Error).message})` };
    }
  });
  const firstDate = records
    .map((r) => (r.parseError === undefined ? mapSesRecord(r.value) : null))
    .flatMap((m) => (m?.ok ? m.events : []))
    .map((e) => e.occurredAt)
    .sort()[0];
  return {
    source: "ses",
    batchId: `sqs-${hash}`,
    rawDate: utcDate(firstDate ?? now),
    rawParts: () => [JSON.stringify(messages.map((m) => ({ messageId: m.messageId, body: m.body })))],
    records: () => records,
    mapper: mapSesRecord,
  };
}
