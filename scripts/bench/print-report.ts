import { analyzeGrowth, type BenchRun, computeSeconds, type Outcome, ratios } from "./bench-results.ts";
import { fmt, formatTable } from "./report-table.ts";
import type { TargetCheck } from "./targets.ts";

const FAILED = "FAILED";

/** A row for a case without figures: its name, FAILED, and blanks. */
function failedRow(name: string, columns: number): string[] {
  return [name, FAILED, ...Array.from({ length: columns - 2 }, () => "")];
}

function failures(outcomes: ReadonlyArray<readonly [string, Outcome<unknown>]>): string[] {
  return outcomes.flatMap(([name, o]) => (o.ok ? [] : [`  ${name}: ${o.error}`]));
}

export function formatClassify(run: BenchRun): string {
  const headers = [
    "classify",
    "lines",
    "distinct",
    "texts/s",
    "baseline/s",
    "ratio",
    "memo hits",
    "warm memo/s",
    "peak RSS",
  ];
  const rows = (["repeated", "distinct"] as const).map((mode) => {
    const o = run.classify[mode];
    if (!o.ok) return failedRow(mode, headers.length);
    const r = o.value;
    return [
      mode === "repeated" ? "repeated texts (Zipf)" : "all distinct",
      fmt.int(r.lines),
      fmt.int(r.distinctInputs),
      fmt.perSecond(r.textsPerSecond),
      fmt.perSecond(r.baselinePerSecond),
      fmt.ratio(ratios.classify(r)),
      fmt.percent(r.memoHitRate),
      r.warmMemoTextsPerSecond === null ? "-" : fmt.perSecond(r.warmMemoTextsPerSecond),
      fmt.mib(r.peakRssBytes),
    ];
  });
  return [
    formatTable(headers, rows),
    "  baseline: JSON.parse each line + one regular expression, same process; ratio = texts/s ÷ baseline/s",
    ...failures([
      ["repeated", run.classify.repeated],
      ["distinct", run.classify.distinct],
    ]),
  ].join("\n");
}

export function formatIngest(run: BenchRun): string {
  const headers = ["ingest", "events", "file", "events/s", "gunzip+parse/s", "ratio", "import", "peak RSS"];
  const rows = run.ingest.map(({ name, outcome }) => {
    if (!outcome.ok) return failedRow(name, headers.length);
    const r = outcome.value;
    return [
      name,
      fmt.int(r.events),
      fmt.mb(r.fileBytes),
      fmt.perSecond(ratios.ingestEventsPerSecond(r)),
      fmt.perSecond(ratios.ingestBaselinePerSecond(r)),
      fmt.percent(ratios.ingest(r)),
      fmt.seconds(r.importSeconds),
      fmt.mib(r.peakRssBytes),
    ];
  });
  return [
    formatTable(headers, rows),
    "  import: importFiles (bounce-radar import) into a fresh local store; baseline: stream-gunzip + JSON.parse of the same file, same process",
    ...failures(run.ingest.map((i) => [i.name, i.outcome] as const)),
  ].join("\n");
}

export function formatAnalyze(run: BenchRun): string {
  const headers = [
    "analyze",
    "agg. rows",
    "window events",
    "time",
    "peak RSS",
    "store puts",
    "put time",
    "excl. store",
    "localisation",
    "growth",
    "excl. store",
    "size ×",
  ];
  const growth = new Map(analyzeGrowth(run.analyze).map((g) => [g.to, g]));
  const rows = run.analyze.map((a) => {
    const name = `${fmt.int(a.organisations)} orgs × 35 d`;
    if (!a.outcome.ok) return failedRow(name, headers.length);
    const r = a.outcome.value;
    const g = growth.get(a.organisations);
    return [
      name,
      a.setup.ok ? fmt.int(a.setup.value.aggregateRows) : "?",
      a.setup.ok ? fmt.int(a.setup.value.windowEvents) : "?",
      fmt.seconds(r.seconds),
      fmt.mib(r.peakRssBytes),
      fmt.int(r.store.puts),
      fmt.seconds(r.store.putSeconds),
      fmt.seconds(computeSeconds(r)),
      `${fmt.seconds(r.stageSeconds.localisation ?? 0)} (${Math.round((100 * (r.stageSeconds.localisation ?? 0)) / r.seconds)}%)`,
      g ? fmt.ratio(g.timeRatio) : "-",
      g ? fmt.ratio(g.computeRatio) : "-",
      g ? fmt.ratio(g.sizeRatio) : "-",
    ];
  });
  return [
    formatTable(headers, rows),
    "  one runAnalysis (24 h window, 35-day baseline) in a fresh process, gateways from a map (no DNS); aggregates pre-built, the window day rebuilt from its events",
    "  excl. store: time minus time inside store gets and puts (local disk, fsync per put)",
    "  localisation: the attribution's root-cause localisation over sender dimensions, and its share of the whole analysis",
    "  growth: ratio to the previous size of time, and of time excl. store, beside the size ratio (near-linear when close)",
    ...failures(
      run.analyze.flatMap((a) => [
        [`${a.organisations} setup`, a.setup] as const,
        [`${a.organisations}`, a.outcome] as const,
      ]),
    ),
  ].join("\n");
}

export function formatLambda(run: BenchRun): string {
  const { outcome } = run.lambda;
  const note = "  bundles of functions/*/handler.ts";
  if (!outcome.ok) return [note, `  FAILED: ${outcome.error}`].join("\n");
  const headers = ["lambda bundle", "bytes", "load", "node -e 0", "import total", "ratio", "standalone"];
  const rows = outcome.value.map((b) => [
    b.name,
    fmt.int(b.bytes),
    fmt.ms(b.loadMs),
    fmt.ms(b.baselineProcessMs),
    fmt.ms(b.importProcessMs),
    fmt.ratio(ratios.lambdaLoad(b)),
    b.standaloneLoadError === null ? "loads" : "FAILS",
  ]);
  return [
    formatTable(headers, rows),
    note,
    "  minified ESM, node20, AWS SDK bundled; load = median of 5 fresh `node -e import(bundle)` − median of 5 `node -e 0`; ratio = import total ÷ node -e 0",
  ].join("\n");
}

export function formatTargets(checks: readonly TargetCheck[]): string {
  const lines = checks.map((c) =>
    c.met
      ? `met     ${c.id}: ${c.measured} (target ${c.target})`
      : `MISSED  ${c.id}: ${c.measured} (target ${c.target}) — ${c.reason ?? ""}`,
  );
  return ["targets", ...lines].join("\n");
}
