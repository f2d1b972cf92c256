import { afterEach, describe, expect, it } from "vitest";
import { ProviderFetchError } from "../../../../../shared/http/provider-http-client.ts";
import { mapSparkpostEvent } from "../../../../../shared/sources/esp/sparkpost/map-sparkpost-event.ts";
import {
  DEFAULT_SPARKPOST_EVENT_TYPES,
  SparkpostClient,
  type SparkpostClientOptions,
  type SparkpostEventPage,
  SparkpostPagingError,
  sparkpostMinute,
} from "../../../../../shared/sources/esp/sparkpost/sparkpost-client.ts";
import {
  type SparkpostApiServer,
  type SparkpostFault,
  startSparkpostApiServer,
} from "../../../../support/sparkpost-api-server.ts";

const KEY = "5f3c0a8e9d7b6a5c4e3f2a1b0c9d8e7f6a5b4c3d";
const START = new Date("2024-05-29T00:00:00Z");
const END = new Date("2024-05-29T03:00:00Z");
const TYPES = ["delivery", "bounce", "delay", "out_of_band", "policy_rejection"] as const;
const CORPS = ["acme-corp.com", "globex.com", "initech.com", "hooli.io", "gmail.com"];

/** n events every `stepMin` minutes from `from`, types and classes cycling; ids distinct. */
function makeEvents(
  n: number,
  from: Date,
  stepMin: number,
  idBase = 1_235_692_769_381_000,
): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => {
    const type = TYPES[i % TYPES.length] as string;
    const domain = CORPS[i % CORPS.length] as string;
    const failed = type !== "delivery";
    return {
      type,
      event_id: String(idBase + i),
      timestamp: new Date(from.getTime() + i * stepMin * 60_000).toISOString().replace("Z", "+00:00"),
      message_id: `000443ee1457817${String(i).padStart(5, "0")}`,
      rcpt_to: `user${i}@${domain}`,
      routing_domain: domain,
      sending_ip: "192.0.2.10",
      ip_pool: "transactional",
      ...(failed
        ? {
            bounce_class: type === "delay" ? "21" : type === "policy_rejection" ? "25" : "10",
            error_code: type === "delay" ? "451" : "550",
            raw_reason: type === "delay" ? "451 4.4.0 DNS temporary failure" : "550 5.1.1 user unknown",
          }
        : {}),
    };
  });
}

// 25 in [START, END) at 5-minute steps; 4 before and 3 after the window; 5 opens inside it (filtered out).
const inside = makeEvents(25, new Date("2024-05-29T00:05:00Z"), 5);
const before = makeEvents(4, new Date("2024-05-28T23:00:00Z"), 10, 1_000);
const after = makeEvents(3, new Date("2024-05-29T03:00:00Z"), 10, 2_000);
const opens = makeEvents(5, new Date("2024-05-29T01:00:00Z"), 1, 3_000).map((e) => ({ ...e, type: "open" }));
const ALL = [...inside, ...before, ...after, ...opens];

/** What a correct traversal of [START, END) returns: the inside events, newest first. */
const expectedIds = [...inside]
  .sort((a, b) => Date.parse(String(b.timestamp)) - Date.parse(String(a.timestamp)))
  .map((e) => e.event_id);

let server: SparkpostApiServer | null = null;
let sleeps: number[] = [];

afterEach(async () => {
  await server?.stop();
  server = null;
});

async function start(faults: SparkpostFault[] = [], metricsRows: Record<string, unknown>[] = []) {
  server = await startSparkpostApiServer({ apiKey: KEY, events: ALL, faults, metricsRows });
  return server;
}

function client(overrides: Partial<SparkpostClientOptions> = {}): SparkpostClient {
  sleeps = [];
  return new SparkpostClient({
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

async function collect(pages: AsyncIterable<SparkpostEventPage>): Promise<SparkpostEventPage[]> {
  const out: SparkpostEventPage[] = [];
  for await (const p of pages) out.push(p);
  return out;
}

async function collectUntilError(
  pages: AsyncIterable<SparkpostEventPage>,
): Promise<[SparkpostEventPage[], Error]> {
  const out: SparkpostEventPage[] = [];
  try {
    for await (const p of pages) out.push(p);
  } catch (e) {
    if (e instanceof Error) return [out, e];
    throw e;
  }
  throw new Error(`expected an error, got ${out.length} pages and none`);
}

const idsOf = (pages: readonly SparkpostEventPage[]) =>
  pages.flatMap((p) => p.items.map((i) => (i as { event_id: string }).event_id));

const pages = (c: SparkpostClient, perPage = 10) => c.eventPages({ start: START, end: END, perPage });

describe("SparkpostClient.eventPages", () => {
  it("follows the cursor across 3 pages, reading every event in the window once, newest first", async () => {
    const s = await start();
    const got = await collect(pages(client()));
    expect(got).toHaveLength(3);
    expect(got.map((p) => p.items.length)).toEqual([10, 10, 5]);
    expect(idsOf(got)).toEqual(expectedIds);
    expect(new Set(idsOf(got)).size).toBe(25);
    expect(got.map((p) => p.label)).toEqual(["events page 1", "events page 2", "events page 3"]);
    for (const [i, p] of got.entries()) {
      // The body is the exact response text, landed raw by the pipeline.
      expect(JSON.parse(p.body).results).toEqual(p.items);
      expect(p.totalCount).toBe(25);
      expect(p.next).toBe(got[i + 1]?.url ?? null);
    }
    const first = new URL(got[0]?.url ?? "");
    expect(first.pathname).toBe("/api/v1/events/message");
    expect(Object.fromEntries(first.searchParams)).toEqual({
      from: "2024-05-29T00:00",
      to: "2024-05-29T03:00",
      timezone: "UTC",
      events: DEFAULT_SPARKPOST_EVENT_TYPES.join(","),
      per_page: "10",
      cursor: "initial",
    });
    expect(s.log.map((r) => [r.page, r.status, r.authorized])).toEqual([
      [1, 200, true],
      [2, 200, true],
      [3, 200, true],
    ]);
    expect(sleeps).toEqual([]);
  });

  it("yields items the mapper accepts", async () => {
    await start();
    const got = await collect(pages(client(), 1000));
    expect(got).toHaveLength(1);
    const mapped = got.flatMap((p) => p.items.map((i) => mapSparkpostEvent(i)));
    expect(mapped.every((m) => m.ok)).toBe(true);
    expect(mapped.flatMap((m) => (m.ok ? m.events.map((e) => e.type) : []))).toHaveLength(25);
  });

  it("widens the window to whole minutes", async () => {
    await start();
    const got = await collect(
      client().eventPages({
        start: new Date("2024-05-29T00:04:59.999Z"),
        end: new Date("2024-05-29T00:10:00.001Z"),
      }),
    );
    const q = new URL(got[0]?.url ?? "").searchParams;
    expect([q.get("from"), q.get("to"), q.get("per_page")]).toEqual([
      "2024-05-29T00:04",
      "2024-05-29T00:11",
      "1000",
    ]);
    expect(idsOf(got)).toEqual([inside[1]?.event_id, inside[0]?.event_id]);
  });

  it("waits out a 429 as Retry-After says, then reads on", async () => {
    const s = await start([{ kind: "rate-limit", page: 2, retryAfter: "3" }]);
    const got = await collect(pages(client()));
    expect(idsOf(got)).toEqual(expectedIds);
    expect(sleeps).toEqual([3000]);
    expect(s.log.filter((r) => r.page === 2).map((r) => r.status)).toEqual([429, 200]);
  });

  it("backs off on a 429 without Retry-After, a 500 and a malformed page", async () => {
    const s = await start([
      { kind: "rate-limit", page: 1, retryAfter: null },
      { kind: "server-error", page: 2 },
      { kind: "malformed", page: 3 },
    ]);
    const got = await collect(pages(client()));
    expect(idsOf(got)).toEqual(expectedIds);
    // Full jitter with random 0.5 on the first retry: half of 500 ms.
    expect(sleeps).toEqual([250, 250, 250]);
    expect(s.log.map((r) => r.fault)).toEqual(["rate-limit", null, "server-error", null, "malformed", null]);
  });

  it("gives up after maxAttempts on a persisting 500", async () => {
    await start([{ kind: "server-error", page: 2, times: Number.POSITIVE_INFINITY }]);
    const [got, err] = await collectUntilError(pages(client({ maxAttempts: 3 })));
    expect(got).toHaveLength(1);
    expect(err).toBeInstanceOf(ProviderFetchError);
    expect(err).toMatchObject({ kind: "exhausted", status: 500, attempts: 3 });
  });

  it("refuses a next link to another host before sending the key there", async () => {
    const s = await start([{ kind: "off-host", page: 2 }]);
    const asked: string[] = [];
    const c = client({
      fetch: (input, init) => {
        asked.push(String(input));
        return fetch(input, init);
      },
    });
    const [got, err] = await collectUntilError(pages(c));
    expect(got).toHaveLength(1);
    expect(err).toBeInstanceOf(SparkpostPagingError);
    expect(err.message).toMatch(/leaves the API host \(https:\/\/evil\.example/);
    expect((err as SparkpostPagingError).url.startsWith("https://evil.example/api/v1/events/message?")).toBe(
      true,
    );
    expect(asked.every((u) => u.startsWith(s.baseUrl))).toBe(true);
    expect(asked).toHaveLength(2);
  });

  it("stops with an error when a next link points back at a page already read", async () => {
    await start([{ kind: "loop", page: 2 }]);
    const [got, err] = await collectUntilError(pages(client()));
    expect(got).toHaveLength(1);
    expect(err).toBeInstanceOf(SparkpostPagingError);
    expect(err.message).toMatch(/paging loops/);
  });

  it("refuses a wrong key at once, with SparkPost's words and without the key", async () => {
    const s = await start();
    const wrong = "0000aaaa1111bbbb2222cccc3333dddd4444eeee";
    const [, err] = await collectUntilError(pages(client({ apiKey: wrong })));
    expect(err).toBeInstanceOf(ProviderFetchError);
    expect(err).toMatchObject({ kind: "auth", status: 401, attempts: 1 });
    expect(err.message).toContain("Unauthorized. (code 1100): Invalid API key");
    expect(err.message).toMatch(/region \(us\)/);
    expect(err.message).not.toContain(wrong);
    expect(s.log).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("fails at once on another 4xx, quoting SparkPost's errors", async () => {
    const s = await start();
    const [, err] = await collectUntilError(
      client().eventPages({ start: START, end: END, events: ["delivery", "bogus"] }),
    );
    expect(err).toMatchObject({ kind: "http", status: 400, attempts: 1 });
    expect(err.message).toContain("HTTP 400");
    expect(err.message).toContain("invalid events parameter (code 1200): unknown event type: bogus");
    expect(s.log).toHaveLength(1);
  });

  it("rejects a bad window or page size before asking", async () => {
    const c = client();
    await expect(collect(c.eventPages({ start: END, end: START }))).rejects.toThrow(
      /start must be before end/,
    );
    await expect(collect(c.eventPages({ start: START, end: END, perPage: 10_001 }))).rejects.toThrow(
      /perPage/,
    );
  });
});

/** A fetch that answers from a list of bodies and records what it was asked. */
function fakeFetch(bodies: string[], status = 200) {
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  const fn: typeof fetch = async (input, init) => {
    calls.push({ url: String(input), init });
    const body = bodies[Math.min(calls.length - 1, bodies.length - 1)] ?? "";
    return new Response(body, { status, headers: { "Content-Type": "application/json" } });
  };
  return { fn, calls };
}

describe("SparkpostClient against a scripted fetch", () => {
  it("uses the region's host and the raw key as Authorization", async () => {
    for (const [region, host] of [
      ["us", "https://api.sparkpost.com"],
      ["eu", "https://api.eu.sparkpost.com"],
    ] as const) {
      const f = fakeFetch([JSON.stringify({ results: [], total_count: 0, links: [] })]);
      const c = new SparkpostClient({ apiKey: KEY, region, fetch: f.fn, sleep: async () => {} });
      const got = await collect(c.eventPages({ start: START, end: END }));
      expect(got).toHaveLength(1);
      expect(f.calls[0]?.url.startsWith(`${host}/api/v1/events/message?`)).toBe(true);
      const headers = f.calls[0]?.init?.headers as Record<string, string>;
      expect(headers.Authorization).toBe(KEY);
    }
  });

  it("follows a links object's next too, and stops on an empty page whatever its links say", async () => {
    const f = fakeFetch([
      JSON.stringify({ results: [inside[0]], links: { next: "/api/v1/events/message?cursor=abc" } }),
      JSON.stringify({ results: [], links: { next: "/api/v1/events/message?cursor=def" } }),
    ]);
    const c = new SparkpostClient({ apiKey: KEY, region: "eu", fetch: f.fn, sleep: async () => {} });
    const got = await collect(c.eventPages({ start: START, end: END }));
    expect(got.map((p) => [p.items.length, p.next])).toEqual([
      [1, "https://api.eu.sparkpost.com/api/v1/events/message?cursor=abc"],
      [0, null],
    ]);
    expect(f.calls).toHaveLength(2);
  });

  it("treats a 200 without a results array as malformed", async () => {
    const f = fakeFetch([JSON.stringify({ result: [] })]);
    const c = new SparkpostClient({
      apiKey: KEY,
      region: "us",
      fetch: f.fn,
      maxAttempts: 2,
      sleep: async () => {},
    });
    const [, err] = await collectUntilError(c.eventPages({ start: START, end: END }));
    expect(err).toMatchObject({ kind: "exhausted", status: 200, attempts: 2 });
    expect(err.message).toMatch(/malformed response \(results: /);
  });

  it("quotes a 403 body that is not SparkPost's error shape as an excerpt", async () => {
    const f = fakeFetch(["<html>Forbidden</html>"], 403);
    const c = new SparkpostClient({ apiKey: KEY, region: "us", fetch: f.fn, sleep: async () => {} });
    const [, err] = await collectUntilError(c.eventPages({ start: START, end: END }));
    expect(err).toMatchObject({ kind: "auth", status: 403 });
    expect(err.message).toContain('"<html>Forbidden</html>"');
  });
});

describe("SparkpostClient.deliverabilityByDomain", () => {
  const rows = [
    {
      domain: "acme-corp.com",
      count_targeted: 1200,
      count_sent: 1180,
      count_delivered: 1100,
      count_bounce: 80,
      count_hard_bounce: 60,
      count_soft_bounce: 12,
      count_block_bounce: 8,
      count_admin_bounce: 20,
      count_undetermined_bounce: 0,
      count_rejected: 20,
    },
    // A count sent as a string, one left out.
    { domain: "Globex.com", count_targeted: "300", count_sent: 300, count_delivered: 299, count_bounce: 1 },
    { domain: "initech.com", count_targeted: 50, count_sent: 50, count_delivered: 50, count_bounce: 0 },
  ];

  it("reads counts per domain, null where SparkPost left one out", async () => {
    const s = await start([], rows);
    const got = await client().deliverabilityByDomain({ start: START, end: END });
    expect(got.truncated).toBe(false);
    expect(got.rows).toEqual([
      {
        domain: "acme-corp.com",
        targeted: 1200,
        sent: 1180,
        delivered: 1100,
        bounced: { total: 80, hard: 60, soft: 12, block: 8, admin: 20, undetermined: 0 },
      },
      {
        domain: "globex.com",
        targeted: 300,
        sent: 300,
        delivered: 299,
        bounced: { total: 1, hard: null, soft: null, block: null, admin: null, undetermined: null },
      },
      {
        domain: "initech.com",
        targeted: 50,
        sent: 50,
        delivered: 50,
        bounced: { total: 0, hard: null, soft: null, block: null, admin: null, undetermined: null },
      },
    ]);
    expect(s.log[0]?.path).toBe("/api/v1/metrics/deliverability/domain");
    expect(s.log[0]?.query).toEqual({
      from: "2024-05-29T00:00",
      to: "2024-05-29T03:00",
      timezone: "UTC",
      metrics:
        "count_targeted,count_sent,count_delivered,count_bounce,count_hard_bounce,count_soft_bounce,count_block_bounce,count_admin_bounce,count_undetermined_bounce",
      limit: "10000",
    });
  });

  it("asks only for the given domains, in slices that keep the URI short", async () => {
    const s = await start([], rows);
    const many = Array.from({ length: 300 }, (_, i) => `filler-domain-${i}.example.com`);
    const got = await client().deliverabilityByDomain({
      start: START,
      end: END,
      domains: ["ACME-corp.com", "initech.com", "acme-corp.com", ...many],
    });
    expect(got.rows.map((r) => r.domain)).toEqual(["acme-corp.com", "initech.com"]);
    expect(s.log.length).toBeGreaterThan(1);
    for (const r of s.log) expect(r.query.domains?.length ?? 0).toBeLessThanOrEqual(2_000);
    const asked = s.log.flatMap((r) => r.query.domains?.split(",") ?? []);
    expect(asked).toEqual(["acme-corp.com", "initech.com", ...many]);
  });

  it("treats rows without a domain as malformed", async () => {
    const f = fakeFetch([JSON.stringify({ results: [{ count_sent: 1 }] })]);
    const c = new SparkpostClient({
      apiKey: KEY,
      region: "us",
      fetch: f.fn,
      maxAttempts: 1,
      sleep: async () => {},
    });
    await expect(c.deliverabilityByDomain({ start: START, end: END })).rejects.toMatchObject({
      kind: "exhausted",
      message: expect.stringMatching(/results\.0\.domain/),
    });
  });
});

describe("sparkpostMinute", () => {
  it("rounds to whole UTC minutes in the asked direction", () => {
    const d = new Date("2024-05-29T10:21:03.500Z");
    expect(sparkpostMinute(d, "floor")).toBe("2024-05-29T10:21");
    expect(sparkpostMinute(d, "ceil")).toBe("2024-05-29T10:22");
    const whole = new Date("2024-05-29T10:21:00.000Z");
    expect([sparkpostMinute(whole, "floor"), sparkpostMinute(whole, "ceil")]).toEqual([
      "2024-05-29T10:21",
      "2024-05-29T10:21",
    ]);
  });
});
