import { spawnSync } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import type { NormalizedEvent, ProviderEvent } from "../../shared/domain/events/normalized-event.ts";
import { readDayEvents } from "../../shared/pipeline/analyze/daily-aggregates.ts";
import { generateHistory } from "../../shared/simulation/b2b-history.ts";
import {
  postmarkBouncesPage,
  sendgridWebhookBatch,
  sparkpostEventsPage,
} from "../../shared/simulation/esp-fixtures.ts";
import { LocalObjectStore } from "../../shared/store/local-object-store.ts";

const run = (args: string[]) =>
  spawnSync(process.execPath, ["bin/bounce-radar.js", ...args], { encoding: "utf8", timeout: 60_000 });

async function storedEvents(data: string, days: readonly string[]): Promise<NormalizedEvent[]> {
  const store = new LocalObjectStore(data);
  const out: NormalizedEvent[] = [];
  for (const day of days) for await (const e of readDayEvents(store, day)) out.push(e);
  return out;
}

// The must-show: import of a saved SendGrid webhook batch, a Postmark bounces page and a SparkPost
// events page, each idempotent on re-import. The files are rendered from a simulated sender's day.
describe("bounce-radar import of SendGrid, Postmark and SparkPost exports", () => {
  const start = new Date("2026-11-10T00:00:00.000Z");
  let dir: string;
  let day: ProviderEvent[];
  const days = ["2026-11-10", "2026-11-11"];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "br-import-esp-"));
    const history = generateHistory({ seed: 8, start, days: 1, organisations: 30 });
    day = history.events.slice(0, 600);
  });

  it("imports a saved SendGrid webhook batch, and a retried delivery of it adds nothing", async () => {
    const data = join(dir, "data-sendgrid");
    const batch = sendgridWebhookBatch(day);
    const first = join(dir, "sendgrid-batch.json");
    await writeFile(first, JSON.stringify(batch, null, 2));
    // SendGrid retries: the second file repeats half the events (same sg_event_id) beside a broken line.
    const retry = join(dir, "sendgrid-retry.ndjson.gz");
    await writeFile(retry, gzipSync(`${JSON.stringify(batch.slice(0, 300))}\n{"event": "bounce", "email"\n`));
    const a = run(["import", "--source", "sendgrid", "--data", data, first]);
    expect(a.status, a.stderr).toBe(0);
    const stored = await storedEvents(data, days);
    const expected = batch.filter((e) => e.event !== "open");
    expect(stored.length).toBeGreaterThan(400);
    expect(stored.length).toBe(new Set(expected.map((e) => e.sg_event_id)).size);
    expect(stored.every((e) => e.source === "sendgrid" && e.id.startsWith("sendgrid:"))).toBe(true);

    const again = run(["import", "--source", "sendgrid", "--data", data, first, retry]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/wrote 0 new/);
    expect(again.stdout).toMatch(/1 quarantined/);
    expect((await storedEvents(data, days)).length).toBe(stored.length);
  });

  it("imports a saved Postmark GET /bounces page, once", async () => {
    const data = join(dir, "data-postmark");
    const page = postmarkBouncesPage(day);
    expect(page.Bounces.length).toBeGreaterThan(5);
    const file = join(dir, "postmark-bounces.json");
    await writeFile(file, JSON.stringify(page, null, 2));
    const a = run(["import", "--source", "postmark", "--data", data, file]);
    expect(a.status, a.stderr).toBe(0);
    const stored = await storedEvents(data, days);
    expect(stored.map((e) => e.id).sort()).toEqual(
      page.Bounces.map((b) => `postmark:${String(b.ID)}`).sort(),
    );
    expect(stored.filter((e) => e.type === "bounced").every((e) => e.classification !== null)).toBe(true);
    const b = run(["import", "--source", "postmark", "--data", data, file]);
    expect(b.status).toBe(0);
    expect(b.stdout).toMatch(/wrote 0 new, \d+ duplicate/);
    expect((await storedEvents(data, days)).length).toBe(stored.length);
  });

  it("imports a saved SparkPost events page, once", async () => {
    const data = join(dir, "data-sparkpost");
    const page = sparkpostEventsPage(day);
    const file = join(dir, "sparkpost-events.json");
    await writeFile(file, JSON.stringify(page));
    const a = run(["import", "--source", "sparkpost", "--data", data, file]);
    expect(a.status, a.stderr).toBe(0);
    const stored = await storedEvents(data, days);
    expect(stored).toHaveLength(page.results.length);
    const bounced = stored.filter((e) => e.type === "bounced");
    expect(bounced.length).toBeGreaterThan(0);
    expect(bounced.every((e) => e.espClass !== null)).toBe(true);
    const b = run(["import", "--source", "sparkpost", "--data", data, file]);
    expect(b.status).toBe(0);
    expect(b.stdout).toMatch(/wrote 0 new/);
    expect((await storedEvents(data, days)).length).toBe(stored.length);
  });
});
