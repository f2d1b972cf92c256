import { describe, expect, it } from "vitest";
import type { ProviderEvent } from "../../../../../shared/domain/events/normalized-event.ts";
import { mapMailgunEvent } from "../../../../../shared/sources/esp/mailgun/map-mailgun-event.ts";
import { makeMailgunEvents } from "../../../../support/mailgun-events.ts";

const START = new Date("2024-05-27T00:00:00Z");

function mapAll(records: readonly unknown[]): ProviderEvent[] {
  return records.flatMap((r) => {
    const m = mapMailgunEvent(r);
    if (!m.ok) throw new Error(`generated record quarantined: ${m.reason}`);
    return m.events;
  });
}

describe("makeMailgunEvents", () => {
  it("is deterministic for a seed and differs across seeds", () => {
    const a = makeMailgunEvents({ count: 200, start: START, seed: 42 });
    expect(makeMailgunEvents({ count: 200, start: START, seed: 42 })).toEqual(a);
    expect(makeMailgunEvents({ count: 200, start: START, seed: 43 })).not.toEqual(a);
  });

  it("makes ascending, mappable events with a realistic mix", () => {
    const records = makeMailgunEvents({ count: 5_000, start: START, seed: 1 });
    expect(records).toHaveLength(5_000);
    for (let i = 1; i < records.length; i++) {
      expect(records[i]?.timestamp).toBeGreaterThanOrEqual(records[i - 1]?.timestamp ?? 0);
    }
    const events = mapAll(records);
    const count = (p: (e: ProviderEvent) => boolean) => events.filter(p).length;
    expect(count((e) => e.type === "delivered")).toBeGreaterThan(4_000);
    expect(count((e) => e.type === "bounced" && e.espClass === "hard")).toBeGreaterThan(200);
    expect(count((e) => e.type === "deferred")).toBeGreaterThan(100);
    expect(count((e) => e.type === "dropped")).toBeGreaterThan(50);
    for (const espClass of ["soft", "block", "undetermined"] as const) {
      expect(count((e) => e.type === "bounced" && e.espClass === espClass)).toBeGreaterThan(0);
    }
    const domains = new Set(events.map((e) => e.recipientDomain));
    expect(domains.size).toBeGreaterThanOrEqual(30);
    expect(domains).toContain("gmail.com");
    expect(domains).toContain("outlook.com");
    expect(events.every((e) => e.sendingIp?.startsWith("198.51.100."))).toBe(true);
    expect(events.every((e) => e.occurredAt >= "2024-05-27" && e.occurredAt < "2024-05-28")).toBe(true);
    // Gateway wording, so the classifier downstream has something real to read.
    const texts = events.filter((e) => e.espClass === "hard").map((e) => e.smtp?.text ?? "");
    expect(texts.some((t) => t.includes("RESOLVER.ADR.RecipientNotFound"))).toBe(true);
    expect(texts.some((t) => t.includes("mimecast"))).toBe(true);
  });

  it("gives distinct ids unless repeats across days are asked for", () => {
    const options = { count: 3_000, start: START, seed: 5, spanMs: 3 * 86_400_000 } as const;
    const plain = makeMailgunEvents(options);
    expect(new Set(plain.map((e) => e.id)).size).toBe(plain.length);

    const repeated = makeMailgunEvents({ ...options, repeatIdsAcrossDays: true });
    const day = (t: number) => new Date(t * 1000).toISOString().slice(0, 10);
    const firstDay = new Set(repeated.filter((e) => day(e.timestamp) === "2024-05-27").map((e) => e.id));
    const later = repeated.filter((e) => day(e.timestamp) !== "2024-05-27");
    expect(later.length).toBeGreaterThan(1_000);
    expect(later.filter((e) => firstDay.has(e.id)).length).toBeGreaterThan(later.length * 0.9);
    // Mailgun ids are per day; the day-scoped event ids keep them apart.
    const ids = mapAll(repeated).map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("makes a 50k-event export with unique event ids", () => {
    const records = makeMailgunEvents({ count: 50_000, start: START, seed: 9, spanMs: 7 * 86_400_000 });
    expect(records).toHaveLength(50_000);
    expect(new Set(mapAll(records).map((e) => e.id)).size).toBe(50_000);
  });
});
