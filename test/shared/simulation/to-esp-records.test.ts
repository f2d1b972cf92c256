import { describe, expect, it } from "vitest";
import type { ProviderEvent } from "../../../shared/domain/events/normalized-event.ts";
import { generateHistory } from "../../../shared/simulation/b2b-history.ts";
import {
  postmarkBouncesPage,
  postmarkDeliveryWebhooks,
  sendgridWebhookBatch,
  sparkpostEventsPage,
} from "../../../shared/simulation/esp-fixtures.ts";
import {
  postmarkBounceIdFor,
  postmarkTimestamp,
  toPostmarkRecord,
} from "../../../shared/simulation/to-postmark-record.ts";
import { sendgridEventIdOf, toSendgridEvent } from "../../../shared/simulation/to-sendgrid-event.ts";
import { sparkpostEventIdOf, toSparkpostEvent } from "../../../shared/simulation/to-sparkpost-event.ts";
import { mapPostmarkRecord } from "../../../shared/sources/esp/postmark/map-postmark-bounce.ts";
import type { RecordMapper } from "../../../shared/sources/esp/provider-record.ts";
import { mapSendgridEvent } from "../../../shared/sources/esp/sendgrid/map-sendgrid-event.ts";
import { mapSparkpostEvent } from "../../../shared/sources/esp/sparkpost/map-sparkpost-event.ts";

const START = new Date("2026-10-01T00:00:00.000Z");
const DAY = 86_400_000;

// Every kind of event the simulation makes: user-unknown turnover, mailbox-full soft bounces, deferrals
// followed by deliveries, suppressed sends (dropped), gateway policy blocks and ESP-internal failures with no
// remote reply (code and enhanced null). The window straddles no DST change; the Postmark timestamp test does.
const history = generateHistory({
  seed: 3,
  start: START,
  days: 10,
  organisations: 40,
  incidents: [
    { kind: "ip_blocklisted", at: new Date(START.getTime() + 6 * DAY) },
    { kind: "gateway_policy_change", at: new Date(START.getTime() + 8 * DAY) },
    { kind: "esp_pool_fault", at: new Date(START.getTime() + 9 * DAY) },
  ],
});
const events = history.events;

/** The generated events plus the shapes the generator never emits (complaints, sends, block/undetermined). */
const variants: ProviderEvent[] = (() => {
  const bounce = events.find((e) => e.type === "bounced" && e.smtp?.code !== null);
  const delivery = events.find((e) => e.type === "delivered");
  if (!bounce || !delivery) throw new Error("history without a bounce or a delivery");
  const v = (suffix: string, over: Partial<ProviderEvent>, from = bounce): ProviderEvent => ({
    ...from,
    id: `${from.id}:${suffix}`,
    ...over,
  });
  return [
    v("block", { espClass: "block" }),
    v("undetermined", { espClass: "undetermined" }),
    v("complaint", { type: "complained", smtp: null, espClass: null, mxHost: null }, delivery),
    v("sent", { type: "sent", smtp: null, espClass: null, mxHost: null }, delivery),
    v("no-class", { espClass: null }),
  ];
})();

const key = (e: ProviderEvent) => `${e.type}/${e.espClass ?? "-"}`;

function countBy(xs: readonly ProviderEvent[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of xs) out[key(e)] = (out[key(e)] ?? 0) + 1;
  return out;
}

/** Everything but `source`, which is the provider on one side and "simulated" on the other. */
function comparable(e: ProviderEvent): Omit<ProviderEvent, "source"> {
  const { source: _source, ...rest } = e;
  return rest;
}

interface Provider {
  readonly name: string;
  readonly render: (e: ProviderEvent) => Record<string, unknown> | null;
  readonly map: RecordMapper;
  /** The event the mapper must give back for `e`, differences applied. */
  readonly expected: (e: ProviderEvent) => Omit<ProviderEvent, "source">;
}

const PROVIDERS: readonly Provider[] = [
  {
    name: "sendgrid",
    render: toSendgridEvent,
    map: mapSendgridEvent,
    expected: (e) => ({
      ...comparable(e),
      id: `sendgrid:${sendgridEventIdOf(e.id)}`,
      // `timestamp` is whole seconds.
      occurredAt: new Date(Math.floor(Date.parse(e.occurredAt) / 1000) * 1000).toISOString(),
      mxHost: null,
      // The pool is named only on `processed`; processed and spamreport carry no sending IP.
      ipPool: e.type === "sent" ? e.ipPool : null,
      sendingIp: e.type === "sent" || e.type === "complained" ? null : e.sendingIp,
    }),
  },
  {
    name: "postmark",
    render: (e) => toPostmarkRecord(e, postmarkBounceIdFor(e.id)),
    map: mapPostmarkRecord,
    expected: (e) => ({
      ...comparable(e),
      id:
        e.type === "delivered"
          ? `postmark:delivery:${e.messageId}:${e.recipient}`
          : `postmark:${postmarkBounceIdFor(e.id)}`,
      // No Postmark record names the MX, the sending IP or the pool.
      mxHost: null,
      sendingIp: null,
      ipPool: null,
    }),
  },
  {
    name: "sparkpost",
    render: toSparkpostEvent,
    map: mapSparkpostEvent,
    expected: (e) => ({
      ...comparable(e),
      id: `sparkpost:${sparkpostEventIdOf(e.id)}`,
      mxHost: null,
      smtp: e.type === "delivered" || e.type === "sent" ? null : e.smtp,
    }),
  },
];

type RoundTrip = ReturnType<typeof roundTripUncached>;
const cache = new Map<string, RoundTrip>();

/** One pass per provider and input: a pass over the history takes seconds. */
function roundTrip(p: Provider, xs: readonly ProviderEvent[]): RoundTrip {
  const k = `${p.name}:${xs === events ? "events" : xs === variants ? "variants" : "other"}`;
  const hit = cache.get(k);
  if (hit) return hit;
  const r = roundTripUncached(p, xs);
  if (!k.endsWith(":other")) cache.set(k, r);
  return r;
}

/** Renders and maps back every event, collecting mismatches rather than failing on the first. */
function roundTripUncached(p: Provider, xs: readonly ProviderEvent[]) {
  const skipped: ProviderEvent[] = [];
  const mismatches: Array<{ id: string; record: unknown; got: unknown; want: unknown }> = [];
  const ids: string[] = [];
  for (const e of xs) {
    const record = p.render(e);
    if (record === null) {
      skipped.push(e);
      continue;
    }
    // Saved payloads are JSON: whatever does not survive serialisation must not matter.
    const mapped = p.map(JSON.parse(JSON.stringify(record)));
    if (!mapped.ok) throw new Error(`${p.name} ${e.id}: quarantined: ${mapped.reason}`);
    if (mapped.events.length !== 1) throw new Error(`${p.name} ${e.id}: ${mapped.events.length} events`);
    const back = mapped.events[0] as ProviderEvent;
    expect(back.source).toBe(p.name);
    ids.push(back.id);
    const want = p.expected(e);
    const got = comparable(back);
    // Compared as JSON (key order included: both sides build the event in the schema's order), as
    // toEqual on every one of ~20k events would be slow.
    if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push({ id: e.id, record, got, want });
  }
  return { skipped, mismatches, ids };
}

describe("the generated history", () => {
  it("has every kind of event the renderers must cope with", () => {
    const counts = countBy(events);
    expect(Object.keys(counts).sort()).toEqual([
      "bounced/hard",
      "bounced/soft",
      "deferred/soft",
      "delivered/-",
      "dropped/-",
    ]);
    // ESP-internal failures: a reply text with neither code nor enhanced code.
    expect(events.some((e) => e.type === "bounced" && e.smtp?.code === null && e.mxHost === null)).toBe(true);
  });
});

describe.each(PROVIDERS)("$name renderer", (p) => {
  it("renders every expressible event so the real mapper gives it back", () => {
    const mismatches = [...roundTrip(p, events).mismatches, ...roundTrip(p, variants).mismatches];
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(mismatches).toHaveLength(0);
  });

  it("gives distinct ids, and the same record when rendering twice", () => {
    const { ids } = roundTrip(p, events);
    expect(new Set(ids).size).toBe(ids.length);
    for (const e of events.filter((_, i) => i % 97 === 0)) expect(p.render(e)).toEqual(p.render({ ...e }));
  });
});

describe("events a provider cannot express", () => {
  const skippedKeys = (p: Provider, xs: readonly ProviderEvent[]) => countBy(roundTrip(p, xs).skipped);
  const generated = countBy(events);
  const byName = (name: string) => PROVIDERS.find((p) => p.name === name) as Provider;

  it("sendgrid: soft bounces (SendGrid's bounce is hard or blocked; a temporary failure is a deferral)", () => {
    expect(skippedKeys(byName("sendgrid"), events)).toEqual({ "bounced/soft": generated["bounced/soft"] });
    // And a bounce without a class: the mapper always gives one.
    expect(skippedKeys(byName("sendgrid"), variants)).toEqual({ "bounced/-": 1 });
  });

  it("postmark: drops (Postmark refuses a suppressed address at send time: no record), sends, classless bounces", () => {
    expect(skippedKeys(byName("postmark"), events)).toEqual({ "dropped/-": generated["dropped/-"] });
    // `sent` lives in GET /messages/outbound, not in a bounce or webhook record.
    expect(skippedKeys(byName("postmark"), variants)).toEqual({ "sent/-": 1, "bounced/-": 1 });
  });

  it("sparkpost: only a bounce without a class (every bounce_class has a category)", () => {
    expect(skippedKeys(byName("sparkpost"), events)).toEqual({});
    expect(skippedKeys(byName("sparkpost"), variants)).toEqual({ "bounced/-": 1 });
  });

  it("skips something real in this history (the counts above are not vacuous)", () => {
    expect(generated["bounced/soft"]).toBeGreaterThan(0);
    expect(generated["dropped/-"]).toBeGreaterThan(0);
  });
});

describe("provider specifics", () => {
  const hard = events.find((e) => e.type === "bounced" && e.espClass === "hard" && e.smtp?.code !== null);
  if (!hard) throw new Error("no hard bounce");

  it("sendgrid: a hard bounce is event bounce, type bounce, status = enhanced code, reason = reply", () => {
    const r = toSendgridEvent(hard);
    expect(r).toMatchObject({
      event: "bounce",
      type: "bounce",
      email: hard.recipient,
      status: hard.smtp?.enhanced,
      reason: hard.smtp?.text,
      ip: hard.sendingIp,
      ...(hard.campaign ? { category: hard.campaign } : {}),
    });
    expect(r?.sg_event_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Number.isInteger(r?.timestamp)).toBe(true);
    expect(toSendgridEvent({ ...hard, espClass: "block" })).toMatchObject({
      event: "bounce",
      type: "blocked",
    });
  });

  it("postmark: BouncedAt in US Eastern offset form, across both DST changes", () => {
    expect(postmarkTimestamp(Date.parse("2026-10-05T14:21:03.123Z"))).toBe(
      "2026-10-05T10:21:03.1230000-04:00",
    );
    expect(postmarkTimestamp(Date.parse("2026-12-05T14:21:03.000Z"))).toBe(
      "2026-12-05T09:21:03.0000000-05:00",
    );
    // 1 November 2026, 01:30 happens twice: first in EDT, then in EST.
    expect(postmarkTimestamp(Date.parse("2026-11-01T05:30:00.000Z"))).toBe(
      "2026-11-01T01:30:00.0000000-04:00",
    );
    expect(postmarkTimestamp(Date.parse("2026-11-01T06:30:00.000Z"))).toBe(
      "2026-11-01T01:30:00.0000000-05:00",
    );
    const r = toPostmarkRecord(hard, 4323372036);
    expect(r).toMatchObject({ RecordType: "Bounce", ID: 4323372036, Type: "HardBounce", TypeCode: 1 });
    expect(r?.Details).toBe(`smtp;${hard.smtp?.text}`);
  });

  it("sparkpost: bounce_class per espClass, as espClassOfBounceClass reads it back", () => {
    const cls = (espClass: ProviderEvent["espClass"]) =>
      toSparkpostEvent({ ...hard, espClass })?.bounce_class;
    expect([cls("hard"), cls("block"), cls("soft"), cls("undetermined")]).toEqual(["10", "50", "20", "1"]);
    const full = events.find(
      (e) => e.type === "bounced" && e.espClass === "soft" && e.smtp?.enhanced?.endsWith(".2.2"),
    );
    if (full) expect(toSparkpostEvent(full)?.bounce_class).toBe("22");
    expect(toSparkpostEvent(hard)?.event_id).toMatch(/^\d{1,17}$/);
  });
});

describe("esp fixtures", () => {
  const sample = events.filter((_, i) => i % 5 === 0);

  it("builds a SendGrid webhook batch that maps back, oldest first", () => {
    const batch = sendgridWebhookBatch(sample);
    expect(batch.length).toBe(sample.filter((e) => toSendgridEvent(e) !== null).length);
    const times = batch.map((r) => r.timestamp as number);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(batch.every((r) => mapSendgridEvent(r).ok)).toBe(true);
  });

  it("builds a Postmark GET /bounces page, newest first, paged by count and offset", () => {
    const all = postmarkBouncesPage(sample);
    expect(all.Bounces.every((b) => b.RecordType !== "Delivery" && mapPostmarkRecord(b).ok)).toBe(true);
    const at = all.Bounces.map((b) => Date.parse(String(b.BouncedAt)));
    expect(at).toEqual([...at].sort((a, b) => b - a));
    const page = postmarkBouncesPage(sample, { count: 10, offset: 5 });
    expect(page).toEqual({ TotalCount: all.TotalCount, Bounces: all.Bounces.slice(5, 15) });
    const deliveries = postmarkDeliveryWebhooks(sample);
    expect(deliveries.length).toBe(sample.filter((e) => e.type === "delivered").length);
    expect(deliveries.every((d) => mapPostmarkRecord(d).ok)).toBe(true);
  });

  it("builds a SparkPost events page, newest first, with every event", () => {
    const page = sparkpostEventsPage(sample);
    expect(page.total_count).toBe(sample.length);
    expect(page.results).toHaveLength(sample.length);
    expect(page.links).toEqual([{ href: expect.stringMatching(/cursor=initial/), rel: "first" }]);
    const at = page.results.map((r) => Date.parse(String(r.timestamp)));
    expect(at).toEqual([...at].sort((a, b) => b - a));
    expect(page.results.every((r) => mapSparkpostEvent(r).ok)).toBe(true);
  });
});
