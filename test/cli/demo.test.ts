import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { type Report, ReportSchema } from "../../shared/domain/report/report-schema.ts";
import { launchChromium } from "../support/chromium.ts";
import { type CliResult, runCli } from "../support/run-cli.ts";

/** Where the browser test leaves its screenshot (CI keeps the workspace). */
const ARTIFACTS = resolve("test-artifacts");

// The must-show: `npm start` (= `bounce-radar demo` with its defaults) on a fresh folder names the
// organisation and its gateway as a recipient-side filter incident, and the report renders in Chromium.
describe("bounce-radar demo", () => {
  let data: string;
  let first: CliResult;
  let report: Report;

  beforeAll(async () => {
    data = join(await mkdtemp(join(tmpdir(), "br-demo-")), "bounce-radar-data");
    first = await runCli(["demo", "--data", data]);
    report = ReportSchema.parse(JSON.parse(await readFile(join(data, "reports", "latest.json"), "utf8")));
  }, 90_000);

  it("pins the simulated incident on the organisation and gateway the simulation broke", () => {
    expect(first.status, first.stderr).toBe(0);
    // The "Simulated:" line is the generator's truth; the report is the analysis's conclusion.
    const truth = /^Simulated: the (\S+) gateway of (\S+) started/m.exec(first.stdout);
    expect(truth, first.stdout).not.toBeNull();
    const [, gateway, organisation] = truth as RegExpExecArray;
    const alerting = report.incidents.filter((i) => i.alert);
    expect(alerting.map((i) => [i.verdict, i.side, i.scope.domains, i.scope.gateways])).toEqual([
      ["recipient_filter", "recipient", [organisation], [gateway]],
    ]);
    expect(first.stdout).toContain(`bounce-radar: recipient_filter on the recipient side`);
    expect(first.stdout).toContain(`${organisation} behind ${gateway}`);
    // The console notifier printed the alert an SNS subscriber would get, with addresses masked.
    expect(first.stdout).toMatch(/^ALERT: new incident /m);
    expect(first.stdout).not.toMatch(/\b[a-z]{2,}\.[a-z]+@/);
    expect(first.stdout).toContain(`Report: ${data}/reports/`);
    // Progress goes to stderr, one line per stage.
    for (const stage of ["[1/4]", "[2/4]", "[3/4]", "[4/4]"]) expect(first.stderr).toContain(stage);
  });

  it("renders report.html in Chromium: no console errors; headline, chart and organisation table visible", async () => {
    const html = /^Report: (\S+\.html)$/m.exec(first.stdout)?.[1];
    expect(html).toBeDefined();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") problems.push(m.text());
      });
      page.on("pageerror", (e) => problems.push(e.message));
      await page.goto(pathToFileURL(html as string).href);
      const headline = page.locator("#headline");
      expect(await headline.isVisible()).toBe(true);
      expect(await headline.textContent()).toMatch(/recipient-side/i);
      const incident = report.incidents.find((i) => i.alert);
      expect(await page.locator("body").textContent()).toContain(incident?.scope.domains[0]);
      const chart = page.locator("svg").first();
      await chart.scrollIntoViewIfNeeded();
      expect(await chart.isVisible()).toBe(true);
      const orgRows = page.locator("#organisations table.organisations tbody tr");
      expect(await orgRows.count()).toBeGreaterThan(0);
      await orgRows.first().scrollIntoViewIfNeeded();
      expect(await orgRows.first().isVisible()).toBe(true);
      expect(problems).toEqual([]);
      await mkdir(ARTIFACTS, { recursive: true });
      await page.evaluate("window.scrollTo(0, 0)");
      await page.screenshot({ path: join(ARTIFACTS, "demo-report.png"), fullPage: true });
    } finally {
      await browser.close();
    }
  });

  it("gives the same report again for the same seed, clearing only the folder it wrote", async () => {
    const again = await runCli(["demo", "--data", data]);
    expect(again.status, again.stderr).toBe(0);
    const second = ReportSchema.parse(
      JSON.parse(await readFile(join(data, "reports", "latest.json"), "utf8")),
    );
    expect(second).toEqual(report);
  }, 90_000);

  it("refuses a folder it did not write, and leaves it alone", async () => {
    const mine = await mkdtemp(join(tmpdir(), "br-not-demo-"));
    await writeFile(join(mine, "keep.txt"), "precious");
    const r = await runCli(["demo", "--data", mine]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`--data ${mine}: the folder is not empty and was not written by the demo`);
    expect(await readFile(join(mine, "keep.txt"), "utf8")).toBe("precious");
  });

  it("names a bad option value", async () => {
    const r = await runCli(["demo", "--data", join(tmpdir(), "br-unused"), "--days", "3"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--days: expected a whole number from 35 to 120, got "3"');
  });
});
