import { describe, expect, it } from "vitest";
import {
  latestSignals,
  type ReputationSignal,
  ReputationSignalSchema,
} from "../../../../shared/domain/reputation/reputation-signal.ts";
import { readSignals } from "../../../../shared/domain/reputation/signal-evidence.ts";

const WINDOW = { start: "2026-11-20T00:00:00.000Z", end: "2026-11-21T00:00:00.000Z" };

function signal(over: Partial<ReputationSignal>): ReputationSignal {
  return ReputationSignalSchema.parse({
    source: "snds",
    subject: "198.51.100.10",
    subjectKind: "ip",
    metric: "filter_result",
    status: "good",
    value: "GREEN",
    day: "2026-11-18",
    detail: "GREEN: under 10% of mail judged spam",
    observedAt: "2026-11-20T06:00:00.000Z",
    ...over,
  });
}

describe("readSignals", () => {
  it("sees a value that turned worse in the window as a drop, with the value before it", () => {
    const before = signal({ day: "2026-11-12", observedAt: "2026-11-14T06:00:00.000Z" });
    const now = signal({ status: "bad", value: "RED", detail: "RED: over 90% judged spam" });
    const r = readSignals([now, before], WINDOW, null);
    expect(r.drops).toEqual([{ signal: now, before }]);
    expect(r.bad).toEqual([]);
  });

  it("counts a daily value up to two days before the window (the providers' lag), not older", () => {
    const r = readSignals(
      [signal({ day: "2026-11-18" }), signal({ metric: "trap_hits", value: 0, day: "2026-11-17" })],
      WINDOW,
      null,
    );
    expect(r.good.map((s) => s.metric)).toEqual(["filter_result"]);
  });

  it("tells a standing problem from a new one, and never weighs no_data", () => {
    const oldBad = signal({
      status: "bad",
      value: "RED",
      day: "2026-11-10",
      observedAt: "2026-11-12T00:00:00.000Z",
    });
    const stillBad = signal({ status: "bad", value: "RED" });
    const silent = signal({ metric: "complaint_rate", status: "no_data", value: null });
    const r = readSignals([oldBad, stillBad, silent], WINDOW, null);
    expect(r.persistent).toEqual([stillBad]);
    expect(r.bad).toEqual([]);
    expect(r.silent).toEqual([silent]);
  });

  it("ignores values about sending IPs that did not send the mail in question, and values after the window", () => {
    const other = signal({ subject: "203.0.113.5", status: "bad", value: "RED" });
    const later = signal({ status: "bad", observedAt: "2026-11-21T06:00:00.000Z" });
    const r = readSignals([other, later], WINDOW, new Set(["198.51.100.10"]));
    expect(r).toMatchObject({ bad: [], drops: [], good: [], persistent: [], silent: [] });
  });

  it("reads snapshots (day null) observed from a day before the window", () => {
    const r = readSignals(
      [
        signal({
          source: "ses",
          subject: "ses:eu-west-1",
          subjectKind: "account",
          metric: "enforcement_status",
          day: null,
          value: "PROBATION",
          status: "bad",
          observedAt: "2026-11-19T03:00:00.000Z",
        }),
        signal({
          source: "ses",
          subject: "ses:eu-west-1",
          subjectKind: "account",
          metric: "enforcement_status",
          day: null,
          value: "HEALTHY",
          status: "good",
          observedAt: "2026-11-10T03:00:00.000Z",
        }),
      ],
      WINDOW,
      null,
    );
    expect(r.drops).toHaveLength(1);
    expect(r.drops[0]?.before.value).toBe("HEALTHY");
  });
});

describe("latestSignals", () => {
  it("keeps the latest value per source, subject and metric, worst first", () => {
    const latest = latestSignals([
      signal({ day: "2026-11-17" }),
      signal({ day: "2026-11-18", status: "bad", value: "RED" }),
      signal({
        source: "auth",
        subject: "mail.example.com",
        subjectKind: "domain",
        metric: "dmarc",
        day: null,
        value: "p=reject",
      }),
    ]);
    expect(latest.map((s) => [s.source, s.status])).toEqual([
      ["snds", "bad"],
      ["auth", "good"],
    ]);
  });
});
