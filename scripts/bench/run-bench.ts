/**
 * `npm run bench [-- --quick] [-- --out FILE]`: classify, ingest, analyze and Lambda-bundle benchmarks, each case
 * in a fresh Node process. Prints a table with every figure, its same-run baseline and ratio, and a line per
 * target (MISSED with the measured reason); writes it all to bench/results.json (a --quick smoke run writes to
 * the temp folder unless --out says otherwise). Generated data lives in a temp folder removed at the end.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { arch, cpus, platform, tmpdir, totalmem } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { z } from "zod";
import {
  type AnalyzeRun,
  analyzeGrowth,
  attempt,
  type BenchRun,
  type IngestRun,
  ratios,
} from "./bench-results.ts";
import { flag, progress } from "./case-io.ts";
import {
  AnalyzeCaseResultSchema,
  AnalyzeSetupResultSchema,
  ClassifyCaseResultSchema,
  IngestCaseResultSchema,
} from "./case-results.ts";
import { bundleFunction, bundleTargets, measureBundles } from "./lambda-bundles.ts";
import { formatAnalyze, formatClassify, formatIngest, formatLambda, formatTargets } from "./print-report.ts";
import { runCase, runScript } from "./run-case.ts";
import { judgeTargets } from "./targets.ts";

const ImportMemoryResultSchema = z.object({
  mode: z.string(),
  bytes: z.number(),
  events: z.number(),
  seconds: z.number(),
  peakRssMb: z.number(),
});
type ImportMemoryResult = z.infer<typeof ImportMemoryResultSchema>;

/**
 * Peak RSS of importing a pretty-printed JSON array of SendGrid events (65 MB; 6.5 MB with --quick) beside the
 * same-run baseline of a process that only reads the file through: the reader streams record by record.
 */
async function importMemoryCase(
  work: string,
): Promise<
  { ok: true; read: ImportMemoryResult; imported: ImportMemoryResult } | { ok: false; error: string }
> {
  const file = join(work, "sendgrid-pretty-array.json");
  const mb = quick ? "6.5" : "65";
  progress(`import memory: writing a ${mb} MB pretty-printed array`);
  try {
    await runCase(
      "import-memory-case.ts",
      ["--mode", "make", "--file", file, "--mb", mb],
      ImportMemoryResultSchema,
    );
    const read = await runCase(
      "import-memory-case.ts",
      ["--mode", "read", "--file", file],
      ImportMemoryResultSchema,
    );
    progress("import memory: importing it");
    const imported = await runCase(
      "import-memory-case.ts",
      ["--mode", "import", "--file", file, "--data", join(work, "memory-data")],
      ImportMemoryResultSchema,
    );
    return { ok: true, read, imported };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

function formatImportMemory(m: Awaited<ReturnType<typeof importMemoryCase>>): string {
  if (!m.ok) return `import memory: no figures (${m.error})`;
  const mb = (m.imported.bytes / 1024 / 1024).toFixed(1);
  return [
    `import memory (pretty-printed JSON array, ${mb} MB, ${m.imported.events.toLocaleString("en-US")} events)`,
    `  peak RSS: import ${m.imported.peakRssMb.toFixed(0)} MB, baseline (read the file through) ${m.read.peakRssMb.toFixed(0)} MB, ratio ${(m.imported.peakRssMb / m.read.peakRssMb).toFixed(2)}; import ${m.imported.seconds.toFixed(1)} s`,
  ].join("\n");
}

const quick = process.argv.includes("--quick");
const SIZES = quick
  ? {
      repeatedLines: 100_000,
      distinctLines: 5_000,
      classifyRounds: 1,
      exportEvents: 5_000,
      organisations: [50, 500, 2_500],
    }
  : {
      repeatedLines: 1_000_000,
      distinctLines: 50_000,
      classifyRounds: 3,
      exportEvents: 50_000,
      organisations: [1_000, 10_000, 50_000],
    };
const outFile = resolve(
  flag("out") ?? (quick ? join(tmpdir(), "bounce-radar-bench.quick.json") : "bench/results.json"),
);

async function gzipFile(path: string): Promise<string> {
  await pipeline(createReadStream(path), createGzip(), createWriteStream(`${path}.gz`));
  return `${path}.gz`;
}

async function classifyCases(): Promise<BenchRun["classify"]> {
  const run = (mode: "repeated" | "distinct", lines: number, rounds: number) => {
    progress(`classify ${mode}: ${lines} lines, ${rounds} round(s)`);
    return attempt(() =>
      runCase(
        "classify-case.ts",
        ["--mode", mode, "--lines", String(lines), "--rounds", String(rounds)],
        ClassifyCaseResultSchema,
      ),
    );
  };
  return {
    repeated: await run("repeated", SIZES.repeatedLines, SIZES.classifyRounds),
    distinct: await run("distinct", SIZES.distinctLines, 1),
  };
}

async function ingestCases(work: string): Promise<IngestRun[]> {
  const exportsDir = join(work, "exports");
  progress(`ingest: generating ${SIZES.exportEvents} SES records and Mailgun events`);
  const files = await attempt(async () => {
    await runScript("scripts/make-exports.ts", ["--events", String(SIZES.exportEvents), "--out", exportsDir]);
    return {
      ses: await gzipFile(join(exportsDir, "ses-export.ndjson")),
      mailgun: await gzipFile(join(exportsDir, "mailgun-export.ndjson")),
    };
  });
  const cases = [
    { name: "SES export (gzip)", source: "ses" as const },
    { name: "Mailgun pages (gzip)", source: "mailgun" as const },
  ];
  const runs: IngestRun[] = [];
  for (const c of cases) {
    progress(`ingest ${c.name}`);
    runs.push({
      name: c.name,
      outcome: files.ok
        ? await attempt(() =>
            runCase(
              "ingest-case.ts",
              [
                "--source",
                c.source,
                "--file",
                files.value[c.source],
                "--data",
                join(work, `data-${c.source}`),
              ],
              IngestCaseResultSchema,
            ),
          )
        : files,
    });
  }
  return runs;
}

async function analyzeCases(work: string): Promise<AnalyzeRun[]> {
  const runs: AnalyzeRun[] = [];
  for (const organisations of SIZES.organisations) {
    const dir = join(work, `analyze-${organisations}`);
    const args = [
      "--organisations",
      String(organisations),
      "--store",
      join(dir, "store"),
      "--gateways",
      join(dir, "gateways.json"),
    ];
    await mkdir(dir, { recursive: true });
    progress(`analyze ${organisations} organisations: setup (untimed)`);
    const setup = await attempt(() => runCase("analyze-setup.ts", args, AnalyzeSetupResultSchema));
    progress(`analyze ${organisations} organisations: runAnalysis`);
    const outcome = setup.ok
      ? await attempt(() => runCase("analyze-case.ts", args, AnalyzeCaseResultSchema))
      : setup;
    runs.push({ organisations, setup, outcome });
    // The largest store is over a gigabyte of small files; free the disk before the next size.
    await rm(dir, { recursive: true, force: true });
  }
  return runs;
}

async function lambdaCase(work: string): Promise<BenchRun["lambda"]> {
  const targets = bundleTargets(resolve("."));
  progress(`lambda: bundling ${targets.map((t) => t.name).join(", ")}`);
  const outcome = await attempt(async () => {
    const bundles = [];
    for (const target of targets)
      bundles.push({ target, ...(await bundleFunction(target, join(work, "bundles"))) });
    progress("lambda: timing cold loads");
    return measureBundles(bundles, resolve("node_modules"));
  });
  return { outcome };
}

const started = performance.now();
const work = await mkdtemp(join(tmpdir(), "bounce-radar-bench-"));
let run: BenchRun;
let importMemory: Awaited<ReturnType<typeof importMemoryCase>>;
try {
  run = {
    classify: await classifyCases(),
    ingest: await ingestCases(work),
    analyze: await analyzeCases(work),
    lambda: await lambdaCase(work),
  };
  importMemory = await importMemoryCase(work);
} finally {
  await rm(work, { recursive: true, force: true });
}
const checks = judgeTargets(run);
const durationSeconds = (performance.now() - started) / 1000;
const environment = {
  node: process.version,
  platform: platform(),
  arch: arch(),
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? "unknown",
  totalMemoryBytes: totalmem(),
};

const header = `bounce-radar benchmarks (${quick ? "QUICK smoke run, small sizes" : "full run"}): node ${environment.node}, ${environment.platform} ${environment.arch}, ${environment.cpus} CPU(s), ${durationSeconds.toFixed(0)} s`;
console.log(
  [
    header,
    "",
    formatClassify(run),
    "",
    formatIngest(run),
    "",
    formatAnalyze(run),
    "",
    formatLambda(run),
    "",
    formatImportMemory(importMemory),
    "",
    formatTargets(checks),
  ].join("\n"),
);

const results = {
  schemaVersion: 1,
  generatedAt: new Date().toISOString(),
  mode: quick ? "quick" : "full",
  durationSeconds,
  environment,
  targets: checks,
  classify: Object.fromEntries(
    Object.entries(run.classify).map(([mode, o]) => [
      mode,
      o.ok ? { ...o.value, ratioToBaseline: ratios.classify(o.value) } : { error: o.error },
    ]),
  ),
  ingest: run.ingest.map(({ name, outcome }) =>
    outcome.ok
      ? {
          name,
          ...outcome.value,
          // The export lived in a temp folder that is gone; its name is what identifies it.
          file: basename(outcome.value.file),
          eventsPerSecond: ratios.ingestEventsPerSecond(outcome.value),
          baselineEventsPerSecond: ratios.ingestBaselinePerSecond(outcome.value),
          ratioToBaseline: ratios.ingest(outcome.value),
        }
      : { name, error: outcome.error },
  ),
  analyze: {
    sizes: run.analyze.map((a) => ({
      organisations: a.organisations,
      setup: a.setup.ok ? a.setup.value : { error: a.setup.error },
      run: a.outcome.ok ? a.outcome.value : { error: a.outcome.error },
    })),
    growth: analyzeGrowth(run.analyze),
  },
  importMemory: importMemory.ok
    ? {
        file: "pretty-printed JSON array of SendGrid events",
        bytes: importMemory.imported.bytes,
        events: importMemory.imported.events,
        importPeakRssMb: importMemory.imported.peakRssMb,
        baselinePeakRssMb: importMemory.read.peakRssMb,
        ratioToBaseline: importMemory.imported.peakRssMb / importMemory.read.peakRssMb,
        importSeconds: importMemory.imported.seconds,
      }
    : { error: importMemory.error },
  lambda: {
    bundles: run.lambda.outcome.ok
      ? run.lambda.outcome.value.map((b) => ({
          ...b,
          entry: relative(resolve("."), b.entry),
          loadRatioToBaseline: ratios.lambdaLoad(b),
        }))
      : { error: run.lambda.outcome.error },
  },
};
await mkdir(dirname(outFile), { recursive: true });
await writeFile(outFile, `${JSON.stringify(results, null, 2)}\n`);
progress(`wrote ${outFile}`);

// Missed targets are findings, not failures; a case that produced no figures is.
const crashed = [
  run.classify.repeated,
  run.classify.distinct,
  ...run.ingest.map((i) => i.outcome),
  ...run.analyze.map((a) => a.outcome),
  run.lambda.outcome,
].some((o) => !o.ok);
process.exitCode = crashed ? 1 : 0;
