import type {
  AnalyzeCaseResult,
  AnalyzeSetupResult,
  ClassifyCaseResult,
  IngestCaseResult,
} from "./case-results.ts";
import type { BundleMeasurement } from "./lambda-bundles.ts";

/** A case's figures, or why there are none (it crashed, or its setup failed). */
export type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string };

export async function attempt<T>(run: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

export interface IngestRun {
  readonly name: string;
  readonly outcome: Outcome<IngestCaseResult>;
}

export interface AnalyzeRun {
  readonly organisations: number;
  readonly setup: Outcome<AnalyzeSetupResult>;
  readonly outcome: Outcome<AnalyzeCaseResult>;
}

export interface LambdaRun {
  readonly outcome: Outcome<BundleMeasurement[]>;
}

/** Everything one `npm run bench` measured, before targets are judged. */
export interface BenchRun {
  readonly classify: {
    readonly repeated: Outcome<ClassifyCaseResult>;
    readonly distinct: Outcome<ClassifyCaseResult>;
  };
  readonly ingest: readonly IngestRun[];
  readonly analyze: readonly AnalyzeRun[];
  readonly lambda: LambdaRun;
}

/** The ratio of each result to its same-run baseline, as reported. */
export const ratios = {
  classify: (r: ClassifyCaseResult): number => r.textsPerSecond / r.baselinePerSecond,
  ingestEventsPerSecond: (r: IngestCaseResult): number => r.events / r.importSeconds,
  ingestBaselinePerSecond: (r: IngestCaseResult): number => r.baselineEvents / r.baselineSeconds,
  ingest: (r: IngestCaseResult): number =>
    r.events / r.importSeconds / (r.baselineEvents / r.baselineSeconds),
  lambdaLoad: (b: BundleMeasurement): number => b.importProcessMs / b.baselineProcessMs,
};

/** Growth between consecutive analysis sizes, next to the growth in size. */
export interface Growth {
  readonly from: number;
  readonly to: number;
  readonly sizeRatio: number;
  readonly timeRatio: number;
  readonly rssRatio: number;
  /** Time outside store calls: the part that grows with the algorithm, not with the disk. */
  readonly computeRatio: number;
}

/** An analysis run's time outside store calls. */
export const computeSeconds = (r: AnalyzeCaseResult): number =>
  r.seconds - r.store.putSeconds - r.store.getSeconds;

export function analyzeGrowth(runs: readonly AnalyzeRun[]): Growth[] {
  const done = runs.flatMap((r) => (r.outcome.ok ? [r.outcome.value] : []));
  return done.slice(1).map((to, i) => {
    const from = done[i] as AnalyzeCaseResult;
    return {
      from: from.organisations,
      to: to.organisations,
      sizeRatio: to.organisations / from.organisations,
      timeRatio: to.seconds / from.seconds,
      rssRatio: to.peakRssBytes / from.peakRssBytes,
      computeRatio: computeSeconds(to) / computeSeconds(from),
    };
  });
}
