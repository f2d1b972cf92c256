import { describe, expect, it } from "vitest";
import { judgeSparkpostHealthScore } from "../../../../../shared/domain/reputation/esp-reputation-thresholds.ts";

describe("SparkPost health score thresholds", () => {
  it("≥ 0.8 good, 0.6–0.8 warning, < 0.6 bad", () => {
    expect(judgeSparkpostHealthScore(0.8).status).toBe("good");
    expect(judgeSparkpostHealthScore(0.79999)).toEqual({
      status: "warning",
      detail: "SparkPost health score 79.999 is below 80, SparkPost's good level (bad below 60).",
    });
    expect(judgeSparkpostHealthScore(0.6).status).toBe("warning");
    expect(judgeSparkpostHealthScore(0.5999).status).toBe("bad");
    expect(judgeSparkpostHealthScore(80).status).toBe("unknown");
  });
});
