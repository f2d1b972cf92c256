import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig, type SourceConfig } from "../../../../shared/config.ts";
import { readCursor } from "../../../../shared/pipeline/ingest/cursor.ts";
import { type IngestDeps, runIngest } from "../../../../shared/pipeline/ingest/run-ingest.ts";
import type { SecretResolver } from "../../../../shared/secrets/secret-resolver.ts";
import { type MailgunFault, startMailgunServer } from "../../../../shared/simulation/mailgun-api-server.ts";
import { mapMailgunEvent } from "../../../../shared/sources/esp/mailgun/map-mailgun-event.ts";
import { mapSesRecord } from "../../../../shared/sources/esp/ses/map-ses-record.ts";
import { SqsQueue } from "../../../../shared/sources/esp/ses/sqs-queue.ts";
import { LocalObjectStore } from "../../../../shared/store/local-object-store.ts";
import { readNdjsonGz } from "../../../../shared/store/ndjson-gzip.ts";
import type { ObjectStore } from "../../../../shared/store/object-store.ts";
import { S3ObjectStore, s3ClientForEndpoint } from "../../../../shared/store/s3-object-store.ts";
import { makeMailgunEvents } from "../../../support/mailgun-events.ts";
import { type RunningS3rver, startS3rver } from "../../../support/s3rver.ts";
import { makeSesRecords } from "../../../support/ses-events.ts";
import { sqsTestClient, startSqsServer } from "../../../support/sqs-server.ts";

const API_KEY = "key-test-not-real";
const T0 = new Date("2026-11-20T00:00:00.000Z");
const HOUR = 3_600_000;
const secrets: SecretResolver = { resolve: async () => ({ value: API_KEY, origin: "test" }) };
const noSleep = async (): Promise<void> => undefined;

async function storedEvents(
  store: ObjectStore,
  prefix = "events/",
): Promise<Array<{ id: string; occurredAt: string }>> {
  const out: Array<{ id: string; occurredAt: string }> = [];
  for await (const o of store.list(prefix)) {
    for await (const { value } of readNdjsonGz(store, o.key))
      out.push(value as { id: string; occurredAt: string });
  }
  return out;
}

async function quarantined(store: ObjectStore): Promise<Array<{ ref: string; reason: string }>> {
  const out: Array<{ ref: string; reason: string }> = [];
  for await (const o of store.list("quarantine/")) {
    for await (const { value } of readNdjsonGz(store, o.key))
      out.push(value as { ref: string; reason: string });
  }
  return out;
}

/** The ids the mapper gives the events the server holds: what a complete, duplicate-free store must contain. */
function expectedIds(records: readonly unknown[], before = Number.POSITIVE_INFINITY): string[] {
  return records
    .flatMap((r) => {
      const m = mapMailgunEvent(r);
      return m.ok ? m.events : [];
    })
    .filter((e) => Date.parse(e.occurredAt) < before)
    .map((e) => e.id)
    .sort();
}

const mailgunSource = (baseUrl: string): SourceConfig =>
  parseConfig({
    sources: [
      {
        id: "mg",
        provider: "mailgun",
        domains: ["mg.example.com"],
        apiKeySecret: "mailgun/api-key",
        baseUrl,
        startAt: T0.toISOString(),
        windowMinutes: 60,
        timeoutMs: 300,
      },
    ],
  }).sources[0] as SourceConfig;

function deps(store: ObjectStore, extra: Partial<IngestDeps> = {}): IngestDeps {
  return {
    store,
    secrets,
    now: () => new Date(T0.getTime() + 6.5 * HOUR),
    log: () => undefined,
    sqsQueue: () => {
      throw new Error("no SES source in this test");
    },
    mailgunClientOptions: { sleep: noSleep },
    ...extra,
  };
}

describe("runIngest: Mailgun Events API through a faulty provider", () => {
  let s3: RunningS3rver;
  beforeAll(async () => {
    s3 = await startS3rver();
  });
  afterAll(async () => {
    await s3.stop();
  });

  const stores: Array<[string, () => Promise<ObjectStore>]> = [
    ["a local folder", async () => new LocalObjectStore(await mkdtemp(join(tmpdir(), "br-ingest-")))],
    [
      "S3 (s3rver)",
      async () =>
        new S3ObjectStore({
          bucket: s3.bucket,
          prefix: `run-${Math.random().toString(36).slice(2)}`,
          conditionalPut: "check-then-put",
          client: s3ClientForEndpoint(s3.endpoint, "us-east-1", {
            credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
          }),
        }),
    ],
  ];

  it.each(stores)(
    "loses and duplicates nothing despite 429s, 500s, a hung response and a malformed page (%s)",
    async (_, open) => {
      const events = makeMailgunEvents({ count: 1500, start: T0, seed: 7, spanMs: 6 * HOUR });
      const faults: MailgunFault[] = [
        { kind: "rate-limit", request: 2, retryAfter: "1" },
        { kind: "server-error", request: 5 },
        { kind: "hang", request: 7 },
        { kind: "malformed", request: 9 },
        { kind: "slow", request: 11, delayMs: 50 },
      ];
      const server = await startMailgunServer({ apiKey: API_KEY, events, faults });
      try {
        const store = await open();
        const [result] = await runIngest([mailgunSource(server.baseUrl)], deps(store));
        expect(result?.error).toBeUndefined();
        const stored = await storedEvents(store);
        const ids = stored.map((e) => e.id).sort();
        // Cursor ends at now − lag (6.5 h − 30 min); everything before it is stored exactly once.
        expect(ids).toEqual(expectedIds(events, T0.getTime() + 6 * HOUR));
        expect(new Set(ids).size).toBe(ids.length);
        expect((await readCursor(store, "mg", new Date()))?.position).toBe(
          new Date(T0.getTime() + 6 * HOUR).toISOString(),
        );
        // The overlap re-read fetched some events twice; they were recognised as duplicates.
        expect(result?.batches.reduce((a, b) => a + b.duplicates, 0)).toBeGreaterThan(0);
        expect(server.log.some((r) => r.status === 429)).toBe(true);
        expect(server.log.some((r) => r.status === null)).toBe(true);
        // Re-running with nothing new adds nothing.
        const [again] = await runIngest([mailgunSource(server.baseUrl)], deps(store));
        expect(again?.batches).toHaveLength(0);
      } finally {
        await server.stop();
      }
    },
  );

  it("never moves the cursor past unwritten data when the provider stays down, and resumes cleanly", async () => {
    const events = makeMailgunEvents({ count: 1200, start: T0, seed: 11, spanMs: 6 * HOUR });
    const server = await startMailgunServer({ apiKey: API_KEY, events });
    try {
      const store = new LocalObjectStore(await mkdtemp(join(tmpdir(), "br-outage-")));
      let calls = 0;
      // An outage that starts after the 7th request and lasts: every later fetch fails at the network level.
      const flakyFetch: typeof fetch = async (input, init) => {
        if (++calls > 7) throw new TypeError("fetch failed: ECONNRESET");
        return fetch(input, init);
      };
      const [failed] = await runIngest(
        [mailgunSource(server.baseUrl)],
        deps(store, { mailgunClientOptions: { sleep: noSleep, fetch: flakyFetch, maxAttempts: 3 } }),
      );
      expect(failed?.error).toMatch(/ECONNRESET|attempt/);
      const cursor = await readCursor(store, "mg", new Date());
      expect(cursor).not.toBeNull();
      const position = Date.parse(cursor?.position ?? "");
      expect(position).toBeLessThan(T0.getTime() + 6 * HOUR);
      // Everything before the cursor is stored; nothing is stored twice.
      const partial = (await storedEvents(store)).map((e) => e.id).sort();
      expect(partial).toEqual(expect.arrayContaining(expectedIds(events, position)));
      expect(new Set(partial).size).toBe(partial.length);

      const [resumed] = await runIngest([mailgunSource(server.baseUrl)], deps(store));
      expect(resumed?.error).toBeUndefined();
      const all = (await storedEvents(store)).map((e) => e.id).sort();
      expect(all).toEqual(expectedIds(events, T0.getTime() + 6 * HOUR));
    } finally {
      await server.stop();
    }
  });

  it("reads the account-wide Logs API the same way", async () => {
    const events = makeMailgunEvents({ count: 800, start: T0, seed: 21, spanMs: 6 * HOUR });
    const server = await startMailgunServer({
      apiKey: API_KEY,
      events,
      faults: [{ kind: "rate-limit", request: 3 }],
    });
    try {
      const store = new LocalObjectStore(await mkdtemp(join(tmpdir(), "br-logs-")));
      const source = parseConfig({
        sources: [
          {
            id: "mg-logs",
            provider: "mailgun",
            api: "logs",
            region: "eu",
            apiKeySecret: "mailgun/api-key",
            baseUrl: server.baseUrl,
            startAt: T0.toISOString(),
          },
        ],
      }).sources[0] as SourceConfig;
      const [r] = await runIngest([source], deps(store));
      expect(r?.error).toBeUndefined();
      const ids = (await storedEvents(store)).map((e) => e.id).sort();
      expect(ids).toEqual(expectedIds(events, T0.getTime() + 6 * HOUR));
      expect(server.requests.every((path) => path.startsWith("/v1/analytics/logs"))).toBe(true);
    } finally {
      await server.stop();
    }
  });

  it("gives up on a duplicated page (a paging loop) without landing it or moving the cursor", async () => {
    const events = makeMailgunEvents({ count: 900, start: T0, seed: 3, spanMs: 6 * HOUR });
    const server = await startMailgunServer({
      apiKey: API_KEY,
      events,
      faults: [{ kind: "duplicate", request: 2 }],
    });
    try {
      const store = new LocalObjectStore(await mkdtemp(join(tmpdir(), "br-loop-")));
      const [r] = await runIngest([mailgunSource(server.baseUrl)], deps(store));
      expect(r?.error).toMatch(/loop|paging|next/i);
      expect(await readCursor(store, "mg", new Date())).toBeNull();
      expect(await storedEvents(store)).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe("runIngest: Amazon SES through SNS → SQS", () => {
  const sesSource = (queueUrl: string): SourceConfig =>
    parseConfig({
      sources: [{ id: "ses", provider: "ses", queueUrl, batchSize: 100, waitTimeSeconds: 0 }],
    }).sources[0] as SourceConfig;

  it("writes every event once, quarantines bad messages, and deletes messages only after writing", async () => {
    const sqs = await startSqsServer({ visibilityTimeoutSeconds: 30 });
    try {
      const records = makeSesRecords({ count: 260, start: T0, seed: 5, envelope: "sns" });
      const ids = records.map((r) => sqs.send(JSON.stringify(r)));
      sqs.send("{ this is not json");
      sqs.send(JSON.stringify({ Type: "Notification", Message: JSON.stringify({ eventType: "Bounce" }) }));
      sqs.duplicate(ids[0] ?? "");
      const store = new LocalObjectStore(await mkdtemp(join(tmpdir(), "br-ses-")));
      const queue = (s: { queueUrl: string }) =>
        new SqsQueue({
          queueUrl: s.queueUrl,
          client: sqsTestClient(sqs),
          waitTimeSeconds: 0,
          visibilityTimeout: 30,
        });
      const [r] = await runIngest([sesSource(sqs.queueUrl)], deps(store, { sqsQueue: queue }));
      expect(r?.error).toBeUndefined();
      const want = records
        .flatMap((rec) => {
          const m = mapSesRecord(rec);
          return m.ok ? m.events : [];
        })
        .map((e) => e.id)
        .sort();
      const got = (await storedEvents(store)).map((e) => e.id).sort();
      expect(got).toEqual([...new Set(want)].sort());
      const q = await quarantined(store);
      expect(q).toHaveLength(2);
      expect(q.map((x) => x.reason).join("\n")).toMatch(/not valid JSON/);
      expect(sqs.totalCount()).toBe(0);
    } finally {
      await sqs.stop();
    }
  });

  it("leaves the messages on the queue when the store cannot be written", async () => {
    const sqs = await startSqsServer({ visibilityTimeoutSeconds: 30 });
    try {
      for (const rec of makeSesRecords({ count: 40, start: T0, seed: 9 })) sqs.send(JSON.stringify(rec));
      const inner = new LocalObjectStore(await mkdtemp(join(tmpdir(), "br-ses-fail-")));
      const broken: ObjectStore = {
        location: inner.location,
        get: (k) => inner.get(k),
        getVersioned: (k) => inner.getVersioned(k),
        getStream: (k) => inner.getStream(k),
        list: (p) => inner.list(p),
        delete: (k) => inner.delete(k),
        put: async () => {
          throw new Error("disk full");
        },
        putStream: async () => {
          throw new Error("disk full");
        },
      };
      const queue = (s: { queueUrl: string }) =>
        new SqsQueue({
          queueUrl: s.queueUrl,
          client: sqsTestClient(sqs),
          waitTimeSeconds: 0,
          visibilityTimeout: 30,
        });
      const [r] = await runIngest([sesSource(sqs.queueUrl)], deps(broken, { sqsQueue: queue }));
      expect(r?.error).toMatch(/disk full/);
      expect(sqs.totalCount()).toBe(40);
      expect(sqs.requests.some((q) => q.operation.startsWith("DeleteMessage"))).toBe(false);
    } finally {
      await sqs.stop();
    }
  });
});
