import type { Side } from "../classify/taxonomy.ts";
import { DEFAULT_SIDE } from "../classify/taxonomy.ts";
import type { NormalizedEvent } from "../events/normalized-event.ts";
import { CONFIDENCE_MODEL } from "./confidence-model.ts";
import type { IncidentDraft } from "./story.ts";

/*
 * Stage 4: confidence as a probability that the verdict is right. A logistic model over the features below;
 * its weights (confidence-model.ts) are fitted on the labelled attribution suite's development seeds
 * (`npm run fit:confidence`) and checked on other seeds with held-out texts (`npm run eval:attribution`:
 * Brier score and reliability by decile). The features are what an ops engineer would weigh.
 */

export interface ConfidenceFeatures {
  /** How the incident was found. */
  readonly localised: number;
  readonly senderWide: number;
  readonly controlGroup: number;
  readonly recipientCluster: number;
  /** Share of the bounces whose wording points to the incident's side (sender blocks; recipient policy or unknown user). */
  readonly wordingAgrees: number;
  /** Share of bounced addresses with a delivery in the 90 days before. */
  readonly previouslyDelivered: number;
  /** The consumer control group spikes (1) or not (0). */
  readonly controlBroken: number;
  /** For localised causes: the chosen elements' share of the excess (capped at 1). */
  readonly explanatoryPower: number;
  /** Bounces on IPs unlike the attempts (0 = the usual mix). */
  readonly ipMixDivergence: number;
  /** log2 of the recipient groups with excess bounces. */
  readonly breadth: number;
  /** log10 of the incident's hard bounces. */
  readonly volume: number;
  /** One recognised gateway (1), else 0. */
  readonly oneGateway: number;
  /** Reputation evidence for (+) or against (−) the verdict, from block lists and reputation sources. */
  readonly reputation: number;
  /** Other clusters joined this story. */
  readonly absorbed: number;
}

export const FEATURE_NAMES: readonly (keyof ConfidenceFeatures)[] = [
  "localised",
  "senderWide",
  "controlGroup",
  "recipientCluster",
  "wordingAgrees",
  "previouslyDelivered",
  "controlBroken",
  "explanatoryPower",
  "ipMixDivergence",
  "breadth",
  "volume",
  "oneGateway",
  "reputation",
  "absorbed",
];

export function featuresOf(
  draft: IncidentDraft,
  context: {
    readonly previouslyDelivered: number;
    readonly controlBroken: boolean;
    readonly gateways: readonly string[];
    readonly reputation: number;
  },
): ConfidenceFeatures {
  const agrees = draft.events.filter((e) => wordingAgrees(e, draft.side)).length;
  const oneGateway =
    context.gateways.length === 1 &&
    context.gateways[0] !== "unknown" &&
    context.gateways[0] !== "self_hosted";
  return {
    localised: draft.basis === "localised" ? 1 : 0,
    senderWide: draft.basis === "sender_wide" ? 1 : 0,
    controlGroup: draft.basis === "control_group" ? 1 : 0,
    recipientCluster: draft.basis === "recipient_cluster" ? 1 : 0,
    wordingAgrees: draft.events.length > 0 ? agrees / draft.events.length : 0,
    previouslyDelivered: context.previouslyDelivered,
    controlBroken: context.controlBroken ? 1 : 0,
    explanatoryPower: Math.min(1, draft.localisation?.explanatoryPower ?? 0),
    ipMixDivergence: draft.ipMixDivergence,
    breadth: Math.log2(Math.max(1, draft.breadth)),
    volume: Math.log10(Math.max(1, draft.events.length)),
    oneGateway: oneGateway ? 1 : 0,
    reputation: context.reputation,
    absorbed: draft.absorbed.length > 0 ? 1 : 0,
  };
}

/**
 * Reputation evidence's weight in log-odds per unit of `reputation` (±0.05 to ±0.1 per finding). A stated prior,
 * not fitted: the simulated suite has no reputation data, so the fit cannot learn it.
 */
export const REPUTATION_LOG_ODDS = 5;

/** P(verdict right) under the fitted model plus the reputation prior, unrounded. */
export function probabilityOf(features: ConfidenceFeatures, side: Side): number {
  const model = side === "sender" ? CONFIDENCE_MODEL.sender : CONFIDENCE_MODEL.recipient;
  let z = model.intercept + REPUTATION_LOG_ODDS * features.reputation;
  for (const name of FEATURE_NAMES)
    if (name !== "reputation") z += (model.weights[name] ?? 0) * features[name];
  return 1 / (1 + Math.exp(-z));
}

/** The incident's confidence: the probability rounded to two decimals and kept inside [0.01, 0.99]. */
export function confidenceOf(features: ConfidenceFeatures, side: Side): number {
  return Math.round(Math.min(0.99, Math.max(0.01, probabilityOf(features, side))) * 100) / 100;
}

/** Whether a bounce's wording points to the side the incident is on. */
function wordingAgrees(e: NormalizedEvent, side: Side): boolean {
  const c = e.classification;
  if (!c) return false;
  if (side === "sender") return c.side === "sender" || DEFAULT_SIDE[c.category] === "sender";
  if (side === "recipient") return c.category === "policy_block" || c.category === "invalid_recipient";
  return c.category === "invalid_recipient";
}
