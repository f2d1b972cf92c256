import { describe, expect, it } from "vitest";
import { ClassifyCaseResultSchema } from "../../scripts/bench/case-results.ts";
import { runCase } from "../../scripts/bench/run-case.ts";
import { judgeTargets, TARGETS } from "../../scripts/bench/targets.ts";

describe("npm run bench (smoke)", () => {
  it("runs the classify case in a child process and reports figures the orchestrator can judge", async () => {
    const repeated = await runCase(
      "classify-case.ts",
      ["--mode", "repeated", "--lines", "3000", "--rounds", "1"],
      ClassifyCaseResultSchema,
    );
    expect(repeated).toMatchObject({ mode: "repeated", lines: 3000, rounds: 1 });
    expect(repeated.textsPerSecond).toBeGreaterThan(0);
    expect(repeated.baselinePerSecond).toBeGreaterThan(0);
    expect(repeated.memoHitRate).toBeGreaterThan(0);
    expect(repeated.peakRssBytes).toBeGreaterThan(10_000_000);

    const checks = judgeTargets({
      classify: { repeated: { ok: true, value: repeated }, distinct: { ok: false, error: "not run" } },
      ingest: [],
      analyze: [],
      lambda: { outcome: { ok: true, value: [] } },
    });
    expect(checks).toHaveLength(1);
    const [classify] = checks;
    expect(classify?.met).toBe(repeated.textsPerSecond >= TARGETS.classifyRepeatedPerSecond);
    // A miss always says why, in measured figures.
    if (!classify?.met) expect(classify?.reason).toMatch(/memo hit rate/);
  });
});
