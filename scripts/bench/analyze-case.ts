/**
 * Analyze case, timed step (a fresh process per size): one runAnalysis over the store analyze-setup.ts wrote,
 * with a gateway resolver that answers from a map (no DNS). Only the runAnalysis call is timed. Its same-run
 * baseline, measured first in the same process: gunzip + parse of every object the run reads (the baseline
 * days' aggregates, the history days' deliveries, the window's events).
 *
 *   node bin/run-ts.js scripts/bench/analyze-case.ts --organisations N --store DIR --gateways FILE
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import * as z from "zod";
import type { StageMeasure } from "../../shared/domain/analysis/analysis-input.ts";
import { type GatewayResolver, runAnalysis } from "../../shared/pipeline/analyze/run-analysis.ts";
import { LocalObjectStore } from "../../shared/store/local-object-store.ts";
import { emitResult, positiveIntFlag, progress, requiredFlag } from "./case-io.ts";
import type { AnalyzeCaseResult } from "./case-results.ts";
import { gunzipAndParse } from "./gunzip-parse-baseline.ts";
import { ANALYSIS_AT, BASELINE_DAYS, WINDOW_DAY, WINDOW_HOURS } from "./synthetic-organisations.ts";
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

/** gunzip + split + JSON.parse (TSV: split on the tab) of every object the analysis reads. */
async function readBaseline(root: string): Promise<number> {
  const t0 = performance.now();
  const manifest = z
    .object({
      days: z.record(
        z.string(),
        z.object({ aggregates: z.object({ key: z.string() }), deliveries: z.object({ key: z.string() }) }),
      ),
    })
    .parse(JSON.parse(await readFile(join(root, "aggregates/daily/manifest.json"), "utf8")));
  const baselineFirst = new Date(Date.parse(`${WINDOW_DAY}T00:00:00Z`) - BASELINE_DAYS * 86_400_000)
    .toISOString()
    .slice(0, 10);
  for (const [date, day] of Object.entries(manifest.days)) {
    if (date >= baselineFirst && date < WINDOW_DAY) await gunzipAndParse(join(root, day.aggregates.key));
    const text = gunzipSync(await readFile(join(root, day.deliveries.key))).toString("utf8");
    let fields = 0;
    for (const line of text.split("\n")) fields += line.split("\t").length;
    if (fields === 0) throw new Error("empty deliveries");
  }
  for await (const o of store.list(`events/source=ses/dt=${WINDOW_DAY}/`))
    await gunzipAndParse(join(root, o.key));
  return (performance.now() - t0) / 1000;
}
const readBaselineSeconds = await readBaseline(requiredFlag("store"));

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
  readBaselineSeconds,
  rssBeforeBytes,
  incidents: run.report.incidents.length,
  stageSeconds,
  windowAttempts: run.report.totals.attempts,
  store: { ...store.tally },
} satisfies Omit<AnalyzeCaseResult, "peakRssBytes">);
