import { describe, expect, it } from "vitest";
import { loadLabelled, scoreClassifier } from "../../scripts/lib/classifier-score.ts";

// The dev set in eval/dev: a regression floor, not something tuned against.
describe("classifier on the labelled dev set", () => {
  const score = scoreClassifier(loadLabelled("eval/dev/bounces-dev.ndjson"));

  it("meets the category-accuracy target (90%)", () => {
    expect(score.correct / score.total).toBeGreaterThanOrEqual(0.9);
  });

  it("meets the invalid-vs-block target (95%)", () => {
    expect(score.binaryCorrect / score.binaryTotal).toBeGreaterThanOrEqual(0.95);
  });
});
