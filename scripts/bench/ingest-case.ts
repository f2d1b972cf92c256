/**
 * Ingest case (one process per file): events per second from a gzipped export into a fresh local store through
 * `importFiles`, the code behind `bounce-radar import`, against a same-process baseline that only gunzips and
 * JSON-parses the same file.
 *
 *   node bin/run-ts.js scripts/bench/ingest-case.ts --source ses|mailgun --file EXPORT.gz --data DIR
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { importFiles } from "../../cli/commands/import.ts";
import { emitResult, median, progress, requiredFlag } from "./case-io.ts";
import type { IngestCaseResult } from "./case-results.ts";
import { gunzipAndParse } from "./gunzip-parse-baseline.ts";
import { mapOnlySeconds, recompressSeconds } from "./ingest-breakdown.ts";

const BASELINE_ROUNDS = 3;

const source = requiredFlag("source");
if (source !== "ses" && source !== "mailgun") throw new Error(`--source: ses or mailgun, got ${source}`);
const file = requiredFlag("file");
const dataDir = requiredFlag("data");

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const start = performance.now();
  const value = await run();
  return { value, seconds: (performance.now() - start) / 1000 };
}

async function countFiles(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).length;
}

// Median of a few rounds: a single gunzip pass is short enough for timer and scheduler noise to matter.
const baselineRuns: Array<{ events: number; seconds: number }> = [];
for (let round = 0; round < BASELINE_ROUNDS; round++) {
  const { value, seconds } = await timed(() => gunzipAndParse(file));
  baselineRuns.push({ events: value.events, seconds });
}
const baselineEvents = baselineRuns[0]?.events ?? 0;
const baselineSeconds = median(baselineRuns.map((r) => r.seconds));
progress(
  `ingest ${source}: gunzip+parse baseline ${baselineEvents} events in ${baselineSeconds.toFixed(3)} s`,
);

const log: string[] = [];
const { value: summary, seconds: importSeconds } = await timed(() =>
  importFiles(source, dataDir, [file], (line) => log.push(line)),
);
if (summary.unreadable > 0) throw new Error(`import failed: ${log.join("; ")}`);
progress(`ingest ${source}: imported ${summary.events} events in ${importSeconds.toFixed(3)} s`);
const breakdown = {
  rawRecompressSeconds: await recompressSeconds(file),
  mapOnlySeconds: await mapOnlySeconds(source, file),
};

emitResult({
  source,
  file,
  fileBytes: (await stat(file)).size,
  baselineEvents,
  baselineSeconds,
  importSeconds,
  records: summary.records,
  events: summary.events,
  added: summary.added,
  quarantined: summary.quarantined,
  ignored: summary.ignored,
  objectsWritten: await countFiles(join(dataDir)),
  breakdown,
} satisfies Omit<IngestCaseResult, "peakRssBytes">);
