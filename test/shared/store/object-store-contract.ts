import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { ObjectInfo, ObjectStore } from "../../../shared/store/object-store.ts";

/** Yields a fresh, empty store for each test. */
export type StoreFactory = () => Promise<ObjectStore>;

export interface ContractOptions {
  /**
   * False for s3rver: it lists by walking its folders, so "a/b" comes before "a-c" ('/' is 0x2f, '-' 0x2d),
   * where S3 and LocalObjectStore use plain byte order. The keys that tell the two apart are then left out.
   */
  readonly byteOrderAcrossFolders?: boolean;
}

export async function collect(iterable: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Deterministic incompressible-looking bytes, generated chunk by chunk (never held whole). */
function* generatedBytes(total: number, chunkSize = 256 * 1024): Generator<Buffer> {
  let state = 0x12345678;
  for (let sent = 0; sent < total; sent += chunkSize) {
    const chunk = Buffer.alloc(Math.min(chunkSize, total - sent));
    for (let i = 0; i < chunk.length; i++) {
      // xorshift32, one byte per step: cheap and never repeating within the sizes used here
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      chunk[i] = state & 0xff;
    }
    yield chunk;
  }
}

function sha256Of(chunks: Iterable<Buffer>): string {
  const hash = createHash("sha256");
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest("hex");
}

const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** The ObjectStore semantics both adapters must keep (object-store.ts). */
export function objectStoreContract(
  name: string,
  newStore: StoreFactory,
  options: ContractOptions = {},
): void {
  const byteOrderAcrossFolders = options.byteOrderAcrossFolders ?? true;
  describe(`${name}: ObjectStore contract`, () => {
    it("round-trips bytes and strings", async () => {
      const store = await newStore();
      const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
      expect(await store.put("raw/ses/dt=2024-01-01/b-0.json.gz", bytes)).toBe(true);
      expect(Buffer.from((await store.get("raw/ses/dt=2024-01-01/b-0.json.gz")) ?? [])).toEqual(
        Buffer.from(bytes),
      );

      const text = '{"text":"550 5.1.1 Benutzer unbekannt – ✉ 🚫"}';
      await store.put("state/alerts.json", text, { contentType: "application/json" });
      const got = await store.get("state/alerts.json");
      expect(got).not.toBeNull();
      expect(Buffer.from(got ?? []).toString("utf8")).toBe(text);

      await store.put("state/empty.json", "");
      expect((await store.get("state/empty.json"))?.length).toBe(0);
    });

    it("answers null for a missing key, also where a folder-like prefix exists", async () => {
      const store = await newStore();
      expect(await store.get("state/cursors/nope.json")).toBeNull();
      expect(await store.getStream("state/cursors/nope.json")).toBeNull();
      await store.put("state/cursors/ses.json", "{}");
      expect(await store.get("state/cursors")).toBeNull();
      expect(await store.getStream("state/cursors")).toBeNull();
      expect(await store.get("state/cursors/ses.json/deeper")).toBeNull();
    });

    it("lists content checksums when asked: a same-size change changes it, a rewrite of the same bytes does not", async () => {
      const store = await newStore();
      await store.put("events/a.ndjson.gz", "hello world");
      await store.put("events/b.ndjson.gz", "hello world");
      expect((await collect(store.list("events/")))[0]).not.toHaveProperty("etag");
      const first = await collect(store.list("events/", { etags: true }));
      expect(first[0]?.etag).toMatch(/^"?[0-9a-f]{32,64}"?$/);
      expect(first[0]?.etag).toBe(first[1]?.etag);
      await store.put("events/a.ndjson.gz", "hello world");
      expect((await collect(store.list("events/", { etags: true })))[0]?.etag).toBe(first[0]?.etag);
      await store.put("events/a.ndjson.gz", "hello World");
      const flipped = await collect(store.list("events/", { etags: true }));
      expect(flipped[0]?.size).toBe(first[0]?.size);
      expect(flipped[0]?.etag).not.toBe(first[0]?.etag);
    });

    it("overwrites", async () => {
      const store = await newStore();
      await store.put("state/cursors/ses.json", "first, longer body");
      expect(await store.put("state/cursors/ses.json", "second")).toBe(true);
      expect(Buffer.from((await store.get("state/cursors/ses.json")) ?? []).toString()).toBe("second");
      expect(await collect(store.list("state/"))).toEqual([{ key: "state/cursors/ses.json", size: 6 }]);
    });

    it("ifAbsent writes once and keeps the first body", async () => {
      const store = await newStore();
      expect(await store.put("audit/2024-01-01/repair-1", "first", { ifAbsent: true })).toBe(true);
      expect(await store.put("audit/2024-01-01/repair-1", "second", { ifAbsent: true })).toBe(false);
      expect(Buffer.from((await store.get("audit/2024-01-01/repair-1")) ?? []).toString()).toBe("first");
      expect(await collect(store.list("audit/"))).toEqual([{ key: "audit/2024-01-01/repair-1", size: 5 }]);
    });

    it("lists in byte order of keys, filtered by folder and mid-name prefixes", async () => {
      const store = await newStore();
      // '-' (0x2d) < '.' (0x2e) < '/' (0x2f) < '0' (0x30): a folder "a" sorts between "a.x" and "a0".
      const acrossFolders = ["a-c", "a.x"];
      const keys = [
        "events/source=ses/dt=2024-02-01/b2.ndjson.gz",
        "a0",
        "events/source=sesx/dt=2024-01-01/c.ndjson.gz",
        "a/b",
        "events/source=ses/dt=2023-12-31/z.ndjson.gz",
        "a-c",
        "events/source=ses/dt=2024-01-01/b1.ndjson.gz",
        "a.x",
        "events/source=ses/dt=2024-01-01/a1.ndjson.gz",
        "a/b0/c",
        "B",
      ].filter((key) => byteOrderAcrossFolders || !acrossFolders.includes(key));
      for (const [i, key] of keys.entries()) await store.put(key, "x".repeat(i + 1));
      const sizeOf = (key: string) => keys.indexOf(key) + 1;
      const expected = (prefix: string) =>
        keys
          .filter((k) => k.startsWith(prefix))
          .sort(byteOrder)
          .map((key) => ({ key, size: sizeOf(key) }));

      const all = await collect(store.list(""));
      const top = byteOrderAcrossFolders
        ? ["B", "a-c", "a.x", "a/b", "a/b0/c", "a0"]
        : ["B", "a/b", "a/b0/c", "a0"];
      expect(all.map((o) => o.key)).toEqual([...top, ...expected("events/").map((o) => o.key)]);
      expect(all).toEqual(expected(""));
      expect(await collect(store.list("events/source=ses/"))).toEqual(expected("events/source=ses/"));
      const midName = await collect(store.list("events/source=ses/dt=2024-0"));
      expect(midName.map((o) => o.key)).toEqual([
        "events/source=ses/dt=2024-01-01/a1.ndjson.gz",
        "events/source=ses/dt=2024-01-01/b1.ndjson.gz",
        "events/source=ses/dt=2024-02-01/b2.ndjson.gz",
      ]);
      expect(await collect(store.list("events/source=ses"))).toEqual(expected("events/source=ses"));
      expect(await collect(store.list("a/b"))).toEqual(expected("a/b"));
      expect(await collect(store.list("nothing/here/"))).toEqual([]);
      expect(await collect(store.list("a0/"))).toEqual([]);
    });

    it("versions objects: ifMatch puts and deletes hold only on the version read", async () => {
      const store = await newStore();
      const key = "state/leases/analyze.json";
      expect(await store.getVersioned(key)).toBeNull();
      expect(await store.put(key, "v2", { ifMatch: '"nothing"' })).toBe(false);
      expect(await store.get(key)).toBeNull();
      await store.put(key, "v1");
      const v1 = await store.getVersioned(key);
      expect(Buffer.from(v1?.body ?? []).toString()).toBe("v1");
      expect(await store.put(key, "v2", { ifMatch: v1?.etag ?? "" })).toBe(true);
      const v2 = await store.getVersioned(key);
      expect(v2?.etag).not.toBe(v1?.etag);
      // Conditioned on a version that was replaced: nothing changes.
      expect(await store.put(key, "v3", { ifMatch: v1?.etag ?? "" })).toBe(false);
      expect(await store.delete(key, { ifMatch: v1?.etag ?? "" })).toBe(false);
      expect(Buffer.from((await store.get(key)) ?? []).toString()).toBe("v2");
      expect(await store.delete(key, { ifMatch: v2?.etag ?? "" })).toBe(true);
      expect(await store.get(key)).toBeNull();
      expect(await store.delete(key, { ifMatch: v2?.etag ?? "" })).toBe(false);
    });

    it("deletes idempotently, and a deleted key is gone from get and list", async () => {
      const store = await newStore();
      await store.put("quarantine/ses/dt=2024-01-01/b.ndjson.gz", "q");
      await store.put("quarantine/ses/dt=2024-01-02/b.ndjson.gz", "q");
      await store.delete("quarantine/ses/dt=2024-01-01/b.ndjson.gz");
      expect(await store.get("quarantine/ses/dt=2024-01-01/b.ndjson.gz")).toBeNull();
      await expect(store.delete("quarantine/ses/dt=2024-01-01/b.ndjson.gz")).resolves.toBe(true);
      await expect(store.delete("never/written.json")).resolves.toBe(true);
      expect((await collect(store.list("quarantine/"))).map((o) => o.key)).toEqual([
        "quarantine/ses/dt=2024-01-02/b.ndjson.gz",
      ]);
      // The key can be written again after its folder was emptied.
      await store.put("quarantine/ses/dt=2024-01-01/b.ndjson.gz", "again");
      expect(
        Buffer.from((await store.get("quarantine/ses/dt=2024-01-01/b.ndjson.gz")) ?? []).toString(),
      ).toBe("again");
    });

    it("streams a multi-megabyte body in and out", async () => {
      const store = await newStore();
      const size = 12 * 1024 * 1024 + 123;
      await store.putStream("raw/ses/dt=2024-01-01/big-0.json.gz", Readable.from(generatedBytes(size)), {
        contentType: "application/gzip",
      });
      const stream = await store.getStream("raw/ses/dt=2024-01-01/big-0.json.gz");
      expect(stream).not.toBeNull();
      const hash = createHash("sha256");
      let read = 0;
      for await (const chunk of stream ?? Readable.from([])) {
        hash.update(chunk as Buffer);
        read += (chunk as Buffer).length;
      }
      expect(read).toBe(size);
      expect(hash.digest("hex")).toBe(sha256Of(generatedBytes(size)));
      expect(await collect(store.list("raw/"))).toEqual([
        { key: "raw/ses/dt=2024-01-01/big-0.json.gz", size },
      ]);
    });

    it("commits nothing when the streamed body fails", async () => {
      const store = await newStore();
      await store.put("raw/ses/dt=2024-01-01/kept.json.gz", "old");
      async function* failing(bytes: number): AsyncGenerator<Buffer> {
        yield* generatedBytes(bytes);
        throw new Error("source broke");
      }
      // Small (a single PUT for S3) and past the multipart threshold (an upload that must be aborted).
      for (const bytes of [1000, 6 * 1024 * 1024]) {
        await expect(
          store.putStream("raw/ses/dt=2024-01-01/broken.json.gz", Readable.from(failing(bytes))),
        ).rejects.toThrow(/source broke/);
        await expect(
          store.putStream("raw/ses/dt=2024-01-01/kept.json.gz", Readable.from(failing(bytes))),
        ).rejects.toThrow(/source broke/);
      }
      expect(await store.get("raw/ses/dt=2024-01-01/broken.json.gz")).toBeNull();
      expect(Buffer.from((await store.get("raw/ses/dt=2024-01-01/kept.json.gz")) ?? []).toString()).toBe(
        "old",
      );
      expect(await collect(store.list(""))).toEqual([{ key: "raw/ses/dt=2024-01-01/kept.json.gz", size: 3 }]);
    });

    it("pages through more than 1000 objects", async () => {
      const store = await newStore();
      const keys = Array.from({ length: 1100 }, (_, i) => `state/mx/${String(i).padStart(5, "0")}.json`);
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(keys.slice(i, i + 50).map((key) => store.put(key, "{}")));
      }
      await store.put("state/other.json", "{}");
      const listed = await collect(store.list("state/mx/"));
      expect(listed.length).toBe(1100);
      expect(listed.map((o) => o.key)).toEqual(keys);
      expect(listed.every((o) => o.size === 2)).toBe(true);
      expect((await collect(store.list("state/mx/0109"))).map((o) => o.key)).toEqual(
        keys.filter((k) => k.startsWith("state/mx/0109")),
      );
    });

    it("rejects malformed keys and prefixes, naming them", async () => {
      const store = await newStore();
      const bad = ["", "/abs/key", "a/../b", "..", "a\\b", "a\0b", "a//b", "a/", "./a", "a/./b"];
      for (const key of bad) {
        const named =
          key === "" ? /empty/ : new RegExp(JSON.stringify(key).replace(/[\\.^$*+?()[\]{}|/]/g, "\\$&"));
        await expect(store.put(key, "x"), key).rejects.toThrow(named);
        await expect(store.get(key), key).rejects.toThrow(named);
        await expect(store.delete(key), key).rejects.toThrow(named);
      }
      for (const prefix of ["/abs", "../", "a/../", "a\\"]) {
        await expect(collect(store.list(prefix)), prefix).rejects.toThrow(/invalid storage prefix/);
      }
      expect(await collect(store.list(""))).toEqual([]);
    });
  });
}
