/**
 * Analyze case, setup step (its own process, untimed): writes the derived days an earlier run would have
 * left — 90 days of recipient history (last delivery per hashed address) and their daily aggregates, the
 * last 35 of them the baseline — committed by the derived manifest so runAnalysis reads them instead of
 * rebuilding, plus the window day's events, into a fresh local store; and the organisation → gateway
 * answers for the resolver stub. Each past day has one small events object standing for the events the
 * synthetic aggregates summarise (their checksum is what the manifest's entry was derived from).
 *
 *   node bin/run-ts.js scripts/bench/analyze-setup.ts --organisations N --store DIR --gateways FILE
 */
import { writeFile } from "node:fs/promises";
import { NormalizedEventSchema } from "../../shared/domain/events/normalized-event.ts";
import { addressHash } from "../../shared/pipeline/analyze/daily-aggregates.ts";
import { DerivedDays, dayInputs } from "../../shared/pipeline/analyze/derived-days.ts";
import { mulberry32 } from "../../shared/simulation/seeded-random.ts";
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
/** Days of recipient history the analysis reads (HISTORY_DAYS in run-analysis.ts). */
const HISTORY_DAYS = 90;
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
let deliveredAddresses = 0;
const windowStart = Date.parse(`${WINDOW_DAY}T00:00:00Z`);
const derived = await DerivedDays.open(store, progress);
const events = windowEvents(orgs, SEED);
for (let d = HISTORY_DAYS; d >= 1; d--) {
  const date = utcDate(new Date(windowStart - d * DAY));
  const rows = aggregateRows(orgs, date, SEED);
  if (d <= AGGREGATE_DAYS) aggregateRowCount += rows.length;
  // The addresses behind the day's delivered rows (the window's recipients are user0..199 at each organisation).
  const random = mulberry32(SEED ^ d);
  const delivered = new Map<string, string>();
  for (const r of rows) {
    if (r.outcome !== "delivered") continue;
    for (let n = 0; n < r.count; n++) {
      const at = new Date(windowStart - d * DAY + Math.floor(random() * DAY)).toISOString();
      const h = addressHash(`user${Math.floor(random() * 200)}@${r.organisation}`);
      if ((delivered.get(h) ?? "") < at) delivered.set(h, at);
    }
  }
  deliveredAddresses += delivered.size;
  const marker = events.next().value;
  if (!marker) throw new Error("no synthetic event to mark a past day with");
  await writeNdjsonGz(store, keys.events("ses", date, "bench-history"), [
    NormalizedEventSchema.parse({ ...marker, occurredAt: `${date}T12:00:00.000Z` }),
  ]);
  await derived.write(await dayInputs(store, date), rows, delivered);
}
await derived.commit();
progress(
  `analyze setup ${count}: ${aggregateRowCount} aggregate rows over ${AGGREGATE_DAYS} days, ${deliveredAddresses} address-days of history over ${HISTORY_DAYS}`,
);

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
