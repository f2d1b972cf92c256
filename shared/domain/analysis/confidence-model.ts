/*
 * The confidence model's weights: one logistic model for sender-side verdicts, one for the others. Written by
 * `npm run fit:confidence` (scripts/fit-confidence.ts), which fits them on the attribution suite's development
 * seeds; do not edit by hand. `npm run eval:attribution` scores them on other seeds with held-out texts.
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
  fitted: "initial weights, not yet fitted",
  sender: {
    intercept: -1.5,
    weights: {
      localised: 1.5,
      senderWide: 1.2,
      controlGroup: 0.3,
      wordingAgrees: 1.5,
      controlBroken: 0.8,
      explanatoryPower: 1,
      breadth: 0.3,
      volume: 0.3,
      reputation: 5,
      absorbed: 0.2,
    },
  },
  recipient: {
    intercept: -1.2,
    weights: {
      recipientCluster: 0.5,
      wordingAgrees: 1,
      previouslyDelivered: 2.5,
      controlBroken: -2.5,
      ipMixDivergence: -4,
      oneGateway: 0.8,
      volume: 0.4,
      reputation: 5,
    },
  },
};
