import { afterEach, describe, expect, it } from "vitest";
import { ProviderEventSchema } from "../../../../../shared/domain/events/normalized-event.ts";
import { ProviderFetchError } from "../../../../../shared/http/provider-http-client.ts";
import {
  mapSendgridSuppression,
  SendgridClient,
  type SendgridClientOptions,
  SendgridPagingError,
  type SuppressionPage,
  sendgridSuppressionMapper,
  withRateLimitReset,
} from "../../../../../shared/sources/esp/sendgrid/sendgrid-client.ts";
import {
  type SendgridApiServer,
  type SendgridApiServerOptions,
  type SuppressionEntry,
  startSendgridApiServer,
} from "../../../../support/sendgrid-api-server.ts";

const KEY = "SG.test-key.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const START = new Date("2024-05-29T00:00:00Z");
const END = new Date("2024-05-30T00:00:00Z");
const T0 = START.getTime() / 1000;

/** 23 bounces inside the window (one exactly on each edge) and 2 outside it. */
const BOUNCES: SuppressionEntry[] = [
  ...Array.from({ length: 21 }, (_, i) => ({
    created: T0 + 3600 + i * 60,
    email: `user${String(i).padStart(2, "0")}@acme-corp.com`,
    reason: "550 5.1.1 The email account that you tried to reach does not exist.",
    status: "5.1.1",
  })),
  { created: T0, email: "edge-start@acme-corp.com", reason: "550 5.1.1 no such user", status: "5.1.1" },
  {
    created: T0 + 86_400,
    email: "edge-end@acme-corp.com",
    reason: "550 5.1.1 no such user",
    status: "5.1.1",
  },
  { created: T0 - 1, email: "before@acme-corp.com", reason: "550 5.1.1 no such user", status: "5.1.1" },
  { created: T0 + 86_401, email: "after@acme-corp.com", reason: "550 5.1.1 no such user", status: "5.1.1" },
];
const BLOCKS: SuppressionEntry[] = [
  {
    created: T0 + 7200,
    email: "c.diaz@initech.example",
    reason: "554 5.7.1 Service unavailable; Client host [203.0.113.7] blocked using Spamhaus",
    status: "5.7.1",
  },
];
const IN_WINDOW = BOUNCES.filter((b) => b.created >= T0 && b.created <= T0 + 86_400);

let server: SendgridApiServer | null = null;
let sleeps: number[] = [];

afterEach(async () => {
  await server?.stop();
  server = null;
});

async function start(options: Partial<SendgridApiServerOptions> = {}): Promise<SendgridApiServer> {
  server = await startSendgridApiServer({ apiKey: KEY, bounces: BOUNCES, blocks: BLOCKS, ...options });
  return server;
}

function client(overrides: Partial<SendgridClientOptions> = {}): SendgridClient {
  sleeps = [];
  return new SendgridClient({
    apiKey: KEY,
    region: "global",
    baseUrl: server?.baseUrl ?? "http://127.0.0.1:9",
    timeoutMs: 2_000,
    // Records the wait and returns at once: the tests check what the client asked for, not the clock.
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...overrides,
  });
}

async function collect(pages: AsyncIterable<SuppressionPage>): Promise<SuppressionPage[]> {
  const out: SuppressionPage[] = [];
  for await (const p of pages) out.push(p);
  return out;
}

async function collectUntilError(
  pages: AsyncIterable<SuppressionPage>,
): Promise<[SuppressionPage[], unknown]> {
  const out: SuppressionPage[] = [];
  try {
    for await (const p of pages) out.push(p);
  } catch (e) {
    return [out, e];
  }
  throw new Error(`expected an error, got ${out.length} pages and none`);
}

const emails = (pages: readonly SuppressionPage[]) =>
  pages.flatMap((p) => p.items.map((i) => (i as SuppressionEntry).email));

describe("SendgridClient.suppressionPages", () => {
  it("pages with limit/offset over the window until a short page, each record once", async () => {
    const s = await start();
    const pages = await collect(client().suppressionPages("bounces", { start: START, end: END, limit: 10 }));
    expect(pages.map((p) => [p.label, p.offset, p.items.length])).toEqual([
      ["bounces offset 0", 0, 10],
      ["bounces offset 10", 10, 10],
      ["bounces offset 20", 20, 3],
    ]);
    expect(emails(pages).sort()).toEqual(IN_WINDOW.map((b) => b.email).sort());
    for (const p of pages) expect(JSON.parse(p.body)).toEqual(p.items);
    expect(s.requests.map((r) => r.query)).toEqual(
      [0, 10, 20].map((offset) => ({
        start_time: String(T0),
        end_time: String(T0 + 86_400),
        limit: "10",
        offset: String(offset),
      })),
    );
    for (const r of s.requests) {
      expect(r.authorization).toBe(`Bearer ${KEY}`);
      expect(r.accept).toBe("application/json");
    }
    expect(sleeps).toEqual([]);
  });

  it("ends on an empty page when the list is an exact multiple of the limit", async () => {
    await start({ bounces: IN_WINDOW.slice(0, 20) });
    const pages = await collect(client().suppressionPages("bounces", { start: START, end: END, limit: 10 }));
    expect(pages.map((p) => p.items.length)).toEqual([10, 10, 0]);
  });

  it("reads blocks, and items map to bounced events", async () => {
    await start();
    const pages = await collect(client().suppressionPages("blocks", { start: START, end: END }));
    expect(pages).toHaveLength(1);
    expect(pages[0]?.items).toEqual(BLOCKS);
    const mapped = mapSendgridSuppression("blocks", pages[0]?.items[0]);
    expect(mapped).toMatchObject({ ok: true, events: [{ type: "bounced", espClass: "block" }] });
  });

  it("widens a window with fractional seconds to whole seconds", async () => {
    const s = await start();
    await collect(
      client().suppressionPages("bounces", {
        start: new Date(START.getTime() + 500),
        end: new Date(END.getTime() - 500),
      }),
    );
    expect(s.requests[0]?.query).toMatchObject({ start_time: String(T0), end_time: String(T0 + 86_400) });
  });

  it("waits out a 429 with Retry-After, then goes on", async () => {
    const s = await start();
    s.fail({ kind: "rate-limit", retryAfter: "2", reset: null });
    const pages = await collect(client().suppressionPages("bounces", { start: START, end: END, limit: 10 }));
    expect(emails(pages)).toHaveLength(IN_WINDOW.length);
    expect(sleeps).toEqual([2000]);
    expect(s.requests.map((r) => r.status)).toEqual([429, 200, 200, 200]);
  });

  it("waits until X-RateLimit-Reset when a 429 has no Retry-After", async () => {
    const s = await start();
    s.fail({ kind: "rate-limit", retryAfter: null, reset: String(Math.floor(Date.now() / 1000) + 5) });
    await collect(client().suppressionPages("bounces", { start: START, end: END }));
    expect(sleeps).toHaveLength(1);
    // Whole seconds: between 4 and 6 s from when the answer was read.
    expect(sleeps[0]).toBeGreaterThanOrEqual(4_000);
    expect(sleeps[0]).toBeLessThanOrEqual(6_000);
    expect(s.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  it("retries 500s and malformed pages with backoff, never yielding a bad page", async () => {
    const s = await start();
    s.fail({ kind: "server-error" }, { path: "/v3/suppression/bounces" });
    s.fail({ kind: "malformed" }, { path: "/v3/suppression/bounces" });
    const pages = await collect(client().suppressionPages("bounces", { start: START, end: END, limit: 10 }));
    expect(emails(pages)).toHaveLength(IN_WINDOW.length);
    // random() = 0.5 of 500, then 1000 ms.
    expect(sleeps).toEqual([250, 500]);
    expect(s.requests.map((r) => r.fault)).toEqual(["server-error", "malformed", null, null, null]);
  });

  it("gives up after maxAttempts with a ProviderFetchError", async () => {
    const s = await start();
    s.fail({ kind: "server-error", status: 503 }, { times: 10 });
    const [pages, err] = await collectUntilError(
      client({ maxAttempts: 3 }).suppressionPages("bounces", { start: START, end: END }),
    );
    expect(pages).toEqual([]);
    expect(err).toBeInstanceOf(ProviderFetchError);
    expect(err).toMatchObject({ kind: "exhausted", status: 503, attempts: 3 });
  });

  it("refuses a wrong key at once, without the key in the message", async () => {
    const s = await start();
    const wrong = "SG.wrong-key.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const [, err] = await collectUntilError(
      client({ apiKey: wrong }).suppressionPages("bounces", { start: START, end: END }),
    );
    expect(err).toMatchObject({ kind: "auth", status: 401, attempts: 1 });
    expect((err as Error).message).not.toContain(wrong);
    expect(s.requests).toHaveLength(1);
  });

  it("stops with SendgridPagingError when the server ignores offset", async () => {
    const s = await start({ ignoreOffset: true });
    const [pages, err] = await collectUntilError(
      client().suppressionPages("bounces", { start: START, end: END, limit: 10 }),
    );
    expect(pages).toHaveLength(1);
    expect(err).toBeInstanceOf(SendgridPagingError);
    expect((err as Error).message).toMatch(/offset ignored/);
    expect(s.requests).toHaveLength(2);
  });

  it("stops with SendgridPagingError after maxPages", async () => {
    await start();
    const [pages, err] = await collectUntilError(
      client().suppressionPages("bounces", { start: START, end: END, limit: 5, maxPages: 2 }),
    );
    expect(pages).toHaveLength(2);
    expect(err).toBeInstanceOf(SendgridPagingError);
  });

  it("stops with SendgridPagingError on a page longer than the limit", async () => {
    const body = JSON.stringify(IN_WINDOW.slice(0, 3));
    const fetchFn: typeof fetch = async () => new Response(body, { status: 200 });
    const c = new SendgridClient({ apiKey: KEY, region: "global", fetch: fetchFn, sleep: async () => {} });
    const [, err] = await collectUntilError(
      c.suppressionPages("bounces", { start: START, end: END, limit: 2 }),
    );
    expect(err).toBeInstanceOf(SendgridPagingError);
  });

  it("checks its arguments", async () => {
    const c = client();
    await expect(
      collect(c.suppressionPages("bounces", { start: START, end: END, limit: 501 })),
    ).rejects.toThrow(RangeError);
    await expect(collect(c.suppressionPages("bounces", { start: END, end: START }))).rejects.toThrow(
      RangeError,
    );
  });
});

describe("SendgridClient.deleteSuppression", () => {
  it("deletes listed addresses, one call each, and reports not_found for the others", async () => {
    const s = await start();
    const c = client();
    expect(await c.deleteSuppression("bounces", "user00@acme-corp.com")).toEqual({ status: "deleted" });
    expect(await c.deleteSuppression("blocks", "c.diaz@initech.example")).toEqual({ status: "deleted" });
    expect(await c.deleteSuppression("bounces", "nobody@acme-corp.com")).toEqual({ status: "not_found" });
    // Deleted: a second call finds nothing.
    expect(await c.deleteSuppression("bounces", "user00@acme-corp.com")).toEqual({ status: "not_found" });
    expect(s.deletes).toEqual([
      { kind: "bounces", email: "user00@acme-corp.com", status: 204 },
      { kind: "blocks", email: "c.diaz@initech.example", status: 204 },
      { kind: "bounces", email: "nobody@acme-corp.com", status: 404 },
      { kind: "bounces", email: "user00@acme-corp.com", status: 404 },
    ]);
    expect(s.list("bounces").map((b) => b.email)).not.toContain("user00@acme-corp.com");
    expect(s.list("blocks")).toEqual([]);
    expect(s.requests.every((r) => r.method === "DELETE" && r.authorization === `Bearer ${KEY}`)).toBe(true);
  });

  it("escapes the address in the path", async () => {
    const s = await start({
      bounces: [{ ...BLOCKS[0], email: "o'neil+tag/x@acme-corp.com" } as SuppressionEntry],
    });
    expect(await client().deleteSuppression("bounces", "o'neil+tag/x@acme-corp.com")).toEqual({
      status: "deleted",
    });
    expect(s.requests[0]?.path).toBe("/v3/suppression/bounces/o'neil%2Btag%2Fx%40acme-corp.com");
  });

  it("retries a 429 on delete, then deletes once", async () => {
    const s = await start();
    s.fail({ kind: "rate-limit" }, { method: "DELETE" });
    expect(await client().deleteSuppression("bounces", "user01@acme-corp.com")).toEqual({
      status: "deleted",
    });
    expect(sleeps).toEqual([1000]);
    expect(s.deletes).toEqual([{ kind: "bounces", email: "user01@acme-corp.com", status: 204 }]);
  });

  it("refuses something that is not an address before calling", async () => {
    const s = await start();
    await expect(client().deleteSuppression("bounces", "")).rejects.toThrow(RangeError);
    await expect(client().deleteSuppression("bounces", "no at sign")).rejects.toThrow(RangeError);
    expect(s.requests).toEqual([]);
  });
});

describe("SendgridClient against a scripted fetch", () => {
  it("uses the region's host, Bearer auth and on-behalf-of", async () => {
    for (const [region, host] of [
      ["global", "https://api.sendgrid.com"],
      ["eu", "https://api.eu.sendgrid.com"],
    ] as const) {
      const calls: { url: string; init: RequestInit | undefined }[] = [];
      const fetchFn: typeof fetch = async (input, init) => {
        calls.push({ url: String(input), init });
        return new Response("[]", { status: 200 });
      };
      const c = new SendgridClient({ apiKey: KEY, region, fetch: fetchFn, onBehalfOf: "sub-1" });
      await collect(c.suppressionPages("blocks", { start: START, end: END }));
      expect(calls[0]?.url.startsWith(`${host}/v3/suppression/blocks?`)).toBe(true);
      const headers = calls[0]?.init?.headers as Record<string, string>;
      expect(headers.Authorization).toBe(`Bearer ${KEY}`);
      expect(headers["on-behalf-of"]).toBe("sub-1");
    }
  });
});

describe("withRateLimitReset", () => {
  const answer = (headers: Record<string, string>, status = 429) =>
    withRateLimitReset(
      async () => new Response("{}", { status, headers }),
      () => 1_717_000_000_000,
    );

  it("derives Retry-After from an epoch X-RateLimit-Reset, or a small one read as seconds", async () => {
    expect((await answer({ "x-ratelimit-reset": "1717000007" })("http://x")).headers.get("retry-after")).toBe(
      "7",
    );
    expect((await answer({ "x-ratelimit-reset": "1716999000" })("http://x")).headers.get("retry-after")).toBe(
      "0",
    );
    expect((await answer({ "x-ratelimit-reset": "3" })("http://x")).headers.get("retry-after")).toBe("3");
  });

  it("leaves other answers alone", async () => {
    const both = await answer({ "x-ratelimit-reset": "1717000007", "retry-after": "1" })("http://x");
    expect(both.headers.get("retry-after")).toBe("1");
    expect((await answer({ "x-ratelimit-reset": "soon" })("http://x")).headers.get("retry-after")).toBeNull();
    expect(
      (await answer({ "x-ratelimit-reset": "1717000007" }, 200)("http://x")).headers.get("retry-after"),
    ).toBeNull();
  });
});

describe("mapSendgridSuppression", () => {
  const entry = {
    created: 1717000000,
    email: "A.Lee@Acme-Corp.com",
    reason: "550 5.1.1 The email account that you tried to reach does not exist.",
    status: "5.1.1",
  };

  it("maps a bounce list entry to a hard bounced event with a stable id", () => {
    const r = mapSendgridSuppression("bounces", entry);
    expect(r).toEqual({
      ok: true,
      events: [
        {
          id: "sendgrid-suppression:bounces:a.lee@acme-corp.com:1717000000",
          source: "sendgrid",
          occurredAt: "2024-05-29T16:26:40.000Z",
          type: "bounced",
          recipient: "a.lee@acme-corp.com",
          recipientDomain: "acme-corp.com",
          smtp: {
            code: 550,
            enhanced: "5.1.1",
            text: "550 5.1.1 The email account that you tried to reach does not exist.",
          },
          espClass: "hard",
          mxHost: null,
          sendingIp: null,
          ipPool: null,
          messageId: null,
          campaign: null,
        },
      ],
    });
    if (r.ok) for (const e of r.events) expect(ProviderEventSchema.parse(e)).toEqual(e);
    expect(sendgridSuppressionMapper("bounces")(entry)).toEqual(r);
  });

  it("maps a block entry to a block, keeping a reply without status", () => {
    const r = sendgridSuppressionMapper("blocks")({ ...entry, status: "", reason: "blocked by policy" });
    expect(r).toMatchObject({
      ok: true,
      events: [{ espClass: "block", smtp: { code: null, enhanced: null, text: "blocked by policy" } }],
    });
  });

  it.each([
    [{ ...entry, email: undefined }, /^email: missing$/],
    [{ ...entry, email: "nobody" }, /^email: not an email address/],
    [{ ...entry, created: undefined }, /^created: missing$/],
    [{ ...entry, created: 1717000000000 }, /^created: not epoch seconds/],
    [{ ...entry, reason: 5 }, /^reason: /],
    [null, /^record: expected a JSON object/],
  ])("quarantines %j naming the field", (record, reason) => {
    const r = mapSendgridSuppression("bounces", record);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
});
