/*
 * The confidence model's weights: one logistic model for sender-side verdicts, one for the others. Written by
 * `npm run fit:confidence` (scripts/fit-confidence.ts), which fits them on the attribution suite's development
 * seeds and texts; do not edit by hand. `npm run eval:attribution` scores them on other seeds with held-out texts.
 */

export interface LogisticModel {
  readonly intercept: number;
  readonly weights: Readonly<Record<string, number>>;
}

export const CONFIDENCE_MODEL: {
  readonly sender: LogisticModel;
  readonly recipient: LogisticModel;
  readonly fitted: string;
} = {
  fitted: "fitted by npm run fit:confidence on 87 incidents of 99 scenarios (seed 4242, dev texts), L2 1",
  sender: {
    intercept: -0.218,
    weights: {
      localised: 0.15,
      senderWide: 0.207,
      controlGroup: -0.548,
      recipientCluster: 0.191,
      wordingAgrees: -0.154,
      previouslyDelivered: -0.004,
      explanatoryPower: 0.149,
      ipMixDivergence: 0.063,
      breadth: 0.711,
      volume: 0.711,
      oneGateway: -0.441,
      absorbed: 0.171,
    },
  },
  recipient: {
    intercept: 3.26,
    weights: {
      wordingAgrees: 0.263,
      previouslyDelivered: -0.004,
      controlBroken: -0.767,
      ipMixDivergence: -0.2,
      volume: 0.595,
      oneGateway: -0.242,
    },
  },
};
