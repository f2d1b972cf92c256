import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultBlocklistZones, readListing } from "../../../../shared/domain/reputation/blocklist-answer.ts";
import { ReputationSignalSchema } from "../../../../shared/domain/reputation/reputation-signal.ts";
import {
  FIXTURES_DIR,
  type FixtureCases,
  filesUsed,
  fixtureFiles,
  readCases,
  runCase,
} from "../../../support/reputation-fixtures.ts";

/*
 * Every published example and schema-true payload under test/fixtures/reputation/ (each directory's README
 * gives the provider's page or schema it follows) through the real parser or source, and every value judged
 * from it checked: status, value and day, in order, nothing more and nothing less.
 */

const SIGNAL_SOURCES = ["postmaster", "snds", "ses", "sendgrid", "sparkpost", "auth"] as const;

/** Fixture files, cases and judged values per source: a fixture added without its expectations fails here. */
const COUNTS = {
  postmaster: { files: 7, cases: 2, values: 59 },
  snds: { files: 3, cases: 3, values: 40 },
  ses: { files: 6, cases: 3, values: 12 },
  sendgrid: { files: 6, cases: 4, values: 16 },
  sparkpost: { files: 2, cases: 2, values: 8 },
  auth: { files: 1, cases: 1, values: 12 },
  dnsbl: { files: 4, cases: 36, values: 36 },
};

describe.each(SIGNAL_SOURCES)("published fixtures: %s", (source) => {
  const cases = readCases(source);

  it("uses every fixture file of its directory, and only files that are there", () => {
    expect(cases.source).toBe(source);
    expect([...filesUsed(cases)].sort()).toEqual(fixtureFiles(source));
  });

  it.each(cases.cases.map((c) => [c.name, c] as const))("%s", async (_, c) => {
    const run = await runCase(source as FixtureCases["source"], c);
    expect(run.unanswered).toEqual([]);
    expect(run.signals.map((s) => [s.subject, s.metric, s.day, s.status, s.value])).toEqual(c.expect);
    expect(run.badRows).toHaveLength(c.badRows ?? 0);
    for (const s of run.signals) {
      expect(ReputationSignalSchema.parse(s)).toEqual(s);
      expect(s.detail.length).toBeGreaterThan(20);
      expect(s.observedAt).toBe(new Date(c.now).toISOString());
    }
  });
});

interface DnsblCase {
  readonly file: string;
  readonly section: string;
  readonly list: string;
  readonly answer: string[];
  readonly expect: [string, string];
}

describe("published fixtures: dnsbl return codes", () => {
  const dir = join(FIXTURES_DIR, "dnsbl");
  const { cases } = JSON.parse(readFileSync(join(dir, "cases.json"), "utf8")) as { cases: DnsblCase[] };
  const zones = new Map(defaultBlocklistZones().map((z) => [z.id, z]));

  it("reads every code of every published table, and every observed answer", () => {
    expect([...new Set(cases.map((c) => c.file))].sort()).toEqual(fixtureFiles("dnsbl"));
    for (const file of fixtureFiles("dnsbl").filter((f) => f.endsWith(".return-codes.json"))) {
      const table = JSON.parse(readFileSync(join(dir, file), "utf8")) as Record<string, { code: string }[]>;
      for (const [section, rows] of Object.entries(table)) {
        for (const { code } of rows) {
          const read = cases.filter((c) => c.file === file && c.section === section && c.answer[0] === code);
          expect(read.length, `${file} ${section} ${code}`).toBeGreaterThan(0);
        }
      }
    }
    const observed = JSON.parse(readFileSync(join(dir, "observed-answers.json"), "utf8")) as unknown[];
    expect(cases.filter((c) => c.file === "observed-answers.json")).toHaveLength(observed.length);
  });

  it.each(cases.map((c) => [`${c.list} ${c.answer.join(",")} (${c.file})`, c] as const))("%s", (_, c) => {
    const zone = zones.get(c.list);
    if (!zone) throw new Error(`no built-in list ${c.list}`);
    const v = readListing(zone, { status: "ok", addresses: c.answer });
    expect([v.status, v.meaning]).toEqual(c.expect);
    // A listing carries the list's meaning for each code, never a bare "code X".
    if (v.status === "listed") expect(v.meaning).not.toMatch(/: code /);
  });
});

describe("published fixtures: counts", () => {
  it("maps every fixture file and checks every judged value", () => {
    const counts: Record<string, { files: number; cases: number; values: number }> = {};
    for (const source of SIGNAL_SOURCES) {
      const cases = readCases(source);
      counts[source] = {
        files: fixtureFiles(source).length,
        cases: cases.cases.length,
        values: cases.cases.reduce((n, c) => n + c.expect.length, 0),
      };
    }
    const dnsbl = JSON.parse(readFileSync(join(FIXTURES_DIR, "dnsbl", "cases.json"), "utf8")) as {
      cases: unknown[];
    };
    counts.dnsbl = {
      files: fixtureFiles("dnsbl").length,
      cases: dnsbl.cases.length,
      values: dnsbl.cases.length,
    };
    expect(counts).toEqual(COUNTS);
  });
});
