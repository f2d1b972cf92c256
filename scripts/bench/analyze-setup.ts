/**
 * Analyze case, setup step (its own process, untimed): writes N organisations × 35 days of daily aggregates,
 * each with a current manifest so runAnalysis reads them instead of rebuilding, plus the window day's events,
 * into a fresh local store; and the organisation → gateway answers for the resolver stub.
 *
 *   node bin/run-ts.js scripts/bench/analyze-setup.ts --organisations N --store DIR --gateways FILE
 */
import { writeFile } from "node:fs/promises";
import { NormalizedEventSchema } from "../../shared/domain/events/normalized-event.ts";
import { keys, utcDate } from "../../shared/store/keys.ts";
import { LocalObjectStore } from "../../shared/store/local-object-store.ts";
import { writeNdjsonGz } from "../../shared/store/ndjson-gzip.ts";
import { emitResult, positiveIntFlag, progress, requiredFlag } from "./case-io.ts";
import type { AnalyzeSetupResult } from "./case-results.ts";
import {
  AGGREGATE_DAYS,
  aggregateRows,
  organisations,
  WINDOW_DAY,
  windowEvents,
} from "./synthetic-organisations.ts";

const DAY = 86_400_000;
const SEED = 1;
/** Events checked against the schema: enough to catch a generator bug, few enough to keep setup short. */
const CHECKED_EVENTS = 1_000;

const count = positiveIntFlag("organisations", 1000);
const store = new LocalObjectStore(requiredFlag("store"));
const gatewaysFile = requiredFlag("gateways");
const started = performance.now();

const orgs = organisations(count, SEED);
await writeFile(gatewaysFile, JSON.stringify(Object.fromEntries(orgs.map((o) => [o.name, o.gateway]))));

let aggregateRowCount = 0;
const windowStart = Date.parse(`${WINDOW_DAY}T00:00:00Z`);
for (let d = AGGREGATE_DAYS; d >= 1; d--) {
  const date = utcDate(new Date(windowStart - d * DAY));
  const rows = aggregateRows(orgs, date, SEED);
  aggregateRowCount += rows.length;
  await writeNdjsonGz(store, keys.dailyAggregates(date), rows);
  // No event objects that day and a manifest saying so: refreshDailyAggregates finds it current and reads rows.
  await store.put(keys.dailyAggregatesManifest(date), JSON.stringify({ version: 1, events: [] }));
}
progress(`analyze setup ${count}: ${aggregateRowCount} aggregate rows over ${AGGREGATE_DAYS} days`);

let windowEventCount = 0;
await writeNdjsonGz(
  store,
  keys.events("ses", WINDOW_DAY, "bench-window"),
  (function* () {
    for (const e of windowEvents(orgs, SEED)) {
      windowEventCount++;
      // The timed run must read events exactly as the pipeline stores them; the generator is checked here.
      yield windowEventCount <= CHECKED_EVENTS ? NormalizedEventSchema.parse(e) : e;
    }
  })(),
);
progress(`analyze setup ${count}: ${windowEventCount} window events on ${WINDOW_DAY}`);

emitResult({
  organisations: count,
  days: AGGREGATE_DAYS,
  aggregateRows: aggregateRowCount,
  windowEvents: windowEventCount,
  setupSeconds: (performance.now() - started) / 1000,
} satisfies Omit<AnalyzeSetupResult, "peakRssBytes">);
