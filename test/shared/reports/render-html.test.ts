import { describe, expect, it } from "vitest";
import { type Incident, type Report, ReportSchema } from "../../../shared/domain/report/report-schema.ts";
import {
  formatDuration,
  formatInstant,
  formatMultiplier,
  formatPercent,
  formatPercentTick,
  ratio,
} from "../../../shared/reports/format.ts";
import { clip, escapeHtml, truncate } from "../../../shared/reports/html.ts";
import {
  gatewayLabel,
  incidentHeadline,
  REPORT_CSP,
  renderReportHtml,
  reportHeadline,
  sortIncidents,
} from "../../../shared/reports/render-html.ts";
import { renderSvgBars } from "../../../shared/reports/svg-bars.ts";
import { niceScale, renderSvgRateChart } from "../../../shared/reports/svg-rate-chart.ts";
import {
  BLOCKLISTED_IP,
  buildEmptyReport,
  buildFixtureReport,
  LONG_TEXT,
  MALICIOUS_TEXT,
} from "./fixture-report.ts";

const MIMECAST_HEADLINE = "Recipient-side: Mimecast policy change at 7 organisations — don't blame the ESP";

/**
 * Markup that would make the browser load or run something. Checked on the tags themselves: text from the
 * report may well read `onerror=` or `https://`, escaped, and that is fine.
 */
function assertInert(html: string): void {
  expect(html).not.toMatch(/<script/i);
  const tags = [...html.matchAll(/<([a-zA-Z][\w-]*)([^>]*)>/g)];
  expect(tags.length).toBeGreaterThan(10);
  for (const [tag, name = "", rest = ""] of tags) {
    expect([
      "script",
      "img",
      "iframe",
      "object",
      "embed",
      "video",
      "audio",
      "source",
      "base",
      "form",
    ]).not.toContain(name.toLowerCase());
    // Values are always double-quoted and escaped, so this splits attributes reliably.
    for (const [, attr = "", value = ""] of rest.matchAll(/\s([^\s=>/]+)(?:\s*=\s*"([^"]*)")?/g)) {
      const a = attr.toLowerCase();
      expect(a.startsWith("on"), `${a} in ${tag}`).toBe(false);
      expect(["src", "srcset", "action", "formaction", "poster", "background", "xlink:href"]).not.toContain(
        a,
      );
      // The only hrefs are in-page anchors and the data: icon; any URL from the report is plain text.
      if (a === "href") expect(value).toMatch(/^(#|data:)/);
      expect(value).not.toMatch(/^\s*(https?:)?\/\//i);
      if (a === "style") expect(value).not.toMatch(/url\(/i);
    }
    if (name.toLowerCase() === "link") expect(rest).toContain('href="data:');
  }
  const style = html.slice(html.indexOf("<style>"), html.indexOf("</style>"));
  expect(style).not.toMatch(/url\(|@import|@font-face/i);
}

function assertNoJunk(html: string): void {
  for (const junk of ["NaN", "undefined", "Infinity", "[object Object]", "null"])
    expect(html).not.toContain(junk);
}

describe("fixture report", () => {
  it("is a valid report with 40 organisations, 3 incidents and 29 days of series", () => {
    const report = buildFixtureReport();
    expect(() => ReportSchema.parse(report)).not.toThrow();
    expect(report.organisations).toHaveLength(40);
    expect(report.incidents.map((i) => i.verdict).sort()).toEqual([
      "list_decay",
      "recipient_filter",
      "sender_reputation",
    ]);
    for (const i of report.incidents) expect(i.series).toHaveLength(29);
    expect(report.incidents.find((i) => i.verdict === "recipient_filter")?.scope.domains).toHaveLength(7);
  });
});

describe("renderReportHtml", () => {
  const report = buildFixtureReport();
  const html = renderReportHtml(report);

  it("is one HTML document with a strict CSP before any style", () => {
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html.match(/<html/g)).toHaveLength(1);
    expect(REPORT_CSP).toContain("default-src 'none'");
    expect(REPORT_CSP).toContain("style-src 'unsafe-inline'");
    expect(REPORT_CSP).toContain("img-src data:");
    const csp = html.indexOf(
      `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(REPORT_CSP)}">`,
    );
    expect(csp).toBeGreaterThan(0);
    expect(csp).toBeLessThan(html.indexOf("<style>"));
  });

  it("loads nothing and runs nothing", () => {
    assertInert(html);
  });

  it("escapes rejection texts that carry markup", () => {
    expect(html).not.toContain(MALICIOUS_TEXT);
    expect(html).toContain(
      "550 5.7.1 &lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; denied &quot;&gt;&lt;img src=x onerror=alert(1)&gt;",
    );
  });

  it("shows URLs from evidence and samples as escaped text only", () => {
    expect(html).toContain("lookup at https://www.barracudacentral.org/lookups");
    expect(html).toContain(`https://ipcheck.proofpoint.com/?ip=${BLOCKLISTED_IP}`);
    expect(html).not.toMatch(/<a [^>]*href="http/i);
  });

  it("prints no NaN, undefined or Infinity", () => {
    assertNoJunk(html);
  });

  it("answers with the top alerting incident and lists the others", () => {
    expect(html).toContain(`<h1 id="headline">${escapeHtml(MIMECAST_HEADLINE)}</h1>`);
    expect(html).toContain(`Also alerting: Sender-side: sending IP ${BLOCKLISTED_IP} on a blocklist`);
    expect(html).toContain("Not alerting: List decay: genuinely invalid addresses at 2 organisations");
    expect(html).toContain('class="headline side-recipient"');
  });

  it("renders one card per incident, alerting ones first, then by confidence", () => {
    const ids = [
      ...html.matchAll(/<article class="incident[^"]*" id="incident-\d+" data-incident-id="([^"]+)"/g),
    ].map((m) => m[1]);
    // list_decay has the highest confidence (0.95) but does not alert, so it comes last.
    expect(ids).toEqual(["inc-3f9a1c07b2e4", "inc-b81d44e0c9a5", "inc-07c2d9e6a311"]);
  });

  it("gives each incident its chart, evidence, samples, suppressed addresses and actions", () => {
    const cards = html.split('<article class="incident').slice(1);
    expect(cards).toHaveLength(3);
    for (const card of cards) {
      expect(card).toContain('<svg class="chart rate-chart"');
      expect(card).toMatch(/<title id="incident-\d-chart-title">Daily hard-bounce rate/);
      expect(card).toContain('stroke-dasharray="6 4"');
      expect(card).toContain('<ul class="evidence">');
      expect(card).toContain('<table class="samples">');
      expect(card).toContain('<ol class="actions">');
    }
    const mimecast = cards[0] ?? "";
    expect(mimecast).toContain(
      '<details class="suppressed"><summary>30 addresses wrongly suppressed</summary>',
    );
    expect(mimecast).toContain("<li>j***@hartwell-logistics.co.uk</li>");
    expect(cards[1]).toContain("No addresses wrongly suppressed.");
    // 28 baseline bars plus the window bar, drawn in the alert colour.
    expect(mimecast.match(/<rect class="bar window"/g)).toHaveLength(1);
    expect(mimecast.match(/<rect class="bar"/g)).toHaveLength(28);
  });

  it("shortens very long texts and keeps the full text in a title attribute", () => {
    expect(LONG_TEXT.length).toBeGreaterThan(1000);
    expect(html).toContain(`<span class="clipped" title="${escapeHtml(LONG_TEXT)}">`);
    expect(html).toContain(`${escapeHtml(LONG_TEXT.slice(0, 299))}…</span>`);
  });

  it("charts the top 15 organisations and tables gateways and categories", () => {
    expect(html).toContain("Top 15 organisations by hard bounces in the window: rate against baseline");
    const start = html.indexOf('<svg class="chart bars-chart"');
    const bars = html.slice(start, html.indexOf("</svg>", start));
    expect(bars.match(/<g class="bar-row">/g)).toHaveLength(15);
    expect(html).toContain("Top 15 of 40 organisations by window hard bounces");
    // Mimecast spikes, so it heads the gateway table.
    expect(html).toMatch(/<table class="gateways">.*?<tbody>\s*<tr class="spike"><td>Mimecast<\/td>/s);
  });

  it("sums categories over all organisations, business and consumer apart", () => {
    const sums = new Map<string, number>();
    for (const o of report.organisations)
      for (const [c, n] of Object.entries(o.categories)) sums.set(c, (sums.get(c) ?? 0) + n);
    const table = html.slice(html.indexOf('<table class="categories">'));
    const policy = sums.get("policy_block") ?? 0;
    expect(policy).toBeGreaterThan(0);
    expect(table).toMatch(
      new RegExp(`<td>policy block</td><td>recipient</td><td class="num">${policy}</td>`),
    );
  });

  it("shows data quality: sources, gaps and quarantined records", () => {
    expect(html).toContain('<td>mailgun</td><td class="num">3,977</td>');
    expect(html).toContain("2025-06-12 03:00 UTC → 2025-06-12 03:45 UTC");
    expect(html).toContain("12 records quarantined");
  });

  it("renders an empty report as 'No incidents' without NaN", () => {
    const empty = renderReportHtml(buildEmptyReport());
    expect(empty).toContain('<h1 id="headline">No incidents</h1>');
    expect(empty).toContain("No incidents: no cluster of organisations spiked");
    expect(empty).toContain("No organisations had mail in the window.");
    expect(empty).toContain("No hard bounces in the window.");
    assertNoJunk(empty);
    assertInert(empty);
  });

  it("survives zero attempts, missing series and empty lists inside an incident", () => {
    const base = buildFixtureReport();
    const hollow: Incident = {
      id: "inc-hollow",
      verdict: "unknown",
      side: "neutral",
      confidence: 0,
      alert: true,
      firstSeen: base.window.start,
      scope: { domains: [], gateways: [], sendingIps: [] },
      metrics: {
        attempts: 0,
        hardBounces: 0,
        rate: 0,
        baselineRate: 0,
        previouslyDelivered: 0,
        bouncedAddresses: 0,
      },
      evidence: [],
      samples: [],
      wronglySuppressed: [],
      actions: [],
      series: [
        { date: "2025-06-11", attempts: 0, hardBounces: 0 },
        { date: "2025-06-12", attempts: 0, hardBounces: 0 },
      ],
    };
    const zeroOrg = {
      ...base.organisations[0],
      domain: "silent.example",
      attempts: 0,
      hardBounces: 0,
      rate: 0,
    };
    const report = ReportSchema.parse({
      ...base,
      incidents: [hollow, { ...hollow, id: "inc-no-series", series: undefined }],
      organisations: [zeroOrg],
      totals: { ...base.totals, series: [{ date: "2025-06-12", attempts: 0, hardBounces: 0 }] },
    });
    const out = renderReportHtml(report);
    assertNoJunk(out);
    expect(out).toContain("Undecided: hard-bounce spike at 0 organisations, side unclear");
    expect(out).toContain("2025-06-12: no attempts");
    expect(out).toContain("No daily series in the report for this incident.");
    expect(out).toContain("No evidence recorded.");
  });

  it("limits large reports to the top rows and says so", () => {
    const base = buildFixtureReport();
    const template = base.organisations[0];
    if (!template) throw new Error("fixture has no organisations");
    const organisations = Array.from({ length: 400 }, (_, i) => ({
      ...template,
      domain: `org-${String(i).padStart(3, "0")}.example`,
      hardBounces: i % 50,
      rate: (i % 50) / template.attempts,
    }));
    const big: Report = ReportSchema.parse({ ...base, organisations });
    const out = renderReportHtml(big);
    const table = out.slice(
      out.indexOf('<table class="organisations">'),
      out.indexOf("</table>", out.indexOf('<table class="organisations">')),
    );
    expect(table.match(/<tr/g)).toHaveLength(51); // header + 50
    expect(out).toContain("Showing the top 50 of 400 organisations (by window hard bounces)");
    expect(out).toContain("Window hard bounces summed over all 400 organisations.");
    const narrower = renderReportHtml(big, { maxTableRows: 10 });
    expect(narrower).toContain("Showing the top 10 of 400 organisations");
  });

  it("counts every wrongly suppressed address, showing a masked form shared by several once with its count", () => {
    const base = buildFixtureReport();
    const [first] = base.incidents;
    if (!first) throw new Error("fixture has no incidents");
    // anna@, anton@ and al@ all mask to a***@; the report keeps one entry per address.
    const wronglySuppressed = ["a***@acme.com", "a***@acme.com", "a***@acme.com", "b***@acme.com"];
    const out = renderReportHtml(
      ReportSchema.parse({ ...base, incidents: [{ ...first, wronglySuppressed }] }),
    );
    expect(out).toContain("<summary>4 addresses wrongly suppressed</summary>");
    expect(out).toContain('<li>a***@acme.com <span class="muted">×3</span></li><li>b***@acme.com</li>');
    const cut = renderReportHtml(
      ReportSchema.parse({ ...base, incidents: [{ ...first, wronglySuppressed }] }),
      {
        maxAddresses: 1,
      },
    );
    expect(cut).toContain("Showing 3 of 4; the full list is in report.json.");
  });

  it("lists many scope domains compactly and escapes report ids in attributes", () => {
    const base = buildFixtureReport();
    const [first] = base.incidents;
    if (!first) throw new Error("fixture has no incidents");
    const domains = Array.from({ length: 30 }, (_, i) => `d${i}.example`);
    const out = renderReportHtml(
      ReportSchema.parse({
        ...base,
        incidents: [{ ...first, id: `x" onmouseover="alert(1)`, scope: { ...first.scope, domains } }],
      }),
    );
    expect(out).toContain('data-incident-id="x&quot; onmouseover=&quot;alert(1)"');
    expect(out).toContain("<summary>18 more</summary>");
    assertInert(out);
  });
});

describe("headlines", () => {
  const report = buildFixtureReport();
  const byVerdict = (v: string) => {
    const i = report.incidents.find((x) => x.verdict === v);
    if (!i) throw new Error(`no ${v} incident`);
    return i;
  };

  it("names the gateway, the IP, or says there is nothing", () => {
    expect(reportHeadline(report)).toEqual({ text: MIMECAST_HEADLINE, side: "recipient" });
    expect(incidentHeadline(byVerdict("sender_reputation"))).toBe(
      `Sender-side: sending IP ${BLOCKLISTED_IP} on a blocklist`,
    );
    const senderOnly = { ...report, incidents: [byVerdict("sender_reputation"), byVerdict("list_decay")] };
    expect(reportHeadline(senderOnly).text).toBe(`Sender-side: sending IP ${BLOCKLISTED_IP} on a blocklist`);
    expect(reportHeadline({ ...report, incidents: [byVerdict("list_decay")] })).toEqual({
      text: "No alerting incidents",
      side: "none",
    });
    expect(reportHeadline(buildEmptyReport()).text).toBe("No incidents");
  });

  it("sorts alerting incidents first, then by confidence", () => {
    expect(sortIncidents(report.incidents).map((i) => i.verdict)).toEqual([
      "recipient_filter",
      "sender_reputation",
      "list_decay",
    ]);
  });

  it("uses short gateway brand names", () => {
    expect(gatewayLabel("mimecast")).toBe("Mimecast");
    expect(gatewayLabel("proofpoint")).toBe("Proofpoint");
    expect(gatewayLabel("microsoft365")).toBe("Microsoft 365");
    expect(gatewayLabel("self_hosted")).toBe("self-hosted");
    expect(gatewayLabel("not-a-gateway")).toBe("not-a-gateway");
  });
});

describe("html helpers", () => {
  it("escapes the five special characters and control characters", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    expect(escapeHtml("a\u0000b\u001bc\td")).toBe("a\uFFFDb\uFFFDc\td");
    expect(escapeHtml("evil\u202Emoc.kcab\u2066x\u2069\u009b")).toBe("evil\uFFFDmoc.kcab\uFFFDx\uFFFD\uFFFD");
    expect(escapeHtml(undefined)).toBe("");
    expect(escapeHtml(null)).toBe("");
  });

  it("truncates without splitting a surrogate pair", () => {
    expect(truncate("abcdef", 4)).toBe("abc…");
    expect(truncate("ab😀cd", 4)).toBe("ab…");
    expect(clip("short", 10)).toBe("short");
    expect(clip("<long text>", 5)).toBe('<span class="clipped" title="&lt;long text&gt;">&lt;lon…</span>');
  });
});

describe("formatting", () => {
  it("never divides by zero", () => {
    expect(ratio(5, 0)).toBe(0);
    expect(ratio(Number.NaN, 3)).toBe(0);
    expect(formatPercent(Number.NaN)).toBe("0%");
    expect(formatMultiplier(0, 0)).toBe("—");
    expect(formatMultiplier(0.1, 0)).toBe("new");
    expect(formatMultiplier(0.1, 0.01)).toBe("×10");
  });

  it("formats rates, ticks, instants and durations", () => {
    expect(formatPercent(0.0342)).toBe("3.4%");
    expect(formatPercent(0.0041)).toBe("0.41%");
    expect(formatPercent(0.0000001)).toBe("<0.01%");
    expect(formatPercent(1)).toBe("100%");
    expect(formatPercentTick(0.30000000000000004)).toBe("30%");
    expect(formatInstant("2025-06-12T06:42:17+02:00")).toBe("2025-06-12 04:42 UTC");
    expect(formatInstant("not a date")).toBe("not a date");
    expect(formatDuration("2025-06-12T00:00:00Z", "2025-06-13T00:00:00Z")).toBe("24 h");
    expect(formatDuration("2025-05-15T00:00:00Z", "2025-06-12T00:00:00Z")).toBe("28 days");
  });
});

describe("SVG helpers", () => {
  it("draws an empty rate chart with axes and a message", () => {
    const svg = renderSvgRateChart({ title: "t <x>", points: [], baselineRate: 0, idPrefix: "c" });
    expect(svg).toContain("No daily data");
    expect(svg).toContain('<title id="c-title">t &lt;x&gt;</title>');
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  });

  it("clamps odd values instead of emitting NaN coordinates", () => {
    const svg = renderSvgRateChart({
      title: "odd",
      points: [
        { date: "2025-06-11", attempts: 10, hardBounces: 3 },
        { date: "2025-06-12", attempts: Number.NaN, hardBounces: 1 },
      ],
      baselineRate: Number.NaN,
      idPrefix: "o",
    });
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
    const bars = renderSvgBars({
      title: "b",
      idPrefix: "b",
      rows: [{ label: "x".repeat(100), value: Number.POSITIVE_INFINITY, baseline: -1 }],
    });
    expect(bars).not.toMatch(/NaN|Infinity|undefined/);
    expect(bars).toContain(`<title>${"x".repeat(100)}`);
    expect(renderSvgBars({ title: "none", idPrefix: "n", rows: [] })).toContain("No data");
  });

  it("picks round axis maxima", () => {
    expect(niceScale(0.34)).toEqual({ max: 0.4, step: 0.1 });
    expect(niceScale(0)).toEqual({ max: 1, step: 0.25 });
    expect(niceScale(0.0062).max).toBeCloseTo(0.008);
  });
});

describe("reputation source runs in the data-quality section", () => {
  it("says how many unreadable provider rows the last run left out", () => {
    const report = buildEmptyReport();
    const withRuns = ReportSchema.parse({
      ...report,
      dataQuality: {
        ...report.dataQuality,
        reputationSources: [
          {
            source: "snds",
            lastRunAt: "2025-06-12T18:00:00Z",
            outcome: "ok",
            error: null,
            lastSuccessAt: "2025-06-12T18:00:00Z",
            badRows: 2,
          },
          {
            source: "sendgrid",
            lastRunAt: "2025-06-12T18:00:00Z",
            outcome: "ok",
            error: null,
            lastSuccessAt: "2025-06-12T18:00:00Z",
          },
        ],
      },
    });
    const html = renderReportHtml(withRuns);
    expect(html).toContain("2 unreadable row(s) left out");
    expect(html.match(/unreadable row\(s\) left out/g)).toHaveLength(1);
  });
});
