import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { afterAll, expect } from "vitest";
import { GatewayLookup } from "../../shared/dns/gateway-lookup.ts";
import type { Report } from "../../shared/domain/report/report-schema.ts";
import { runAnalysis } from "../../shared/pipeline/analyze/run-analysis.ts";
import { generateHistory } from "../../shared/simulation/b2b-history.ts";
import { ZoneMxResolver } from "../../shared/simulation/zone-mx-resolver.ts";
import { LocalObjectStore } from "../../shared/store/local-object-store.ts";
import { readNdjsonGz } from "../../shared/store/ndjson-gzip.ts";
import type {
  DeleteOptions,
  ListOptions,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  VersionedObject,
} from "../../shared/store/object-store.ts";

/**
 * Crash recovery checks (the must-show of issue 16): a run is cut at each of its writes (the k-th write and
 * every later one fail, as after kill -9), then run again without faults. Its events (ids, no duplicates)
 * and the report an analysis then writes must equal a clean run's.
 */

export const DAY = 86_400_000;
export const SENDER = "mg.sender.example";
export const END = new Date("2026-10-20T00:00:00.000Z");
export const START = new Date(END.getTime() - 16 * DAY);
/** At least this many kill points per pipeline (every write when a run makes fewer). */
const KILL_POINTS = 20;

export class InjectedFailure extends Error {
  override readonly name = "InjectedFailure";
}

/** Forwards to a store; its `failFrom`-th write and every later one fail, as if the process had died. */
export class CrashingStore implements ObjectStore {
  writes = 0;
  constructor(
    private readonly inner: ObjectStore,
    private readonly failFrom = Number.POSITIVE_INFINITY,
  ) {}
  get location(): string {
    return this.inner.location;
  }
  get(key: string): Promise<Uint8Array | null> {
    return this.inner.get(key);
  }
  getStream(key: string): Promise<Readable | null> {
    return this.inner.getStream(key);
  }
  list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix, options);
  }
  async put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<boolean> {
    this.write(key);
    return this.inner.put(key, body, options);
  }
  async putStream(key: string, body: Readable, options?: { readonly contentType?: string }): Promise<void> {
    try {
      this.write(key);
    } catch (e) {
      body.destroy();
      throw e;
    }
    return this.inner.putStream(key, body, options);
  }
  getVersioned(key: string): Promise<VersionedObject | null> {
    return this.inner.getVersioned(key);
  }
  async delete(key: string, options?: DeleteOptions): Promise<boolean> {
    this.write(key);
    return this.inner.delete(key, options);
  }
  private write(key: string): void {
    this.writes++;
    if (this.writes >= this.failFrom)
      throw new InjectedFailure(`injected failure at write ${this.writes} (${key})`);
  }
}

/** Every write of a run of `writes`, or KILL_POINTS of them spread from the first to the last. */
export function killPoints(writes: number): number[] {
  if (writes <= KILL_POINTS) return Array.from({ length: writes }, (_, i) => i + 1);
  return [
    ...new Set(
      Array.from({ length: KILL_POINTS }, (_, i) => 1 + Math.round((i * (writes - 1)) / (KILL_POINTS - 1))),
    ),
  ];
}

export async function eventIds(store: ObjectStore): Promise<string[]> {
  const ids: string[] = [];
  for await (const o of store.list("events/"))
    for await (const { value } of readNdjsonGz(store, o.key)) ids.push((value as { id: string }).id);
  return ids.sort();
}

export async function analyse(
  store: ObjectStore,
  zone: ConstructorParameters<typeof ZoneMxResolver>[0],
): Promise<Report> {
  const now = () => END;
  const gateways = new GatewayLookup(new ZoneMxResolver(zone), store, { now });
  await gateways.load();
  const run = await runAnalysis(
    { at: END, windowHours: 24, baselineDays: 14, maskRecipients: true },
    { store, gateways, now, log: () => undefined },
  );
  return run.report;
}

/** A report less what differs between any two runs. */
export function comparable(report: Report): unknown {
  const { generatedAt: _g, runId: _r, ...rest } = report;
  return rest;
}

/** The ingest and import checks land the last days only: each of their writes is a durable (fsynced) file. */
export const RECENT_START = new Date(END.getTime() - 6 * DAY);

export const history = generateHistory({
  seed: 16,
  start: START,
  days: 16,
  organisations: 12,
  volume: 0.2,
  incidents: [{ kind: "gateway_policy_change", at: new Date(END.getTime() - DAY), gateway: "mimecast" }],
});

const folders: string[] = [];
export async function freshFolder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "br-crash-"));
  folders.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(folders.map((d) => rm(d, { recursive: true, force: true })));
});

export interface Outcome {
  readonly ids: string[];
  readonly report: unknown;
}

export async function outcomeOf(store: ObjectStore): Promise<Outcome> {
  const ids = await eventIds(store);
  expect(new Set(ids).size, "no duplicate events").toBe(ids.length);
  return { ids, report: comparable(await analyse(store, history.zone)) };
}

/**
 * Runs `pipeline` clean once to count its writes, then once per kill point cut there and rerun clean; each
 * outcome must equal the clean one.
 */
export async function checkKillPoints(
  prepare: () => Promise<string>,
  pipeline: (store: ObjectStore) => Promise<unknown>,
  outcome: (store: ObjectStore) => Promise<Outcome>,
): Promise<number[]> {
  const cleanStore = new CrashingStore(new LocalObjectStore(await prepare()));
  await pipeline(cleanStore);
  const writes = cleanStore.writes;
  const clean = await outcome(cleanStore);
  const points = killPoints(writes);
  for (const k of points) {
    const dir = await prepare();
    const crashing = new CrashingStore(new LocalObjectStore(dir), k);
    await pipeline(crashing).catch((e: unknown) => {
      if (!(e instanceof InjectedFailure) && !String(e).includes("injected failure")) throw e;
    });
    expect(crashing.writes, `the run reached write ${k}`).toBeGreaterThanOrEqual(k);
    const rerun = new LocalObjectStore(dir);
    await pipeline(rerun);
    expect(await outcome(rerun), `cut at write ${k} of ${writes}, then rerun`).toEqual(clean);
  }
  return points;
}
