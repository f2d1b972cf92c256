import { describe, expect, it } from "vitest";
import { keys, partitionDateOf, utcDate } from "../../../shared/store/keys.ts";

describe("storage keys", () => {
  it("lays out events, raw and quarantine (Hive partitions for Athena)", () => {
    expect(keys.events("ses", "2026-11-20", "import-abc")).toBe(
      "events/source=ses/dt=2026-11-20/import-abc.ndjson.gz",
    );
    expect(keys.raw("mailgun", "2026-11-20", "mg-1-2", 3)).toBe("raw/mailgun/dt=2026-11-20/mg-1-2-3.json.gz");
    expect(keys.quarantine("ses", "2026-11-20", "b")).toBe("quarantine/ses/dt=2026-11-20/b.ndjson.gz");
    expect(keys.cursor("mailgun-main")).toBe("state/cursors/mailgun-main.json");
    expect(keys.report("2026-11-20", "run1", "report.json")).toBe("reports/2026/11/20/run1/report.json");
  });

  it("refuses values that would escape their folder or break partitioning", () => {
    expect(() => keys.events("ses", "2026-11-20", "../x")).toThrow(/invalid batch/);
    expect(() => keys.events("ses", "20-11-2026", "b")).toThrow(/invalid date/);
    expect(() => keys.cursor("a/b")).toThrow(/invalid source/);
  });

  it("reads UTC dates and partition dates", () => {
    expect(utcDate("2026-11-20T23:30:00-02:00")).toBe("2026-11-21");
    expect(partitionDateOf("events/source=ses/dt=2026-11-20/b.ndjson.gz")).toBe("2026-11-20");
    expect(partitionDateOf("state/alerts.json")).toBeNull();
    expect(() => utcDate("not a date")).toThrow(/invalid instant/);
  });
});
