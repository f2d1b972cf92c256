import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderReportHtml, sortIncidents } from "../../../shared/reports/render-html.ts";
import { launchChromium } from "../../support/chromium.ts";
import { BLOCKLISTED_IP, buildEmptyReport, buildFixtureReport, MALICIOUS_TEXT } from "./fixture-report.ts";

/**
 * The HTML report in a real headless Chromium. Never
 * skipped: without Chromium, launchChromium() fails and says how to install it.
 */

/** Overwritten on every run, so screenshots can be looked at without piling up. */
const SCREENSHOT_DIR = join(tmpdir(), "bounce-radar-report-screenshots");

const report = buildFixtureReport();
const html = renderReportHtml(report);

let browser: Browser | undefined;
let launchError: unknown;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bounce-radar-report-"));
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  // Kept rather than thrown here: a throwing beforeAll shows the tests as "skipped"; each test should fail.
  browser = await launchChromium().catch((e: unknown) => {
    launchError = e;
    return undefined;
  });
}, 20_000);

afterAll(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function theBrowser(): Browser {
  if (!browser)
    throw launchError instanceof Error ? launchError : new Error(`Chromium did not start: ${launchError}`);
  return browser;
}

interface Watched {
  readonly page: Page;
  readonly context: BrowserContext;
  readonly requests: string[];
  readonly problems: string[];
}

/** A fresh page that records every request, console error or warning, and uncaught error. */
async function watchedPage(options: { javaScriptEnabled: boolean; width?: number }): Promise<Watched> {
  const context = await theBrowser().newContext({
    javaScriptEnabled: options.javaScriptEnabled,
    viewport: { width: options.width ?? 1280, height: 900 },
  });
  const page = await context.newPage();
  const requests: string[] = [];
  const problems: string[] = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  return { page, context, requests, problems };
}

describe("HTML report in headless Chromium", () => {
  it("opens from a file with JavaScript off: headline, cards, charts, no network, no errors", async () => {
    const file = join(dir, "report.html");
    await writeFile(file, html);
    const url = pathToFileURL(file).href;
    const { page, context, requests, problems } = await watchedPage({ javaScriptEnabled: false });
    try {
      await page.goto(url, { waitUntil: "load" });

      const headline = page.locator("h1#headline");
      expect(await headline.isVisible()).toBe(true);
      expect(await headline.textContent()).toBe(
        "Recipient-side: Mimecast policy change at 7 organisations — don't blame the ESP",
      );
      expect(await page.title()).toContain("Recipient-side: Mimecast policy change");

      // One card per incident, in display order, each visible with its heading.
      const cards = page.locator("article.incident");
      const expected = sortIncidents(report.incidents).map((i) => i.id);
      expect(await cards.count()).toBe(expected.length);
      for (const [n, id] of expected.entries()) {
        const card = cards.nth(n);
        expect(await card.getAttribute("data-incident-id")).toBe(id);
        expect(await card.isVisible()).toBe(true);
        expect(await card.locator("h3").isVisible()).toBe(true);
      }
      expect(
        await page.getByText(`Sender-side: sending IP ${BLOCKLISTED_IP} on a blocklist`).first().isVisible(),
      ).toBe(true);

      // A rejection text carrying markup shows as text and adds no element.
      expect(await page.getByText(MALICIOUS_TEXT, { exact: true }).isVisible()).toBe(true);
      expect(await page.locator("script, img, iframe").count()).toBe(0);

      // Charts: the totals chart, one per incident, and the organisations bars; all laid out with a size.
      const charts = page.locator("svg.chart");
      expect(await charts.count()).toBe(2 + report.incidents.length);
      for (let i = 0; i < (await charts.count()); i++) {
        const box = await charts.nth(i).boundingBox();
        expect(box?.width ?? 0).toBeGreaterThan(100);
        expect(box?.height ?? 0).toBeGreaterThan(100);
      }
      const windowBar = await page.locator("#incident-1 rect.bar.window").boundingBox();
      expect(windowBar?.height ?? 0).toBeGreaterThan(20);

      const shot = join(SCREENSHOT_DIR, "report-full.png");
      await page.screenshot({ path: shot, fullPage: true });
      await page.screenshot({ path: join(SCREENSHOT_DIR, "report-top.png") });
      expect((await stat(shot)).size).toBeGreaterThan(50_000);

      expect(problems).toEqual([]);
      expect(requests).toEqual([url]);
    } finally {
      await context.close();
    }
  });

  it("renders through setContent with no request at all, fits narrow screens and prints the details", async () => {
    const { page, context, requests, problems } = await watchedPage({ javaScriptEnabled: true, width: 1024 });
    try {
      await page.setContent(html, { waitUntil: "load" });
      expect(await page.locator("h1#headline").isVisible()).toBe(true);
      expect(await page.locator("article.incident").count()).toBe(report.incidents.length);

      // A string, evaluated in the page: the Node type-check has no DOM types.
      const overflow = () =>
        page.evaluate<number>("document.documentElement.scrollWidth - document.documentElement.clientWidth");
      expect(await overflow()).toBeLessThanOrEqual(0);
      await page.setViewportSize({ width: 390, height: 800 });
      expect(await overflow()).toBeLessThanOrEqual(0);
      await page.setViewportSize({ width: 1024, height: 800 });

      // Wrongly suppressed addresses: collapsed, open on click (native <details>, no script) ...
      const list = page.locator("#incident-1 details.suppressed ul.addresses");
      expect(await list.isVisible()).toBe(false);
      await page.locator("#incident-1 details.suppressed summary").click();
      expect(await list.isVisible()).toBe(true);
      await page.locator("#incident-1 details.suppressed summary").click();
      // ... and printed even when collapsed.
      await page.emulateMedia({ media: "print" });
      expect(await list.isVisible()).toBe(true);
      await page.emulateMedia({ media: "screen" });

      expect(problems).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("renders an empty report", async () => {
    const { page, context, requests, problems } = await watchedPage({ javaScriptEnabled: false });
    try {
      await page.setContent(renderReportHtml(buildEmptyReport()), { waitUntil: "load" });
      expect(await page.locator("h1#headline").textContent()).toBe("No incidents");
      expect(await page.locator("article.incident").count()).toBe(0);
      await page.screenshot({ path: join(SCREENSHOT_DIR, "report-empty.png"), fullPage: true });
      expect(problems).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
