import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type ReceiveSendgridWebhookDeps,
  receiveSendgridWebhook,
  type WebhookRequest,
} from "../../../../shared/pipeline/webhook/receive-sendgrid-webhook.ts";
import { LocalObjectStore } from "../../../../shared/store/local-object-store.ts";
import type { ObjectInfo, ObjectStore } from "../../../../shared/store/object-store.ts";

const keys = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const PUBLIC_KEY = keys.publicKey.export({ format: "der", type: "spki" }).toString("base64");
const other = generateKeyPairSync("ec", { namedCurve: "prime256v1" });

// Received shortly after midnight; the events are from the evening before.
const NOW = new Date("2024-05-30T00:02:00Z");
const TS = String(NOW.getTime() / 1000 - 5);
const EVENTS = [
  {
    email: "a.lee@acme-corp.com",
    timestamp: 1717027260, // 2024-05-30T00:01:00Z
    event: "delivered",
    sg_event_id: "ZGVsaXZlcmVk",
    response: "250 OK",
  },
  {
    email: "b.kim@globex.example",
    timestamp: 1717027200 - 30, // 2024-05-29T23:59:30Z, the earliest
    event: "bounce",
    type: "bounce",
    sg_event_id: "Ym91bmNl",
    reason: "550 5.1.1 user unknown",
    status: "5.1.1",
  },
];
// Filed by the day it arrived, not by its events' (the earliest is from the day before).
const BATCH_DATE = "2024-05-30";
// Compact JSON as SendGrid posts it, with its trailing CRLF: the bytes stored must be these exactly.
const BODY = `${JSON.stringify(EVENTS)}\r\n`;
const HASH = createHash("sha256").update(BODY).digest("hex").slice(0, 32);
const KEY = `raw/sendgrid/dt=${BATCH_DATE}/webhook-${HASH}-0.json.gz`;

function signature(body: string | Buffer, timestamp = TS, key = keys.privateKey): string {
  return sign("sha256", Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]), {
    key,
    dsaEncoding: "der",
  }).toString("base64");
}

function request(
  body: string = BODY,
  overrides: Partial<WebhookRequest> = {},
  timestamp = TS,
): WebhookRequest {
  return {
    headers: {
      "content-type": "application/json",
      "x-twilio-email-event-webhook-signature": signature(body, timestamp),
      "x-twilio-email-event-webhook-timestamp": timestamp,
    },
    body,
    ...overrides,
  };
}

let root: string;
let store: LocalObjectStore;
let puts: string[];

/** The local store, with every put recorded. */
function deps(overrides: Partial<ReceiveSendgridWebhookDeps> = {}): ReceiveSendgridWebhookDeps {
  const counting: ObjectStore = {
    location: store.location,
    get: (k) => store.get(k),
    getVersioned: (k) => store.getVersioned(k),
    getStream: (k) => store.getStream(k),
    put: (k, b, o) => {
      puts.push(k);
      return store.put(k, b, o);
    },
    putStream: (k, b) => store.putStream(k, b),
    list: (p) => store.list(p),
    delete: (k, o) => store.delete(k, o),
  };
  return { publicKey: PUBLIC_KEY, store: counting, now: () => NOW, ...overrides };
}

async function listAll(): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const o of store.list("")) out.push(o);
  return out;
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sendgrid-webhook-"));
  store = new LocalObjectStore(root);
  puts = [];
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("receiveSendgridWebhook", () => {
  it("stores a signed batch verbatim, gzipped, under a key derived from its bytes", async () => {
    const res = await receiveSendgridWebhook(request(), deps());
    expect(res).toMatchObject({ statusCode: 204, body: "", stored: { key: KEY, created: true, events: 2 } });
    const stored = await store.get(KEY);
    expect(stored).not.toBeNull();
    expect(gunzipSync(stored as Uint8Array).toString("utf8")).toBe(BODY);
    expect((await listAll()).map((o) => o.key)).toEqual([KEY]);
  });

  it("stores two identical deliveries the same day once, even when the retry is signed later", async () => {
    const first = await receiveSendgridWebhook(request(), deps());
    const later = new Date(NOW.getTime() + 6 * 3_600_000);
    const laterTs = String(later.getTime() / 1000);
    const second = await receiveSendgridWebhook(request(BODY, {}, laterTs), deps({ now: () => later }));
    expect(first.stored).toEqual({ key: KEY, created: true, events: 2 });
    expect(second).toMatchObject({ statusCode: 204, stored: { key: KEY, created: false } });
    expect((await listAll()).map((o) => o.key)).toEqual([KEY]);
  });

  it("files a batch by the day it arrived, however old its events", async () => {
    const old = JSON.stringify([{ ...EVENTS[1], timestamp: NOW.getTime() / 1000 - 5 * 86_400 }]);
    const res = await receiveSendgridWebhook(request(old), deps());
    expect(res.stored?.key).toMatch(/^raw\/sendgrid\/dt=2024-05-30\/webhook-[0-9a-f]{32}-0\.json\.gz$/);
    // A retry after midnight is a second object; the ingest skips its events as duplicates.
    const tomorrow = new Date(NOW.getTime() + 86_400_000);
    const retry = await receiveSendgridWebhook(request(BODY, {}, String(tomorrow.getTime() / 1000)), {
      ...deps(),
      now: () => tomorrow,
    });
    expect(retry.stored?.key).toBe(`raw/sendgrid/dt=2024-05-31/webhook-${HASH}-0.json.gz`);
  });

  it("verifies and stores the decoded bytes of a base64-encoded body", async () => {
    const encoded = Buffer.from(BODY).toString("base64");
    const res = await receiveSendgridWebhook({ ...request(), body: encoded, isBase64Encoded: true }, deps());
    expect(res).toMatchObject({ statusCode: 204, stored: { key: KEY } });
    expect(gunzipSync((await store.get(KEY)) as Uint8Array).toString("utf8")).toBe(BODY);
  });

  it("accepts a Buffer body and header names in any case", async () => {
    const r = request();
    const headers = Object.fromEntries(
      Object.entries(r.headers).map(([k, v]) => [k.replace(/(^|-)([a-z])/g, (m) => m.toUpperCase()), v]),
    );
    const res = await receiveSendgridWebhook({ headers, body: Buffer.from(BODY) }, deps());
    expect(res.statusCode).toBe(204);
  });

  it.each([
    ["no signature", { "x-twilio-email-event-webhook-signature": undefined }, "missing signature"],
    ["no timestamp", { "x-twilio-email-event-webhook-timestamp": undefined }, "missing timestamp"],
    ["an empty signature", { "x-twilio-email-event-webhook-signature": "" }, "missing signature"],
  ])("refuses a request with %s with 401, writing nothing", async (_name, headers, reason) => {
    const r = request();
    const res = await receiveSendgridWebhook({ ...r, headers: { ...r.headers, ...headers } }, deps());
    expect(res).toMatchObject({ statusCode: 401, reason });
    expect(JSON.parse(res.body)).toEqual({ error: reason });
    expect(puts).toEqual([]);
  });

  it("refuses a tampered body or another key's signature with 401, writing nothing", async () => {
    const r = request();
    const tampered = await receiveSendgridWebhook(
      { ...r, body: BODY.replace("bounce", "delivered") },
      deps(),
    );
    const wrongKey = await receiveSendgridWebhook(
      {
        ...r,
        headers: {
          ...r.headers,
          "x-twilio-email-event-webhook-signature": signature(BODY, TS, other.privateKey),
        },
      },
      deps(),
    );
    for (const res of [tampered, wrongKey])
      expect(res).toMatchObject({ statusCode: 401, reason: "bad signature" });
    expect(puts).toEqual([]);
    expect(await listAll()).toEqual([]);
  });

  it("refuses a stale or future timestamp with 401, even correctly signed", async () => {
    const stale = String(NOW.getTime() / 1000 - 301);
    const future = String(NOW.getTime() / 1000 + 3600);
    expect(await receiveSendgridWebhook(request(BODY, {}, stale), deps())).toMatchObject({
      statusCode: 401,
      reason: "stale timestamp",
    });
    expect(await receiveSendgridWebhook(request(BODY, {}, future), deps())).toMatchObject({
      statusCode: 401,
      reason: "future timestamp",
    });
    // A wider window is the caller's choice.
    expect(
      await receiveSendgridWebhook(request(BODY, {}, stale), deps({ maxAgeSeconds: 600 })),
    ).toMatchObject({
      statusCode: 204,
    });
    expect(puts).toEqual([KEY]);
  });

  it("refuses an oversized body with 413 before verifying it", async () => {
    const res = await receiveSendgridWebhook(request(), deps({ maxBodyBytes: 100 }));
    expect(res).toMatchObject({ statusCode: 413 });
    const encoded = await receiveSendgridWebhook(
      { ...request(), body: Buffer.alloc(400, 1).toString("base64"), isBase64Encoded: true },
      deps({ maxBodyBytes: 100 }),
    );
    expect(encoded.statusCode).toBe(413);
    expect(puts).toEqual([]);
  });

  it.each([
    ["not JSON", '[{"email": '],
    ["a JSON object", JSON.stringify(EVENTS[0])],
    ["a JSON string", '"hello"'],
  ])("refuses a signed body that is %s with 400, writing nothing", async (_name, body) => {
    const res = await receiveSendgridWebhook(request(body), deps());
    expect(res.statusCode).toBe(400);
    expect(puts).toEqual([]);
  });

  it("acknowledges an empty batch without storing it", async () => {
    const res = await receiveSendgridWebhook(request("[]"), deps());
    expect(res).toEqual({ statusCode: 204, body: "" });
    expect(puts).toEqual([]);
  });

  it("answers 500 for an unusable configured key, so SendGrid retries", async () => {
    const res = await receiveSendgridWebhook(request(), deps({ publicKey: "not-a-key" }));
    expect(res.statusCode).toBe(500);
    expect(puts).toEqual([]);
  });

  it("answers 500 with the error when the store fails, so SendGrid retries", async () => {
    const failing: ObjectStore = {
      ...deps().store,
      put: async () => {
        throw new Error("disk full");
      },
    };
    const res = await receiveSendgridWebhook(request(), deps({ store: failing }));
    expect(res).toMatchObject({ statusCode: 500, reason: "store failed" });
    expect((res.error as Error).message).toBe("disk full");
  });
});
