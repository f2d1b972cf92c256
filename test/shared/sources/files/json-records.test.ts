import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import type { SourceRecord } from "../../../../shared/pipeline/ingest/ingest-batch.ts";
import { jsonRecords } from "../../../../shared/sources/files/json-records.ts";
import { postmarkBounceRecords } from "../../../../shared/sources/files/postmark-records.ts";
import { sparkpostEventRecords } from "../../../../shared/sources/files/sparkpost-records.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "br-json-records-"));
});

async function file(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function read(path: string, listKeys: string[] = ["items"]): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for await (const r of jsonRecords(path, { listKeys })) out.push(r);
  return out;
}

const ev = (i: number) => ({ event: "delivered", id: `e${i}`, n: i });

describe("jsonRecords: every layout", () => {
  it("reads one value per line, skipping blank lines", async () => {
    const rs = await read(await file("a.ndjson", `${JSON.stringify(ev(1))}\n\n${JSON.stringify(ev(2))}\n`));
    expect(rs).toEqual([
      { ref: "a.ndjson:1", value: ev(1) },
      { ref: "a.ndjson:3", value: ev(2) },
    ]);
  });

  it("reads values concatenated with no separator (Firehose without a newline delimiter)", async () => {
    const rs = await read(await file("f.json", [1, 2, 3].map((i) => JSON.stringify(ev(i))).join("")));
    expect(rs.map((r) => r.value)).toEqual([ev(1), ev(2), ev(3)]);
  });

  it("reads a pretty-printed array and a pretty-printed page, gzipped too, element by element", async () => {
    const arr = await read(await file("arr.json", JSON.stringify([ev(1), ev(2)], null, 2)));
    expect(arr).toEqual([
      { ref: "arr.json:1 item 0", value: ev(1) },
      { ref: "arr.json:1 item 1", value: ev(2) },
    ]);
    const page = JSON.stringify({ items: [ev(1), ev(2)], paging: { next: "x" } }, null, 2);
    const gz = await read(await file("page.json.gz", gzipSync(page)));
    expect(gz.map((r) => r.value)).toEqual([ev(1), ev(2)]);
  });

  it("keeps an object that is not a wrapper whole, nested fields included", async () => {
    const v = {
      eventType: "Bounce",
      mail: { destination: ["a@b.c"], tags: { x: ["1"] } },
      n: null,
      ok: true,
    };
    expect(await read(await file("o.json", JSON.stringify(v, null, 2)))).toEqual([
      { ref: "o.json:1", value: v },
    ]);
  });

  it("keeps integers beyond 2^53 as their digits, and other numbers as numbers", async () => {
    const rs = await read(await file("big.json", '{"ID": 4323372036854775807, "TypeCode": 1, "t": 1.5}'));
    expect(rs[0]?.value).toEqual({ ID: "4323372036854775807", TypeCode: 1, t: 1.5 });
  });
});

describe("jsonRecords: bad input is quarantined record by record", () => {
  it("keeps the lines around a broken line, the first line included", async () => {
    const rs = await read(
      await file(
        "b.ndjson",
        `{ truncated\n${JSON.stringify(ev(1))}\n{"eventType": "Bounce", "mail": \n${JSON.stringify(ev(2))}\n`,
      ),
    );
    expect(rs.map((r) => [r.ref, r.parseError === undefined])).toEqual([
      ["b.ndjson:1", false],
      ["b.ndjson:2", true],
      ["b.ndjson:3", false],
      ["b.ndjson:4", true],
    ]);
    expect(rs[0]?.parseError).toMatch(/^line 1: not valid JSON/);
    expect(rs[2]?.parseError).toMatch(/^line 3: not valid JSON \(the line ends inside a value\)/);
  });

  it("turns a truncated pretty-printed file into one record with a parse error", async () => {
    const text = JSON.stringify({ eventType: "Bounce", mail: { a: 1 } }, null, 2).slice(0, -10);
    const rs = await read(await file("t.json", text));
    expect(rs).toHaveLength(1);
    expect(rs[0]?.parseError).toMatch(/ends inside a JSON value/);
  });

  it("quarantines a record nested 100,000 levels deep alone, and reads the records after it", async () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    const rs = await read(
      await file("deep.ndjson", `${JSON.stringify(ev(1))}\n{"x": ${deep}}\n${JSON.stringify(ev(2))}\n`),
    );
    expect(rs.map((r) => r.parseError ?? "ok")).toEqual(["ok", "line 2: nested deeper than 64 levels", "ok"]);
  });

  it("quarantines a record holding bytes that are not UTF-8, with a reason, keeping the others", async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"email": "a'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(`@b.example"}\n${JSON.stringify(ev(2))}\n{"genuine": "\uFFFD is fine before?"}\n`),
    ]);
    const rs = await read(await file("latin1.ndjson", bytes));
    expect(rs[0]?.parseError).toMatch(/^line 1: holds bytes that are not UTF-8 \(first at byte 12/);
    expect(rs[0]?.value).toEqual({ email: "a\uFFFD\uFFFD@b.example" });
    expect(rs[1]).toEqual({ ref: "latin1.ndjson:2", value: ev(2) });
  });

  it("quarantines a record larger than the limit", async () => {
    const path = await file(
      "large.ndjson",
      `${JSON.stringify({ x: "y".repeat(200) })}\n${JSON.stringify(ev(1))}\n`,
    );
    const rs: SourceRecord[] = [];
    for await (const r of jsonRecords(path, { listKeys: [], maxRecordChars: 100 })) rs.push(r);
    expect(rs.map((r) => r.parseError ?? "ok")).toEqual(["line 1: larger than 100 characters", "ok"]);
  });
});

describe("provider readers", () => {
  it("names a saved Postmark or SparkPost error answer", async () => {
    const pm: SourceRecord[] = [];
    for await (const r of postmarkBounceRecords(
      await file("pm.json", '{"ErrorCode": 10, "Message": "Bad token"}'),
    ))
      pm.push(r);
    expect(pm[0]?.parseError).toMatch(/a Postmark error response \(ErrorCode 10/);
    const sp: SourceRecord[] = [];
    for await (const r of sparkpostEventRecords(await file("sp.json", '{"errors": [{"message": "no"}]}')))
      sp.push(r);
    expect(sp[0]?.parseError).toMatch(/a SparkPost error response/);
  });
});
