import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalObjectStore } from "../../../shared/store/local-object-store.ts";
import { readNdjsonFile, readNdjsonGz, writeNdjsonGz } from "../../../shared/store/ndjson-gzip.ts";
import type { ObjectStore } from "../../../shared/store/object-store.ts";
import { collect } from "./object-store-contract.ts";

let root: string;
let store: LocalObjectStore;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "ndjson-gzip-"));
  store = new LocalObjectStore(join(root, "data"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const KEY = "events/source=ses/dt=2024-03-01/batch-1.ndjson.gz";

interface TestEvent {
  id: string;
  n: number;
  text: string;
}
function event(i: number): TestEvent {
  return { id: `evt-${i}`, n: i, text: `550 5.1.1 <user${i}@example.com>: Empfänger unbekannt ✉` };
}

async function toArray<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe("writeNdjsonGz / readNdjsonGz", () => {
  it("round-trips 100k records streamed from a generator", async () => {
    let pulled = 0;
    async function* records(): AsyncGenerator<TestEvent> {
      for (let i = 0; i < 100_000; i++) {
        pulled++;
        yield event(i);
      }
    }
    expect(await writeNdjsonGz(store, KEY, records())).toEqual({ count: 100_000 });
    expect(pulled).toBe(100_000);

    let count = 0;
    const picked = new Map<number, unknown>();
    for await (const { line, value } of readNdjsonGz(store, KEY)) {
      count++;
      expect(line).toBe(count);
      if (line === 1 || line === 50_001 || line === 100_000) picked.set(line, value);
    }
    expect(count).toBe(100_000);
    expect(picked.get(1)).toEqual(event(0));
    expect(picked.get(50_001)).toEqual(event(50_000));
    expect(picked.get(100_000)).toEqual(event(99_999));
  });

  it("streams: the store receives bytes while records are still being produced", async () => {
    let received = 0;
    let receivedAtHalf = -1;
    const unused = async (): Promise<never> => {
      throw new Error("not used by writeNdjsonGz");
    };
    const counting: ObjectStore = {
      location: "counting",
      get: unused,
      getVersioned: unused,
      getStream: unused,
      put: unused,
      delete: unused,
      list: () => ({ [Symbol.asyncIterator]: () => ({ next: unused }) }),
      async putStream(_key: string, body: Readable) {
        for await (const chunk of body) received += (chunk as Buffer).length;
      },
    };
    function* records(): Generator<TestEvent> {
      for (let i = 0; i < 60_000; i++) {
        if (i === 30_000) receivedAtHalf = received;
        yield event(i);
      }
    }
    expect(await writeNdjsonGz(counting, "k.ndjson.gz", records())).toEqual({ count: 60_000 });
    expect(receivedAtHalf).toBeGreaterThan(0);
    expect(received).toBeGreaterThan(receivedAtHalf);
  });

  it("writes plain gzip with one JSON value per line, from a sync iterable too", async () => {
    const key = "quarantine/ses/dt=2024-03-01/batch-1.ndjson.gz";
    const records = [{ ref: "f:1", reason: "line 1: not valid JSON" }, "text", 3, null, [1, "x\ny"]];
    expect(await writeNdjsonGz(store, key, records)).toEqual({ count: 5 });
    const stored = await store.get(key);
    expect(stored?.[0]).toBe(0x1f);
    expect(stored?.[1]).toBe(0x8b);
    expect(gunzipSync(stored ?? new Uint8Array()).toString("utf8")).toBe(
      `${records.map((r) => JSON.stringify(r)).join("\n")}\n`,
    );
    expect((await toArray(readNdjsonGz(store, key))).map((r) => r.value)).toEqual(records);
  });

  it("writes an empty object for no records", async () => {
    const key = "events/source=ses/dt=2024-03-02/empty.ndjson.gz";
    expect(await writeNdjsonGz(store, key, [])).toEqual({ count: 0 });
    expect(await toArray(readNdjsonGz(store, key))).toEqual([]);
  });

  it("commits nothing, and keeps the previous object, when the records fail", async () => {
    const key = "events/source=ses/dt=2024-03-03/b.ndjson.gz";
    await writeNdjsonGz(store, key, [event(1)]);
    async function* failing(): AsyncGenerator<TestEvent> {
      for (let i = 0; i < 30_000; i++) yield event(i);
      throw new Error("mapper exploded");
    }
    await expect(writeNdjsonGz(store, key, failing())).rejects.toThrow(/mapper exploded/);
    expect((await toArray(readNdjsonGz(store, key))).map((r) => r.value)).toEqual([event(1)]);
    await expect(writeNdjsonGz(store, `${key}.2`, [event(1), undefined])).rejects.toThrow(
      /record 2 .*not JSON/,
    );
    expect(await store.get(`${key}.2`)).toBeNull();
  });

  it("reports the store's failure instead of hanging when the store stops reading", async () => {
    const failing: ObjectStore = {
      location: "failing",
      get: async () => null,
      getVersioned: async () => null,
      getStream: async () => null,
      put: async () => true,
      delete: async () => true,
      list: () => ({
        [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }) }),
      }),
      async putStream(_key: string, body: Readable) {
        for await (const _chunk of body) throw new Error("disk full");
      },
    };
    function* endless(): Generator<TestEvent> {
      for (let i = 0; ; i++) yield event(i);
    }
    await expect(writeNdjsonGz(failing, "k.ndjson.gz", endless())).rejects.toThrow("disk full");
    // The same through a real store whose putStream rejects mid-stream.
    const local = new LocalObjectStore(join(root, "data"));
    const broken = Object.create(local) as LocalObjectStore;
    broken.putStream = async (key, body) => {
      let seen = 0;
      const limited = new Readable({ read() {} });
      body.on("data", (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > 100_000) limited.destroy(new Error("quota exceeded"));
        else limited.push(chunk);
      });
      await local.putStream(key, limited);
    };
    await expect(
      writeNdjsonGz(broken, "events/source=ses/dt=2024-03-09/q.ndjson.gz", endless()),
    ).rejects.toThrow("quota exceeded");
    expect(await collect(local.list("events/source=ses/dt=2024-03-09/"))).toEqual([]);
  });

  it("names the key and line of a line that is not JSON, and skips blank lines", async () => {
    const key = "events/source=ses/dt=2024-03-04/bad.ndjson.gz";
    await store.put(key, gzipSync('{"a":1}\n\n   \n{"a":2}\r\n{"a": oops}\n{"a":4}\n'));
    const seen: Array<{ line: number; value: unknown }> = [];
    await expect(
      (async () => {
        for await (const record of readNdjsonGz(store, key)) seen.push(record);
      })(),
    ).rejects.toThrow(`${key} line 5: not valid JSON`);
    expect(seen).toEqual([
      { line: 1, value: { a: 1 } },
      { line: 4, value: { a: 2 } },
    ]);
  });

  it("says which object does not exist", async () => {
    await expect(
      toArray(readNdjsonGz(store, "events/source=ses/dt=2024-01-01/none.ndjson.gz")),
    ).rejects.toThrow("no such object: events/source=ses/dt=2024-01-01/none.ndjson.gz");
  });

  it("names the key when the object is not gzip", async () => {
    const key = "events/source=ses/dt=2024-03-05/plain.ndjson.gz";
    await store.put(key, '{"a":1}\n');
    await expect(toArray(readNdjsonGz(store, key))).rejects.toThrow(key);
  });
});

describe("readNdjsonFile", () => {
  // Long enough to span many read chunks, with multi-byte characters that chunk boundaries will split.
  const lines = Array.from({ length: 5000 }, (_, i) =>
    i % 7 === 3 ? "" : JSON.stringify({ i, s: "é✉🚫".repeat(i % 13) }),
  );
  const text = `${lines.join("\r\n")}\n`;

  async function write(name: string, content: string | Uint8Array): Promise<string> {
    const path = join(root, name);
    await writeFile(path, content);
    return path;
  }

  it("reads a plain file line by line, numbered from 1, blank lines included", async () => {
    const read = await toArray(readNdjsonFile(await write("plain.ndjson", text)));
    expect(read.length).toBe(lines.length);
    expect(read.map((r) => r.text)).toEqual(lines);
    expect(read.map((r) => r.line)).toEqual(lines.map((_, i) => i + 1));
  });

  it("gunzips a file recognised by its magic bytes, whatever its name", async () => {
    const read = await toArray(readNdjsonFile(await write("export.ndjson", gzipSync(text))));
    expect(read.map((r) => r.text)).toEqual(lines);
    // Concatenated gzip members (as appended exports produce) read as one stream.
    const twoMembers = Buffer.concat([gzipSync('{"a":1}\n'), gzipSync('{"a":2}')]);
    expect(await toArray(readNdjsonFile(await write("two.gz", twoMembers)))).toEqual([
      { line: 1, text: '{"a":1}' },
      { line: 2, text: '{"a":2}' },
    ]);
  });

  it("handles a missing final newline, a BOM, tiny and empty files", async () => {
    expect(await toArray(readNdjsonFile(await write("bom.ndjson", '\uFEFF{"a":1}\n{"a":2}')))).toEqual([
      { line: 1, text: '{"a":1}' },
      { line: 2, text: '{"a":2}' },
    ]);
    expect(await toArray(readNdjsonFile(await write("one.ndjson", "1")))).toEqual([{ line: 1, text: "1" }]);
    expect(await toArray(readNdjsonFile(await write("empty.ndjson", "")))).toEqual([]);
  });

  it("fails clearly for a missing file and a corrupt gzip", async () => {
    await expect(toArray(readNdjsonFile(join(root, "nope.ndjson")))).rejects.toThrow(/nope\.ndjson/);
    const truncated = gzipSync(text).subarray(0, 2000);
    await expect(toArray(readNdjsonFile(await write("cut.ndjson.gz", truncated)))).rejects.toThrow(
      /cut\.ndjson\.gz/,
    );
  });
});
