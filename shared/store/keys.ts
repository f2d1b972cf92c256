import type { Source } from "../domain/events/normalized-event.ts";

/**
 * Every key bounce-radar writes, in one place. The bucket and a local --data
 * folder use the same keys. `dt` is a UTC date `YYYY-MM-DD`; `batch` is derived from the source and its
 * time window or the imported file's content hash, never from the clock, so re-runs write the same keys.
 */
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const SAFE = /^[A-Za-z0-9][A-Za-z0-9._=-]{0,200}$/;

function part(name: string, value: string): string {
  if (!SAFE.test(value)) throw new Error(`invalid ${name} for a storage key: ${JSON.stringify(value)}`);
  return value;
}
function date(dt: string): string {
  if (!DATE.test(dt))
    throw new Error(`invalid date for a storage key (want YYYY-MM-DD): ${JSON.stringify(dt)}`);
  return dt;
}

/** UTC calendar date of an instant. */
export function utcDate(instant: string | Date): string {
  const d = typeof instant === "string" ? new Date(instant) : instant;
  if (Number.isNaN(d.getTime())) throw new Error(`invalid instant: ${String(instant)}`);
  return d.toISOString().slice(0, 10);
}

export const keys = {
  raw: (source: Source, dt: string, batch: string, n: number): string =>
    `raw/${source}/dt=${date(dt)}/${part("batch", batch)}-${n}.json.gz`,
  rawPrefix: (source: Source): string => `raw/${source}/`,
  events: (source: Source, dt: string, batch: string): string =>
    `events/source=${source}/dt=${date(dt)}/${part("batch", batch)}.ndjson.gz`,
  eventsPartition: (source: Source, dt: string): string => `events/source=${source}/dt=${date(dt)}/`,
  eventsPrefix: (source?: Source): string => (source ? `events/source=${source}/` : "events/"),
  quarantine: (source: Source, dt: string, batch: string): string =>
    `quarantine/${source}/dt=${date(dt)}/${part("batch", batch)}.ndjson.gz`,
  quarantinePrefix: (source?: Source): string => (source ? `quarantine/${source}/` : "quarantine/"),
  reputation: (source: string, dt: string, batch: string): string =>
    `reputation/source=${part("source", source)}/dt=${date(dt)}/${part("batch", batch)}.json`,
  /**
   * Derived from one day's events/ (rebuildable at any time): immutable, named by a digest of the events
   * objects they were computed from, and in use only once aggregates/daily/manifest.json names them.
   */
  dailyAggregates: (dt: string, inputs: string): string =>
    `aggregates/daily/dt=${date(dt)}/organisations-${part("digest", inputs)}.ndjson.gz`,
  dailyDeliveries: (dt: string, inputs: string): string =>
    `aggregates/daily/dt=${date(dt)}/deliveries-${part("digest", inputs)}.tsv.gz`,
  /** The commit point of the derived days: which objects hold each day, with their checksums. */
  derivedManifest: (): string => "aggregates/daily/manifest.json",
  cursor: (sourceId: string): string => `state/cursors/${part("source", sourceId)}.json`,
  mxCache: (): string => "state/mx/cache.json",
  alerts: (): string => "state/alerts.json",
  /** The last damaged alert state, kept aside when it was replaced by an empty one. */
  alertsDamaged: (): string => "state/alerts.damaged.json",
  alertsLease: (): string => "state/alerts.lease.json",
  /** One scheduled job at a time (ingest-events, analyze). */
  jobLease: (job: string): string => `state/leases/${job}.json`,
  audit: (dt: string, name: string): string => `audit/${date(dt)}/${part("name", name)}`,
  report: (dt: string, runId: string, file: "report.json" | "report.html"): string =>
    `reports/${date(dt).slice(0, 4)}/${dt.slice(5, 7)}/${dt.slice(8, 10)}/${part("runId", runId)}/${file}`,
  latestReport: (file: "latest.json" | "latest.html"): string => `reports/${file}`,
  /** One line per incident per run, for Athena's incidents table (reports/*.json are pretty-printed). */
  incidentLog: (dt: string, runId: string): string =>
    `reports/incidents/dt=${date(dt)}/${part("runId", runId)}.ndjson`,
} as const;

/** The `dt=` partition date in a key, or null. */
export function partitionDateOf(key: string): string | null {
  return /\/dt=(\d{4}-\d{2}-\d{2})\//.exec(key)?.[1] ?? null;
}
