import { afterEach, describe, expect, it } from "vitest";
import {
  type MailgunFault,
  type MailgunServer,
  startMailgunServer,
} from "../../../../../shared/simulation/mailgun-api-server.ts";
import {
  MailgunClient,
  type MailgunClientOptions,
  MailgunFetchError,
  type MailgunPage,
  parseRetryAfter,
  rfc2822,
} from "../../../../../shared/sources/esp/mailgun/mailgun-client.ts";
import { mapMailgunEvent } from "../../../../../shared/sources/esp/mailgun/map-mailgun-event.ts";
import { type MailgunTestEvent, makeMailgunEvents } from "../../../../support/mailgun-events.ts";

const KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0";
const DOMAIN = "mg.example.com";
const START = new Date("2024-05-29T00:00:00Z");
// Whole seconds, so the client's widening to whole seconds changes nothing.
const BEGIN = new Date("2024-05-29T00:30:00Z");
const END = new Date("2024-05-29T02:30:00Z");

const ours = makeMailgunEvents({ count: 40, start: START, seed: 7, spanMs: 3 * 3_600_000, domain: DOMAIN });
const theirs = makeMailgunEvents({
  count: 15,
  start: START,
  seed: 8,
  spanMs: 3 * 3_600_000,
  domain: "mg.other.com",
});
const opened = {
  ...ours[20],
  id: "openedEventInWindow000",
  event: "opened",
  timestamp: BEGIN.getTime() / 1000 + 60,
};
const ALL: unknown[] = [...ours, ...theirs, opened];

/** What a correct traversal of [BEGIN, END) on DOMAIN returns: ours in the window, ascending. */
function expectedIds(events: readonly MailgunTestEvent[], begin = BEGIN, end = END): string[] {
  return events
    .filter((e) => e.timestamp >= begin.getTime() / 1000 && e.timestamp < end.getTime() / 1000)
    .sort((a, b) => a.timestamp - b.timestamp)
    .map((e) => e.id);
}

let server: MailgunServer | null = null;
let sleeps: number[] = [];

afterEach(async () => {
  await server?.stop();
  server = null;
});

async function start(faults: MailgunFault[] = [], events: unknown[] = ALL, domains?: string[]) {
  server = await startMailgunServer({ apiKey: KEY, events, faults, ...(domains ? { domains } : {}) });
  return server;
}

function client(overrides: Partial<MailgunClientOptions> = {}): MailgunClient {
  sleeps = [];
  return new MailgunClient({
    apiKey: KEY,
    region: "us",
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

async function collect(pages: AsyncIterable<MailgunPage>): Promise<MailgunPage[]> {
  const out: MailgunPage[] = [];
  for await (const p of pages) out.push(p);
  return out;
}

/** Collects until the reader throws; returns the pages read before, and the error. */
async function collectUntilError(
  pages: AsyncIterable<MailgunPage>,
): Promise<[MailgunPage[], MailgunFetchError]> {
  const out: MailgunPage[] = [];
  try {
    for await (const p of pages) out.push(p);
  } catch (e) {
    if (e instanceof MailgunFetchError) return [out, e];
    throw e;
  }
  throw new Error(`expected a MailgunFetchError, got ${out.length} pages and no error`);
}

function idsOf(pages: readonly MailgunPage[]): string[] {
  return pages.flatMap((p) => p.items.map((i) => (i as { id: string }).id));
}

const events = (c: MailgunClient, limit = 7) =>
  c.eventsPages({ domain: DOMAIN, begin: BEGIN, end: END, limit });

describe("MailgunClient.eventsPages", () => {
  it("walks every page in ascending order, each event once, ending on the empty page", async () => {
    const s = await start();
    const pages = await collect(events(client()));
    const expected = expectedIds(ours);
    expect(expected.length).toBeGreaterThan(20);
    expect(idsOf(pages)).toEqual(expected);
    expect(pages).toHaveLength(Math.ceil(expected.length / 7) + 1);
    expect(pages.at(-1)?.items).toEqual([]);
    expect(pages.at(-1)?.next).toBeNull();
    for (const [i, p] of pages.entries()) {
      // The body is the exact response text, landed raw by the pipeline.
      expect(JSON.parse(p.body).items).toEqual(p.items);
      expect(p.next).toBe(pages[i + 1]?.url ?? null);
    }
    const first = new URL(pages[0]?.url ?? "");
    expect(first.pathname).toBe(`/v3/${DOMAIN}/events`);
    expect(Object.fromEntries(first.searchParams)).toEqual({
      begin: String(BEGIN.getTime() / 1000),
      end: String(END.getTime() / 1000),
      ascending: "yes",
      limit: "7",
      event: "delivered OR failed OR rejected OR complained",
    });
    expect(s.log.every((r) => r.status === 200)).toBe(true);
    expect(sleeps).toEqual([]);
  });

  it("yields items the mapper accepts", async () => {
    await start();
    const pages = await collect(events(client(), 300));
    const mapped = pages.flatMap((p) => p.items.map((i) => mapMailgunEvent(i)));
    expect(mapped.length).toBe(expectedIds(ours).length);
    expect(mapped.every((m) => m.ok)).toBe(true);
  });

  it("honours Retry-After in seconds on a 429", async () => {
    const s = await start([{ kind: "rate-limit", page: 2 }]);
    const pages = await collect(events(client()));
    expect(idsOf(pages)).toEqual(expectedIds(ours));
    expect(sleeps).toEqual([1000]);
    expect(s.log.filter((r) => r.page === 2).map((r) => r.status)).toEqual([429, 200]);
  });

  it("honours Retry-After as an HTTP date", async () => {
    await start([{ kind: "rate-limit", page: 1, retryAfter: new Date(Date.now() + 5_000).toUTCString() }]);
    await collect(events(client()));
    expect(sleeps).toHaveLength(1);
    // The date has whole seconds: between 4 and 5 s from now, minus the time the request took.
    expect(sleeps[0]).toBeGreaterThan(3_000);
    expect(sleeps[0]).toBeLessThanOrEqual(5_000);
  });

  it("falls back to backoff when Retry-After cannot be read", async () => {
    await start([{ kind: "rate-limit", page: 1, retryAfter: "soon" }]);
    await collect(events(client()));
    expect(sleeps).toEqual([250]);
  });

  it("retries 500s with exponential backoff and full jitter", async () => {
    const s = await start([{ kind: "server-error", page: 3, times: 3 }]);
    const pages = await collect(events(client()));
    expect(idsOf(pages)).toEqual(expectedIds(ours));
    // random() = 0.5 of 500, 1000, 2000 ms.
    expect(sleeps).toEqual([250, 500, 1000]);
    expect(s.log.filter((r) => r.page === 3).map((r) => r.status)).toEqual([500, 500, 500, 200]);
  });

  it("caps the backoff at 30 s and gives up after maxAttempts with a MailgunFetchError", async () => {
    const s = await start([{ kind: "server-error", page: 2, times: Number.POSITIVE_INFINITY }]);
    const [pages, err] = await collectUntilError(events(client({ maxAttempts: 9 })));
    expect(pages).toHaveLength(1);
    expect(sleeps).toEqual([250, 500, 1000, 2000, 4000, 8000, 15000, 15000]);
    expect(err).toMatchObject({ kind: "exhausted", status: 500, attempts: 9 });
    expect(err.url).toMatch(new RegExp(`^${s.baseUrl}/v3/${DOMAIN}/events/`));
    expect(err.message).toContain(err.url);
    expect(err.message).toMatch(/after 9 attempts/);
  });

  it("cuts a hung response with the timeout and retries", async () => {
    const s = await start([{ kind: "hang", page: 2 }]);
    const t0 = Date.now();
    const pages = await collect(events(client({ timeoutMs: 200 })));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    expect(idsOf(pages)).toEqual(expectedIds(ours));
    expect(sleeps).toHaveLength(1);
    expect(s.log.filter((r) => r.page === 2).map((r) => r.fault)).toEqual(["hang", null]);
  });

  it("cuts a body that stalls halfway with the same timeout", async () => {
    const s = await start([{ kind: "stall", page: 1 }]);
    const pages = await collect(events(client({ timeoutMs: 200 })));
    expect(idsOf(pages)).toEqual(expectedIds(ours));
    expect(s.log.filter((r) => r.page === 1)).toHaveLength(2);
  });

  it("reports a response that never comes, without a status", async () => {
    await start([{ kind: "hang", page: 1, times: Number.POSITIVE_INFINITY }]);
    const [, err] = await collectUntilError(events(client({ timeoutMs: 100, maxAttempts: 2 })));
    expect(err).toMatchObject({ kind: "exhausted", status: null, attempts: 2 });
    expect(err.message).toMatch(/no complete response within 100 ms/);
  });

  it("waits out a slow response inside the timeout", async () => {
    const s = await start([{ kind: "slow", page: 1, delayMs: 100 }]);
    const pages = await collect(events(client({ timeoutMs: 2_000 })));
    expect(idsOf(pages)).toEqual(expectedIds(ours));
    expect(sleeps).toEqual([]);
    expect(s.log.filter((r) => r.page === 1)).toHaveLength(1);
  });

  it("retries a malformed page and never yields it", async () => {
    const s = await start([{ kind: "malformed", page: 2 }]);
    const pages = await collect(events(client()));
    expect(idsOf(pages)).toEqual(expectedIds(ours));
    expect(sleeps).toEqual([250]);
    expect(s.log.filter((r) => r.page === 2).map((r) => r.fault)).toEqual(["malformed", null]);
  });

  it("fails with MailgunFetchError naming the URL when pages stay malformed", async () => {
    const s = await start([{ kind: "malformed", page: 2, times: Number.POSITIVE_INFINITY }]);
    const [pages, err] = await collectUntilError(events(client({ maxAttempts: 3 })));
    expect(pages).toHaveLength(1);
    expect(err).toMatchObject({ kind: "exhausted", status: 200, attempts: 3 });
    expect(err.message).toMatch(/malformed page/);
    expect(err.url).toBe(pages[0]?.next);
    expect(s.log.filter((r) => r.page === 2)).toHaveLength(3);
  });

  it("refuses a wrong key at once, without the key in the message", async () => {
    const s = await start();
    const wrong = "key-wrong-0000000000000000000000000";
    const [, err] = await collectUntilError(events(client({ apiKey: wrong })));
    expect(err).toMatchObject({ kind: "auth", status: 401, attempts: 1 });
    expect(err.message).toMatch(/refused the API key/);
    expect(err.message).not.toContain(wrong);
    expect(JSON.stringify(err)).not.toContain(wrong);
    expect(s.log).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("fails at once on another 4xx, with status and body excerpt", async () => {
    const s = await start([], ALL, [DOMAIN]);
    const c = client();
    const [, err] = await collectUntilError(
      c.eventsPages({ domain: "mg.unknown.com", begin: BEGIN, end: END }),
    );
    expect(err).toMatchObject({ kind: "http", status: 404, attempts: 1 });
    expect(err.message).toMatch(/HTTP 404/);
    expect(err.message).toContain("Domain not found: mg.unknown.com");
    expect(s.log).toHaveLength(1);
  });

  it("stops with an error when a page comes back twice (paging loop)", async () => {
    await start([{ kind: "duplicate", page: 3 }]);
    const [pages, err] = await collectUntilError(events(client()));
    expect(pages).toHaveLength(2);
    expect(err.kind).toBe("paging");
    expect(err.message).toMatch(/loops/);
  });

  it("retries network errors, then reports no status", async () => {
    const s = await start();
    const baseUrl = s.baseUrl;
    await s.stop();
    server = null;
    const [, err] = await collectUntilError(events(client({ baseUrl, maxAttempts: 3 })));
    expect(err).toMatchObject({ kind: "exhausted", status: null, attempts: 3 });
    expect(err.message).toMatch(/network error/);
    expect(sleeps).toEqual([250, 500]);
  });
});

/** A fetch that answers from a list of bodies and records what it was asked. */
function fakeFetch(bodies: string[]) {
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  const fn: typeof fetch = async (input, init) => {
    calls.push({ url: String(input), init });
    const body = bodies[Math.min(calls.length - 1, bodies.length - 1)] ?? "";
    return new Response(body, { status: 200, headers: { "Content-Type": "application/json" } });
  };
  return { fn, calls };
}

describe("MailgunClient against a scripted fetch", () => {
  it("uses the region's host and Basic auth as user api", async () => {
    for (const [region, host] of [
      ["us", "https://api.mailgun.net"],
      ["eu", "https://api.eu.mailgun.net"],
    ] as const) {
      const f = fakeFetch([JSON.stringify({ items: [], paging: {} })]);
      const c = new MailgunClient({ apiKey: KEY, region, fetch: f.fn, sleep: async () => {} });
      await collect(c.eventsPages({ domain: DOMAIN, begin: BEGIN, end: END }));
      expect(f.calls[0]?.url.startsWith(`${host}/v3/${DOMAIN}/events?`)).toBe(true);
      const headers = f.calls[0]?.init?.headers as Record<string, string>;
      expect(headers.Authorization).toBe(`Basic ${Buffer.from(`api:${KEY}`).toString("base64")}`);
    }
  });

  it("refuses a paging.next on another host, before sending the key there", async () => {
    const page = { items: [ours[0]], paging: { next: "https://evil.example/v3/mg.example.com/events/abc" } };
    const f = fakeFetch([JSON.stringify(page)]);
    const c = new MailgunClient({ apiKey: KEY, region: "us", fetch: f.fn, sleep: async () => {} });
    const [pages, err] = await collectUntilError(c.eventsPages({ domain: DOMAIN, begin: BEGIN, end: END }));
    expect(err.kind).toBe("paging");
    expect(err.message).toMatch(/leaves the API host/);
    expect(pages).toEqual([]);
    expect(f.calls).toHaveLength(1);
  });

  it("treats a JSON page without items, or a full page without paging.next, as malformed", async () => {
    for (const body of [{ message: "ok" }, { items: [ours[0]] }]) {
      const f = fakeFetch([JSON.stringify(body)]);
      const c = new MailgunClient({
        apiKey: KEY,
        region: "us",
        fetch: f.fn,
        maxAttempts: 2,
        sleep: async () => {},
      });
      const [, err] = await collectUntilError(c.eventsPages({ domain: DOMAIN, begin: BEGIN, end: END }));
      expect(err).toMatchObject({ kind: "exhausted", status: 200, attempts: 2 });
      expect(err.message).toMatch(/malformed page \((no items array|no paging\.next)\)/);
    }
  });

  it("stops with an error when the Logs API hands back a token already followed", async () => {
    const page = JSON.stringify({ items: [ours[0]], pagination: { next: "tok-1" } });
    const f = fakeFetch([page]);
    const c = new MailgunClient({ apiKey: KEY, region: "us", fetch: f.fn, sleep: async () => {} });
    const [pages, err] = await collectUntilError(c.logsPages({ start: BEGIN, end: END }));
    expect(pages).toHaveLength(1);
    expect(err.kind).toBe("paging");
    expect(f.calls).toHaveLength(2);
  });
});

describe("MailgunClient.logsPages", () => {
  it("follows pagination tokens to the end, ascending, each event once", async () => {
    const s = await start([{ kind: "rate-limit", page: 2 }]);
    const pages = await collect(client().logsPages({ start: BEGIN, end: END, limit: 10 }));
    // Account-wide: both domains, without the opened event.
    const expected = expectedIds([...ours, ...theirs]);
    expect(idsOf(pages)).toEqual(expected);
    expect(pages).toHaveLength(Math.ceil(expected.length / 10));
    expect(pages.at(-1)?.next).toBeNull();
    expect(sleeps).toEqual([1000]);
    for (const p of pages) {
      expect(p.url).toBe(`${s.baseUrl}/v1/analytics/logs`);
      for (const item of p.items as Record<string, unknown>[]) {
        expect(item["@timestamp"]).toMatch(/^2024-05-29T\d\d:\d\d:\d\d\.\d{3}Z$/);
        expect(item.timestamp).toBeUndefined();
      }
    }
    const bodies = s.log.filter((r) => r.status === 200).map((r) => r.body as Record<string, unknown>);
    expect(bodies[0]).toEqual({
      start: "Wed, 29 May 2024 00:30:00 +0000",
      end: "Wed, 29 May 2024 02:30:00 +0000",
      events: ["delivered", "failed", "rejected", "complained"],
      include_totals: false,
      pagination: { sort: "timestamp:asc", limit: 10 },
    });
    expect(bodies.slice(1).map((b) => (b.pagination as { token?: string }).token)).toEqual(
      pages.slice(0, -1).map((p) => p.next),
    );
  });

  it("gives Logs items the same event ids as the Events API", async () => {
    await start();
    const c = client();
    const viaLogs = (await collect(c.logsPages({ start: BEGIN, end: END }))).flatMap((p) => p.items);
    const viaEvents = (await collect(events(c, 300))).flatMap((p) => p.items);
    const ids = (items: unknown[]) =>
      items.flatMap((i) => {
        const m = mapMailgunEvent(i);
        return m.ok ? m.events.map((e) => e.id) : [`quarantined: ${m.reason}`];
      });
    const ourLogIds = ids(viaLogs).filter(
      (_, i) => (viaLogs[i] as { domain: { name: string } }).domain.name === DOMAIN,
    );
    expect(ourLogIds).toEqual(ids(viaEvents));
  });

  it("retries a 500 and a malformed page", async () => {
    await start([
      { kind: "server-error", page: 1 },
      { kind: "malformed", page: 2 },
    ]);
    const pages = await collect(client().logsPages({ start: BEGIN, end: END, limit: 10 }));
    expect(idsOf(pages)).toEqual(expectedIds([...ours, ...theirs]));
    expect(sleeps).toEqual([250, 250]);
  });

  it("ends on an empty result with a single page", async () => {
    await start([], []);
    const pages = await collect(client().logsPages({ start: BEGIN, end: END }));
    expect(pages).toHaveLength(1);
    expect(pages[0]).toMatchObject({ items: [], next: null });
  });
});

describe("helpers", () => {
  it("parses Retry-After as seconds or an HTTP date", () => {
    const now = Date.parse("2024-05-29T00:00:00Z");
    expect(parseRetryAfter("1", now)).toBe(1000);
    expect(parseRetryAfter("Wed, 29 May 2024 00:00:07 GMT", now)).toBe(7000);
    expect(parseRetryAfter("Tue, 28 May 2024 00:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });

  it("formats RFC 2822 dates in UTC", () => {
    expect(rfc2822(new Date("2024-05-27T00:00:00Z"))).toBe("Mon, 27 May 2024 00:00:00 +0000");
    expect(rfc2822(new Date("2024-12-01T09:05:03.999Z"))).toBe("Sun, 01 Dec 2024 09:05:03 +0000");
  });
});
