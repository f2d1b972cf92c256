import { stat } from "node:fs/promises";
import type { Source } from "../../shared/domain/events/normalized-event.ts";
import { type BatchResult, formatNotes, sumNotes } from "../../shared/pipeline/ingest/ingest-batch.ts";
import { SeenEventIds } from "../../shared/pipeline/ingest/seen-event-ids.ts";
import { writeBatch } from "../../shared/pipeline/ingest/write-batch.ts";
import { mapMailgunEvent } from "../../shared/sources/esp/mailgun/map-mailgun-event.ts";
import { mapPostmarkRecord } from "../../shared/sources/esp/postmark/map-postmark-bounce.ts";
import { mapSendgridEvent } from "../../shared/sources/esp/sendgrid/map-sendgrid-event.ts";
import { mapSesRecord } from "../../shared/sources/esp/ses/map-ses-record.ts";
import { mapSparkpostEvent } from "../../shared/sources/esp/sparkpost/map-sparkpost-event.ts";
import { mailgunPageRecords, ndjsonRecords } from "../../shared/sources/files/export-records.ts";
import { fileBatch } from "../../shared/sources/files/file-batch.ts";
import { postmarkBounceRecords } from "../../shared/sources/files/postmark-records.ts";
import { PROVIDER_DATA, providerOfRecord } from "../../shared/sources/files/provider-of-record.ts";
import { sendgridBatchRecords } from "../../shared/sources/files/sendgrid-batch-records.ts";
import { sparkpostEventRecords } from "../../shared/sources/files/sparkpost-records.ts";
import type { ObjectStore } from "../../shared/store/object-store.ts";
import { withJobLease } from "../lib/job-lease.ts";
import { openDataFolder } from "../lib/local-store.ts";
import { progressBar } from "../lib/progress.ts";

export const IMPORT_SOURCES = ["ses", "mailgun", "sendgrid", "postmark", "sparkpost"] as const;
export type ImportSource = (typeof IMPORT_SOURCES)[number];

/** Totals over the imported files' batches. */
export type ImportSummary = Omit<BatchResult, "batchId" | "keys"> & {
  readonly files: number;
  readonly unreadable: number;
  /** Files that hold another provider's data (said so, nothing imported from them). */
  readonly otherProvider: number;
  /** Quarantine reasons, most frequent first, with their counts (line numbers and values left out). */
  readonly quarantineReasons: ReadonlyArray<readonly [string, number]>;
};

/** How many records to look at to tell whose data a file holds. */
const PROVIDER_PEEK = 20;

/** Each provider's native export: what its API or webhook hands over, saved to a file (gzip or not). */
export const READERS = {
  ses: { mapper: mapSesRecord, records: ndjsonRecords },
  mailgun: { mapper: mapMailgunEvent, records: mailgunPageRecords },
  // Saved Event Webhook batches (JSON arrays of events).
  sendgrid: { mapper: mapSendgridEvent, records: sendgridBatchRecords },
  // Saved GET /bounces pages, or Bounce/Delivery webhook records.
  postmark: { mapper: mapPostmarkRecord, records: postmarkBounceRecords },
  // Saved Events API pages, or webhook batches.
  sparkpost: { mapper: mapSparkpostEvent, records: sparkpostEventRecords },
} as const;

/**
 * Imports export files into the data folder: each file is one batch keyed by its content hash, so importing
 * it again adds nothing. A file that cannot be read is reported and skipped; the others still import. Holds
 * the ingest-events lease: an import and an ingest (or two imports) on one folder would both pass the
 * duplicate check and store the same events twice.
 */
export async function importFiles(
  source: ImportSource,
  dataDir: string,
  files: readonly string[],
  log: (line: string) => void,
  waitMs = 0,
): Promise<ImportSummary> {
  const store = await openDataFolder(dataDir);
  return withJobLease(store, "ingest-events", { command: "import", waitMs, log }, () =>
    importInto(store, source, files, log),
  );
}

/** importFiles into a given store, without the lease (the caller holds it; tests inject faulty stores). */
export async function importInto(
  store: ObjectStore,
  source: ImportSource,
  files: readonly string[],
  log: (line: string) => void,
): Promise<ImportSummary> {
  const seen = new SeenEventIds(store);
  const results: BatchResult[] = [];
  const reasons = new Map<string, number>();
  let unreadable = 0;
  let otherProvider = 0;
  for (const path of files) {
    let size: number;
    try {
      const info = await stat(path);
      if (!info.isFile()) throw new Error("not a regular file");
      size = info.size;
    } catch (e) {
      log(`import: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      unreadable++;
      continue;
    }
    const reader = READERS[source];
    const other = await otherProviderOf(source, path).catch(() => null);
    if (other !== null) {
      log(
        `import: ${path}: looks like ${PROVIDER_DATA[other]}, not ${PROVIDER_DATA[source]}: import it with --source ${other} (nothing imported from it)`,
      );
      otherProvider++;
      continue;
    }
    const bar = progressBar(`importing ${path}`, size);
    try {
      // Quarantine reasons are tallied while the batch is written (the file is read more than once before).
      let writing = false;
      const tally = (reason: string): void => {
        if (!writing) return;
        const key = reasonKey(reason);
        reasons.set(key, (reasons.get(key) ?? 0) + 1);
      };
      const batch = await fileBatch({
        source: source satisfies Source,
        path,
        mapper: (record) => {
          const m = reader.mapper(record);
          if (!m.ok) tally(m.reason);
          return m;
        },
        records: async function* (p) {
          for await (const r of reader.records(p, (bytes) => bar.update(bytes))) {
            if (r.parseError !== undefined) tally(r.parseError);
            yield r;
          }
        },
      });
      writing = true;
      const r = await writeBatch(store, seen, batch);
      bar.stop();
      results.push(r);
      log(
        `${path}: ${r.records} record(s) → ${r.events} event(s): ${r.added} new, ${r.duplicates} duplicate(s), ${r.quarantined} quarantined, ${r.ignored} ignored${formatNotes(r.notes)} (batch ${r.batchId})`,
      );
    } catch (e) {
      bar.stop();
      log(`import: ${path}: ${(e as Error).message}`);
      unreadable++;
    }
  }
  const sum = (f: (r: BatchResult) => number): number => results.reduce((a, r) => a + f(r), 0);
  return {
    files: files.length,
    unreadable,
    records: sum((r) => r.records),
    events: sum((r) => r.events),
    added: sum((r) => r.added),
    duplicates: sum((r) => r.duplicates),
    quarantined: sum((r) => r.quarantined),
    ignored: sum((r) => r.ignored),
    notes: sumNotes(results),
    otherProvider,
    quarantineReasons: [...reasons.entries()].sort((a, b) => b[1] - a[1]),
  };
}

/** The provider whose data the file's first records are, when that is not `source`; null otherwise. */
async function otherProviderOf(source: ImportSource, path: string): Promise<ImportSource | null> {
  const seen = new Map<ImportSource, number>();
  let looked = 0;
  for await (const r of READERS[source].records(path)) {
    if (++looked > PROVIDER_PEEK) break;
    if (r.parseError !== undefined) continue;
    const p = providerOfRecord(r.value);
    if (p === source) return null;
    if (p !== null) seen.set(p, (seen.get(p) ?? 0) + 1);
  }
  const [best] = [...seen.entries()].sort((a, b) => b[1] - a[1]);
  return best?.[0] ?? null;
}

/** A quarantine reason without what varies between records: its line, item and quoted values. */
function reasonKey(reason: string): string {
  const general = reason
    .replace(/^line \d+(?: item \d+)?: /, "")
    .replace(/"(?:[^"\\]|\\.)*"/g, "…")
    .replace(/\((?:line|byte|first at) [^)]*\)/g, "")
    .trim();
  return general.length > 120 ? `${general.slice(0, 119)}…` : general;
}

/** True when nothing could be stored: the files held records, yet none became an event (exit 1). */
export function nothingStored(s: ImportSummary): boolean {
  return s.added + s.duplicates === 0 && (s.quarantined > 0 || s.otherProvider > 0);
}

export function formatImportSummary(s: ImportSummary, dataDir: string): string {
  const n = (x: number): string => x.toLocaleString("en-US");
  const quarantine = s.quarantined > 0 ? ` (see ${dataDir}/quarantine/)` : "";
  const skipped = s.unreadable > 0 ? `, ${s.unreadable} file(s) unreadable` : "";
  const other = s.otherProvider > 0 ? `, ${s.otherProvider} file(s) of another provider` : "";
  const top = s.quarantineReasons
    .slice(0, 3)
    .map(([reason, count]) => `\n  ${n(count)} × ${reason}`)
    .join("");
  const reasons = top === "" ? "" : `\nquarantined, top reasons:${top}`;
  return `import summary: ${n(s.files)} file(s), read ${n(s.records)} record(s), ${n(s.events)} event(s): wrote ${n(s.added)} new, ${n(s.duplicates)} duplicate(s) skipped, ${n(s.quarantined)} quarantined${quarantine}, ${n(s.ignored)} ignored${skipped}${other}${formatNotes(s.notes)}${reasons}`;
}
