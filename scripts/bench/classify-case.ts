/**
 * Classify case (one process per mode): texts per second through JSON.parse + the memoised classifier, against a
 * same-process baseline that JSON-parses each line and runs one regular expression.
 *
 *   node bin/run-ts.js scripts/bench/classify-case.ts --mode repeated|distinct --lines N [--rounds R]
 */
import { performance } from "node:perf_hooks";
import { type BounceInput, ClassificationMemo } from "../../shared/domain/classify/index.ts";
import { distinctLines, inputPool, loadBounceTexts, repeatedLines } from "./bounce-mix.ts";
import { emitResult, median, positiveIntFlag, progress, requiredFlag } from "./case-io.ts";
import type { ClassifyCaseResult } from "./case-results.ts";

const ENHANCED_CODE = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/;
/** Share of the lines run once, untimed, so both loops are measured with optimised code. */
const WARM_UP_SHARE = 0.05;

const mode = requiredFlag("mode");
if (mode !== "repeated" && mode !== "distinct") throw new Error(`--mode: repeated or distinct, got ${mode}`);
const lineCount = positiveIntFlag("lines", 1_000_000);
const rounds = positiveIntFlag("rounds", 1);

const pool = inputPool(loadBounceTexts());
const lines = mode === "repeated" ? repeatedLines(pool, lineCount, 1) : distinctLines(pool, lineCount, 2);
const distinctInputs = new Set(lines).size;

// The lines were serialised here from schema-checked inputs, so the parse result is a BounceInput.
const parse = (line: string): BounceInput => JSON.parse(line) as BounceInput;

function baseline(slice: readonly string[]): number {
  let matched = 0;
  for (const line of slice) if (ENHANCED_CODE.test(parse(line).text)) matched++;
  return matched;
}

function classify(slice: readonly string[], memo: ClassificationMemo): number {
  // Summing a field keeps the work observable, so nothing can be optimised away.
  let sum = 0;
  for (const line of slice) sum += memo.classifyBounce(parse(line)).confidence;
  return sum;
}

function perSecond(run: () => unknown): number {
  const start = performance.now();
  run();
  return lines.length / ((performance.now() - start) / 1000);
}

const warmUp = lines.slice(0, Math.max(1, Math.floor(lines.length * WARM_UP_SHARE)));
baseline(warmUp);
classify(warmUp, new ClassificationMemo());

const baselineRates: number[] = [];
const classifyRates: number[] = [];
const warmRates: number[] = [];
let hitRate = 0;
let capacity = 0;
for (let round = 1; round <= rounds; round++) {
  baselineRates.push(perSecond(() => baseline(lines)));
  // A fresh memo each round: the timed run pays for its own misses, as a new Lambda container would.
  const memo = new ClassificationMemo();
  classifyRates.push(perSecond(() => classify(lines, memo)));
  hitRate = memo.stats.hits / (memo.stats.hits + memo.stats.misses);
  capacity = memo.capacity;
  // The same lines again through the now-warm memo: the ceiling once every repeated text has been seen
  // (meaningless when nothing repeats).
  if (mode === "repeated") warmRates.push(perSecond(() => classify(lines, memo)));
  progress(
    `classify ${mode} round ${round}/${rounds}: ${Math.round(classifyRates.at(-1) ?? 0)}/s (baseline ${Math.round(baselineRates.at(-1) ?? 0)}/s)`,
  );
}

emitResult({
  mode,
  lines: lines.length,
  distinctInputs,
  rounds,
  textsPerSecond: median(classifyRates),
  warmMemoTextsPerSecond: warmRates.length > 0 ? median(warmRates) : null,
  baselinePerSecond: median(baselineRates),
  memoHitRate: hitRate,
  memoCapacity: capacity,
} satisfies Omit<ClassifyCaseResult, "peakRssBytes">);
