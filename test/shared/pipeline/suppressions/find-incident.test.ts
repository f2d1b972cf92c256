import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findIncident } from "../../../../shared/pipeline/suppressions/find-wrongly-suppressed.ts";
import { keys } from "../../../../shared/store/keys.ts";
import { LocalObjectStore } from "../../../../shared/store/local-object-store.ts";
import { buildFixtureReport, WINDOW_DAY } from "../../reports/fixture-report.ts";

describe("findIncident with a damaged reports/latest.json", () => {
  it.each([
    ["truncated", (json: string) => json.slice(0, json.length / 3), /not JSON/],
    ["of the wrong shape", () => "[1,2,3]", /not a report: top level/],
  ])("reads the dated report when latest.json is %s, and names it in a warning", async (_, damage, why) => {
    const store = new LocalObjectStore(await mkdtemp(join(tmpdir(), "br-find-incident-")));
    const report = buildFixtureReport();
    const json = JSON.stringify(report, null, 2);
    const dated = keys.report(WINDOW_DAY, report.runId, "report.json");
    await store.put(dated, json);
    await store.put(keys.latestReport("latest.json"), damage(json));
    const incident = report.incidents[0];
    if (!incident) throw new Error("the fixture has incidents");
    const warnings: string[] = [];
    const found = await findIncident(store, incident.id, (line) => warnings.push(line));
    expect(found.reportKey).toBe(dated);
    expect(found.incident.id).toBe(incident.id);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /skipping damaged report reports\/latest\.json in .*; the next analyze rewrites/,
    );
    expect(warnings[0]).toMatch(why);
  });
});
