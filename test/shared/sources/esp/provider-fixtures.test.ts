import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { IMPORT_SOURCES, READERS } from "../../../../cli/commands/import.ts";
import {
  type ProviderEvent,
  ProviderEventSchema,
} from "../../../../shared/domain/events/normalized-event.ts";
import { domainOfAddress } from "../../../../shared/domain/organisations/organisation-of.ts";

/*
 * Every payload the providers published (test/fixtures/providers/, sources in its README) read by the import
 * reader of its provider and mapped: every event is checked field by field against a stored snapshot, every
 * record is accounted for, and the counts per provider and event type are printed and asserted.
 */

const ROOT = fileURLToPath(new URL("../../../fixtures/providers/", import.meta.url));

interface Outcome {
  readonly events: Array<ProviderEvent & { readonly file: string }>;
  readonly quarantined: Array<{ file: string; ref: string; reason: string }>;
  ignored: number;
  records: number;
}

async function mapProvider(source: (typeof IMPORT_SOURCES)[number]): Promise<Outcome> {
  const reader = READERS[source];
  const out: Outcome = { events: [], quarantined: [], ignored: 0, records: 0 };
  for (const name of readdirSync(join(ROOT, source)).sort()) {
    for await (const r of reader.records(join(ROOT, source, name))) {
      out.records++;
      if (r.parseError !== undefined) {
        out.quarantined.push({ file: name, ref: r.ref, reason: r.parseError });
        continue;
      }
      const m = reader.mapper(r.value);
      if (!m.ok) out.quarantined.push({ file: name, ref: r.ref, reason: m.reason });
      else if (m.events.length === 0) out.ignored++;
      else for (const e of m.events) out.events.push({ file: name, ...e });
    }
  }
  return out;
}

function countByType(events: readonly ProviderEvent[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of events) counts[e.type] = (counts[e.type] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort());
}

// Counts per provider and event type. SES and SparkPost docs reuse ids (see the fixtures' README): these are
// mapped events, before deduplication.
const EXPECTED: Record<string, { counts: Record<string, number>; quarantined: string[] }> = {
  ses: {
    counts: { bounced: 8, complained: 7, deferred: 4, delivered: 6, dropped: 8, sent: 4 },
    quarantined: [],
  },
  mailgun: {
    counts: { bounced: 2, complained: 1, deferred: 3, delivered: 2, dropped: 2, sent: 3 },
    quarantined: [],
  },
  // The suppression export is named for what it is: not events.
  sendgrid: {
    counts: { bounced: 4, complained: 2, deferred: 2, delivered: 2, dropped: 2, sent: 2 },
    quarantined: ["suppression-bounces-export.json"],
  },
  postmark: { counts: { bounced: 2, complained: 1, delivered: 1 }, quarantined: [] },
  sparkpost: { counts: { bounced: 2, complained: 1, dropped: 1, sent: 1 }, quarantined: [] },
};

describe("the providers' published payloads, through the import readers and mappers", () => {
  it.each(IMPORT_SOURCES)("maps every %s fixture, every field checked", async (source) => {
    const out = await mapProvider(source);
    const counts = countByType(out.events);
    console.log(
      `${source}: ${out.records} record(s) → ${out.events.length} event(s) ${JSON.stringify(counts)}, ${out.ignored} ignored, ${out.quarantined.length} quarantined${out.quarantined.map((q) => `\n  ${q.file} ${q.ref}: ${q.reason}`).join("")}`,
    );
    for (const e of out.events) {
      const { file: _file, ...event } = e;
      // The whole shared contract, strictly: no field missing, none extra, each well-formed.
      expect(ProviderEventSchema.strict().safeParse(event).success).toBe(true);
      expect(e.recipientDomain).toBe(domainOfAddress(e.recipient));
      expect(e.source).toBe(source);
    }
    expect(counts).toEqual(EXPECTED[source]?.counts);
    expect([...new Set(out.quarantined.map((q) => q.file))]).toEqual(EXPECTED[source]?.quarantined);
    await expect(JSON.stringify(out.events, null, 2)).toMatchFileSnapshot(
      `./__snapshots__/provider-fixtures.${source}.json`,
    );
  });
});
