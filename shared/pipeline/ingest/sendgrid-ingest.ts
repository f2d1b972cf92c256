import { gunzipSync } from "node:zlib";
import * as z from "zod";
import type { SendgridSourceConfig } from "../../config.ts";
import type { SecretResolver } from "../../secrets/secret-resolver.ts";
import { mapSendgridEvent } from "../../sources/esp/sendgrid/map-sendgrid-event.ts";
import {
  SendgridClient,
  type SuppressionKind,
  type SuppressionPage,
  sendgridSuppressionMapper,
} from "../../sources/esp/sendgrid/sendgrid-client.ts";
import { keys, partitionDateOf, utcDate } from "../../store/keys.ts";
import type { ObjectStore } from "../../store/object-store.ts";
import { readCursor, writeCursor } from "./cursor.ts";
import { type BatchResult, formatNotes, type SourceRecord } from "./ingest-batch.ts";
import type { SeenEventIds } from "./seen-event-ids.ts";
import { pagesToRecords } from "./windowed-ingest.ts";
import { writeBatch } from "./write-batch.ts";

const DAY_MS = 86_400_000;
/** SendGrid retries a webhook delivery for up to 72 hours, and the receiver files a batch by its earliest event. */
const WEBHOOK_SCAN_DAYS = 4;
const WEBHOOK_OBJECT = /\/webhook-[0-9a-f]{32}-0\.json\.gz$/;

export interface SendgridIngestDeps {
  readonly store: ObjectStore;
  readonly secrets: SecretResolver;
  readonly now: () => Date;
  readonly log: (message: string) => void;
  readonly shouldStop?: () => boolean;
  readonly httpOptions?: { readonly sleep?: (ms: number) => Promise<void>; readonly maxAttempts?: number };
}

const ProcessedSchema = z.object({ processed: z.record(z.string(), z.string()) });

/**
 * SendGrid: the webhook batches the receiver landed under raw/sendgrid/ (each normalized once; which ones are
 * done is kept in state/cursors/{id}.webhook.json, pruned to the days still scanned), then, when asked, the
 * bounce and block suppression lists behind their own cursor.
 */
export async function ingestSendgrid(
  source: SendgridSourceConfig,
  deps: SendgridIngestDeps,
  seen: SeenEventIds,
  out: BatchResult[],
): Promise<void> {
  await ingestWebhookBatches(source, deps, seen, out);
  if (source.pullSuppressions) await ingestSuppressions(source, deps, seen, out);
}

async function ingestWebhookBatches(
  source: SendgridSourceConfig,
  deps: SendgridIngestDeps,
  seen: SeenEventIds,
  out: BatchResult[],
): Promise<void> {
  const stateKey = keys.cursor(`${source.id}.webhook`);
  const body = await deps.store.get(stateKey);
  const state = body ? parseProcessed(body, stateKey, deps.store.location) : { processed: {} };
  const now = deps.now().getTime();
  const days = Array.from({ length: WEBHOOK_SCAN_DAYS }, (_, i) =>
    utcDate(new Date(now - i * DAY_MS)),
  ).reverse();
  const processed = new Map(
    Object.entries(state.processed).filter(([key]) => (partitionDateOf(key) ?? "") >= (days[0] ?? "")),
  );
  const pending: string[] = [];
  for (const day of days) {
    for await (const o of deps.store.list(`${keys.rawPrefix("sendgrid")}dt=${day}/`)) {
      if (WEBHOOK_OBJECT.test(o.key) && !processed.has(o.key)) pending.push(o.key);
    }
  }
  if (pending.length === 0) {
    deps.log(`${source.id}: no new webhook batches`);
    return;
  }
  for (const key of pending.sort()) {
    if (deps.shouldStop?.()) {
      deps.log(
        `${source.id}: time budget reached; ${pending.length} webhook batch(es) left for the next run`,
      );
      break;
    }
    const raw = await deps.store.get(key);
    if (!raw) continue;
    const batchId = /\/(webhook-[0-9a-f]{32})-0\.json\.gz$/.exec(key)?.[1] ?? "webhook";
    const result = await writeBatch(deps.store, seen, {
      source: "sendgrid",
      batchId,
      rawDate: partitionDateOf(key) ?? utcDate(new Date(now)),
      // Already landed verbatim by the receiver, under this very key.
      rawParts: () => [],
      records: () => webhookRecords(key, raw),
      mapper: mapSendgridEvent,
    });
    processed.set(key, deps.now().toISOString());
    await deps.store.put(
      stateKey,
      `${JSON.stringify({ processed: Object.fromEntries(processed) }, null, 2)}\n`,
      {
        contentType: "application/json",
      },
    );
    out.push(result);
    deps.log(
      `${source.id}: ${key}: ${result.added} new event(s), ${result.duplicates} duplicate(s), ${result.quarantined} quarantined${formatNotes(result.notes)}`,
    );
  }
}

function webhookRecords(key: string, gz: Uint8Array): SourceRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(gunzipSync(gz).toString("utf8"));
  } catch (e) {
    return [
      { ref: key, value: null, parseError: `landed webhook batch is unreadable (${(e as Error).message})` },
    ];
  }
  if (!Array.isArray(parsed))
    return [{ ref: key, value: parsed, parseError: "landed webhook batch is not an array" }];
  return parsed.map((value, i) => ({ ref: `${key} item ${i}`, value }));
}

async function ingestSuppressions(
  source: SendgridSourceConfig,
  deps: SendgridIngestDeps,
  seen: SeenEventIds,
  out: BatchResult[],
): Promise<void> {
  if (!source.apiKeySecret) throw new Error(`${source.id}: pullSuppressions needs apiKeySecret`);
  const key = await deps.secrets.resolve(source.apiKeySecret);
  deps.log(`${source.id}: SendGrid API key from ${key.origin}`);
  const client = new SendgridClient({
    apiKey: key.value,
    region: source.region,
    timeoutMs: source.timeoutMs,
    ...(source.baseUrl ? { baseUrl: source.baseUrl } : {}),
    ...deps.httpOptions,
  });
  const cursorId = `${source.id}.suppressions`;
  const now = deps.now();
  const cursor = await readCursor(deps.store, cursorId, now);
  const start = new Date(
    cursor
      ? Date.parse(cursor.position)
      : source.startAt
        ? Date.parse(source.startAt)
        : now.getTime() - 30 * DAY_MS,
  );
  for (const kind of ["bounces", "blocks"] as const satisfies readonly SuppressionKind[]) {
    const pages: SuppressionPage[] = [];
    for await (const p of client.suppressionPages(kind, { start, end: now })) pages.push(p);
    const batchId = `${source.id}-${kind}-${Math.floor(start.getTime() / 1000)}-${Math.floor(now.getTime() / 1000)}`;
    const result = await writeBatch(deps.store, seen, {
      source: "sendgrid",
      batchId,
      rawDate: utcDate(start),
      rawParts: () => pages.map((p) => p.body),
      records: () => pagesToRecords(pages),
      mapper: sendgridSuppressionMapper(kind),
    });
    out.push(result);
    deps.log(`${source.id}: suppression ${kind}: ${result.added} new, ${result.duplicates} duplicate(s)`);
  }
  // Both lists are written: only now may the next run start from here.
  await writeCursor(deps.store, {
    sourceId: cursorId,
    position: now.toISOString(),
    lastBatch: "suppressions",
  });
}

/** The webhook batches already ingested; a damaged record of them is named with what to do. */
function parseProcessed(
  body: Uint8Array,
  key: string,
  location: string,
): { processed: Record<string, string> } {
  let problem: string;
  try {
    const parsed = ProcessedSchema.safeParse(JSON.parse(Buffer.from(body).toString("utf8")));
    if (parsed.success) return parsed.data;
    problem = `${parsed.error.issues[0]?.path.join(".") || "top level"}: ${parsed.error.issues[0]?.message}`;
  } catch (e) {
    problem = `not JSON (${(e as Error).message})`;
  }
  throw new Error(
    `${key} in ${location} is damaged: ${problem}; delete it to process the webhook batches of the last ${WEBHOOK_SCAN_DAYS} days again (events already stored are not stored twice)`,
  );
}
