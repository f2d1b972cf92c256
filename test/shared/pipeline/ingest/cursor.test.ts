import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readCursor } from "../../../../shared/pipeline/ingest/cursor.ts";
import { keys } from "../../../../shared/store/keys.ts";
import { LocalObjectStore } from "../../../../shared/store/local-object-store.ts";

const NOW = new Date("2026-12-08T04:00:00.000Z");
const good = { sourceId: "mg", position: "2026-12-08T03:00:00.000Z", lastBatch: "mg-1" };

describe("readCursor: a damaged source of truth is named, never a silent stall", () => {
  const storeWith = async (body: string) => {
    const store = new LocalObjectStore(await mkdtemp(join(tmpdir(), "br-cursor-")));
    await store.put(keys.cursor("mg"), body);
    return store;
  };

  it("reads a good cursor, and none as null", async () => {
    expect(await readCursor(await storeWith(JSON.stringify(good)), "mg", NOW)).toEqual(good);
    expect(await readCursor(await storeWith("{}"), "other", NOW)).toBeNull();
  });

  it("names a truncated cursor and what to do, instead of a bare JSON error", async () => {
    const store = await storeWith(JSON.stringify(good).slice(0, 30));
    await expect(readCursor(store, "mg", NOW)).rejects.toThrow(
      /cursor state\/cursors\/mg\.json in .* is damaged: not JSON \(.*\); fix its "position".*or delete it/,
    );
  });

  it("names a cursor of the wrong shape", async () => {
    await expect(readCursor(await storeWith("[1,2,3]"), "mg", NOW)).rejects.toThrow(
      /cursor state\/cursors\/mg\.json in .* is damaged: top level: /,
    );
    await expect(
      readCursor(await storeWith(JSON.stringify({ ...good, position: "soon" })), "mg", NOW),
    ).rejects.toThrow(/is damaged: position: /);
  });

  it("refuses a cursor in the future, which would never fetch again", async () => {
    const store = await storeWith(JSON.stringify({ ...good, position: "2099-01-01T00:00:00.000Z" }));
    await expect(readCursor(store, "mg", NOW)).rejects.toThrow(
      /state\/cursors\/mg\.json .* says the next fetch starts at 2099-01-01T00:00:00\.000Z, after now \(2026-12-08T04:00:00\.000Z\): nothing would ever be fetched/,
    );
  });
});
