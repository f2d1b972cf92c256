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
import { nestedDeeperThan } from "./json-depth.ts";
import type { SeenEventIds } from "./seen-event-ids.ts";
import { pagesToRecords } from "./windowed-ingest.ts";
import { writeBatch } from "./write-batch.ts";

const DAY_MS = 86_400_000;
/**
 * How long after midnight a receiver may still be writing a batch it stamped with the day before: its function
 * times out in seconds, so an hour is ample. A day is closed (never listed again) only after that.
 */
const LANDING_GRACE_MS = 3_600_000;
/** Where the ingest starts when its state predates arrival dating: the days the old scan covered. */
const LEGACY_SCAN_DAYS = 4;
const WEBHOOK_OBJECT = /\/(webhook-[0-9a-f]{32})-0\.json\.gz$/;
/** A webhook event nested deeper than this is no SendGrid event: quarantined on its own, not parsed further. */
export const MAX_WEBHOOK_EVENT_DEPTH = 64;

export interface SendgridIngestDeps {
  readonly store: ObjectStore;
  readonly secrets: SecretResolver;
  readonly now: () => Date;
  readonly log: (message: string) => void;
  readonly shouldStop?: () => boolean;
  readonly httpOptions?: { readonly sleep?: (ms: number) => Promise<void>; readonly maxAttempts?: number };
}

/**
 * Which landed batches are done. `openFrom` is the first arrival day still listed: every batch of an earlier day
 * is done; `processed` holds the done batches of the open days (key → when).
 */
const WebhookStateSchema = z.object({
  openFrom: z.iso.date().optional(),
  processed: z.record(z.string(), z.string()),
});
type WebhookState = z.infer<typeof WebhookStateSchema>;

/**
 * SendGrid: the webhook batches the receiver landed under raw/sendgrid/dt={arrival day}/, each normalized once
 * however old the events inside or the run that finds them (which are done: state/cursors/{id}.webhook.json),
 * then, when asked, the bounce and block suppression lists behind their own cursor.
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
  const state = await readWebhookState(deps.store, stateKey);
  const now = deps.now().getTime();
  const today = utcDate(new Date(now));
  // No state yet: every day landed so far. State from before arrival dating: the days the old scan covered.
  const openFrom =
    state === null ? null : (state.openFrom ?? utcDate(new Date(now - (LEGACY_SCAN_DAYS - 1) * DAY_MS)));
  const processed = new Map(Object.entries(state?.processed ?? {}));
  const pending: string[] = [];
  for (const prefix of listedPrefixes(openFrom, today)) {
    for await (const o of deps.store.list(prefix)) {
      const day = partitionDateOf(o.key);
      if (WEBHOOK_OBJECT.test(o.key) && day !== null && (openFrom === null || day >= openFrom))
        if (!processed.has(o.key)) pending.push(o.key);
    }
  }
  pending.sort();
  // Days still landing (the last hour's writes may carry yesterday's date) are never closed.
  const stillLanding = utcDate(new Date(now - LANDING_GRACE_MS));
  // The days this run keeps open until it has finished them; a first run opens from its earliest batch.
  const from =
    openFrom ?? [stillLanding, ...pending.map((k) => partitionDateOf(k) ?? today)].sort()[0] ?? today;
  const save = async (openDay: string) => {
    const next: WebhookState = {
      openFrom: openDay,
      processed: Object.fromEntries(
        [...processed].filter(([key]) => (partitionDateOf(key) ?? "") >= openDay),
      ),
    };
    await deps.store.put(stateKey, `${JSON.stringify(next, null, 2)}\n`, { contentType: "application/json" });
  };

  let done = 0;
  for (const key of pending) {
    if (deps.shouldStop?.()) {
      deps.log(
        `${source.id}: time budget reached; ${pending.length - done} webhook batch(es) left for the next run`,
      );
      break;
    }
    const raw = await deps.store.get(key);
    const batchId = WEBHOOK_OBJECT.exec(key)?.[1] ?? "webhook";
    const result = await writeBatch(deps.store, seen, {
      source: "sendgrid",
      batchId,
      rawDate: partitionDateOf(key) ?? today,
      // Already landed verbatim by the receiver, under this very key.
      rawParts: () => [],
      records: () => (raw ? webhookRecords(key, raw) : []),
      mapper: mapSendgridEvent,
    });
    processed.set(key, deps.now().toISOString());
    done++;
    // Written after every batch: a run cut short never redoes what it finished.
    await save(from);
    out.push(result);
    deps.log(
      `${source.id}: ${key}: ${result.added} new event(s), ${result.duplicates} duplicate(s), ${result.quarantined} quarantined${formatNotes(result.notes)}`,
    );
  }
  if (pending.length === 0) deps.log(`${source.id}: no new webhook batches`);

  // Days before the first one with work left, and before the last one a receiver may still write to, are done.
  const left = pending.slice(done).map((k) => partitionDateOf(k) ?? today);
  const [firstOpen = today] = [stillLanding, ...left].sort();
  // The later of the two: a day once closed stays closed.
  await save([firstOpen, from].sort()[1] ?? from);
}

/** The listings that hold every batch landed from `openFrom` (null: all of them) to today. */
function listedPrefixes(openFrom: string | null, today: string): string[] {
  const root = keys.rawPrefix("sendgrid");
  if (openFrom === null) return [root];
  const prefixes: string[] = [];
  for (let t = Date.parse(`${openFrom}T00:00:00Z`); ; t += DAY_MS) {
    const day = utcDate(new Date(t));
    if (day > today) break;
    prefixes.push(`${root}dt=${day}/`);
  }
  return prefixes;
}

async function readWebhookState(store: ObjectStore, key: string): Promise<WebhookState | null> {
  const body = await store.get(key);
  if (!body) return null;
  let problem: string;
  try {
    const parsed = WebhookStateSchema.safeParse(JSON.parse(Buffer.from(body).toString("utf8")));
    if (parsed.success) return parsed.data;
    problem = `${parsed.error.issues[0]?.path.join(".") || "top level"}: ${parsed.error.issues[0]?.message}`;
  } catch (e) {
    problem = `not JSON (${(e as Error).message})`;
  }
  // A damaged record is named with what to do, never read as empty.
  throw new Error(
    `${key} in ${store.location} is damaged: ${problem}; delete it to process every landed webhook batch again (events already stored are not stored twice)`,
  );
}

/**
 * The events of one landed batch. Anything wrong with the bytes becomes a quarantined record of this batch (the
 * raw copy stays where it is), never an exception: a bad batch must not stop the batches after it.
 */
export function webhookRecords(key: string, gz: Uint8Array): SourceRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(gunzipSync(gz).toString("utf8"));
  } catch (e) {
    return [
      { ref: key, value: null, parseError: `landed webhook batch is unreadable (${(e as Error).message})` },
    ];
  }
  if (!Array.isArray(parsed)) {
    const shallow = !nestedDeeperThan(parsed, MAX_WEBHOOK_EVENT_DEPTH);
    return [{ ref: key, value: shallow ? parsed : null, parseError: "landed webhook batch is not an array" }];
  }
  return parsed.map((value: unknown, i) =>
    nestedDeeperThan(value, MAX_WEBHOOK_EVENT_DEPTH)
      ? {
          ref: `${key} item ${i}`,
          value: null,
          parseError: `nested more than ${MAX_WEBHOOK_EVENT_DEPTH} levels deep: not a SendGrid event (kept verbatim in ${key})`,
        }
      : { ref: `${key} item ${i}`, value },
  );
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
