import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { acquireLease } from "../../../shared/store/lease.ts";
import { LocalObjectStore } from "../../../shared/store/local-object-store.ts";

const roots: string[] = [];
async function freshRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "lease-"));
  roots.push(root);
  return root;
}
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

const KEY = "state/leases/analyze.json";
const NOW = new Date("2026-12-08T03:00:00.000Z");
const expiredLease = (holder: string) =>
  JSON.stringify({ holder, expiresAt: new Date(NOW.getTime() - 1000).toISOString() });
const text = (bytes: Uint8Array | null) => Buffer.from(bytes ?? []).toString("utf8");

describe("acquireLease on the local store", () => {
  it("gives a free lease to one run and refuses the next until it is released", async () => {
    const store = new LocalObjectStore(await freshRoot());
    const first = await acquireLease(store, KEY, "run-1", NOW, 60_000);
    expect(first.acquired).toBe(true);
    const second = await acquireLease(store, KEY, "run-2", NOW, 60_000);
    expect(second).toMatchObject({ acquired: false, heldBy: { holder: "run-1" } });
    if (!first.acquired) throw new Error("unreachable");
    expect(await first.lease.release()).toBe(true);
    expect(await store.get(KEY)).toBeNull();
    expect((await acquireLease(store, KEY, "run-3", NOW, 60_000)).acquired).toBe(true);
  });

  it("has 0 double holders in 200 trials of 8 async contenders breaking an expired lease", async () => {
    const root = await freshRoot();
    // Two store objects on one folder: nothing is shared but the files.
    const stores = [new LocalObjectStore(root), new LocalObjectStore(root)];
    const winners: number[] = [];
    for (let trial = 0; trial < 200; trial++) {
      const key = `state/leases/trial-${trial}.json`;
      await stores[0]?.put(key, expiredLease("dead run"));
      const attempts = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          acquireLease(stores[i % 2] as LocalObjectStore, key, `contender-${i}`, NOW, 60_000),
        ),
      );
      const won = attempts.filter((a) => a.acquired);
      winners.push(won.length);
      // The one winner's lease is the one in the store.
      const holder = JSON.parse(text((await stores[0]?.get(key)) ?? null)).holder;
      expect(holder).toMatch(/^contender-/);
    }
    expect(winners.filter((n) => n > 1)).toEqual([]);
    expect(winners.every((n) => n === 1)).toBe(true);
  }, 120_000);

  it("has 0 double holders in 200 trials of 4 real processes breaking an expired lease", async () => {
    const root = await freshRoot();
    const store = new LocalObjectStore(join(root, "store"));
    const trials = 200;
    const contenders = 4;
    await mkdir(join(root, "barrier"));
    await mkdir(join(root, "wins"));
    for (let trial = 0; trial < trials; trial++)
      await store.put(`state/leases/trial-${trial}.json`, expiredLease("dead run"));
    const run = (contender: number) =>
      new Promise<number | null>((resolve) => {
        const child = spawn(
          process.execPath,
          [
            "bin/run-ts.js",
            "test/support/lease-contender.ts",
            root,
            String(contender),
            String(contenders),
            String(trials),
          ],
          { stdio: ["ignore", "ignore", "inherit"] },
        );
        child.on("close", resolve);
      });
    const statuses = await Promise.all(Array.from({ length: contenders }, (_, i) => run(i)));
    expect(statuses).toEqual(Array(contenders).fill(0));
    const wins = new Map<string, number>();
    for (const name of await readdir(join(root, "wins"))) {
      const trial = name.split("-")[0] ?? "";
      wins.set(trial, (wins.get(trial) ?? 0) + 1);
    }
    const doubles = [...wins].filter(([, n]) => n > 1);
    expect(doubles).toEqual([]);
    expect(wins.size).toBe(trials);
  }, 120_000);

  it("never lets a late release delete the newer holder's lease", async () => {
    const store = new LocalObjectStore(await freshRoot());
    const slow = await acquireLease(store, KEY, "slow run", NOW, 1000);
    if (!slow.acquired) throw new Error("the first run should have the lease");
    // The slow run outlives its lease; the next run breaks it.
    const later = new Date(NOW.getTime() + 5000);
    const next = await acquireLease(store, KEY, "next run", later, 60_000);
    if (!next.acquired) throw new Error("an expired lease should be broken");
    expect(await slow.lease.release()).toBe(false);
    expect(await slow.lease.renew(later, 60_000)).toBe(false);
    expect(JSON.parse(text(await store.get(KEY))).holder).toBe("next run");
    expect(await next.lease.release()).toBe(true);
    expect(await store.get(KEY)).toBeNull();
  });

  it("renews its own lease, which then holds past the first expiry", async () => {
    const store = new LocalObjectStore(await freshRoot());
    const run = await acquireLease(store, KEY, "long run", NOW, 1000);
    if (!run.acquired) throw new Error("unreachable");
    expect(await run.lease.renew(new Date(NOW.getTime() + 500), 60_000)).toBe(true);
    const later = new Date(NOW.getTime() + 5000);
    expect(await acquireLease(store, KEY, "next run", later, 60_000)).toMatchObject({
      acquired: false,
      heldBy: { holder: "long run" },
    });
    expect(await run.lease.release()).toBe(true);
  });

  it("breaks at once a lease whose process on this host is gone, and keeps a live one's", async () => {
    const store = new LocalObjectStore(await freshRoot());
    // A process that has exited: its pid names no process (until reused, which the expiry then covers).
    const { stdout } = await promisify(execFile)(process.execPath, ["-e", "console.log(process.pid)"]);
    const deadPid = Number(stdout.trim());
    const farFuture = new Date(NOW.getTime() + 3_600_000).toISOString();
    await store.put(
      KEY,
      JSON.stringify({
        holder: "killed run",
        expiresAt: farFuture,
        process: { host: hostname(), pid: deadPid },
      }),
    );
    const next = await acquireLease(store, KEY, "next run", NOW, 60_000, { recordProcess: true });
    expect(next.acquired).toBe(true);
    // This process is alive: its lease is not broken before it expires.
    expect(await acquireLease(store, KEY, "third run", NOW, 60_000)).toMatchObject({
      acquired: false,
      heldBy: { holder: "next run", process: { pid: process.pid } },
    });
  });

  it("breaks an unreadable lease", async () => {
    const store = new LocalObjectStore(await freshRoot());
    await store.put(KEY, '{"holder": "trunc');
    expect((await acquireLease(store, KEY, "next run", NOW, 60_000)).acquired).toBe(true);
  });
});
