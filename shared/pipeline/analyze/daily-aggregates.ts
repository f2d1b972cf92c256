import { createHash } from "node:crypto";
import * as z from "zod";
import { finalEvents, outcomeOf } from "../../domain/analysis/outcomes.ts";
import { type NormalizedEvent, SourceSchema } from "../../domain/events/normalized-event.ts";
import { keys } from "../../store/keys.ts";
import { readNdjsonGz, writeNdjsonGz } from "../../store/ndjson-gzip.ts";
import type { ObjectStore } from "../../store/object-store.ts";

/** Attempts of one kind for one organisation, sending IP and campaign on one day. */
export const AggregateRowSchema = z.object({
  organisation: z.string(),
  recipientDomain: z.string(),
  consumer: z.boolean(),
  sendingIp: z.string().nullable(),
  campaign: z.string().nullable(),
  /** "delivered", "soft", or "hard:<category>" */
  outcome: z.string(),
  count: z.number().int().min(1),
  /** An MX host the ESP reported for this domain, if any (gateway evidence without DNS). */
  mxHost: z.string().nullable(),
});
export type AggregateRow = z.infer<typeof AggregateRowSchema>;

const ManifestSchema = z.object({
  version: z.literal(1),
  events: z.array(z.object({ key: z.string(), size: z.number() })),
});

export interface DayAggregate {
  readonly date: string;
  readonly rows: readonly AggregateRow[];
  /** Sources with stored events that day (for data-gap detection). */
  readonly sources: readonly string[];
}

/** Stable, non-reversible-at-a-glance key for an address in recipient history. */
export function addressHash(address: string): string {
  return createHash("sha256").update(address.toLowerCase()).digest("hex").slice(0, 16);
}

export async function* readDayEvents(store: ObjectStore, date: string): AsyncIterable<NormalizedEvent> {
  for (const source of SourceSchema.options) {
    for await (const obj of store.list(keys.eventsPartition(source, date))) {
      if (!obj.key.endsWith(".ndjson.gz")) continue;
      for await (const { value } of readNdjsonGz(store, obj.key)) yield value as NormalizedEvent;
    }
  }
}

async function eventObjects(store: ObjectStore, date: string): Promise<Array<{ key: string; size: number }>> {
  const out: Array<{ key: string; size: number }> = [];
  for (const source of SourceSchema.options) {
    for await (const obj of store.list(keys.eventsPartition(source, date)))
      out.push({ key: obj.key, size: obj.size });
  }
  return out;
}

export function aggregateEvents(events: Iterable<NormalizedEvent>): AggregateRow[] {
  const rows = new Map<string, AggregateRow & { count: number }>();
  for (const e of finalEvents(events)) {
    const o = outcomeOf(e);
    const outcome = typeof o === "string" ? o : `hard:${o.hard}`;
    const key = [e.organisation, e.recipientDomain, e.sendingIp, e.campaign, outcome].join("\u0000");
    const row = rows.get(key);
    if (row) {
      row.count++;
      row.mxHost ??= e.mxHost;
    } else {
      rows.set(key, {
        organisation: e.organisation,
        recipientDomain: e.recipientDomain,
        consumer: e.consumer,
        sendingIp: e.sendingIp,
        campaign: e.campaign,
        outcome,
        count: 1,
        mxHost: e.mxHost,
      });
    }
  }
  return [...rows.values()].sort((a, b) =>
    a.organisation < b.organisation ? -1 : a.organisation > b.organisation ? 1 : 0,
  );
}

export interface AggregateRefresh {
  readonly days: DayAggregate[];
  readonly rebuilt: string[];
}

/**
 * Daily aggregates for the given days, rebuilt only where the day's event objects changed (a manifest of
 * keys and sizes sits beside each aggregate), so an hourly run re-reads one or two days, not the baseline.
 * Deliveries seen while rebuilding update recipient history.
 */
export async function refreshDailyAggregates(
  store: ObjectStore,
  dates: readonly string[],
  history: RecipientHistory,
): Promise<AggregateRefresh> {
  const days: DayAggregate[] = [];
  const rebuilt: string[] = [];
  for (const date of dates) {
    const objects = await eventObjects(store, date);
    const manifestKey = keys.dailyAggregatesManifest(date);
    const stored = await store.get(manifestKey);
    const current = { version: 1 as const, events: objects };
    const sources = [
      ...new Set(objects.map((o) => /^events\/source=([^/]+)\//.exec(o.key)?.[1] ?? "unknown")),
    ].sort();
    if (objects.length === 0 && stored === null) {
      // Nothing was ever sent that day: no aggregate, no manifest, no writes.
      days.push({ date, rows: [], sources: [] });
      continue;
    }
    const same =
      stored !== null &&
      JSON.stringify(ManifestSchema.safeParse(JSON.parse(Buffer.from(stored).toString("utf8"))).data) ===
        JSON.stringify(current);
    if (same) {
      const rows: AggregateRow[] = [];
      for await (const { value } of readNdjsonGz(store, keys.dailyAggregates(date)))
        rows.push(AggregateRowSchema.parse(value));
      days.push({ date, rows, sources });
      continue;
    }
    const events: NormalizedEvent[] = [];
    for await (const e of readDayEvents(store, date)) {
      events.push(e);
      if (e.type === "delivered") history.recordDelivery(e.organisation, e.recipient, e.occurredAt);
    }
    const rows = aggregateEvents(events);
    // Written even when empty (a day of only accepted or deferred events): the manifest then always has its
    // aggregate beside it, and the analysis never needs to delete one.
    await writeNdjsonGz(store, keys.dailyAggregates(date), rows);
    await store.put(manifestKey, JSON.stringify(current));
    rebuilt.push(date);
    days.push({ date, rows, sources });
  }
  return { days, rebuilt };
}

const HistorySchema = z.record(z.string(), z.string());

/**
 * Last successful delivery per (hashed) address, sharded by organisation under state/recipients/. Merges
 * keep the latest instant, so days can be rebuilt in any order.
 */
export class RecipientHistory {
  private readonly pending = new Map<string, Map<string, string>>();
  private readonly loaded = new Map<string, Map<string, string>>();
  /** Organisations whose merged history differs from what is stored: only these are written back. */
  private readonly dirty = new Set<string>();

  constructor(private readonly store: ObjectStore) {}

  recordDelivery(organisation: string, address: string, at: string): void {
    const h = addressHash(address);
    const loaded = this.loaded.get(organisation);
    if (loaded) {
      if (mergeLatest(loaded, h, at)) this.dirty.add(organisation);
      return;
    }
    const org = this.pending.get(organisation) ?? new Map<string, string>();
    mergeLatest(org, h, at);
    this.pending.set(organisation, org);
  }

  /** The last delivery to an address, if any is known. */
  async lastDelivered(organisation: string, address: string): Promise<string | null> {
    const org = await this.load(organisation);
    return org.get(addressHash(address)) ?? null;
  }

  async load(organisation: string): Promise<Map<string, string>> {
    const cached = this.loaded.get(organisation);
    if (cached) return cached;
    const key = keys.recipients(organisation);
    const body = await this.store.get(key);
    const map = new Map(Object.entries(body ? parseHistory(body, key, this.store.location) : {}));
    for (const [h, at] of this.pending.get(organisation) ?? []) {
      if (mergeLatest(map, h, at)) this.dirty.add(organisation);
    }
    this.pending.delete(organisation);
    this.loaded.set(organisation, map);
    return map;
  }

  /**
   * Writes every organisation that gained a later delivery than stored. An hourly run rebuilds the current day
   * and records its deliveries again; those already stored cost no write (on S3, a PUT per organisation).
   */
  async save(): Promise<void> {
    for (const organisation of [...this.pending.keys()]) await this.load(organisation);
    for (const organisation of this.dirty) {
      const merged = this.loaded.get(organisation) ?? new Map<string, string>();
      await this.store.put(keys.recipients(organisation), JSON.stringify(Object.fromEntries(merged)));
    }
    this.dirty.clear();
  }
}

/**
 * An organisation's stored history. A damaged one is an error naming it: read as empty, its addresses would
 * count as never delivered and could turn a recipient-side incident into "list decay" (no alert).
 */
function parseHistory(body: Uint8Array, key: string, location: string): Record<string, string> {
  let problem: string;
  try {
    const parsed = HistorySchema.safeParse(JSON.parse(Buffer.from(body).toString("utf8")));
    if (parsed.success) return parsed.data;
    problem = `not a recipient history (${parsed.error.issues[0]?.path.join(".") || "top level"}: ${parsed.error.issues[0]?.message})`;
  } catch (e) {
    problem = `not JSON (${(e as Error).message})`;
  }
  throw new Error(
    `${key} in ${location} is damaged: ${problem}; restore it from a backup, or delete it and the aggregates/daily/ manifests of the last 90 days so that the next analyze rebuilds it from events/`,
  );
}

/** Keeps the later instant; true when the map changed. */
function mergeLatest(map: Map<string, string>, hash: string, at: string): boolean {
  const prev = map.get(hash);
  if (prev && prev >= at) return false;
  map.set(hash, at);
  return true;
}
