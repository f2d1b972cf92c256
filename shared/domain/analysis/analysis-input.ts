import type { NormalizedEvent } from "../events/normalized-event.ts";
import type { Report } from "../report/report-schema.ts";
import type { ReputationObservation } from "../reputation/reputation-observation.ts";
import type { ReputationSignal } from "../reputation/reputation-signal.ts";
import type { SpikeThresholds } from "./spike-statistics.ts";

/** Baseline attempts of one kind, already aggregated per day (see pipeline/analyze/daily-aggregates.ts). */
export interface BaselineRow {
  readonly date: string;
  readonly organisation: string;
  readonly consumer: boolean;
  readonly sendingIp: string | null;
  readonly outcome: string;
  readonly count: number;
}

/** The analysis stages a caller may time (the bench does): pure code takes no clock, so the caller's runs them. */
export type AnalysisStage = "counts" | "localisation" | "story" | "incidents";
export type StageMeasure = <T>(stage: AnalysisStage, work: () => T) => T;

export interface AnalysisInput {
  readonly runId: string;
  readonly generatedAt: string;
  readonly window: { readonly start: string; readonly end: string };
  readonly baseline: { readonly start: string; readonly end: string };
  /** Final-outcome events inside the window (one per message and recipient). */
  readonly windowEvents: readonly NormalizedEvent[];
  readonly baselineRows: readonly BaselineRow[];
  /** Gateway per organisation (a GatewayId, "self_hosted" or "unknown"). */
  readonly gatewayOf: ReadonlyMap<string, string>;
  /** Whether the address had a successful delivery in the 90 days before it bounced. */
  readonly previouslyDelivered: (e: NormalizedEvent) => boolean;
  readonly maskRecipients: boolean;
  readonly thresholds?: SpikeThresholds;
  readonly dataQuality: Report["dataQuality"];
  /** Latest block-list observation per list and target (empty when no reputation data is collected). */
  readonly reputation?: readonly ReputationObservation[];
  /**
   * Values from the other reputation sources (Postmaster, SNDS, ESP reputation, authentication posture) from
   * before and during the window: judged against each other, so a drop shows.
   */
  readonly reputationSignals?: readonly ReputationSignal[];
  /** Runs each stage; the bench passes one that times them. Default: just runs it. */
  readonly measure?: StageMeasure;
}
