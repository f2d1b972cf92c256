import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SourceRecord } from "../../../../../shared/pipeline/ingest/ingest-batch.ts";
import { mapSparkpostEvent } from "../../../../../shared/sources/esp/sparkpost/map-sparkpost-event.ts";
import { sparkpostEventRecords } from "../../../../../shared/sources/files/sparkpost-records.ts";

function event(i: number, type = "bounce"): Record<string, unknown> {
  return {
    type,
    event_id: `9235692769381300${i}`,
    timestamp: `2024-05-29T10:${String(10 + i).padStart(2, "0")}:03.000+00:00`,
    message_id: `000443ee14578172be${String(i).padStart(2, "0")}`,
    rcpt_to: `user${i}@acme-corp.com`,
    routing_domain: "acme-corp.com",
    ...(type === "delivery"
      ? {}
      : { bounce_class: "10", error_code: "550", raw_reason: "550 5.1.1 user unknown" }),
  };
}

const page = (events: Record<string, unknown>[]) => ({
  results: events,
  total_count: events.length,
  links: [{ href: "/api/v1/events/message?cursor=initial&per_page=3", rel: "first" }],
});

const hook = (e: Record<string, unknown>) => ({
  msys: { message_event: { ...e, timestamp: String(Date.parse(String(e.timestamp)) / 1000) } },
});

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sparkpost-records-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function read(path: string, onProgress?: (bytes: number) => void): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for await (const r of sparkpostEventRecords(path, onProgress)) out.push(r);
  return out;
}

const ids = (records: readonly SourceRecord[]) =>
  records.flatMap((r) => {
    const m = mapSparkpostEvent(r.value);
    return m.ok ? m.events.map((e) => e.id) : [`quarantined: ${m.reason}`];
  });

describe("sparkpostEventRecords", () => {
  const three = [event(1), event(2, "delivery"), event(3)];

  it("reads a saved, pretty-printed events page, one record per result", async () => {
    const path = await file("page.json", JSON.stringify(page(three), null, 2));
    const progress: number[] = [];
    const records = await read(path, (b) => progress.push(b));
    expect(records).toEqual(three.map((e, i) => ({ ref: `page.json:1 result ${i}`, value: e })));
    expect(ids(records)).toEqual(three.map((e) => `sparkpost:${e.event_id}`));
    expect(progress.at(-1)).toBeGreaterThanOrEqual((await stat(path)).size);
  });

  it("reads a compact page on one line the same way", async () => {
    const records = await read(await file("page.min.json", `${JSON.stringify(page(three))}\n`));
    expect(records.map((r) => r.value)).toEqual(three);
  });

  it("reads NDJSON of pages, events and webhook entries, gzipped too", async () => {
    const lines = [
      JSON.stringify(page([event(1), event(2)])),
      "",
      JSON.stringify(event(3)),
      JSON.stringify(hook(event(4))),
      JSON.stringify(page([])),
      JSON.stringify(page([event(5)])),
    ].join("\n");
    const expected = [
      ["pages.ndjson:1 result 0", 1],
      ["pages.ndjson:1 result 1", 2],
      ["pages.ndjson:3", 3],
      ["pages.ndjson:4", 4],
      ["pages.ndjson:6 result 0", 5],
    ];
    const plain = await read(await file("pages.ndjson", lines));
    expect(plain.map((r) => r.ref)).toEqual(expected.map(([ref]) => ref));
    expect(plain.every((r) => r.parseError === undefined)).toBe(true);
    expect(ids(plain)).toEqual([1, 2, 3, 4, 5].map((i) => `sparkpost:${event(i).event_id}`));
    const gz = await read(await file("pages.ndjson.gz", gzipSync(lines)));
    expect(gz.map((r) => r.value)).toEqual(plain.map((r) => r.value));
  });

  it("reads a webhook batch, pretty-printed or compact, one record per entry", async () => {
    const batch = [
      hook(event(1)),
      { msys: {} },
      hook(event(2, "delivery")),
      { msys: { track_event: { type: "open" } } },
    ];
    for (const [name, text] of [
      ["batch.json", JSON.stringify(batch, null, 2)],
      ["batch.min.json", JSON.stringify(batch)],
    ] as const) {
      const records = await read(await file(name, text));
      expect(records).toEqual(batch.map((value, i) => ({ ref: `${name}:1 entry ${i}`, value })));
      // The test ping and the open map to nothing; the two message events to one event each.
      expect(ids(records)).toEqual([1, 2].map((i) => `sparkpost:${event(i).event_id}`));
    }
  });

  it("gives a broken pretty-printed file one record with a parse error", async () => {
    const text = JSON.stringify(page(three), null, 2);
    const records = await read(await file("cut.json", text.slice(0, Math.floor(text.length / 2))));
    expect(records).toHaveLength(1);
    expect(records[0]?.ref).toBe("cut.json:1");
    expect(records[0]?.parseError).toMatch(/^the JSON document starting at line 1: not valid JSON/);
  });

  it("keeps the good lines of NDJSON whose first line is broken", async () => {
    const lines = [
      `{"results": [${JSON.stringify(event(1))}`,
      JSON.stringify(event(2)),
      "not json",
      JSON.stringify(event(3)),
    ];
    const records = await read(await file("broken.ndjson", lines.join("\n")));
    expect(records.map((r) => [r.ref, r.parseError === undefined])).toEqual([
      ["broken.ndjson:1", false],
      ["broken.ndjson:2", true],
      ["broken.ndjson:3", false],
      ["broken.ndjson:4", true],
    ]);
    expect(records[0]?.parseError).toMatch(/^line 1: not valid JSON/);
    expect(records[2]?.value).toBe("not json");
  });

  it("says what a line is when it is JSON but not SparkPost events", async () => {
    const lines = [
      JSON.stringify({ errors: [{ message: "Unauthorized.", code: "1100" }] }),
      "42",
      JSON.stringify({ items: [] }),
      JSON.stringify([7]),
    ];
    const records = await read(await file("odd.ndjson", lines.join("\n")));
    expect(records.map((r) => r.parseError)).toEqual([
      "line 1: a SparkPost error response ({errors: [...]}), not events",
      "line 2: neither a SparkPost events page ({results, links}), a webhook batch ([{msys}]), nor an event",
      "line 3: neither a SparkPost events page ({results, links}), a webhook batch ([{msys}]), nor an event",
      "line 4: neither a webhook entry ({msys}), an events page, nor an event",
    ]);
  });

  it("reads an empty file as no records", async () => {
    expect(await read(await file("empty.json", ""))).toEqual([]);
    expect(await read(await file("blank.json", "\n\n"))).toEqual([]);
  });
});
