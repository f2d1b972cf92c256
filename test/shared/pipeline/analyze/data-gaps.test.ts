import { describe, expect, it } from "vitest";
import { dataGaps } from "../../../../shared/pipeline/analyze/run-analysis.ts";

const day = (date: string, sources: string[]) => ({ date, rows: [], sources });

describe("dataGaps", () => {
  it("reports the days each source stored nothing after it had started delivering", () => {
    const gaps = dataGaps([
      day("2026-11-01", ["ses", "mailgun"]),
      day("2026-11-02", ["mailgun"]),
      day("2026-11-03", ["mailgun"]),
      day("2026-11-04", ["ses", "mailgun"]),
      day("2026-11-05", ["ses"]),
    ]);
    expect(gaps).toEqual([
      { source: "mailgun", from: "2026-11-05T00:00:00.000Z", to: "2026-11-06T00:00:00.000Z" },
      { source: "ses", from: "2026-11-02T00:00:00.000Z", to: "2026-11-04T00:00:00.000Z" },
    ]);
  });

  it("does not call the days before a source started a gap, but does report a silence up to the end", () => {
    expect(dataGaps([day("2026-11-01", []), day("2026-11-02", ["ses"]), day("2026-11-03", [])])).toEqual([
      { source: "ses", from: "2026-11-03T00:00:00.000Z", to: "2026-11-04T00:00:00.000Z" },
    ]);
    expect(dataGaps([day("2026-11-01", []), day("2026-11-02", ["ses"])])).toEqual([]);
  });
});
