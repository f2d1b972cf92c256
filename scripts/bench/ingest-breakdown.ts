import { createReadStream } from "node:fs";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";
import { completeEvent } from "../../shared/pipeline/ingest/complete-event.ts";
import { mapMailgunEvent } from "../../shared/sources/esp/mailgun/map-mailgun-event.ts";
import { mapSesRecord } from "../../shared/sources/esp/ses/map-ses-record.ts";
import { mailgunPageRecords, ndjsonRecords } from "../../shared/sources/files/export-records.ts";

/**
 * Where an import's time goes, measured as separate passes over the same file: the parts of `importFiles` that
 * a miss of the ingest target is most likely explained by. Each pass is untimed by the headline figure.
 */

/** What landing the raw copy costs: the export is gunzipped and gzipped again (default level) on the way in. */
export async function recompressSeconds(path: string): Promise<number> {
  const start = performance.now();
  const discard = new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });
  await pipeline(createReadStream(path), createGunzip(), createGzip(), discard);
  return (performance.now() - start) / 1000;
}

/**
 * Reading, mapping and completing (organisation, classification) every event, with nothing written: the CPU
 * part of the import. Run after the import, so the classification memo is already warm.
 */
export async function mapOnlySeconds(source: "ses" | "mailgun", path: string): Promise<number> {
  const start = performance.now();
  const records = source === "ses" ? ndjsonRecords(path) : mailgunPageRecords(path);
  const mapper = source === "ses" ? mapSesRecord : mapMailgunEvent;
  let completed = 0;
  for await (const record of records) {
    const mapped = mapper(record.value);
    if (!mapped.ok) continue;
    for (const e of mapped.events) if (completeEvent(e).organisation !== "") completed++;
  }
  if (completed === 0) throw new Error(`map-only pass over ${path} completed no events`);
  return (performance.now() - start) / 1000;
}
