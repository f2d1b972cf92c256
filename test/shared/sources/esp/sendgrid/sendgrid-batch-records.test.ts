import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SourceRecord } from "../../../../../shared/pipeline/ingest/ingest-batch.ts";
import { mapSendgridEvent } from "../../../../../shared/sources/esp/sendgrid/map-sendgrid-event.ts";
import { sendgridBatchRecords } from "../../../../../shared/sources/files/sendgrid-batch-records.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sendgrid-batch-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function event(i: number, event = "delivered"): Record<string, unknown> {
  return {
    email: `user${i}@acme-corp.com`,
    timestamp: 1717000000 + i,
    event,
    sg_event_id: `evt-${i}`,
    sg_message_id: `msg${i}.filterdrecv-1.0`,
    response: "250 OK",
  };
}

async function file(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function read(path: string, onProgress?: (bytes: number) => void): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for await (const r of sendgridBatchRecords(path, onProgress)) out.push(r);
  return out;
}

const batch = [event(0), event(1, "bounce"), event(2, "open")];

describe("sendgridBatchRecords", () => {
  it("reads one batch as SendGrid posts it (a compact array on one line)", async () => {
    const records = await read(await file("batch.json", JSON.stringify(batch)));
    expect(records).toEqual([
      { ref: "batch.json:1 item 0", value: batch[0] },
      { ref: "batch.json:1 item 1", value: batch[1] },
      { ref: "batch.json:1 item 2", value: batch[2] },
    ]);
    expect(records.map((r) => mapSendgridEvent(r.value).ok)).toEqual([true, true, true]);
  });

  it("reads a pretty-printed batch, reporting progress in bytes", async () => {
    const text = `${JSON.stringify(batch, null, 2)}\n`;
    const progress: number[] = [];
    const records = await read(await file("pretty.json", text), (b) => progress.push(b));
    expect(records.map((r) => r.value)).toEqual(batch);
    expect(records.map((r) => r.ref)).toEqual([
      "pretty.json:1 item 0",
      "pretty.json:1 item 1",
      "pretty.json:1 item 2",
    ]);
    expect(records.every((r) => r.parseError === undefined)).toBe(true);
    // The file ends with a newline: the count is its size exactly.
    expect(progress.at(-1)).toBe(Buffer.byteLength(text));
  });

  it("reads NDJSON with a batch or a single event per line, skipping blank lines", async () => {
    const text = [
      JSON.stringify([event(0), event(1)]),
      "",
      JSON.stringify(event(2)),
      JSON.stringify([event(3)]),
    ].join("\n");
    const records = await read(await file("mixed.ndjson", text));
    expect(records.map((r) => r.ref)).toEqual([
      "mixed.ndjson:1 item 0",
      "mixed.ndjson:1 item 1",
      "mixed.ndjson:3",
      "mixed.ndjson:4 item 0",
    ]);
    expect(records.map((r) => (r.value as { sg_event_id: string }).sg_event_id)).toEqual([
      "evt-0",
      "evt-1",
      "evt-2",
      "evt-3",
    ]);
  });

  it("reads gzipped files, recognised by content rather than name", async () => {
    const ndjson = `${JSON.stringify(batch)}\n${JSON.stringify(event(9))}\n`;
    const pretty = JSON.stringify(batch, null, 2);
    expect((await read(await file("batch.ndjson.gz", gzipSync(ndjson)))).map((r) => r.value)).toEqual([
      ...batch,
      event(9),
    ]);
    expect((await read(await file("pretty.dat", gzipSync(pretty)))).map((r) => r.value)).toEqual(batch);
  });

  it("keeps a broken line as a record with a parse error, and reads the lines around it", async () => {
    const text = [JSON.stringify([event(0)]), '[{"email": "cut@off', JSON.stringify(event(2)), "42"].join(
      "\n",
    );
    const records = await read(await file("broken.ndjson", text));
    expect(records.map((r) => [r.ref, r.parseError ?? null])).toEqual([
      ["broken.ndjson:1 item 0", null],
      ["broken.ndjson:2", expect.stringMatching(/^line 2: not valid JSON/)],
      ["broken.ndjson:3", null],
      ["broken.ndjson:4", "line 4: neither a SendGrid webhook batch (JSON array) nor an event (JSON object)"],
    ]);
    expect(records[1]?.value).toBe('[{"email": "cut@off');
  });

  it("reads NDJSON whose first line is broken line by line, not as one broken value", async () => {
    const text = ['{"email": "cut', JSON.stringify(event(1)), JSON.stringify([event(2)])].join("\n");
    const records = await read(await file("first-broken.ndjson", text));
    expect(records.map((r) => [r.ref, r.parseError === undefined])).toEqual([
      ["first-broken.ndjson:1", false],
      ["first-broken.ndjson:2", true],
      ["first-broken.ndjson:3 item 0", true],
    ]);
  });

  it("turns a truncated pretty-printed batch into one record with a parse error", async () => {
    const text = JSON.stringify(batch, null, 2).slice(0, -40);
    const records = await read(await file("truncated.json", text));
    expect(records).toHaveLength(1);
    expect(records[0]?.ref).toBe("truncated.json:1");
    expect(records[0]?.parseError).toMatch(/^line 1: not valid JSON/);
    expect(records[0]?.value).toBe(text);
  });

  it("yields array elements that are not events as records, for the mapper to quarantine", async () => {
    const records = await read(await file("odd.json", JSON.stringify([event(0), "x", null])));
    expect(records.map((r) => r.parseError)).toEqual([undefined, undefined, undefined]);
    expect(records.map((r) => mapSendgridEvent(r.value).ok)).toEqual([true, false, false]);
  });

  it("yields nothing for an empty file or an empty batch", async () => {
    expect(await read(await file("empty.json", ""))).toEqual([]);
    expect(await read(await file("empty-batch.json", "[]\n"))).toEqual([]);
  });
});
