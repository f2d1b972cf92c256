import { describe, expect, it } from "vitest";
import {
  easternWallClockInstants,
  fromEasternWallClock,
  toEasternWallClock,
} from "../../../../../shared/sources/esp/postmark/eastern-time.ts";

const wall = (iso: string) => toEasternWallClock(new Date(iso));
const back = (w: string, d?: "earlier" | "later") => fromEasternWallClock(w, d).toISOString();
const all = (w: string) => easternWallClockInstants(w).map((d) => d.toISOString());

describe("toEasternWallClock", () => {
  it("uses EST (UTC−5) in winter and EDT (UTC−4) in summer", () => {
    expect(wall("2026-01-15T17:30:00Z")).toBe("2026-01-15T12:30:00");
    expect(wall("2026-07-04T16:00:00Z")).toBe("2026-07-04T12:00:00");
  });

  it("springs forward on 8 March 2026: 01:59:59 EST is followed by 03:00:00 EDT", () => {
    expect(wall("2026-03-08T06:59:59Z")).toBe("2026-03-08T01:59:59");
    expect(wall("2026-03-08T07:00:00Z")).toBe("2026-03-08T03:00:00");
    expect(wall("2026-03-07T12:00:00Z")).toBe("2026-03-07T07:00:00");
    expect(wall("2026-03-09T12:00:00Z")).toBe("2026-03-09T08:00:00");
  });

  it("falls back on 1 November 2026: 01:00–01:59 happens twice", () => {
    expect(wall("2026-11-01T04:59:59Z")).toBe("2026-11-01T00:59:59");
    expect(wall("2026-11-01T05:00:00Z")).toBe("2026-11-01T01:00:00");
    expect(wall("2026-11-01T05:59:59Z")).toBe("2026-11-01T01:59:59");
    expect(wall("2026-11-01T06:00:00Z")).toBe("2026-11-01T01:00:00");
    expect(wall("2026-11-01T06:30:00Z")).toBe("2026-11-01T01:30:00");
    expect(wall("2026-11-01T07:00:00Z")).toBe("2026-11-01T02:00:00");
    expect(wall("2026-11-02T12:00:00Z")).toBe("2026-11-02T07:00:00");
  });

  it("crosses midnight and the year, and truncates milliseconds", () => {
    expect(wall("2026-01-01T04:59:59.999Z")).toBe("2025-12-31T23:59:59");
    expect(wall("2026-01-01T05:00:00Z")).toBe("2026-01-01T00:00:00");
    expect(toEasternWallClock(Date.parse("2026-06-15T12:00:00.999Z"))).toBe("2026-06-15T08:00:00");
  });

  it("refuses an invalid date", () => {
    expect(() => toEasternWallClock(new Date(Number.NaN))).toThrow(RangeError);
  });
});

describe("fromEasternWallClock", () => {
  it("reads ordinary times with the offset in force", () => {
    expect(back("2026-01-15T12:30:00")).toBe("2026-01-15T17:30:00.000Z");
    expect(back("2026-07-04T12:00:00")).toBe("2026-07-04T16:00:00.000Z");
    expect(back("2026-03-08T01:59:59")).toBe("2026-03-08T06:59:59.000Z");
    expect(back("2026-03-08T03:00:00")).toBe("2026-03-08T07:00:00.000Z");
    expect(back("2026-11-01T00:59:59")).toBe("2026-11-01T04:59:59.000Z");
    expect(back("2026-11-01T02:00:00")).toBe("2026-11-01T07:00:00.000Z");
  });

  it("has no instant for the skipped hour of 8 March and reads it with the pre-gap offset", () => {
    expect(all("2026-03-08T02:00:00")).toEqual([]);
    expect(all("2026-03-08T02:30:00")).toEqual([]);
    expect(back("2026-03-08T02:30:00")).toBe("2026-03-08T07:30:00.000Z");
    expect(wall(back("2026-03-08T02:30:00"))).toBe("2026-03-08T03:30:00");
  });

  it("has two instants for the repeated hour of 1 November, earlier by default", () => {
    expect(all("2026-11-01T01:30:00")).toEqual(["2026-11-01T05:30:00.000Z", "2026-11-01T06:30:00.000Z"]);
    expect(back("2026-11-01T01:30:00")).toBe("2026-11-01T05:30:00.000Z");
    expect(back("2026-11-01T01:30:00", "earlier")).toBe("2026-11-01T05:30:00.000Z");
    expect(back("2026-11-01T01:30:00", "later")).toBe("2026-11-01T06:30:00.000Z");
    expect(all("2026-11-01T01:00:00")).toEqual(["2026-11-01T05:00:00.000Z", "2026-11-01T06:00:00.000Z"]);
    expect(all("2026-11-01T02:00:00")).toEqual(["2026-11-01T07:00:00.000Z"]);
  });

  it("refuses text that is not a real wall-clock time", () => {
    for (const bad of [
      "2026-02-30T00:00:00",
      "2026-03-08T24:00:00",
      "2026-03-08 01:00:00",
      "2026-03-08T01:00:00Z",
      "2026-03-08T01:00",
      "",
    ]) {
      expect(() => fromEasternWallClock(bad), bad).toThrow(RangeError);
    }
  });

  it("round-trips every half hour of 2026", () => {
    const start = Date.parse("2026-01-01T00:00:00Z");
    const end = Date.parse("2027-01-01T00:00:00Z");
    const misses: string[] = [];
    let ambiguous = 0;
    for (let t = start; t < end; t += 30 * 60_000) {
      const found = easternWallClockInstants(toEasternWallClock(t)).map((d) => d.getTime());
      if (!found.includes(t)) misses.push(new Date(t).toISOString());
      if (found.length > 1) ambiguous++;
    }
    expect(misses).toEqual([]);
    // The repeated hour of 1 November, seen from both of its readings: 2 half hours × 2.
    expect(ambiguous).toBe(4);
  });
});
