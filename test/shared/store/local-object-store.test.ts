import { execFile, spawnSync } from "node:child_process";
import { mkdtemp, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { LocalObjectStore } from "../../../shared/store/local-object-store.ts";
import { collect, objectStoreContract } from "./object-store-contract.ts";

const roots: string[] = [];
async function freshRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "local-store-"));
  roots.push(root);
  return root;
}
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

objectStoreContract("LocalObjectStore", async () => new LocalObjectStore(await freshRoot()));

describe("LocalObjectStore specifics", () => {
  it("maps keys to files under the absolute root", async () => {
    const root = await freshRoot();
    const store = new LocalObjectStore(join(root, "data", "..", "data"));
    expect(store.location).toBe(join(root, "data"));
    await store.put("state/cursors/ses.json", '{"at":1}');
    expect((await stat(join(root, "data", "state", "cursors", "ses.json"))).size).toBe(8);
  });

  it("lets exactly one of many concurrent ifAbsent puts win", async () => {
    const store = new LocalObjectStore(await freshRoot());
    const bodies = Array.from({ length: 20 }, (_, i) => `writer ${i}`);
    const results = await Promise.all(
      bodies.map((body) => store.put("state/lock.json", body, { ifAbsent: true })),
    );
    expect(results.filter(Boolean).length).toBe(1);
    const winner = bodies[results.indexOf(true)];
    expect(Buffer.from((await store.get("state/lock.json")) ?? []).toString()).toBe(winner);
    // No temp files left behind by the losers.
    expect(await readdir(join(store.location, "state"))).toEqual(["lock.json"]);
  });

  it("breaks a key lock left by a process that died inside a conditional write", async () => {
    const root = await freshRoot();
    const store = new LocalObjectStore(root);
    await store.put("state/leases/analyze.json", "v1");
    const v1 = await store.getVersioned("state/leases/analyze.json");
    // kill -9 between taking the key's lock and releasing it leaves the lock file naming a dead process.
    const { stdout } = await promisify(execFile)(process.execPath, ["-e", "console.log(process.pid)"]);
    await writeFile(
      join(root, "state", "leases", "analyze.json.~tmp-lock"),
      JSON.stringify({ pid: Number(stdout.trim()), host: hostname(), nonce: "dead", at: Date.now() }),
    );
    expect(await store.put("state/leases/analyze.json", "v2", { ifMatch: v1?.etag ?? "" })).toBe(true);
    expect(await readdir(join(root, "state", "leases"))).toEqual(["analyze.json"]);
  });

  it("leaves no temp files and never lists them", async () => {
    const root = await freshRoot();
    const store = new LocalObjectStore(root);
    await store.put("a/b.json", "1");
    await store.put("a/b.json", "2");
    expect(await readdir(join(root, "a"))).toEqual(["b.json"]);
    // A crash mid-write leaves a temp file: list must not report it as an object.
    await writeFile(join(root, "a", "b.json.~tmp-0123456789ab"), "partial");
    expect(await collect(store.list(""))).toEqual([{ key: "a/b.json", size: 1 }]);
    await expect(store.put("a/c.json.~tmp-1", "x")).rejects.toThrow(/a\/c\.json\.~tmp-1/);
  });

  it("removes temp files crashed writers left, never a live writer's", async () => {
    const root = await freshRoot();
    const store = new LocalObjectStore(root);
    await store.put("a/b.json", "1");
    // A writer that is gone (kill -9 mid-put): a real process that has exited.
    const dead = spawnSync(process.execPath, [
      "-e",
      "process.stdout.write(String(process.pid))",
    ]).stdout.toString();
    await writeFile(join(root, "a", `b.json.~tmp-${dead}-0123456789ab`), "partial");
    // A live writer (this process, then the test runner's parent) keeps its temp file.
    await writeFile(join(root, "a", `c.json.~tmp-${process.pid}-0123456789ab`), "in flight");
    await writeFile(join(root, "a", `d.json.~tmp-${process.ppid}-0123456789ab`), "in flight");
    // A name without a pid (an older version's) is stray once it is a day old.
    await writeFile(join(root, "a", "e.json.~tmp-0123456789ab"), "old");
    await writeFile(join(root, "a", "f.json.~tmp-0123456789ab"), "recent");
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    await utimes(join(root, "a", "e.json.~tmp-0123456789ab"), twoDaysAgo, twoDaysAgo);

    expect(await collect(store.list("a/"))).toEqual([{ key: "a/b.json", size: 1 }]);
    expect((await readdir(join(root, "a"))).sort()).toEqual([
      "b.json",
      `c.json.~tmp-${process.pid}-0123456789ab`,
      `d.json.~tmp-${process.ppid}-0123456789ab`,
      "f.json.~tmp-0123456789ab",
    ]);
  });

  it("removes folders a delete left empty, up to but not including the root", async () => {
    const root = await freshRoot();
    const store = new LocalObjectStore(root);
    await store.put("events/source=ses/dt=2024-01-01/b.ndjson.gz", "x");
    await store.put("events/source=ses/dt=2024-01-02/b.ndjson.gz", "x");
    await store.delete("events/source=ses/dt=2024-01-01/b.ndjson.gz");
    expect(await readdir(join(root, "events", "source=ses"))).toEqual(["dt=2024-01-02"]);
    await store.delete("events/source=ses/dt=2024-01-02/b.ndjson.gz");
    expect(await readdir(root)).toEqual([]);
    expect((await stat(root)).isDirectory()).toBe(true);
  });

  it("lists nothing for a root that does not exist yet", async () => {
    const store = new LocalObjectStore(join(await freshRoot(), "missing"));
    expect(await collect(store.list(""))).toEqual([]);
    expect(await store.get("a.json")).toBeNull();
  });
});
