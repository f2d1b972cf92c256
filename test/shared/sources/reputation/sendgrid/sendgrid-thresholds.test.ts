import { describe, expect, it } from "vitest";
import {
  judgeSendgridReputation,
  judgeSeq,
} from "../../../../../shared/domain/reputation/esp-reputation-thresholds.ts";

describe("SendGrid thresholds", () => {
  it("reputation: ≥ 95 good, 80–95 warning, < 80 bad", () => {
    expect(judgeSendgridReputation(95).status).toBe("good");
    expect(judgeSendgridReputation(94.9).status).toBe("warning");
    expect(judgeSendgridReputation(80).status).toBe("warning");
    expect(judgeSendgridReputation(79.99).status).toBe("bad");
    expect(judgeSendgridReputation(101).status).toBe("unknown");
  });

  it("SEQ values: ≤ 2 bad, 3 warning, ≥ 4 good", () => {
    expect(judgeSeq("seq_score", 2).status).toBe("bad");
    expect(judgeSeq("seq_score", 3).status).toBe("warning");
    expect(judgeSeq("seq_score", 4).status).toBe("good");
    expect(judgeSeq("seq_bounce_classification", 1).status).toBe("bad");
    expect(judgeSeq("seq_bounce_classification", 0).status).toBe("unknown");
  });
});
