/**
 * Analyze case, timed step (a fresh process per size): one runAnalysis over the store analyze-setup.ts wrote,
 * with a gateway resolver that answers from a map (no DNS). Only the runAnalysis call is timed.
 *
 *   node bin/run-ts.js scripts/bench/analyze-case.ts --organisations N --store DIR --gateways FILE
 */
import { readFile } from "node:fs/promises";
import * as z from "zod";
import type { StageMeasure } from "../../shared/domain/analysis/analysis-input.ts";
import { type GatewayResolver, runAnalysis } from "../../shared/pipeline/analyze/run-analysis.ts";
import { LocalObjectStore } from "../../shared/store/local-object-store.ts";
import { emitResult, positiveIntFlag, progress, requiredFlag } from "./case-io.ts";
import type { AnalyzeCaseResult } from "./case-results.ts";
import { ANALYSIS_AT, BASELINE_DAYS, WINDOW_HOURS } from "./synthetic-organisations.ts";
import { TimedStore } from "./timed-store.ts";

const count = positiveIntFlag("organisations", 1000);
const store = new TimedStore(new LocalObjectStore(requiredFlag("store")));
const gatewayOf = new Map(
  Object.entries(
    z.record(z.string(), z.string()).parse(JSON.parse(await readFile(requiredFlag("gateways"), "utf8"))),
  ),
);
const gateways: GatewayResolver = {
  gatewayOf: async (domain) => ({ gateway: gatewayOf.get(domain) ?? "unknown" }),
};

// Stage times inside the pure analysis (the localisation is also inside "story"; it is reported on its own).
const stageSeconds: Record<string, number> = {};
const measure: StageMeasure = (stage, work) => {
  const t0 = performance.now();
  try {
    return work();
  } finally {
    stageSeconds[stage] = (stageSeconds[stage] ?? 0) + (performance.now() - t0) / 1000;
  }
};

const rssBeforeBytes = process.memoryUsage().rss;
const started = performance.now();
const run = await runAnalysis(
  { at: ANALYSIS_AT, windowHours: WINDOW_HOURS, baselineDays: BASELINE_DAYS, maskRecipients: true },
  { store, gateways, now: () => ANALYSIS_AT, log: (line) => progress(line), measure },
);
const seconds = (performance.now() - started) / 1000;
progress(`analyze ${count}: ${seconds.toFixed(2)} s, ${run.report.incidents.length} incident(s)`);

emitResult({
  organisations: count,
  seconds,
  rssBeforeBytes,
  incidents: run.report.incidents.length,
  stageSeconds,
  windowAttempts: run.report.totals.attempts,
  store: { ...store.tally },
} satisfies Omit<AnalyzeCaseResult, "peakRssBytes">);
