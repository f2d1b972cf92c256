import { type KeyObject, sign } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../../../shared/config.ts";
import type { NormalizedEvent } from "../../../../shared/domain/events/normalized-event.ts";
import { readDayEvents } from "../../../../shared/pipeline/analyze/daily-aggregates.ts";
import { runIngest } from "../../../../shared/pipeline/ingest/run-ingest.ts";
import { receiveSendgridWebhook } from "../../../../shared/pipeline/webhook/receive-sendgrid-webhook.ts";
import { LocalSecretResolver } from "../../../../shared/secrets/secret-resolver.ts";
import { LocalObjectStore } from "../../../../shared/store/local-object-store.ts";
import { webhookKeys } from "../../../support/webhook-request.ts";

// Every batch the receiver lands is ingested exactly once, whatever its events' dates and however late the ingest
// runs; a batch that cannot be read is quarantined on its own and the batches beside it still land.
const DAY = 86_400_000;
const T0 = new Date("2026-11-20T09:00:00.000Z");

let root: string;
let store: LocalObjectStore;
let clock: Date;
let signing: { privateKey: KeyObject; publicKey: string };
let n = 0;

const config = () =>
  parseConfig({ sources: [{ id: "sendgrid", provider: "sendgrid", webhookPublicKey: signing.publicKey }] })
    .sources;

function event(at: Date, kind: "delivered" | "bounce" = "delivered"): Record<string, unknown> {
  n++;
  return {
    email: `person${n}@acme-corp.example`,
    timestamp: Math.floor(at.getTime() / 1000),
    event: kind,
    sg_event_id: `ev-${n}`,
    sg_message_id: `msg-${n}.filter0001`,
    ...(kind === "bounce"
      ? {
          type: "bounce",
          status: "5.1.1",
          reason: "550 5.1.1 The email account that you tried to reach does not exist",
        }
      : { response: "250 OK" }),
  };
}

/** Posts a batch to the receiver as SendGrid would, signed, at the current clock. */
async function land(body: string): Promise<string> {
  const timestamp = String(Math.floor(clock.getTime() / 1000));
  const signature = sign("sha256", Buffer.from(timestamp + body), signing.privateKey).toString("base64");
  const res = await receiveSendgridWebhook(
    {
      headers: {
        "x-twilio-email-event-webhook-signature": signature,
        "x-twilio-email-event-webhook-timestamp": timestamp,
      },
      body,
    },
    { publicKey: signing.publicKey, store, now: () => clock },
  );
  expect(res.statusCode).toBe(204);
  return res.stored?.key ?? "";
}

async function ingest() {
  const [result] = await runIngest(config(), {
    store,
    secrets: new LocalSecretResolver({}),
    now: () => clock,
    log: () => undefined,
    sqsQueue: () => {
      throw new Error("no SES source here");
    },
  });
  return result;
}

async function storedOn(day: Date): Promise<NormalizedEvent[]> {
  const out: NormalizedEvent[] = [];
  for await (const e of readDayEvents(store, day.toISOString().slice(0, 10))) out.push(e);
  return out;
}

async function keysUnder(prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list(prefix)) out.push(o.key);
  return out;
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "br-sendgrid-webhook-"));
  store = new LocalObjectStore(root);
  clock = T0;
  signing = webhookKeys();
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("SendGrid webhook batches: landed by arrival, ingested once", () => {
  it("ingests a batch holding an event five days old", async () => {
    await ingest(); // an earlier run: the source has state
    const old = new Date(T0.getTime() - 5 * DAY);
    const key = await land(JSON.stringify([event(old, "bounce"), event(T0)]));
    expect(key).toContain("/dt=2026-11-20/");
    const result = await ingest();
    expect(result?.error).toBeUndefined();
    expect(result?.batches.map((b) => b.added)).toEqual([2]);
    expect((await storedOn(old)).map((e) => e.type)).toEqual(["bounced"]);
    expect((await storedOn(T0)).map((e) => e.type)).toEqual(["delivered"]);
  });

  it("ingests a batch landed five days before the ingest runs again, and only once", async () => {
    await ingest();
    clock = new Date(T0.getTime() + DAY / 2);
    await land(JSON.stringify([event(clock), event(clock, "bounce")]));
    clock = new Date(T0.getTime() + 5 * DAY + DAY / 2);
    const late = await ingest();
    expect(late?.batches.map((b) => b.added)).toEqual([2]);
    expect(await storedOn(new Date(T0.getTime() + DAY / 2))).toHaveLength(2);
    // Once done, the closed days are not read again and nothing is added twice.
    const again = await ingest();
    expect(again?.batches).toEqual([]);
    const state: unknown = JSON.parse(
      Buffer.from((await store.get("state/cursors/sendgrid.webhook.json")) ?? new Uint8Array()).toString(),
    );
    expect(state).toEqual({ openFrom: "2026-11-25", processed: {} });
  });

  it("ingests everything already landed on its first run, whatever the days", async () => {
    for (const daysAgo of [9, 5, 0]) {
      clock = new Date(T0.getTime() - daysAgo * DAY);
      await land(JSON.stringify([event(clock)]));
    }
    clock = T0;
    const first = await ingest();
    expect(first?.batches.map((b) => b.added)).toEqual([1, 1, 1]);
    expect((await ingest())?.batches).toEqual([]);
  });

  it("quarantines a signed batch nested 100,000 levels deep alone, and lands the good batch beside it", async () => {
    await ingest();
    const deep = `[${"[".repeat(100_000)}${"]".repeat(100_000)}, ${JSON.stringify(event(T0))}]`;
    const deepKey = await land(deep);
    const good = [event(T0), event(T0, "bounce")];
    await land(JSON.stringify(good));
    const result = await ingest();
    expect(result?.error).toBeUndefined();
    const added = result?.batches.map((b) => [b.added, b.quarantined]).sort();
    expect(added).toEqual([
      [1, 1],
      [2, 0],
    ]);
    expect((await storedOn(T0)).length).toBe(3);
    // The deep item is in quarantine with its reason; the raw batch stays verbatim where it landed.
    const [qKey] = await keysUnder("quarantine/sendgrid/");
    const entries = gunzipSync((await store.get(qKey ?? "")) ?? new Uint8Array())
      .toString("utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { ref: string; reason: string });
    expect(entries).toHaveLength(1);
    expect(entries[0]?.ref).toBe(`${deepKey} item 0`);
    expect(entries[0]?.reason).toMatch(/nested more than 64 levels/);
    expect(await store.get(deepKey)).not.toBeNull();
    // Both batches are done: the next run has nothing to do.
    expect((await ingest())?.batches).toEqual([]);
  });

  it("names a damaged state record and what to do, instead of reading it as empty", async () => {
    await land(JSON.stringify([event(T0)]));
    await store.put("state/cursors/sendgrid.webhook.json", '{"openFrom": "yesterday", "processed": {}}');
    const result = await ingest();
    expect(result?.error).toMatch(/sendgrid\.webhook\.json .* is damaged: openFrom: .*; delete it/);
    expect(await storedOn(T0)).toEqual([]);
  });
});
