import { describe, expect, it } from "vitest";
import {
  judgeSesBounceRate,
  judgeSesComplaintRate,
  judgeSesEnforcementStatus,
  judgeSesSendingEnabled,
} from "../../../../../shared/domain/reputation/esp-reputation-thresholds.ts";

describe("SES thresholds", () => {
  it("bounce rate: < 2% good, 2–5% warning, ≥ 5% bad", () => {
    expect(judgeSesBounceRate(0.0199).status).toBe("good");
    expect(judgeSesBounceRate(0.02).status).toBe("warning");
    expect(judgeSesBounceRate(0.04999).detail).toContain("4.999%");
    expect(judgeSesBounceRate(0.05).status).toBe("bad");
    expect(judgeSesBounceRate(1.5).status).toBe("unknown");
  });

  it("complaint rate: < 0.1% good, 0.1–0.5% warning (review), ≥ 0.5% bad (pause)", () => {
    expect(judgeSesComplaintRate(0.0009).status).toBe("good");
    expect(judgeSesComplaintRate(0.001).status).toBe("warning");
    expect(judgeSesComplaintRate(0.005)).toEqual({
      status: "bad",
      detail: "SES complaint rate 0.5% is at or above 0.5%, where AWS may pause sending.",
    });
  });

  it("account state", () => {
    expect(judgeSesEnforcementStatus("HEALTHY", "us-east-1").status).toBe("good");
    expect(judgeSesEnforcementStatus("PROBATION", "us-east-1").status).toBe("bad");
    expect(judgeSesEnforcementStatus("SHUTDOWN", "us-east-1").detail).toContain("sending is paused");
    expect(judgeSesEnforcementStatus("SOMETHING_NEW", "us-east-1").status).toBe("unknown");
    expect(judgeSesSendingEnabled(false, "us-east-1").status).toBe("bad");
    expect(judgeSesSendingEnabled(undefined, "us-east-1").status).toBe("unknown");
  });
});
