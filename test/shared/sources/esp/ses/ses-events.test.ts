import { describe, expect, it } from "vitest";
import type { ProviderEvent } from "../../../../../shared/domain/events/normalized-event.ts";
import { mapSesRecord } from "../../../../../shared/sources/esp/ses/map-ses-record.ts";
import { makeSesRecords, type SesRecordOptions, sesRecordsNdjson } from "../../../../support/ses-events.ts";

// The generator feeds fixtures and benchmarks: it must be deterministic and every record must map cleanly.

const base: SesRecordOptions = { count: 4000, start: new Date("2024-05-01T00:00:00Z"), seed: 42 };

function mapAll(records: readonly unknown[]): ProviderEvent[] {
  const out: ProviderEvent[] = [];
  for (const r of records) {
    const m = mapSesRecord(r);
    if (!m.ok) throw new Error(`generated record failed to map: ${m.reason}\n${JSON.stringify(r)}`);
    out.push(...m.events);
  }
  return out;
}

describe("makeSesRecords", () => {
  it("is deterministic per seed", () => {
    const small = { ...base, count: 200 };
    expect(sesRecordsNdjson(small)).toBe(sesRecordsNdjson(small));
    expect(sesRecordsNdjson(small)).not.toBe(sesRecordsNdjson({ ...small, seed: 43 }));
    const lines = sesRecordsNdjson(small).split("\n");
    expect(lines).toHaveLength(201);
    expect(lines[200]).toBe("");
  });

  it("writes canonical ISO timestamps, as SES does", () => {
    for (const r of makeSesRecords({ ...base, count: 300, spanMs: 7 * 86_400_000 })) {
      const ts = (r.mail as { timestamp: string }).timestamp;
      expect(new Date(ts).toISOString()).toBe(ts);
    }
  });

  it("yields one event per record, with a realistic mix, all valid", () => {
    const events = mapAll(makeSesRecords(base));
    expect(events).toHaveLength(base.count);
    expect(new Set(events.map((e) => e.id)).size).toBe(base.count);

    const byType = new Map<string, number>();
    for (const e of events) byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
    expect((byType.get("delivered") ?? 0) / base.count).toBeGreaterThan(0.7);
    for (const t of ["bounced", "dropped", "deferred", "complained"])
      expect(byType.get(t) ?? 0).toBeGreaterThan(0);

    const bounced = events.filter((e) => e.type === "bounced");
    expect(new Set(bounced.map((e) => e.espClass))).toEqual(
      new Set(["hard", "soft", "block", "undetermined"]),
    );
    const texts = bounced.map((e) => e.smtp?.text ?? "").join("\n");
    expect(texts).toContain("ipcheck.proofpoint.com");
    expect(texts).toContain("Administrative prohibition - envelope blocked");
    expect(texts).toMatch(/5\.7\.606 Access denied, banned sending IP \[198\.51\.100\.\d+\]/);

    const domains = new Set(events.map((e) => e.recipientDomain));
    expect(domains.has("gmail.com") && domains.has("outlook.com")).toBe(true);
    expect(domains.size).toBeGreaterThan(30);
    for (const e of events) {
      if (e.sendingIp !== null) expect(e.sendingIp).toMatch(/^198\.51\.100\.\d{1,3}$/);
    }
    // Drops never left SES, so they name no outgoing IP.
    expect(events.filter((e) => e.type === "dropped").every((e) => e.sendingIp === null)).toBe(true);
    expect(events.every((e) => e.occurredAt >= "2024-05-01T00:00:00.000Z")).toBe(true);
  });

  it("wraps the same records in SNS or EventBridge envelopes without changing the events", () => {
    const opts = { ...base, count: 300 };
    const bare = mapAll(makeSesRecords(opts));
    expect(mapAll(makeSesRecords({ ...opts, envelope: "sns" }))).toEqual(bare);
    expect(mapAll(makeSesRecords({ ...opts, envelope: "eventbridge" }))).toEqual(bare);
  });

  it("fans out multi-recipient deliveries when asked", () => {
    const records = makeSesRecords({ ...base, count: 500, multiRecipientShare: 0.5 });
    expect(mapAll(records).length).toBeGreaterThan(600);
  });
});
