import * as z from "zod";

/** What each case process prints; the orchestrator parses it with these, never trusting a child's JSON. */

const PeakRss = { peakRssBytes: z.number().int().nonnegative() };

export const ClassifyCaseResultSchema = z.object({
  mode: z.enum(["repeated", "distinct"]),
  lines: z.number().int().positive(),
  distinctInputs: z.number().int().positive(),
  rounds: z.number().int().positive(),
  /** Median over rounds: texts per second through JSON.parse + the memoised classifier. */
  textsPerSecond: z.number().positive(),
  /** Median over rounds: the same lines again through the memo the timed pass filled (repeated mode only). */
  warmMemoTextsPerSecond: z.number().positive().nullable(),
  /** Median over rounds: lines per second through JSON.parse + one regular expression. */
  baselinePerSecond: z.number().positive(),
  memoHitRate: z.number().min(0).max(1),
  memoCapacity: z.number().int().positive(),
  ...PeakRss,
});
export type ClassifyCaseResult = z.infer<typeof ClassifyCaseResultSchema>;

export const IngestCaseResultSchema = z.object({
  source: z.enum(["ses", "mailgun"]),
  file: z.string(),
  fileBytes: z.number().int().positive(),
  /** Provider events in the file, as the baseline counted them (SES: lines; Mailgun: page items). */
  baselineEvents: z.number().int().positive(),
  baselineSeconds: z.number().positive(),
  importSeconds: z.number().positive(),
  records: z.number().int().nonnegative(),
  events: z.number().int().nonnegative(),
  added: z.number().int().nonnegative(),
  quarantined: z.number().int().nonnegative(),
  ignored: z.number().int().nonnegative(),
  /** Objects in the data folder after the import (raw copy, event partitions, quarantine). */
  objectsWritten: z.number().int().nonnegative(),
  /** Separate passes over the same file, to say where the import's time goes. */
  breakdown: z.object({
    /** gunzip + gzip of the whole file: the raw copy's landing. */
    rawRecompressSeconds: z.number().positive(),
    /** read + map + complete (organisation, classification), nothing written; classification memo warm. */
    mapOnlySeconds: z.number().positive(),
  }),
  ...PeakRss,
});
export type IngestCaseResult = z.infer<typeof IngestCaseResultSchema>;

export const AnalyzeSetupResultSchema = z.object({
  organisations: z.number().int().positive(),
  days: z.number().int().positive(),
  aggregateRows: z.number().int().positive(),
  windowEvents: z.number().int().positive(),
  setupSeconds: z.number().nonnegative(),
  ...PeakRss,
});
export type AnalyzeSetupResult = z.infer<typeof AnalyzeSetupResultSchema>;

export const AnalyzeCaseResultSchema = z.object({
  organisations: z.number().int().positive(),
  seconds: z.number().positive(),
  /** Same process, before the run: gunzip + parse of every object the run reads. */
  readBaselineSeconds: z.number().positive(),
  /** RSS when runAnalysis was called: the loaded code and runtime, before any data. */
  rssBeforeBytes: z.number().int().nonnegative(),
  incidents: z.number().int().nonnegative(),
  /** Seconds inside each stage of the pure analysis (localisation is part of story, and shown on its own). */
  stageSeconds: z.record(z.string(), z.number().nonnegative()).default({}),
  windowAttempts: z.number().int().nonnegative(),
  store: z.object({
    gets: z.number().int().nonnegative(),
    puts: z.number().int().nonnegative(),
    lists: z.number().int().nonnegative(),
    /** Wall time spent inside store calls (reads overlap with parsing, so this is an upper bound). */
    putSeconds: z.number().nonnegative(),
    getSeconds: z.number().nonnegative(),
    putsByPrefix: z.record(z.string(), z.number().int().nonnegative()),
  }),
  ...PeakRss,
});
export type AnalyzeCaseResult = z.infer<typeof AnalyzeCaseResultSchema>;
