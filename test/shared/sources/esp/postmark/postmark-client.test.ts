import { afterEach, describe, expect, it } from "vitest";
import { ProviderFetchError } from "../../../../../shared/http/provider-http-client.ts";
import { mapPostmarkBounce } from "../../../../../shared/sources/esp/postmark/map-postmark-bounce.ts";
import {
  PostmarkApiError,
  PostmarkClient,
  type PostmarkClientOptions,
  type PostmarkPage,
  PostmarkWindowError,
} from "../../../../../shared/sources/esp/postmark/postmark-client.ts";
import {
  type PostmarkApiServer,
  type PostmarkServerOptions,
  postmarkBounce,
  postmarkTimestamp,
  startPostmarkApiServer,
} from "../../../../support/postmark-api-server.ts";

const TOKEN = "b1f4c9e2-6a0d-4c1e-9f3b-2d7e8a5c4b10";
const HOUR = 3_600_000;

let server: PostmarkApiServer | null = null;
let sleeps: number[] = [];

afterEach(async () => {
  await server?.stop();
  server = null;
});

async function start(options: Omit<PostmarkServerOptions, "serverToken"> = {}): Promise<PostmarkApiServer> {
  server = await startPostmarkApiServer({ serverToken: TOKEN, ...options });
  return server;
}

function client(overrides: Partial<PostmarkClientOptions> = {}): PostmarkClient {
  sleeps = [];
  return new PostmarkClient({
    serverToken: TOKEN,
    baseUrl: server?.baseUrl ?? "http://127.0.0.1:9",
    timeoutMs: 5_000,
    // Records the wait and returns at once: the tests check what the client asked for, not the clock.
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...overrides,
  });
}

async function collect(pages: AsyncIterable<PostmarkPage>): Promise<PostmarkPage[]> {
  const out: PostmarkPage[] = [];
  for await (const p of pages) out.push(p);
  return out;
}

async function failure(pages: AsyncIterable<PostmarkPage>): Promise<unknown> {
  try {
    for await (const _ of pages) {
      // Reading until it throws.
    }
  } catch (e) {
    return e;
  }
  throw new Error("expected the reader to throw");
}

const ids = (pages: readonly PostmarkPage[]) =>
  pages.flatMap((p) => p.items.map((i) => (i as { ID: number }).ID));

/** `n` bounces spread evenly over [from, from + spanMs), ids from `firstId`. */
function spread(n: number, from: number, spanMs: number, firstId = 1): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) =>
    postmarkBounce(firstId + i, from + Math.floor((i * spanMs) / n)),
  );
}

/** Every listing request stayed within count ≤ 500 and count + offset ≤ 10,000, and none was refused. */
function expectWithinCeiling(s: PostmarkApiServer): void {
  const listings = s.requests.filter((r) => r.path === "/bounces" || r.path === "/messages/outbound");
  expect(listings.length).toBeGreaterThan(0);
  for (const r of listings) {
    expect(Number(r.query.count)).toBeLessThanOrEqual(500);
    expect(Number(r.query.count) + Number(r.query.offset)).toBeLessThanOrEqual(10_000);
  }
  expect(s.requests.filter((r) => r.status !== 200)).toEqual([]);
}

describe("PostmarkClient.bouncePages", () => {
  const from = Date.parse("2026-05-01T04:00:00Z");
  const to = Date.parse("2026-05-01T10:00:00Z");

  it("pages a small window with the Server token and Eastern dates, newest first", async () => {
    const inside = spread(30, from, to - from, 100);
    const outside = [postmarkBounce(1, from - 1), postmarkBounce(2, to), postmarkBounce(3, to + HOUR)];
    const s = await start({ bounces: [...inside, ...outside] });
    const pages = await collect(
      client().bouncePages({ start: new Date(from), end: new Date(to), count: 10 }),
    );
    expect(ids(pages)).toEqual(inside.map((b) => b.ID).reverse());
    // todate is inclusive: the bounce at `to` comes back (TotalCount 31), newest, in the first body only.
    expect(pages.map((p) => [p.label, p.items.length, p.totalCount])).toEqual([
      ["bounces 2026-05-01T00:00:00..2026-05-01T06:00:00 ET offset 0", 9, 31],
      ["bounces 2026-05-01T00:00:00..2026-05-01T06:00:00 ET offset 10", 10, 31],
      ["bounces 2026-05-01T00:00:00..2026-05-01T06:00:00 ET offset 20", 10, 31],
      ["bounces 2026-05-01T00:00:00..2026-05-01T06:00:00 ET offset 30", 1, 31],
    ]);
    expect(JSON.parse(pages[0]?.body ?? "").Bounces[0].ID).toBe(2);
    expect(s.requests.map((r) => [r.query, r.token])).toEqual(
      [0, 10, 20, 30].map((offset) => [
        {
          count: "10",
          offset: String(offset),
          fromdate: "2026-05-01T00:00:00",
          todate: "2026-05-01T06:00:00",
        },
        TOKEN,
      ]),
    );
    expect(pages.flatMap((p) => p.items).every((i) => mapPostmarkBounce(i).ok)).toBe(true);
    expect(sleeps).toEqual([]);
  });

  it("keeps a window with fractional bounds half-open: [start, end)", async () => {
    const a = from + 500;
    const bounces = [
      postmarkBounce(1, a - 1),
      postmarkBounce(2, a),
      postmarkBounce(3, a + HOUR),
      postmarkBounce(4, to + 499),
      postmarkBounce(5, to + 500),
    ];
    const s = await start({ bounces });
    const pages = await collect(client().bouncePages({ start: new Date(a), end: new Date(to + 500) }));
    expect(ids(pages)).toEqual([4, 3, 2]);
    // Widened outward to whole seconds.
    expect(s.requests[0]?.query).toMatchObject({
      fromdate: "2026-05-01T00:00:00",
      todate: "2026-05-01T06:00:01",
    });
  });

  it("passes a message stream", async () => {
    const bounces = [
      postmarkBounce(1, from + HOUR),
      postmarkBounce(2, from + HOUR, { MessageStream: "broadcast" }),
    ];
    const s = await start({ bounces });
    const pages = await collect(
      client().bouncePages({ start: new Date(from), end: new Date(to), messageStream: "broadcast" }),
    );
    expect(ids(pages)).toEqual([2]);
    expect(s.requests[0]?.query.messagestream).toBe("broadcast");
  });

  it("splits a window of 25,000 bounces so no request passes the ceiling, reading each bounce once", async () => {
    const dayStart = Date.parse("2026-05-01T04:00:00Z");
    const day = 24 * HOUR;
    // Evenly spread: 3456 ms apart, so some fall exactly on whole seconds and on the split points.
    const even = spread(23_000, dayStart, day, 1);
    // A burst: 2,000 bounces inside one second.
    const burst = Array.from({ length: 2_000 }, (_, i) =>
      postmarkBounce(100_000 + i, dayStart + 7 * HOUR + 250 + (i % 500)),
    );
    const outside = [postmarkBounce(900_001, dayStart - 1), postmarkBounce(900_002, dayStart + day)];
    const s = await start({ bounces: [...even, ...burst, ...outside] });
    const pages = await collect(
      client().bouncePages({ start: new Date(dayStart), end: new Date(dayStart + day) }),
    );
    const read = ids(pages);
    expect(read).toHaveLength(25_000);
    expect(new Set(read).size).toBe(25_000);
    expect([...read].sort((x, y) => x - y)).toEqual([...even, ...burst].map((b) => b.ID as number));
    expectWithinCeiling(s);
    const windows = new Set(s.requests.map((r) => `${r.query.fromdate}..${r.query.todate}`));
    expect(windows.size).toBeGreaterThanOrEqual(4);
    // Every yielded page comes from a window small enough to page through.
    expect(pages.every((p) => p.totalCount <= 9_500)).toBe(true);
  });

  it.each(["earlier", "later"] as const)(
    "reads across the fall-back night of 1 November 2026 once each (server reads 01:xx as %s)",
    async (ambiguousAs) => {
      const night = Date.parse("2026-11-01T04:00:00Z");
      const bounces = spread(12_000, night, 4 * HOUR);
      const s = await start({ bounces, ambiguousAs });
      const pages = await collect(
        client().bouncePages({ start: new Date(night), end: new Date(night + 4 * HOUR) }),
      );
      const read = ids(pages);
      expect(read).toHaveLength(12_000);
      expect(new Set(read).size).toBe(12_000);
      expectWithinCeiling(s);
    },
  );

  it("widens bounds inside the repeated hour so either reading covers the window", async () => {
    // [05:30Z, 06:30Z): 01:30 EDT to 01:30 EST — the same wall-clock text at both ends.
    const a = Date.parse("2026-11-01T05:30:00Z");
    const b = Date.parse("2026-11-01T06:30:00Z");
    const bounces = [
      postmarkBounce(1, a - 1),
      postmarkBounce(2, a),
      postmarkBounce(3, a + HOUR / 2),
      postmarkBounce(4, b),
    ];
    for (const ambiguousAs of ["earlier", "later"] as const) {
      const s = await start({ bounces, ambiguousAs });
      const pages = await collect(client().bouncePages({ start: new Date(a), end: new Date(b) }));
      expect(ids(pages)).toEqual([3, 2]);
      expect(s.requests[0]?.query).toMatchObject({
        fromdate: "2026-11-01T00:30:00",
        todate: "2026-11-01T02:30:00",
      });
      await s.stop();
      server = null;
    }
  });

  it("reads across the spring-forward night of 8 March 2026 once each", async () => {
    const night = Date.parse("2026-03-08T05:00:00Z");
    const bounces = spread(12_000, night, 4 * HOUR);
    const s = await start({ bounces });
    const pages = await collect(
      client().bouncePages({ start: new Date(night), end: new Date(night + 4 * HOUR) }),
    );
    expect(new Set(ids(pages)).size).toBe(12_000);
    expect(ids(pages)).toHaveLength(12_000);
    expectWithinCeiling(s);
    // 01:59:59 EST is followed by 03:00:00 EDT: no query names a time of the skipped hour.
    expect(s.requests.some((r) => /T02:/.test(`${r.query.fromdate} ${r.query.todate}`))).toBe(false);
  });

  it("fails clearly when one second holds more than the ceiling allows", async () => {
    const sec = Date.parse("2026-05-01T12:00:00Z");
    const bounces = Array.from({ length: 10_000 }, (_, i) => postmarkBounce(i + 1, sec + (i % 1000)));
    const s = await start({ bounces });
    const err = await failure(
      client().bouncePages({ start: new Date(sec - HOUR), end: new Date(sec + HOUR) }),
    );
    expect(err).toBeInstanceOf(PostmarkWindowError);
    expect((err as Error).message).toMatch(/10000 results within one second \(2026-05-01T08:00:00 ET\)/);
    expect((err as Error).message).toMatch(/by other filters/);
    expectWithinCeiling(s);
  });

  it("waits out a 429's Retry-After, then goes on", async () => {
    const s = await start({ bounces: spread(30, from, HOUR) });
    s.failNext({ status: 429, headers: { "retry-after": "2" } });
    const pages = await collect(
      client().bouncePages({ start: new Date(from), end: new Date(to), count: 10 }),
    );
    expect(ids(pages)).toHaveLength(30);
    expect(sleeps).toEqual([2000]);
    expect(s.requests.map((r) => r.status)).toEqual([429, 200, 200, 200]);
    expect(s.requests.map((r) => r.query.offset)).toEqual(["0", "0", "10", "20"]);
  });

  it("retries a 500 and a malformed page with jittered backoff", async () => {
    const s = await start({ bounces: spread(30, from, HOUR) });
    s.failNext({ status: 500 }, { status: 200 });
    const pages = await collect(
      client().bouncePages({ start: new Date(from), end: new Date(to), count: 10 }),
    );
    expect(ids(pages)).toHaveLength(30);
    // random() = 0.5 of 500 then 1000 ms.
    expect(sleeps).toEqual([250, 500]);
    expect(s.requests.map((r) => r.status)).toEqual([500, 200, 200, 200, 200]);
  });

  it("refuses a wrong token at once, with Postmark's error and the Server-token hint", async () => {
    const s = await start({ bounces: spread(3, from, HOUR) });
    const wrong = "a0000000-0000-0000-0000-account-token";
    const err = await failure(
      client({ serverToken: wrong }).bouncePages({ start: new Date(from), end: new Date(to) }),
    );
    expect(err).toBeInstanceOf(PostmarkApiError);
    expect(err).toBeInstanceOf(ProviderFetchError);
    expect(err).toMatchObject({ kind: "auth", status: 401, errorCode: 10 });
    const message = (err as Error).message;
    expect(message).toContain("ErrorCode 10");
    expect(message).toContain("Request does not contain a valid Server token.");
    expect(message).toContain("a Server token, not an Account token");
    expect(message).not.toContain(wrong);
    expect(s.requests).toHaveLength(1);
  });

  it("fails at once on a 422 with its ErrorCode and Message", async () => {
    const s = await start({ bounces: spread(3, from, HOUR) });
    s.failNext({ status: 422, body: JSON.stringify({ ErrorCode: 408, Message: "Bounce query exception." }) });
    const err = await failure(client().bouncePages({ start: new Date(from), end: new Date(to) }));
    expect(err).toMatchObject({
      kind: "http",
      status: 422,
      errorCode: 408,
      apiMessage: "Bounce query exception.",
    });
    expect((err as Error).message).toMatch(/HTTP 422, ErrorCode 408: "Bounce query exception\."/);
    expect(s.requests).toHaveLength(1);
  });

  it("refuses bad arguments before any request", () => {
    const c = client();
    expect(() => c.bouncePages({ start: new Date(from), end: new Date(to), count: 501 })).toThrow(RangeError);
    expect(() => c.bouncePages({ start: new Date(from), end: new Date(to), count: 0 })).toThrow(RangeError);
    expect(() => new PostmarkClient({ serverToken: " " })).toThrow(/serverToken is empty/);
  });

  it("refuses an empty window when read", async () => {
    const err = await failure(client().bouncePages({ start: new Date(to), end: new Date(from) }));
    expect(err).toBeInstanceOf(RangeError);
  });
});

describe("PostmarkClient.outboundPages", () => {
  it("reads sent messages by ReceivedAt, with status=sent", async () => {
    const base = Date.parse("2026-05-01T12:00:00Z");
    const message = (n: number, ms: number, Status = "Sent") => ({
      MessageID: `m-${n}`,
      Recipients: [`user${n}@acme-corp.com`],
      To: [{ Email: `user${n}@acme-corp.com`, Name: null }],
      ReceivedAt: postmarkTimestamp(ms),
      Status,
      MessageStream: "outbound",
    });
    const s = await start({
      messages: [
        message(1, base),
        message(2, base + 1000),
        message(3, base + 2000, "Queued"),
        message(4, base + HOUR),
      ],
    });
    const pages = await collect(
      client().outboundPages({ start: new Date(base), end: new Date(base + HOUR), count: 1 }),
    );
    expect(pages.flatMap((p) => p.items.map((m) => (m as { MessageID: string }).MessageID))).toEqual([
      "m-2",
      "m-1",
    ]);
    expect(s.requests[0]?.path).toBe("/messages/outbound");
    expect(s.requests[0]?.query).toMatchObject({
      status: "sent",
      count: "1",
      fromdate: "2026-05-01T08:00:00",
    });
    expect(pages[0]?.label).toMatch(/^messages 2026-05-01T08:00:00\.\.2026-05-01T09:00:00 ET offset 0$/);
  });
});

describe("PostmarkClient.activateBounce", () => {
  const at = Date.parse("2026-05-01T12:00:00Z");

  it("activates what can be, once each; reports the rest without a PUT", async () => {
    const s = await start({
      bounces: [
        postmarkBounce(11, at),
        postmarkBounce(12, at, { CanActivate: false }),
        postmarkBounce(13, at),
      ],
    });
    const c = client();
    expect(await c.activateBounce(11)).toEqual({
      id: "11",
      status: "activated",
      errorCode: null,
      message: "OK",
    });
    expect(await c.activateBounce("13")).toMatchObject({ status: "activated" });
    expect(await c.activateBounce(12)).toEqual({
      id: "12",
      status: "not_activatable",
      errorCode: null,
      message: "CanActivate is false",
    });
    expect(await c.activateBounce(99)).toEqual({
      id: "99",
      status: "not_found",
      errorCode: 407,
      message: "Bounce not found.",
    });
    expect(s.activateCalls).toEqual(["11", "13"]);
    expect(s.bounce(11)?.Inactive).toBe(false);
    expect(s.bounce(12)?.Inactive).toBe(true);
    expect(s.requests.every((r) => r.token === TOKEN)).toBe(true);
  });

  it("reads a 422 refusal of the PUT as not activatable, with Postmark's code and message", async () => {
    const s = await start({ bounces: [postmarkBounce(21, at)] });
    s.failNext({
      status: 422,
      path: "/bounces/21/activate",
      body: JSON.stringify({ ErrorCode: 0, Message: "This bounce cannot be activated." }),
    });
    expect(await client().activateBounce(21)).toEqual({
      id: "21",
      status: "not_activatable",
      errorCode: 0,
      message: "This bounce cannot be activated.",
    });
    expect(s.requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ["GET", "/bounces/21", 200],
      ["PUT", "/bounces/21/activate", 422],
    ]);
  });

  it("reads a 404 as not found, and refuses a bad id before any request", async () => {
    const s = await start({ bounces: [postmarkBounce(31, at)] });
    s.failNext({
      status: 404,
      path: "/bounces/31",
      body: JSON.stringify({ ErrorCode: 0, Message: "Not found" }),
    });
    expect(await client().activateBounce(31)).toMatchObject({ status: "not_found" });
    await expect(client().activateBounce("31; DROP")).rejects.toThrow(RangeError);
    await expect(client().activateBounce(0)).rejects.toThrow(RangeError);
    expect(s.requests).toHaveLength(1);
  });

  it("retries a 429 on the PUT and activates once", async () => {
    const s = await start({ bounces: [postmarkBounce(41, at)] });
    s.failNext({ status: 429, path: "/bounces/41/activate", headers: { "retry-after": "1" } });
    expect(await client().activateBounce(41)).toMatchObject({ status: "activated" });
    expect(sleeps).toEqual([1000]);
    expect(s.activateCalls).toEqual(["41"]);
  });
});

describe("PostmarkClient against a scripted fetch", () => {
  it("calls api.postmarkapp.com with the Server token header, and reads a null list as empty", async () => {
    const calls: Array<{ url: string; headers: Record<string, string> }> = [];
    const fetchFn: typeof fetch = async (input, init) => {
      calls.push({ url: String(input), headers: init?.headers as Record<string, string> });
      return new Response(JSON.stringify({ TotalCount: 0, Bounces: null }), { status: 200 });
    };
    const c = new PostmarkClient({ serverToken: TOKEN, fetch: fetchFn, sleep: async () => {} });
    const pages = await collect(
      c.bouncePages({ start: new Date("2026-05-01T04:00:00Z"), end: new Date("2026-05-01T05:00:00Z") }),
    );
    expect(pages).toHaveLength(1);
    expect(pages[0]?.items).toEqual([]);
    expect(calls[0]?.url).toBe(
      "https://api.postmarkapp.com/bounces?count=500&offset=0&fromdate=2026-05-01T00%3A00%3A00&todate=2026-05-01T01%3A00%3A00",
    );
    expect(calls[0]?.headers).toMatchObject({ "X-Postmark-Server-Token": TOKEN, Accept: "application/json" });
  });

  it("stops with a clear error when a window grows past the ceiling while being read", async () => {
    let call = 0;
    const fetchFn: typeof fetch = async () => {
      call++;
      // 9,000 at first (fits), then the window keeps growing (a window that has not closed).
      const body = {
        TotalCount: call === 1 ? 9_000 : 50_000,
        Bounces: Array.from({ length: 500 }, () => ({})),
      };
      return new Response(JSON.stringify(body), { status: 200 });
    };
    const c = new PostmarkClient({ serverToken: TOKEN, fetch: fetchFn, sleep: async () => {} });
    const err = await failure(
      c.bouncePages({ start: new Date("2026-05-01T04:00:00Z"), end: new Date("2026-05-01T05:00:00Z") }),
    );
    expect(err).toBeInstanceOf(PostmarkWindowError);
    expect((err as Error).message).toMatch(/grew to 50000 results while being read/);
    // Offsets 0, 500, …, 9500: never past the ceiling.
    expect(call).toBe(20);
  });

  it("treats a page without TotalCount as malformed and gives up after maxAttempts", async () => {
    const fetchFn: typeof fetch = async () => new Response(JSON.stringify({ Bounces: [] }), { status: 200 });
    const c = new PostmarkClient({
      serverToken: TOKEN,
      fetch: fetchFn,
      maxAttempts: 2,
      sleep: async () => {},
    });
    const err = await failure(
      c.bouncePages({ start: new Date("2026-05-01T04:00:00Z"), end: new Date("2026-05-01T05:00:00Z") }),
    );
    expect(err).toMatchObject({ kind: "exhausted", attempts: 2 });
    expect((err as Error).message).toMatch(/malformed response \(TotalCount: /);
  });
});
