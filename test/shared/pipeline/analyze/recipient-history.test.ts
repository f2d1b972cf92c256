import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RecipientHistory } from "../../../../shared/pipeline/analyze/daily-aggregates.ts";
import { keys } from "../../../../shared/store/keys.ts";
import { LocalObjectStore } from "../../../../shared/store/local-object-store.ts";

/** A local store that records the keys it was asked to write. */
async function countingStore(): Promise<{ store: LocalObjectStore; puts: string[] }> {
  const store = new LocalObjectStore(await mkdtemp(join(tmpdir(), "br-history-")));
  const puts: string[] = [];
  const put = store.put.bind(store);
  store.put = (key, body, options) => {
    puts.push(key);
    return put(key, body, options);
  };
  return { store, puts };
}

describe("RecipientHistory", () => {
  it("keeps the latest delivery per address across runs", async () => {
    const { store } = await countingStore();
    const first = new RecipientHistory(store);
    first.recordDelivery("acme.com", "Ann@acme.com", "2026-10-01T10:00:00.000Z");
    first.recordDelivery("acme.com", "ann@acme.com", "2026-10-03T10:00:00.000Z");
    first.recordDelivery("acme.com", "ann@acme.com", "2026-10-02T10:00:00.000Z");
    await first.save();
    const second = new RecipientHistory(store);
    expect(await second.lastDelivered("acme.com", "ann@acme.com")).toBe("2026-10-03T10:00:00.000Z");
    expect(await second.lastDelivered("acme.com", "bob@acme.com")).toBeNull();
  });

  it("writes back only organisations that gained a later delivery", async () => {
    const { store, puts } = await countingStore();
    const first = new RecipientHistory(store);
    first.recordDelivery("acme.com", "ann@acme.com", "2026-10-01T10:00:00.000Z");
    first.recordDelivery("globex.com", "hank@globex.com", "2026-10-01T11:00:00.000Z");
    await first.save();
    expect(puts).toHaveLength(2);

    // The next hourly run records the same day again, plus one new delivery at globex.com.
    puts.length = 0;
    const next = new RecipientHistory(store);
    next.recordDelivery("acme.com", "ann@acme.com", "2026-10-01T10:00:00.000Z");
    next.recordDelivery("globex.com", "hank@globex.com", "2026-10-01T11:00:00.000Z");
    next.recordDelivery("globex.com", "marge@globex.com", "2026-10-01T12:00:00.000Z");
    await next.save();
    expect(puts).toEqual([expect.stringContaining("globex.com")]);
  });

  it("does not lose a delivery recorded after its organisation was read", async () => {
    const { store } = await countingStore();
    const h = new RecipientHistory(store);
    await h.lastDelivered("acme.com", "ann@acme.com");
    h.recordDelivery("acme.com", "ann@acme.com", "2026-10-05T09:00:00.000Z");
    await h.save();
    expect(await new RecipientHistory(store).lastDelivered("acme.com", "ann@acme.com")).toBe(
      "2026-10-05T09:00:00.000Z",
    );
  });
});

describe("RecipientHistory: a damaged history is never read as empty", () => {
  it.each([
    ["valid JSON of the wrong shape", "[1,2,3]", /not a recipient history/],
    ["truncated", '{"0123456789abcdef": "2026-10-0', /not JSON/],
  ])("names a %s history and what to do", async (_, body, why) => {
    const { store } = await countingStore();
    await store.put(keys.recipients("acme.com"), body);
    const history = new RecipientHistory(store);
    const read = history.lastDelivered("acme.com", "ann@acme.com");
    await expect(read).rejects.toThrow(why);
    await expect(history.lastDelivered("acme.com", "ann@acme.com")).rejects.toThrow(
      /state\/recipients\/acme\.com\/last-delivered\.json in .* is damaged: .*delete it and the aggregates\/daily\/ manifests/,
    );
  });
});
