import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import * as z from "zod";
import type { BaselineRow } from "../../domain/analysis/analyse.ts";
import { type NormalizedEvent, SourceSchema } from "../../domain/events/normalized-event.ts";
import { keys } from "../../store/keys.ts";
import type { ObjectStore } from "../../store/object-store.ts";
import {
  type AggregateRow,
  addressHash,
  aggregateEvents,
  type DaySources,
  readDayEvents,
} from "./daily-aggregates.ts";

/**
 * Bumped whenever what a derived object holds changes: the input digests change with it, so every day is
 * rebuilt once under new keys and no reader meets an object of the old shape.
 */
const DERIVED_FORMAT = 2;

/**
 * The columns of an aggregates line: one JSON array per row (a third of the bytes of an object per row, and
 * faster to parse).
 */
const AGGREGATE_COLUMNS = [
  "organisation",
  "recipientDomain",
  "consumer",
  "sendingIp",
  "campaign",
  "outcome",
  "count",
  "mxHost",
] as const;

const StoredObjectSchema = z.object({ key: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
const DayEntrySchema = z.object({
  /** sha256 of the day's events objects (keys and content checksums) and DERIVED_FORMAT. */
  inputs: z.string().regex(/^[0-9a-f]{64}$/),
  aggregates: StoredObjectSchema,
  deliveries: StoredObjectSchema,
});
type DayEntry = z.infer<typeof DayEntrySchema>;
const DerivedManifestSchema = z.object({
  version: z.literal(DERIVED_FORMAT),
  days: z.record(z.string(), DayEntrySchema),
});

/** What one day's derived objects are computed from: its events objects, by key and content checksum. */
export interface DayInputs {
  readonly date: string;
  /** sha256 over the events objects' keys and checksums: changes when any of them changes. */
  readonly digest: string;
  /** Sources with stored events that day (for data-gap detection). */
  readonly sources: readonly string[];
  readonly objects: number;
}

/** Lists one day's events objects with their content checksums (ETag on S3, MD5 locally). */
export async function dayInputs(store: ObjectStore, date: string): Promise<DayInputs> {
  const parts: string[] = [];
  const sources: string[] = [];
  for (const source of SourceSchema.options) {
    let any = false;
    for await (const obj of store.list(keys.eventsPartition(source, date), { etags: true })) {
      if (!obj.key.endsWith(".ndjson.gz")) continue;
      if (obj.etag === undefined)
        throw new Error(`${store.location} gave no content checksum (ETag) for ${obj.key}`);
      parts.push(`${obj.key}\t${obj.etag}`);
      any = true;
    }
    if (any) sources.push(source);
  }
  const digest = sha256(`bounce-radar derived format ${DERIVED_FORMAT}\n${parts.sort().join("\n")}`);
  return { date, digest, sources, objects: parts.length };
}

/** The sources with events objects on one day, without their checksums. */
export async function daySources(store: ObjectStore, date: string): Promise<DaySources> {
  const sources: string[] = [];
  for (const source of SourceSchema.options) {
    for await (const obj of store.list(keys.eventsPartition(source, date))) {
      if (!obj.key.endsWith(".ndjson.gz")) continue;
      sources.push(source);
      break;
    }
  }
  return { date, sources };
}

/**
 * The daily aggregates and the day's last delivery per (hashed) address, derived from events/ only, so any
 * of them can be deleted at any time and the next run computes the same. A rebuild writes new immutable
 * objects (named by the digest of the events they came from); they are used only once the one manifest that
 * names them, with their sha256, is written last. A crash anywhere before that leaves the previous manifest
 * and its objects in force; a rerun writes the same objects again. The number of objects a run writes
 * depends on the days whose events changed, never on the number of organisations or addresses.
 */
export class DerivedDays {
  private dirty = false;
  private readonly interned = new Map<string, string>();

  private constructor(
    private readonly store: ObjectStore,
    private readonly log: (line: string) => void,
    private readonly days: Map<string, DayEntry>,
  ) {}

  /** Reads the manifest; a missing one is a first run, a damaged one is named and everything rebuilt. */
  static async open(store: ObjectStore, log: (line: string) => void): Promise<DerivedDays> {
    const key = keys.derivedManifest();
    const body = await store.get(key);
    if (body === null) return new DerivedDays(store, log, new Map());
    let parsed: z.infer<typeof DerivedManifestSchema> | null = null;
    let problem = "";
    try {
      const result = DerivedManifestSchema.safeParse(JSON.parse(Buffer.from(body).toString("utf8")));
      if (result.success) parsed = result.data;
      else problem = `unexpected content (${result.error.issues[0]?.message ?? "schema"})`;
    } catch (e) {
      problem = `not valid JSON (${(e as Error).message})`;
    }
    if (parsed === null) {
      log(
        `analyze: warning: ${store.location}/${key} is damaged: ${problem}; rebuilding the daily aggregates and recipient history from events/`,
      );
      return new DerivedDays(store, log, new Map());
    }
    return new DerivedDays(store, log, new Map(Object.entries(parsed.days)));
  }

  /** Rebuilds the days whose events changed since their objects were derived; returns their dates. */
  async refresh(inputs: readonly DayInputs[]): Promise<string[]> {
    const rebuilt: string[] = [];
    for (const day of inputs) {
      if (this.current(day)) continue;
      await this.rebuild(day);
      rebuilt.push(day.date);
    }
    return rebuilt;
  }

  /**
   * A day's aggregate rows in the baseline's shape (fields the baseline does not use left out, strings
   * shared across days). A damaged or missing object is named and the day rebuilt.
   */
  async baselineRows(day: DayInputs): Promise<BaselineRow[]> {
    const body = await this.verified(day, "aggregates");
    if (body === null) return [];
    const rows: BaselineRow[] = [];
    const text = gunzipSync(body).toString("utf8");
    let line = 0;
    for (let start = 0; start < text.length; ) {
      const end = text.indexOf("\n", start);
      const json = text.slice(start, end === -1 ? text.length : end);
      start = end === -1 ? text.length : end + 1;
      line++;
      if (json === "") continue;
      const r = JSON.parse(json) as unknown;
      if (!Array.isArray(r) || r.length !== AGGREGATE_COLUMNS.length)
        throw new Error(`${this.entryOf(day).aggregates.key} line ${line}: not an aggregate row`);
      rows.push({
        date: day.date,
        organisation: this.intern(String(r[0])),
        consumer: r[2] === true,
        sendingIp: r[3] === null ? null : this.intern(String(r[3])),
        outcome: this.intern(String(r[5])),
        count: Number(r[6]),
      });
    }
    return rows;
  }

  /**
   * The latest delivery on each of `days` to each wanted address hash. Streams each day's object and keeps
   * only the wanted ones, so memory follows the window's bounces, not the history's size.
   */
  async lastDeliveries(
    days: readonly DayInputs[],
    wanted: ReadonlySet<string>,
  ): Promise<Map<string, string>> {
    const last = new Map<string, string>();
    if (wanted.size === 0) return last;
    for (const day of days) {
      const body = await this.verified(day, "deliveries");
      if (body === null) continue;
      const text = gunzipSync(body).toString("utf8");
      for (let start = 0; start < text.length; ) {
        const end = text.indexOf("\n", start);
        const stop = end === -1 ? text.length : end;
        const tab = text.indexOf("\t", start);
        if (tab > start && tab < stop) {
          const hash = text.slice(start, tab);
          if (wanted.has(hash)) {
            const at = text.slice(tab + 1, stop);
            const prev = last.get(hash);
            if (prev === undefined || at > prev) last.set(hash, at);
          }
        }
        start = stop + 1;
      }
    }
    return last;
  }

  /** Writes the manifest if any day was rebuilt: the run's commit point, and its only mutable write. */
  async commit(): Promise<void> {
    if (!this.dirty) return;
    const days = Object.fromEntries([...this.days].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    await this.store.put(keys.derivedManifest(), `${JSON.stringify({ version: DERIVED_FORMAT, days })}\n`, {
      contentType: "application/json",
    });
    this.dirty = false;
  }

  private current(day: DayInputs): boolean {
    if (day.objects === 0) {
      // No events that day (or no longer): nothing derived, and the manifest should say so.
      if (this.days.delete(day.date)) this.dirty = true;
      return true;
    }
    return this.days.get(day.date)?.inputs === day.digest;
  }

  private entryOf(day: DayInputs): DayEntry {
    const entry = this.days.get(day.date);
    if (!entry) throw new Error(`no derived objects for ${day.date}: refresh it first`);
    return entry;
  }

  /**
   * The body of one of a day's objects, checked against the manifest's sha256; a missing, truncated or
   * altered one is named in a warning and the day rebuilt from events/. Null for a day without events.
   */
  private async verified(day: DayInputs, which: "aggregates" | "deliveries"): Promise<Buffer | null> {
    if (day.objects === 0) return null;
    if (!this.current(day)) await this.rebuild(day);
    const { key, sha256: want } = this.entryOf(day)[which];
    const body = await this.store.get(key);
    if (body !== null && sha256(body) === want) return Buffer.from(body);
    this.log(
      `analyze: warning: ${this.store.location}/${key} is ${body === null ? "missing" : "damaged (its sha256 differs from the manifest's: truncated or altered)"}; rebuilding ${day.date} from events/`,
    );
    const rebuilt = await this.rebuild(day);
    return rebuilt[which];
  }

  /** Reads the day's events and writes its two objects; the manifest entry changes in memory only. */
  private async rebuild(day: DayInputs): Promise<{ aggregates: Buffer; deliveries: Buffer }> {
    const events: NormalizedEvent[] = [];
    const delivered = new Map<string, string>();
    for await (const e of readDayEvents(this.store, day.date)) {
      events.push(e);
      if (e.type !== "delivered") continue;
      const h = addressHash(e.recipient);
      const prev = delivered.get(h);
      if (prev === undefined || e.occurredAt > prev) delivered.set(h, e.occurredAt);
    }
    return this.write(day, aggregateEvents(events), delivered);
  }

  /**
   * Writes a day's derived objects (aggregate rows; last delivery per address hash) for the given inputs;
   * in force once commit() writes the manifest. Public for the benchmark's setup, which has no events.
   */
  async write(
    day: DayInputs,
    rows: readonly AggregateRow[],
    delivered: ReadonlyMap<string, string>,
  ): Promise<{ aggregates: Buffer; deliveries: Buffer }> {
    const aggregates = gzipSync(aggregateLines(rows));
    const deliveries = gzipSync(
      [...delivered]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([h, at]) => `${h}\t${at}\n`)
        .join(""),
    );
    const name = day.digest.slice(0, 24);
    const entry: DayEntry = {
      inputs: day.digest,
      aggregates: { key: keys.dailyAggregates(day.date, name), sha256: sha256(aggregates) },
      deliveries: { key: keys.dailyDeliveries(day.date, name), sha256: sha256(deliveries) },
    };
    await this.store.put(entry.aggregates.key, aggregates, { contentType: "application/gzip" });
    await this.store.put(entry.deliveries.key, deliveries, { contentType: "application/gzip" });
    this.days.set(day.date, entry);
    this.dirty = true;
    return { aggregates, deliveries };
  }

  private intern(s: string): string {
    const known = this.interned.get(s);
    if (known !== undefined) return known;
    this.interned.set(s, s);
    return s;
  }
}

/** One JSON array per row, in AGGREGATE_COLUMNS order. */
export function aggregateLines(rows: readonly AggregateRow[]): string {
  return rows
    .map(
      (r) =>
        `${JSON.stringify([r.organisation, r.recipientDomain, r.consumer, r.sendingIp, r.campaign, r.outcome, r.count, r.mxHost])}\n`,
    )
    .join("");
}

function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}
