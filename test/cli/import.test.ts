import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { LocalObjectStore } from "../../shared/store/local-object-store.ts";
import { readNdjsonGz } from "../../shared/store/ndjson-gzip.ts";
import { makeMailgunEvents } from "../support/mailgun-events.ts";
import { makeSesRecords } from "../support/ses-events.ts";

const run = (args: string[]) =>
  spawnSync(process.execPath, ["bin/bounce-radar.js", ...args], { encoding: "utf8", timeout: 60_000 });

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.push(relative(dir, join(e.parentPath, e.name)));
  }
  return out.sort();
}

describe("bounce-radar import", () => {
  let dir: string;
  let sesFile: string;
  let mailgunPages: string;
  let mailgunPretty: string;
  const start = new Date("2026-11-10T00:00:00.000Z");

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "br-import-"));
    const ses = makeSesRecords({ count: 300, start, seed: 2 }).map((r) => JSON.stringify(r));
    // Line 11 is not JSON; line 21 is JSON but not an SES record; line 31 is blank (skipped, not counted).
    ses.splice(10, 0, '{"eventType": "Bounce", "mail": ');
    ses.splice(20, 0, JSON.stringify({ hello: "world" }));
    ses.splice(30, 0, "");
    sesFile = join(dir, "ses.ndjson");
    await writeFile(sesFile, `${ses.join("\n")}\n`);
    const events = makeMailgunEvents({ count: 250, start, seed: 4 });
    mailgunPages = join(dir, "mailgun-pages.ndjson");
    await writeFile(
      mailgunPages,
      [
        JSON.stringify({ items: events.slice(0, 100), paging: {} }),
        "{ truncated page",
        JSON.stringify({ items: events.slice(100, 200), paging: {} }),
      ].join("\n"),
    );
    mailgunPretty = join(dir, "mailgun-page.json");
    await writeFile(mailgunPretty, JSON.stringify({ items: events.slice(150, 250), paging: {} }, null, 2));
  });

  it("stores good SES lines as gzip NDJSON partitions and quarantines bad lines with line numbers", async () => {
    const data = join(dir, "data-ses");
    const r = run(["import", "--source", "ses", "--data", data, sesFile]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /read 302 record\(s\), 300 event\(s\): wrote 300 new, 0 duplicate\(s\) skipped, 2 quarantined/,
    );
    const files = await filesUnder(data);
    expect(
      files.some((f) => /^events\/source=ses\/dt=2026-11-1\d\/import-[0-9a-f]+\.ndjson\.gz$/.test(f)),
    ).toBe(true);
    expect(files.some((f) => /^raw\/ses\/dt=2026-11-10\/import-[0-9a-f]+-0\.json\.gz$/.test(f))).toBe(true);
    const store = new LocalObjectStore(data);
    const q = files.find((f) => f.startsWith("quarantine/ses/")) ?? "";
    const entries: Array<{ ref: string; reason: string }> = [];
    for await (const { value } of readNdjsonGz(store, q))
      entries.push(value as { ref: string; reason: string });
    expect(entries.map((e) => e.ref)).toEqual(["ses.ndjson:11", "ses.ndjson:21"]);
    expect(entries[0]?.reason).toMatch(/line 11: not valid JSON/);
    expect(entries[1]?.reason.length).toBeGreaterThan(5);

    const again = run(["import", "--source", "ses", "--data", data, sesFile]);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/wrote 0 new, 300 duplicate\(s\) skipped, 2 quarantined/);
    expect(await filesUnder(data)).toEqual(files);
  });

  it("imports saved Mailgun pages (NDJSON and pretty-printed), deduplicating overlapping pages", async () => {
    const data = join(dir, "data-mg");
    const r = run(["import", "--source", "mailgun", "--data", data, mailgunPages, mailgunPretty]);
    expect(r.status).toBe(0);
    // 200 events in the NDJSON pages + 100 in the pretty page, of which 50 overlap.
    expect(r.stdout).toMatch(
      /2 file\(s\), read 301 record\(s\), 300 event\(s\): wrote 250 new, 50 duplicate\(s\) skipped, 1 quarantined/,
    );
    expect(r.stderr).toMatch(/mailgun-pages\.ndjson: .*1 quarantined/);
  });

  it("reports an unreadable file, imports the others, and exits 2", async () => {
    const data = join(dir, "data-missing");
    const r = run(["import", "--source", "ses", "--data", data, join(dir, "nope.ndjson"), sesFile]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot read .*nope\.ndjson: ENOENT/);
    expect(r.stdout).toMatch(/wrote 300 new/);
  });

  it("rejects an unknown source as bad usage", () => {
    const r = run(["import", "--source", "sendmail", "--data", join(dir, "x"), sesFile]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Allowed choices are ses, mailgun/);
  });

  it("exits 1 when nothing could be stored, saying how many records were quarantined and why", async () => {
    // Every SES developer-guide example pretty-printed, one per file: the old reader quarantined each line.
    const fixtures = new URL("../fixtures/providers/ses/", import.meta.url).pathname;
    const ok = run([
      "import",
      "--source",
      "ses",
      "--data",
      join(dir, "data-pretty"),
      join(fixtures, "sns-bounce-record.json"),
    ]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/read 1 record\(s\), 1 event\(s\): wrote 1 new/);

    const junk = join(dir, "junk.ndjson");
    await writeFile(junk, '{"hello": "world"}\n{"hello": "again"}\nnot json\n');
    const r = run(["import", "--source", "ses", "--data", join(dir, "data-junk"), junk]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/wrote 0 new, 0 duplicate\(s\) skipped, 3 quarantined/);
    expect(r.stdout).toMatch(/quarantined, top reasons:\n {2}2 × eventType: missing/);
    expect(r.stdout).toMatch(/\n {2}1 × not valid JSON/);
  });

  it("names a file of another provider's data instead of quarantining it as garbage", async () => {
    const fixtures = new URL("../fixtures/providers/sendgrid/", import.meta.url).pathname;
    const r = run([
      "import",
      "--source",
      "ses",
      "--data",
      join(dir, "data-other"),
      join(fixtures, "event-webhook-all-events.json"),
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /looks like SendGrid Event Webhook or suppression data, not Amazon SES event data: import it with --source sendgrid/,
    );
    expect(r.stdout).toMatch(/1 file\(s\) of another provider/);
  });
});
