import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import type { ProviderEvent } from "../../../../shared/domain/events/normalized-event.ts";
import type { IngestBatch, SourceRecord } from "../../../../shared/pipeline/ingest/ingest-batch.ts";
import { SeenEventIds } from "../../../../shared/pipeline/ingest/seen-event-ids.ts";
import { writeBatch } from "../../../../shared/pipeline/ingest/write-batch.ts";
import type { MappedRecord } from "../../../../shared/sources/esp/provider-record.ts";
import { LocalObjectStore } from "../../../../shared/store/local-object-store.ts";
import { readNdjsonGz } from "../../../../shared/store/ndjson-gzip.ts";
import type { ObjectStore } from "../../../../shared/store/object-store.ts";

// A minimal provider: {id, at, to, kind, text}; anything else is invalid.
function mapTiny(record: unknown): MappedRecord {
  const r = record as {
    id?: unknown;
    at?: unknown;
    to?: unknown;
    kind?: unknown;
    text?: unknown;
    ip?: unknown;
  };
  if (typeof r?.id !== "string") return { ok: false, reason: "id: missing" };
  if (r.kind === "open") return { ok: true, events: [] };
  if (typeof r.to !== "string" || !r.to.includes("@"))
    return { ok: false, reason: "to: not an email address" };
  const event: ProviderEvent = {
    id: `tiny:${r.id}`,
    source: "simulated",
    occurredAt: String(r.at),
    type: r.kind === "bounce" ? "bounced" : r.kind === "drop" ? "dropped" : "delivered",
    recipient: r.to,
    recipientDomain: r.to.split("@")[1] ?? "",
    smtp: typeof r.text === "string" ? { code: 550, enhanced: null, text: r.text } : null,
    espClass: r.kind === "bounce" ? "hard" : null,
    mxHost: null,
    sendingIp: typeof r.ip === "string" ? r.ip : "198.51.100.7",
    ipPool: null,
    messageId: `m-${r.id}`,
    campaign: null,
  };
  return { ok: true, events: [event] };
}

function batch(batchId: string, values: unknown[], extra: Partial<IngestBatch> = {}): IngestBatch {
  const records: SourceRecord[] = values.map((value, i) =>
    typeof value === "string"
      ? { ref: `f:${i + 1}`, value, parseError: "not valid JSON" }
      : { ref: `f:${i + 1}`, value },
  );
  return {
    source: "simulated",
    batchId,
    rawDate: "2026-11-20",
    rawParts: () => [JSON.stringify(values)],
    records: () => records,
    mapper: mapTiny,
    ...extra,
  };
}

async function storedIds(store: ObjectStore, prefix = "events/"): Promise<string[]> {
  const ids: string[] = [];
  for await (const o of store.list(prefix)) {
    for await (const { value } of readNdjsonGz(store, o.key)) ids.push((value as { id: string }).id);
  }
  return ids.sort();
}

const ev = (id: string, day: string, kind = "deliver", text?: string) => ({
  id,
  at: `2026-11-${day}T10:00:00.000Z`,
  to: `u${id}@acme-corp.com`,
  kind,
  ...(text ? { text } : {}),
});

describe("writeBatch", () => {
  let store: LocalObjectStore;
  beforeEach(async () => {
    store = new LocalObjectStore(await mkdtemp(join(tmpdir(), "br-wb-")));
  });

  it("keeps an event whose sending IP is not an IP address, without it, and says so", async () => {
    const r = await writeBatch(
      store,
      new SeenEventIds(store),
      batch("b-ip", [
        { ...ev("1", "20", "bounce", "550 5.1.1 User unknown"), ip: "\u001b[31m198.51.100.7\u001b[0m" },
        { ...ev("2", "20"), ip: "mta-7.example.net" },
        { ...ev("3", "20"), ip: "2001:db8::7" },
      ]),
    );
    expect(r).toMatchObject({
      added: 3,
      quarantined: 0,
      notes: { "sendingIp is not an IP address: left out, the event is kept": 2 },
    });
    const ips: unknown[] = [];
    for await (const o of store.list("events/"))
      for await (const { value } of readNdjsonGz(store, o.key))
        ips.push((value as { sendingIp: unknown }).sendingIp);
    expect(ips).toEqual([null, null, "2001:db8::7"]);
  });

  it("lands raw, partitions events by date, classifies bounces and quarantines bad records with reasons", async () => {
    const r = await writeBatch(
      store,
      new SeenEventIds(store),
      batch("b1", [
        ev("1", "20"),
        ev("2", "21", "bounce", "550 5.7.606 Access denied, banned sending IP [198.51.100.7]"),
        "{not json",
        { id: "3", at: "2026-11-20T00:00:00Z", to: "nobody", kind: "deliver" },
        { id: "4", kind: "open" },
        ev("5", "20", "drop"),
      ]),
    );
    expect(r).toMatchObject({
      records: 6,
      events: 3,
      added: 3,
      duplicates: 0,
      quarantined: 2,
      ignored: 1,
      notes: {},
    });
    const keys: string[] = [];
    for await (const o of store.list("")) keys.push(o.key);
    expect(keys).toEqual([
      "events/source=simulated/dt=2026-11-20/b1.ndjson.gz",
      "events/source=simulated/dt=2026-11-21/b1.ndjson.gz",
      "quarantine/simulated/dt=2026-11-20/b1.ndjson.gz",
      "raw/simulated/dt=2026-11-20/b1-0.json.gz",
    ]);
    const bounce: Record<string, unknown>[] = [];
    for await (const { value } of readNdjsonGz(store, keys[1] ?? ""))
      bounce.push(value as Record<string, unknown>);
    expect(bounce[0]).toMatchObject({
      type: "bounced",
      organisation: "acme-corp.com",
      consumer: false,
      classification: { category: "reputation_block", side: "sender", falseHardBounce: true },
    });
    const quarantined: Record<string, unknown>[] = [];
    for await (const { value } of readNdjsonGz(store, keys[2] ?? ""))
      quarantined.push(value as Record<string, unknown>);
    expect(quarantined).toEqual([
      { ref: "f:3", reason: "not valid JSON", record: "{not json" },
      expect.objectContaining({ ref: "f:4", reason: "to: not an email address" }),
    ]);
    // Drops are kept, typed dropped, for the analysis to leave out of both sides of the rate.
    expect(await storedIds(store)).toContain("tiny:5");
  });

  it("re-running a batch writes the same keys and adds nothing", async () => {
    const values = [ev("1", "20"), ev("2", "20"), ev("3", "21")];
    await writeBatch(store, new SeenEventIds(store), batch("b1", values));
    const again = await writeBatch(store, new SeenEventIds(store), batch("b1", values));
    expect(again).toMatchObject({ events: 3, added: 0, duplicates: 3 });
    expect(await storedIds(store)).toEqual(["tiny:1", "tiny:2", "tiny:3"]);
  });

  it("deduplicates overlapping batches by event id, in either order", async () => {
    const seen = new SeenEventIds(store);
    const first = await writeBatch(store, seen, batch("w1", [ev("1", "20"), ev("2", "20"), ev("2", "20")]));
    expect(first).toMatchObject({ added: 2, duplicates: 1 });
    const second = await writeBatch(store, seen, batch("w2", [ev("2", "20"), ev("3", "20")]));
    expect(second).toMatchObject({ added: 1, duplicates: 1 });
    // A fresh run (new cache) re-writing the first window still keeps each id exactly once.
    await writeBatch(store, new SeenEventIds(store), batch("w1", [ev("1", "20"), ev("2", "20")]));
    await writeBatch(store, new SeenEventIds(store), batch("w2", [ev("2", "20"), ev("3", "20")]));
    expect(await storedIds(store)).toEqual(["tiny:1", "tiny:2", "tiny:3"]);
  });

  it("commits no events object when the records fail part-way", async () => {
    async function* failing(): AsyncIterable<SourceRecord> {
      yield { ref: "f:1", value: ev("1", "20") };
      throw new Error("provider connection reset");
    }
    await expect(
      writeBatch(store, new SeenEventIds(store), batch("bad", [], { records: failing })),
    ).rejects.toThrow(/connection reset/);
    expect(await storedIds(store)).toEqual([]);
  });

  it("keeps a record whose mapper throws, in quarantine", async () => {
    const r = await writeBatch(
      store,
      new SeenEventIds(store),
      batch("b", [ev("1", "20")], {
        mapper: () => {
          throw new Error("boom");
        },
      }),
    );
    expect(r).toMatchObject({ quarantined: 1, added: 0 });
  });
});
