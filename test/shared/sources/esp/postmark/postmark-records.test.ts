import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SourceRecord } from "../../../../../shared/pipeline/ingest/ingest-batch.ts";
import {
  mapPostmarkBounce,
  mapPostmarkRecord,
} from "../../../../../shared/sources/esp/postmark/map-postmark-bounce.ts";
import { postmarkBounceRecords } from "../../../../../shared/sources/files/postmark-records.ts";
import { postmarkBounce } from "../../../../support/postmark-api-server.ts";

const AT = Date.parse("2026-05-01T12:00:00Z");
const b = (id: number, extra: Record<string, unknown> = {}) => postmarkBounce(id, AT + id * 1000, extra);

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "postmark-records-"));
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
  for await (const r of postmarkBounceRecords(path, onProgress)) out.push(r);
  return out;
}

describe("postmarkBounceRecords", () => {
  it("reads a saved, pretty-printed GET /bounces response: one record per bounce", async () => {
    const bounces = [b(3), b(2, { Type: "SoftBounce", TypeCode: 4096 }), b(1)];
    const path = await file(
      "bounces.json",
      `${JSON.stringify({ TotalCount: 3, Bounces: bounces }, null, 2)}\n`,
    );
    const progress: number[] = [];
    const records = await read(path, (n) => progress.push(n));
    expect(records).toEqual(bounces.map((value, i) => ({ ref: `bounces.json:1 item ${i}`, value })));
    expect(records.every((r) => mapPostmarkBounce(r.value).ok)).toBe(true);
    expect(progress.at(-1)).toBe((await stat(path)).size);
  });

  it("reads gzipped NDJSON of pages and single records, by line", async () => {
    const lines = [
      JSON.stringify({ TotalCount: 2, Bounces: [b(1), b(2)] }),
      "",
      JSON.stringify(b(3)),
      JSON.stringify({ TotalCount: 0, Bounces: null }),
      JSON.stringify({
        RecordType: "Delivery",
        MessageID: "m-1",
        Recipient: "x@acme-corp.com",
        DeliveredAt: "2026-05-01T08:00:00-04:00",
      }),
      JSON.stringify({
        TotalCount: 1,
        Messages: [
          {
            MessageID: "m-2",
            Recipients: ["y@acme-corp.com"],
            ReceivedAt: "2026-05-01T08:00:00-04:00",
            Status: "Sent",
          },
        ],
      }),
    ];
    const path = await file("pages.ndjson.gz", gzipSync(`${lines.join("\n")}\n`));
    const records = await read(path);
    expect(records.map((r) => r.ref)).toEqual([
      "pages.ndjson.gz:1 item 0",
      "pages.ndjson.gz:1 item 1",
      "pages.ndjson.gz:3",
      "pages.ndjson.gz:5",
      "pages.ndjson.gz:6 item 0",
    ]);
    expect(records.every((r) => r.parseError === undefined)).toBe(true);
    expect(
      records.map((r) => mapPostmarkRecord(r.value)).map((m) => (m.ok ? m.events[0]?.type : m.reason)),
    ).toEqual(["bounced", "bounced", "bounced", "delivered", "sent"]);
  });

  it("reads a pretty-printed array of bounces", async () => {
    const path = await file("array.json", JSON.stringify([b(1), b(2)], null, 2));
    expect((await read(path)).map((r) => r.ref)).toEqual(["array.json:1 item 0", "array.json:1 item 1"]);
  });

  it("turns a broken pretty-printed file into one record with a parse error", async () => {
    const whole = JSON.stringify({ TotalCount: 2, Bounces: [b(1), b(2)] }, null, 2);
    const path = await file("cut.json", whole.slice(0, Math.floor(whole.length / 2)));
    const records = await read(path);
    expect(records).toHaveLength(1);
    expect(records[0]?.ref).toBe("cut.json:1");
    expect(records[0]?.parseError).toMatch(/^line 1: not valid JSON/);
    expect(records[0]?.value).toBe(whole.slice(0, Math.floor(whole.length / 2)));
  });

  it("keeps the good lines of NDJSON with bad ones, the first included", async () => {
    const lines = [
      '{"ID": 1, "Type": "HardBou',
      JSON.stringify(b(2)),
      "not json at all",
      JSON.stringify(b(4)),
    ];
    const records = await read(await file("mixed.ndjson", lines.join("\n")));
    expect(records.map((r) => [r.ref, r.parseError?.replace(/ \(.*$/, "") ?? null])).toEqual([
      ["mixed.ndjson:1", "line 1: not valid JSON"],
      ["mixed.ndjson:2", null],
      ["mixed.ndjson:3", "line 3: not valid JSON"],
      ["mixed.ndjson:4", null],
    ]);
  });

  it("says what is wrong with JSON that is not Postmark data", async () => {
    const lines = [
      JSON.stringify({ ErrorCode: 10, Message: "Request does not contain a valid Server token." }),
      JSON.stringify({ items: [] }),
      JSON.stringify({ TotalCount: 2, Bounces: [b(1), "oops"] }),
      "42",
    ];
    const records = await read(await file("odd.ndjson", lines.join("\n")));
    expect(records.map((r) => r.parseError ?? null)).toEqual([
      'line 1: a Postmark error response (ErrorCode 10: "Request does not contain a valid Server token."), not data',
      "line 2: neither a Postmark response page ({TotalCount, Bounces} or {TotalCount, Messages}) nor a Postmark record",
      null,
      "line 3 item 1: not a JSON object",
      "line 4: neither a Postmark response page ({TotalCount, Bounces} or {TotalCount, Messages}) nor a Postmark record",
    ]);
  });

  it("yields nothing for an empty file", async () => {
    expect(await read(await file("empty.ndjson", "\n\n"))).toEqual([]);
  });
});
