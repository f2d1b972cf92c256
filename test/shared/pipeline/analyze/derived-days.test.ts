import { cp, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { GatewayLookup } from "../../../../shared/dns/gateway-lookup.ts";
import type { Report } from "../../../../shared/domain/report/report-schema.ts";
import { runAnalysis } from "../../../../shared/pipeline/analyze/run-analysis.ts";
import { generateHistory } from "../../../../shared/simulation/b2b-history.ts";
import { ZoneMxResolver } from "../../../../shared/simulation/zone-mx-resolver.ts";
import { keys } from "../../../../shared/store/keys.ts";
import { LocalObjectStore } from "../../../../shared/store/local-object-store.ts";
import { CrashingStore, comparable, freshFolder } from "../../../support/crash-recovery.ts";
import { storeHistory } from "../../../support/store-history.ts";

const DAY = 86_400_000;
const END = new Date("2026-10-20T00:00:00.000Z");

function historyOf(organisations: number) {
  return generateHistory({
    seed: 5,
    start: new Date(END.getTime() - 12 * DAY),
    days: 12,
    organisations,
    volume: 0.2,
    incidents: [{ kind: "gateway_policy_change", at: new Date(END.getTime() - DAY), gateway: "mimecast" }],
  });
}

async function analyse(
  store: CrashingStore | LocalObjectStore,
  zone: ConstructorParameters<typeof ZoneMxResolver>[0],
  at = END,
): Promise<{ report: Report; log: string[] }> {
  const log: string[] = [];
  const now = () => at;
  const gateways = new GatewayLookup(new ZoneMxResolver(zone), store, { now });
  await gateways.load();
  const run = await runAnalysis(
    { at, windowHours: 24, baselineDays: 10, maskRecipients: true },
    { store, gateways, now, log: (line) => log.push(line) },
  );
  return { report: run.report, log };
}

interface Manifest {
  days: Record<string, { aggregates: { key: string }; deliveries: { key: string } }>;
}

describe("derived days: aggregates and recipient history rebuilt from events/", () => {
  const history = historyOf(12);
  let template: string;
  let clean: unknown;
  beforeAll(async () => {
    template = await freshFolder();
    const store = new LocalObjectStore(template);
    await storeHistory(store, history.events, "derived-history");
    clean = comparable((await analyse(store, history.zone)).report);
  });

  async function copy(): Promise<{ dir: string; store: LocalObjectStore; manifest: Manifest }> {
    const dir = await freshFolder();
    await cp(template, dir, { recursive: true });
    const manifest = JSON.parse(await readFile(join(dir, keys.derivedManifest()), "utf8")) as Manifest;
    return { dir, store: new LocalObjectStore(dir), manifest };
  }

  it("gives the same report after everything under aggregates/ is deleted, and writes nothing derived when nothing changed", async () => {
    const { dir, store } = await copy();
    const counting = new CrashingStore(store);
    expect(comparable((await analyse(counting, history.zone)).report)).toEqual(clean);
    // A second run over unchanged events: the reports and the MX cache only.
    expect(counting.writes).toBeLessThanOrEqual(6);
    await rm(join(dir, "aggregates"), { recursive: true });
    const { report, log } = await analyse(store, history.zone);
    expect(comparable(report)).toEqual(clean);
    expect(log.join("\n")).toMatch(/rebuilt daily aggregates for \d+ day\(s\)/);
  });

  it("names a deleted, truncated or altered derived object and rebuilds it", async () => {
    const { dir, store, manifest } = await copy();
    const [first, second, third] = Object.values(manifest.days).slice(-3);
    if (!first || !second || !third) throw new Error("expected derived days");
    await rm(join(dir, first.aggregates.key));
    await truncate(join(dir, second.deliveries.key), 10);
    const altered = await readFile(join(dir, third.aggregates.key));
    altered[altered.length - 5] = (altered[altered.length - 5] ?? 0) ^ 1;
    await writeFile(join(dir, third.aggregates.key), altered);

    const { report, log } = await analyse(store, history.zone);
    expect(comparable(report)).toEqual(clean);
    const text = log.join("\n");
    expect(text).toContain(`${first.aggregates.key} is missing`);
    expect(text).toContain(`${second.deliveries.key} is damaged`);
    expect(text).toContain(`${third.aggregates.key} is damaged`);
    // Healed: the next run finds nothing to say.
    expect((await analyse(store, history.zone)).log.join("\n")).not.toMatch(/warning/);
  });

  it("names a damaged manifest and rebuilds every day", async () => {
    const { dir, store } = await copy();
    await truncate(join(dir, keys.derivedManifest()), 40);
    const { report, log } = await analyse(store, history.zone);
    expect(comparable(report)).toEqual(clean);
    expect(log.join("\n")).toMatch(/aggregates\/daily\/manifest\.json is damaged: not valid JSON/);
  });

  it("notices a same-size change in an events object (checksums, not sizes)", async () => {
    const { dir, store, manifest } = await copy();
    const day = Object.keys(manifest.days).at(-2) ?? "";
    const eventsKey = join(dir, "events", "source=simulated", `dt=${day}`, "derived-history.ndjson.gz");
    const text = gunzipSync(await readFile(eventsKey)).toString("utf8");
    // Stored (level 0) gzip: the size depends on the text's length only.
    await writeFile(eventsKey, gzipSync(text, { level: 0 }));
    await analyse(store, history.zone);
    const sizeBefore = (await stat(eventsKey)).size;
    // One delivery becomes a deferral of the same length: same size, other content.
    const changed = text.replace('"type":"delivered"', '"type":"deferred" ');
    expect(changed).not.toBe(text);
    expect(changed.length).toBe(text.length);
    await writeFile(eventsKey, gzipSync(changed, { level: 0 }));
    expect((await stat(eventsKey)).size).toBe(sizeBefore);
    const { log } = await analyse(store, history.zone);
    expect(log.join("\n")).toMatch(/rebuilt daily aggregates for 1 day\(s\)/);
  });

  it("writes as many objects per run at 4× the organisations", async () => {
    const writesFor = async (organisations: number): Promise<number> => {
      const h = historyOf(organisations);
      const dir = await freshFolder();
      await storeHistory(new LocalObjectStore(dir), h.events, "derived-history");
      const counting = new CrashingStore(new LocalObjectStore(dir));
      await analyse(counting, h.zone);
      return counting.writes;
    };
    const small = await writesFor(12);
    const large = await writesFor(48);
    expect(large).toBe(small);
  }, 120_000);
});
