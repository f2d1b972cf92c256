import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../../../shared/config.ts";
import type { NormalizedEvent, ProviderEvent } from "../../../../shared/domain/events/normalized-event.ts";
import { readDayEvents } from "../../../../shared/pipeline/analyze/daily-aggregates.ts";
import { readCursor } from "../../../../shared/pipeline/ingest/cursor.ts";
import { runIngest, type SourceRunResult } from "../../../../shared/pipeline/ingest/run-ingest.ts";
import { receiveSendgridWebhook } from "../../../../shared/pipeline/webhook/receive-sendgrid-webhook.ts";
import { LocalSecretResolver } from "../../../../shared/secrets/secret-resolver.ts";
import { generateHistory } from "../../../../shared/simulation/b2b-history.ts";
import { sendgridWebhookBatch } from "../../../../shared/simulation/esp-fixtures.ts";
import { postmarkBounceIdFor, toPostmarkRecord } from "../../../../shared/simulation/to-postmark-record.ts";
import { toSparkpostEvent } from "../../../../shared/simulation/to-sparkpost-event.ts";
import { LocalObjectStore } from "../../../../shared/store/local-object-store.ts";
import { type PostmarkApiServer, startPostmarkApiServer } from "../../../support/postmark-api-server.ts";
import { type SparkpostApiServer, startSparkpostApiServer } from "../../../support/sparkpost-api-server.ts";

const HOUR = 3_600_000;
// Set to the busiest working day of the simulated week: its morning to its evening.
let start = new Date(0);
let now = new Date(0);

/** SparkPost's deliverability-by-domain rows for the served events; the busiest domain's doubled (a disagreement). */
function sparkpostMetrics(served: readonly ProviderEvent[]): Record<string, unknown>[] {
  const counts = new Map<string, { delivered: number; bounced: number }>();
  for (const e of served) {
    if (e.type !== "delivered" && e.type !== "bounced") continue;
    const c = counts.get(e.recipientDomain) ?? { delivered: 0, bounced: 0 };
    c[e.type]++;
    counts.set(e.recipientDomain, c);
  }
  const rows = [...counts].sort((a, b) => b[1].delivered + b[1].bounced - (a[1].delivered + a[1].bounced));
  return rows.map(([domain, c], i) => ({
    domain,
    count_targeted: c.delivered + c.bounced,
    count_sent: c.delivered + c.bounced,
    count_delivered: i === 0 ? 2 * c.delivered : c.delivered,
    count_bounce: c.bounced,
  }));
}

async function stored(store: LocalObjectStore, source: string): Promise<NormalizedEvent[]> {
  const out: NormalizedEvent[] = [];
  for (const day of [start.toISOString().slice(0, 10)])
    for await (const e of readDayEvents(store, day)) if (e.source === source) out.push(e);
  return out;
}

// One simulated sender's morning, served by each provider's API exactly as it documents it, with faults on
// the way: every event lands once, cursors move only past written data, and a second run adds nothing.
describe("ingest from SparkPost, Postmark and SendGrid", () => {
  let events: ProviderEvent[];
  let sparkpost: SparkpostApiServer;
  let postmark: PostmarkApiServer;
  let store: LocalObjectStore;
  const secrets = new LocalSecretResolver({
    BOUNCE_RADAR_SECRET_SPARKPOST_KEY: "test-sparkpost-key",
    BOUNCE_RADAR_SECRET_POSTMARK_TOKEN: "test-postmark-token",
  });
  const sleeps: number[] = [];
  let config: ReturnType<typeof parseConfig>;

  beforeAll(async () => {
    const history = generateHistory({ seed: 12, start: new Date("2026-11-16T00:00:00.000Z"), days: 5 });
    const perDay = new Map<string, number>();
    for (const e of history.events)
      perDay.set(e.occurredAt.slice(0, 10), (perDay.get(e.occurredAt.slice(0, 10)) ?? 0) + 1);
    const busiest = [...perDay].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "2026-11-17";
    start = new Date(`${busiest}T06:00:00.000Z`);
    now = new Date(start.getTime() + 12 * HOUR);
    // Only what is old enough to read (the sources stay lagMinutes behind now).
    events = history.events.filter(
      (e) => Date.parse(e.occurredAt) >= start.getTime() && Date.parse(e.occurredAt) < now.getTime() - HOUR,
    );
    sparkpost = await startSparkpostApiServer({
      apiKey: "test-sparkpost-key",
      events: events.flatMap((e): Record<string, unknown>[] => {
        const r = toSparkpostEvent(e);
        return r ? [r] : [];
      }),
      metricsRows: sparkpostMetrics(events),
      faults: [
        { kind: "rate-limit", request: 2, retryAfter: "3" },
        { kind: "server-error", request: 5 },
        { kind: "malformed", request: 8 },
      ],
    });
    postmark = await startPostmarkApiServer({
      serverToken: "test-postmark-token",
      bounces: events.flatMap((e): Record<string, unknown>[] => {
        const r = e.type === "bounced" ? toPostmarkRecord(e, postmarkBounceIdFor(e.id)) : null;
        return r ? [r] : [];
      }),
    });
    postmark.failNext({ status: 429, headers: { "retry-after": "2" } }, { status: 503 });
    store = new LocalObjectStore(await mkdtemp(join(tmpdir(), "br-esp-sources-")));
    config = parseConfig({
      sources: [
        {
          id: "sparkpost-us",
          provider: "sparkpost",
          apiKeySecret: "sparkpost/key",
          baseUrl: sparkpost.baseUrl,
          startAt: start.toISOString(),
          windowMinutes: 120,
          lagMinutes: 60,
          overlapMinutes: 10,
        },
        {
          id: "postmark",
          provider: "postmark",
          serverTokenSecret: "postmark/token",
          baseUrl: postmark.baseUrl,
          startAt: start.toISOString(),
          windowMinutes: 120,
          lagMinutes: 60,
          overlapMinutes: 10,
        },
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([sparkpost?.stop(), postmark?.stop()]);
  });

  const logs: string[] = [];
  const ingest = (): Promise<SourceRunResult[]> =>
    runIngest(config.sources, {
      store,
      secrets,
      now: () => now,
      log: (l) => logs.push(l),
      sqsQueue: () => {
        throw new Error("no SES source here");
      },
      httpOptions: {
        sleep: async (ms) => {
          sleeps.push(ms);
        },
        maxAttempts: 4,
      },
    });

  it("lands every event once despite 429s, 5xx and a malformed page, and moves each cursor to the horizon", async () => {
    const results = await ingest();
    expect(results.map((r) => [r.sourceId, r.error])).toEqual([
      ["sparkpost-us", undefined],
      ["postmark", undefined],
    ]);
    const sp = await stored(store, "sparkpost");
    const expectedSp = events.filter((e) => toSparkpostEvent(e) !== null && e.type !== "sent");
    expect(expectedSp.length).toBeGreaterThan(1000);
    expect(sp.length).toBe(expectedSp.length);
    expect(new Set(sp.map((e) => e.id)).size).toBe(sp.length);
    const pm = await stored(store, "postmark");
    expect(pm.length).toBe(
      events.filter((e) => e.type === "bounced" && toPostmarkRecord(e, 1) !== null).length,
    );
    expect(sleeps).toContain(3000);
    expect(sleeps).toContain(2000);
    for (const id of ["sparkpost-us", "postmark"])
      expect((await readCursor(store, id, new Date()))?.position).toBe(
        new Date(now.getTime() - HOUR).toISOString(),
      );
    // SparkPost's own per-domain metrics agree with what was ingested, except the domain they were doctored for.
    const summary = logs.find((l) => l.includes("cross-check with SparkPost's metrics"));
    expect(summary).toMatch(/19 of 20 busiest domain\(s\) agree within 10%/);
    expect(logs.filter((l) => /cross-check: .*attempt\(s\) ingested/.test(l))).toHaveLength(1);
  });

  it("adds nothing on a second run", async () => {
    const before = (await stored(store, "sparkpost")).length + (await stored(store, "postmark")).length;
    const results = await ingest();
    expect(results.flatMap((r) => r.batches).reduce((a, b) => a + b.added, 0)).toBe(0);
    expect((await stored(store, "sparkpost")).length + (await stored(store, "postmark")).length).toBe(before);
  });

  it("keeps a cursor where the data ends when the provider stays down", async () => {
    const down = new LocalObjectStore(await mkdtemp(join(tmpdir(), "br-esp-down-")));
    postmark.failNext(...Array.from({ length: 8 }, () => ({ status: 500 })));
    const results = await runIngest([config.sources[1] as (typeof config.sources)[number]], {
      store: down,
      secrets,
      now: () => now,
      log: () => undefined,
      sqsQueue: () => {
        throw new Error("no SES source here");
      },
      httpOptions: { sleep: async () => undefined, maxAttempts: 2 },
    });
    expect(results[0]?.error).toMatch(/Postmark/);
    // The first window could not be read: no cursor, nothing stored, and the next run starts at startAt again.
    expect(await readCursor(down, "postmark", new Date())).toBeNull();
    expect(await stored(down, "postmark")).toEqual([]);
  });

  it("normalizes landed SendGrid webhook batches once, deduplicating retried events by sg_event_id", async () => {
    const keys = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const publicKey = keys.publicKey.export({ type: "spki", format: "der" }).toString("base64");
    const sg = new LocalObjectStore(await mkdtemp(join(tmpdir(), "br-sendgrid-")));
    const batch = sendgridWebhookBatch(events.slice(0, 400));
    const post = async (body: string) => {
      const timestamp = String(Math.floor(now.getTime() / 1000));
      const signature = sign("sha256", Buffer.from(timestamp + body), keys.privateKey).toString("base64");
      return receiveSendgridWebhook(
        {
          headers: {
            "x-twilio-email-event-webhook-signature": signature,
            "x-twilio-email-event-webhook-timestamp": timestamp,
          },
          body,
        },
        { publicKey, store: sg, now: () => now },
      );
    };
    // Two deliveries, the second a retry that repeats 100 events inside a different batch.
    expect((await post(JSON.stringify(batch.slice(0, 250)))).statusCode).toBe(204);
    expect((await post(JSON.stringify(batch.slice(150)))).statusCode).toBe(204);
    const sgConfig = parseConfig({
      sources: [{ id: "sendgrid", provider: "sendgrid", webhookPublicKey: publicKey }],
    });
    const deps = {
      store: sg,
      secrets,
      now: () => now,
      log: () => undefined,
      sqsQueue: () => {
        throw new Error("no SES source here");
      },
    };
    const first = await runIngest(sgConfig.sources, deps);
    expect(first[0]?.batches).toHaveLength(2);
    const landed = await stored(sg, "sendgrid");
    expect(landed.length).toBe(new Set(batch.map((e) => e.sg_event_id)).size);
    const second = await runIngest(sgConfig.sources, deps);
    expect(second[0]?.batches).toHaveLength(0);
    expect((await stored(sg, "sendgrid")).length).toBe(landed.length);
  });
});
