import { createHash } from "node:crypto";
import type {
  MailgunSourceConfig,
  SesSourceConfig,
  SourceConfig,
  SparkpostSourceConfig,
} from "../../config.ts";
import { crossCheckDenominators, type DomainCounts } from "../../domain/crosscheck/denominator-crosscheck.ts";
import type { SecretResolver } from "../../secrets/secret-resolver.ts";
import { MailgunClient } from "../../sources/esp/mailgun/mailgun-client.ts";
import { mapMailgunEvent } from "../../sources/esp/mailgun/map-mailgun-event.ts";
import { mapSesRecord } from "../../sources/esp/ses/map-ses-record.ts";
import type { SqsMessage, SqsQueue } from "../../sources/esp/ses/sqs-queue.ts";
import { mapSparkpostEvent } from "../../sources/esp/sparkpost/map-sparkpost-event.ts";
import { SparkpostClient } from "../../sources/esp/sparkpost/sparkpost-client.ts";
import { utcDate } from "../../store/keys.ts";
import type { ObjectStore } from "../../store/object-store.ts";
import { type BatchResult, formatNotes, type IngestBatch, type SourceRecord } from "./ingest-batch.ts";
import { ingestPostmark } from "./postmark-ingest.ts";
import { SeenEventIds } from "./seen-event-ids.ts";
import { ingestSendgrid } from "./sendgrid-ingest.ts";
import { type FetchedPage, ingestWindowed } from "./windowed-ingest.ts";
import { writeBatch } from "./write-batch.ts";

/** Where a pull source with neither cursor nor `startAt` begins: the providers keep at least a day of events. */
const FIRST_RUN_LOOKBACK_MINUTES = 24 * 60;

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
  /** Injected for tests: sleep, attempts and fetch for the other HTTP sources. */
  readonly httpOptions?: {
    readonly sleep?: (ms: number) => Promise<void>;
    readonly maxAttempts?: number;
    readonly fetch?: typeof fetch;
  };
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
      else if (source.provider === "ses") await ingestSes(source, deps, seen, batches);
      else if (source.provider === "sparkpost") await ingestSparkpost(source, deps, seen, batches);
      else if (source.provider === "sendgrid") await ingestSendgrid(source, deps, seen, batches);
      else await ingestPostmark(source, deps, seen, batches);
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
  await ingestWindowed(
    {
      ...source,
      provider: "mailgun",
      firstRunLookbackMinutes: FIRST_RUN_LOOKBACK_MINUTES,
      fetchWindow: (begin, end) => fetchMailgunWindow(client, source, begin, end),
      mapper: mapMailgunEvent,
    },
    deps,
    seen,
    out,
  );
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

async function ingestSparkpost(
  source: SparkpostSourceConfig,
  deps: IngestDeps,
  seen: SeenEventIds,
  out: BatchResult[],
): Promise<void> {
  const key = await deps.secrets.resolve(source.apiKeySecret);
  deps.log(`${source.id}: SparkPost API key from ${key.origin}`);
  const client = new SparkpostClient({
    apiKey: key.value,
    region: source.region,
    timeoutMs: source.timeoutMs,
    ...(source.baseUrl ? { baseUrl: source.baseUrl } : {}),
    ...deps.httpOptions,
  });
  const counted = new DomainTally();
  let span: { start: Date; end: Date } | null = null;
  await ingestWindowed(
    {
      ...source,
      provider: "sparkpost",
      firstRunLookbackMinutes: FIRST_RUN_LOOKBACK_MINUTES,
      fetchWindow: async (begin, end) => {
        const pages: FetchedPage[] = [];
        // Every page of the window before its batch is written: results come newest first.
        for await (const p of client.eventPages({ start: begin, end })) pages.push(p);
        for (const p of pages) for (const item of p.items) counted.add(mapSparkpostEvent(item));
        span = { start: span?.start ?? begin, end };
        return pages;
      },
      mapper: mapSparkpostEvent,
    },
    deps,
    seen,
    out,
  );
  if (span) await crossCheckSparkpost(client, source.id, span, counted, deps.log);
}

/** Attempts per recipient domain seen in this run's pages, each event once (windows overlap). */
class DomainTally {
  private readonly ids = new Set<string>();
  private readonly counts = new Map<string, { delivered: number; bounced: number }>();

  add(mapped: ReturnType<typeof mapSparkpostEvent>): void {
    if (!mapped.ok) return;
    for (const e of mapped.events) {
      if ((e.type !== "delivered" && e.type !== "bounced") || this.ids.has(e.id)) continue;
      this.ids.add(e.id);
      const c = this.counts.get(e.recipientDomain) ?? { delivered: 0, bounced: 0 };
      if (e.type === "delivered") c.delivered++;
      else c.bounced++;
      this.counts.set(e.recipientDomain, c);
    }
  }

  top(n: number): DomainCounts[] {
    return [...this.counts]
      .map(([domain, c]) => ({ domain, ...c }))
      .sort((a, b) => b.delivered + b.bounced - (a.delivered + a.bounced) || a.domain.localeCompare(b.domain))
      .slice(0, n);
  }
}

const CROSS_CHECK_DOMAINS = 20;

/**
 * SparkPost's deliverability-by-domain metrics for the period this run read, beside our own counts for its
 * busiest recipient domains: a disagreement is logged (a pull that missed or doubled events). Advisory: a
 * failed metrics call is logged and fails nothing, since the events are already written.
 */
async function crossCheckSparkpost(
  client: SparkpostClient,
  sourceId: string,
  span: { start: Date; end: Date },
  counted: DomainTally,
  log: (line: string) => void,
): Promise<void> {
  const ours = counted.top(CROSS_CHECK_DOMAINS);
  if (ours.length === 0) return;
  try {
    const metrics = await client.deliverabilityByDomain({ ...span, domains: ours.map((o) => o.domain) });
    const theirs = new Map(
      metrics.rows.map((r) => [
        r.domain,
        r.delivered === null && r.bounced.total === null ? null : (r.delivered ?? 0) + (r.bounced.total ?? 0),
      ]),
    );
    const rows = crossCheckDenominators(ours, theirs);
    const off = rows.filter((r) => !r.agrees);
    log(
      `${sourceId}: cross-check with SparkPost's metrics ${span.start.toISOString()} – ${span.end.toISOString()}: ${rows.length - off.length} of ${rows.length} busiest domain(s) agree within 10%`,
    );
    for (const r of off)
      log(
        `${sourceId}: cross-check: ${r.domain}: ${r.ours} attempt(s) ingested, SparkPost counts ${r.theirs ?? "none"}`,
      );
  } catch (e) {
    log(`${sourceId}: cross-check with SparkPost's metrics skipped: ${(e as Error).message}`);
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
      `${source.id}: ${messages.length} message(s), ${result.added} new event(s), ${result.duplicates} duplicate(s), ${result.quarantined} quarantined${formatNotes(result.notes)}`,
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
