import { DEFAULT_SIDE, type Side } from "../domain/classify/taxonomy.ts";
import { GatewayIdSchema, gatewayInfo } from "../domain/gateways/catalogue.ts";
import type { Incident, OrganisationRow, Report } from "../domain/report/report-schema.ts";
import {
  formatConfidence,
  formatCount,
  formatDuration,
  formatInstant,
  formatMultiplier,
  formatNumber,
  formatPercent,
  formatProbability,
  humanise,
  listInWords,
  plural,
  ratio,
} from "./format.ts";
import { clip, escapeHtml } from "./html.ts";
import { REPORT_CSS } from "./report-css.ts";
import { renderSvgBars } from "./svg-bars.ts";
import { renderSvgRateChart } from "./svg-rate-chart.ts";

export interface RenderHtmlOptions {
  /** Rows shown in the organisation and gateway tables; the rest are counted in a note. */
  readonly maxTableRows?: number;
  /** Organisations in the bar chart. */
  readonly maxChartBars?: number;
  /** Addresses listed per incident under "wrongly suppressed". */
  readonly maxAddresses?: number;
}

/**
 * No network at all: the report is opened from S3 downloads and mail attachments, often during an incident
 * on someone's laptop, and must neither leak that it was opened nor run anything a bounce text smuggled in.
 */
export const REPORT_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const TEXT_MAX = 300;
const SCOPE_INLINE = 12;

/** "unknown" when the evidence did not decide a side; "none" when nothing alerts. */
export type HeadlineSide = Side | "unknown" | "none";

export interface Headline {
  readonly text: string;
  /** Which side the top incident points to. */
  readonly side: HeadlineSide;
}

/** Alerting incidents first, then the most confident, then the largest. */
export function sortIncidents(incidents: readonly Incident[]): Incident[] {
  return [...incidents].sort(
    (a, b) =>
      Number(b.alert) - Number(a.alert) ||
      b.confidence - a.confidence ||
      b.metrics.hardBounces - a.metrics.hardBounces ||
      a.id.localeCompare(b.id),
  );
}

/** The one-line answer for an incident: which side, what happened, where. */
export function incidentHeadline(incident: Incident): string {
  const orgCount =
    typeof incident.metrics.organisations === "number"
      ? incident.metrics.organisations
      : incident.scope.domains.length;
  const orgs = plural(orgCount, "organisation");
  const gateways = gatewayPhrase(incident.scope.gateways);
  const ips = ipPhrase(incident.scope.sendingIps);
  // The sender element the attribution localised the excess on (a campaign, an IP pool, an ESP source).
  const a = incident.attribution;
  const element = a?.elements?.[0]?.element;
  const campaign = a?.dimension === "campaign" && a.elements?.length === 1 ? element : undefined;
  const where =
    a?.dimension === "ipPool" && element
      ? `pool ${element}`
      : a?.dimension === "source" && element
        ? `source ${element}`
        : undefined;
  switch (incident.verdict) {
    case "recipient_filter":
      return `Recipient-side: ${gateways ? `${gateways} policy change` : "mail gateway policy change"} at ${orgs} — don't blame the ESP`;
    case "sender_reputation":
      return ips
        ? `Sender-side: ${ips} on a blocklist`
        : `Sender-side: sending reputation (blocklist or low reputation) at ${orgs}`;
    case "sender_authentication":
      return `Sender-side: SPF/DKIM/DMARC authentication failures at ${orgs}`;
    case "content_block":
      return campaign
        ? `Sender-side: campaign ${campaign} blocked as spam at ${orgs}`
        : `Sender-side: message content blocked as spam at ${orgs}`;
    case "esp_fault":
      return `Sender-side: the ESP fails sends${where ? ` on ${where}` : ""}${ips ? ` from ${ips}` : ""}, not the receivers`;
    case "list_decay":
      return `List decay: genuinely invalid addresses at ${orgs} — no outage`;
    default:
      return `Undecided: hard-bounce spike at ${orgs}, side unclear`;
  }
}

/** The page's answer: the top alerting incident, "No alerting incidents" or "No incidents". */
export function reportHeadline(report: Report): Headline {
  const [top] = sortIncidents(report.incidents);
  if (!top) return { text: "No incidents", side: "none" };
  if (!top.alert) return { text: "No alerting incidents", side: "none" };
  return { text: incidentHeadline(top), side: top.verdict === "unknown" ? "unknown" : top.side };
}

/**
 * The report as one self-contained HTML document: no scripts, no external resources, readable with JavaScript
 * off and on paper. Every string taken from the report is escaped; long ones are shortened with the full text
 * in a title attribute; large reports are cut to the top rows with a note saying so.
 */
export function renderReportHtml(report: Report, options: RenderHtmlOptions = {}): string {
  const maxRows = options.maxTableRows ?? 50;
  const incidents = sortIncidents(report.incidents);
  const headline = reportHeadline(report);
  // Series points are UTC days: the day the window starts in is the first one drawn as "window".
  const windowStart = Date.parse(report.window.start);
  const windowDay = Number.isFinite(windowStart)
    ? new Date(windowStart).toISOString().slice(0, 10)
    : report.window.start.slice(0, 10);

  const body = [
    renderPageHeader(report),
    "<main>",
    renderHeadline(report, incidents, headline),
    renderToc(report),
    renderTotals(report, windowDay),
    renderIncidents(incidents, windowDay, options.maxAddresses ?? 500),
    renderOrganisations(report.organisations, maxRows, options.maxChartBars ?? 15),
    renderGateways(report, maxRows),
    renderCategories(report.organisations),
    renderReputation(report.reputation, maxRows),
    renderDataQuality(report),
    "</main>",
    `<footer>bounce-radar report · schema version ${escapeHtml(report.schemaVersion)} · run <code>${clip(report.runId, 60)}</code> · generated ${escapeHtml(formatInstant(report.generatedAt))}. Recipient addresses are masked unless masking was turned off in the configuration.</footer>`,
  ];

  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(REPORT_CSP)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light">',
    '<meta name="referrer" content="no-referrer">',
    // A data: icon stops browsers fetching /favicon.ico when the report is served over HTTP.
    '<link rel="icon" href="data:,">',
    `<title>${escapeHtml(`${headline.text} · bounce-radar ${formatInstant(report.window.end)}`)}</title>`,
    `<style>${REPORT_CSS}</style>`,
    "</head>",
    "<body>",
    ...body,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

// ── page header and headline ──

function renderPageHeader(report: Report): string {
  const period = (label: string, p: { start: string; end: string }) =>
    `<div><dt>${label}</dt><dd>${escapeHtml(formatInstant(p.start))} → ${escapeHtml(formatInstant(p.end))} <span class="muted">(${escapeHtml(formatDuration(p.start, p.end))})</span></dd></div>`;
  return [
    '<header class="page-header">',
    '<p class="brand">bounce-radar · hard-bounce attribution report</p>',
    '<dl class="period">',
    period("Window", report.window),
    period("Baseline", report.baseline),
    `<div><dt>Generated</dt><dd>${escapeHtml(formatInstant(report.generatedAt))}</dd></div>`,
    `<div><dt>Run</dt><dd><code>${clip(report.runId, 60)}</code></dd></div>`,
    "</dl>",
    "</header>",
  ].join("\n");
}

function renderHeadline(report: Report, incidents: readonly Incident[], headline: Headline): string {
  const t = report.totals;
  const alerting = incidents.filter((i) => i.alert);
  const quiet = incidents.filter((i) => !i.alert);
  const [top, ...otherAlerts] = alerting;
  const lines: string[] = [];
  if (top) {
    lines.push(
      `<p class="sub">Confidence ${escapeHtml(formatConfidence(top.confidence))} · ${escapeHtml(plural(top.metrics.hardBounces, "hard bounce"))} at ${escapeHtml(formatPercent(top.metrics.rate))} (baseline ${escapeHtml(formatPercent(top.metrics.baselineRate))}) · first seen ${escapeHtml(formatInstant(top.firstSeen))} · <a href="#incident-1">details</a></p>`,
    );
  } else {
    lines.push(
      `<p class="sub">Hard-bounce rate ${escapeHtml(formatPercent(t.hardBounceRate))} against a baseline of ${escapeHtml(formatPercent(t.baselineRate))} across ${escapeHtml(plural(t.organisations, "organisation"))}; consumer control group ${t.consumer.spike ? "spiking" : "normal"}.</p>`,
    );
  }
  const also: string[] = [];
  for (const i of otherAlerts) also.push(`<li>Also alerting: ${escapeHtml(incidentHeadline(i))}</li>`);
  for (const i of quiet) also.push(`<li>Not alerting: ${escapeHtml(incidentHeadline(i))}</li>`);
  return [
    `<section class="headline side-${headline.side}" aria-labelledby="headline">`,
    `<h1 id="headline">${escapeHtml(headline.text)}</h1>`,
    ...lines,
    also.length > 0 ? `<ul>${also.join("")}</ul>` : "",
    "</section>",
  ].join("\n");
}

function renderToc(report: Report): string {
  const links: [string, string][] = [
    ["totals", "Totals"],
    ["incidents", `Incidents (${report.incidents.length})`],
    ["organisations", "Organisations"],
    ["gateways", "Gateways"],
    ["categories", "Categories"],
  ];
  if (report.reputation.length > 0) links.push(["reputation", "Reputation"]);
  links.push(["data-quality", "Data quality"]);
  return `<nav class="toc" aria-label="Sections">${links.map(([id, label]) => `<a href="#${id}">${escapeHtml(label)}</a>`).join("")}</nav>`;
}

// ── totals ──

function renderTotals(report: Report, windowDay: string): string {
  const t = report.totals;
  const c = t.consumer;
  const tile = (label: string, value: string, detail: string, cls = "") =>
    `<div class="tile${cls ? ` ${cls}` : ""}"><div class="label">${label}</div><div class="value">${value}</div><div class="detail">${detail}</div></div>`;
  const tiles = [
    tile(
      "Hard-bounce rate",
      escapeHtml(formatPercent(t.hardBounceRate)),
      `baseline ${escapeHtml(formatPercent(t.baselineRate))} · ${escapeHtml(formatMultiplier(t.hardBounceRate, t.baselineRate))}`,
    ),
    tile(
      "Hard bounces",
      escapeHtml(formatCount(t.hardBounces)),
      `of ${escapeHtml(formatCount(t.attempts))} attempts in the window`,
    ),
    tile(
      "Organisations",
      escapeHtml(formatCount(t.organisations)),
      "recipient domains with mail in the window",
    ),
    tile(
      "Consumer control group",
      c.spike ? "spiking" : "normal",
      `${escapeHtml(formatPercent(c.rate))} vs baseline ${escapeHtml(formatPercent(c.baselineRate))} · ${escapeHtml(formatCount(c.hardBounces))} of ${escapeHtml(formatCount(c.attempts))}`,
      c.spike ? "warn" : "ok",
    ),
  ];
  const chart =
    t.series && t.series.length > 0
      ? `<figure>${renderSvgRateChart({
          title: "All mail: daily hard-bounce rate against the baseline",
          points: t.series,
          baselineRate: t.baselineRate,
          windowStart: windowDay,
          idPrefix: "chart-totals",
        })}<figcaption>All recipients, one bar per UTC day; the dashed line is the baseline rate.</figcaption></figure>`
      : "";
  return [
    '<section id="totals" aria-labelledby="totals-h">',
    '<h2 id="totals-h">Totals</h2>',
    `<div class="tiles">${tiles.join("")}</div>`,
    '<p class="note">Consumer mailbox providers (Gmail, Outlook.com, Yahoo, …) accept and junk rather than reject, so they are the control group: when they stay normal while business domains spike, the recipients\' gateways are the likely cause.</p>',
    chart,
    "</section>",
  ].join("\n");
}

// ── incidents ──

function renderIncidents(incidents: readonly Incident[], windowDay: string, maxAddresses: number): string {
  const parts = [
    '<section id="incidents" aria-labelledby="incidents-h">',
    '<h2 id="incidents-h">Incidents</h2>',
  ];
  if (incidents.length === 0) {
    parts.push('<p class="empty">No incidents: no cluster of organisations spiked above its baseline.</p>');
  }
  incidents.forEach((incident, i) => {
    parts.push(renderIncident(incident, i + 1, windowDay, maxAddresses));
  });
  parts.push("</section>");
  return parts.join("\n");
}

function renderIncident(incident: Incident, n: number, windowDay: string, maxAddresses: number): string {
  const dom = `incident-${n}`;
  const side = incident.verdict === "unknown" ? "unknown" : incident.side;
  const m = incident.metrics;
  const badge = incident.alert
    ? '<span class="badge alert">alert</span>'
    : '<span class="badge">not alerting</span>';

  const header = [
    "<header>",
    `<h3 id="${dom}-h">${badge}${escapeHtml(incidentHeadline(incident))}</h3>`,
    '<p class="meta">',
    `<span>verdict <code>${escapeHtml(incident.verdict)}</code></span>`,
    `<span class="badge side">${escapeHtml(incident.side)} side</span>`,
    `<span>confidence <meter min="0" max="1" low="0.4" high="0.7" optimum="1" value="${escapeHtml(incident.confidence)}">${escapeHtml(formatConfidence(incident.confidence))}</meter> ${escapeHtml(formatConfidence(incident.confidence))}</span>`,
    `<span>first seen ${escapeHtml(formatInstant(incident.firstSeen))}</span>`,
    `<span class="mono">${clip(incident.id, 40)}</span>`,
    "</p>",
    "</header>",
  ].join("");

  const scope = [
    "<div>",
    "<h4>Scope</h4>",
    '<dl class="facts">',
    `<dt>Domains (${escapeHtml(formatCount(incident.scope.domains.length))})</dt><dd>${chipList(incident.scope.domains, "none")}</dd>`,
    `<dt>Gateways</dt><dd>${chipList(incident.scope.gateways.map(gatewayLabel), "none")}</dd>`,
    `<dt>Sending IPs</dt><dd>${chipList(incident.scope.sendingIps, "spread across all")}</dd>`,
    "</dl>",
    "</div>",
  ].join("");

  const known = new Set([
    "attempts",
    "hardBounces",
    "rate",
    "baselineRate",
    "previouslyDelivered",
    "bouncedAddresses",
  ]);
  // Metrics is an open object: fields added later still show, as long as they are plain values.
  const extra = Object.entries(m).flatMap(([k, v]) =>
    !known.has(k) && (typeof v === "number" || typeof v === "string" || typeof v === "boolean")
      ? [`<dt>${escapeHtml(capitalise(humanise(k)))}</dt><dd>${extraValue(v)}</dd>`]
      : [],
  );
  const metrics = [
    "<div>",
    "<h4>Metrics</h4>",
    '<dl class="facts">',
    `<dt>Hard-bounce rate</dt><dd><strong>${escapeHtml(formatPercent(m.rate))}</strong> vs baseline ${escapeHtml(formatPercent(m.baselineRate))} (${escapeHtml(formatMultiplier(m.rate, m.baselineRate))})</dd>`,
    `<dt>Hard bounces</dt><dd>${escapeHtml(formatCount(m.hardBounces))} of ${escapeHtml(formatCount(m.attempts))} attempts</dd>`,
    `<dt>Bounced addresses</dt><dd>${escapeHtml(formatCount(m.bouncedAddresses))}</dd>`,
    `<dt>Previously delivered</dt><dd>${escapeHtml(formatPercent(m.previouslyDelivered))} <span class="muted">had a delivery in the last 90 days</span></dd>`,
    ...extra,
    "</dl>",
    "</div>",
  ].join("");

  const chart =
    incident.series && incident.series.length > 0
      ? `<figure>${renderSvgRateChart({
          title: `Daily hard-bounce rate for incident ${n} against its baseline of ${formatPercent(m.baselineRate)}`,
          points: incident.series,
          baselineRate: m.baselineRate,
          windowStart: windowDay,
          idPrefix: `${dom}-chart`,
        })}<figcaption>Daily hard-bounce rate in this incident's scope; the dashed line is its baseline rate.</figcaption></figure>`
      : '<p class="note">No daily series in the report for this incident.</p>';

  const evidence =
    incident.evidence.length > 0
      ? `<ul class="evidence">${incident.evidence
          .map(
            (e) => `<li><span class="signal">${escapeHtml(e.signal)}</span> ${clip(e.detail, TEXT_MAX)}</li>`,
          )
          .join("")}</ul>`
      : '<p class="muted">No evidence recorded.</p>';

  const samples =
    incident.samples.length > 0
      ? [
          '<div class="table-wrap"><table class="samples">',
          "<thead><tr><th>Recipient</th><th>Category</th><th>Rejection text</th></tr></thead><tbody>",
          ...incident.samples.map(
            (s) =>
              `<tr><td class="addr">${clip(s.recipient, 60)}</td><td>${escapeHtml(humanise(s.category))}</td><td class="text">${clip(s.text, TEXT_MAX)}</td></tr>`,
          ),
          "</tbody></table></div>",
        ].join("")
      : '<p class="muted">No samples.</p>';

  // One entry per address; masked ones may repeat (anna@ and anton@ both read a***@), shown once with a count.
  const suppressed = incident.wronglySuppressed;
  const shown = [...tallyInOrder(suppressed)].slice(0, maxAddresses);
  const shownCount = shown.reduce((a, [, n]) => a + n, 0);
  const wrongly =
    suppressed.length > 0
      ? [
          `<details class="suppressed"><summary>${escapeHtml(plural(suppressed.length, "address", "addresses"))} wrongly suppressed</summary>`,
          `<ul class="addresses">${shown.map(([a, n]) => `<li>${clip(a, 80)}${n > 1 ? ` <span class="muted">×${escapeHtml(formatCount(n))}</span>` : ""}</li>`).join("")}</ul>`,
          suppressed.length > shownCount
            ? `<p class="note">Showing ${escapeHtml(formatCount(shownCount))} of ${escapeHtml(formatCount(suppressed.length))}; the full list is in report.json.</p>`
            : "",
          "</details>",
        ].join("")
      : '<p class="muted">No addresses wrongly suppressed.</p>';

  const actions =
    incident.actions.length > 0
      ? `<ol class="actions">${incident.actions.map((a) => `<li>${clip(a, 600)}</li>`).join("")}</ol>`
      : '<p class="muted">No actions suggested.</p>';

  return [
    `<article class="incident side-${side}${incident.alert ? " alerting" : ""}" id="${dom}" data-incident-id="${escapeHtml(incident.id)}" aria-labelledby="${dom}-h">`,
    header,
    `<div class="columns">${scope}${metrics}</div>`,
    chart,
    "<h4>Evidence</h4>",
    evidence,
    "<h4>Sample rejections</h4>",
    samples,
    "<h4>Wrongly suppressed addresses</h4>",
    wrongly,
    "<h4>Actions</h4>",
    actions,
    "</article>",
  ].join("\n");
}

function chipList(items: readonly string[], empty: string): string {
  if (items.length === 0) return `<span class="muted">${escapeHtml(empty)}</span>`;
  const chips = (xs: readonly string[]) =>
    `<ul class="chips">${xs.map((x) => `<li>${clip(x, 80)}</li>`).join("")}</ul>`;
  if (items.length <= SCOPE_INLINE) return chips(items);
  // Many domains: the first few inline, the rest one click away.
  return `${chips(items.slice(0, SCOPE_INLINE))}<details><summary>${escapeHtml(formatCount(items.length - SCOPE_INLINE))} more</summary>${chips(items.slice(SCOPE_INLINE))}</details>`;
}

function extraValue(v: number | string | boolean): string {
  if (typeof v === "number") return escapeHtml(formatNumber(v));
  if (typeof v === "boolean") return v ? "yes" : "no";
  return clip(v, 120);
}

// ── organisations, gateways, categories ──

function renderOrganisations(rows: readonly OrganisationRow[], maxRows: number, maxBars: number): string {
  const parts = [
    '<section id="organisations" aria-labelledby="organisations-h">',
    '<h2 id="organisations-h">Organisations</h2>',
  ];
  if (rows.length === 0) {
    parts.push('<p class="empty">No organisations had mail in the window.</p>', "</section>");
    return parts.join("\n");
  }
  const byHard = [...rows].sort(
    (a, b) => b.hardBounces - a.hardBounces || b.rate - a.rate || a.domain.localeCompare(b.domain),
  );
  const top = byHard.slice(0, maxBars);
  parts.push(
    `<figure>${renderSvgBars({
      title: `Top ${top.length} organisations by hard bounces in the window: rate against baseline`,
      idPrefix: "chart-organisations",
      rows: top.map((o) => ({
        label: o.domain,
        value: o.rate,
        baseline: o.baselineRate,
        highlight: o.spike,
        detail: `${formatCount(o.hardBounces)} of ${formatCount(o.attempts)} hard-bounced, gateway ${gatewayLabel(o.gateway)}`,
      })),
    })}<figcaption>Top ${escapeHtml(formatCount(top.length))} of ${escapeHtml(formatCount(rows.length))} organisations by window hard bounces; red bars are statistically significant spikes, the dark tick is each organisation's own baseline.</figcaption></figure>`,
  );
  const shown = byHard.slice(0, maxRows);
  parts.push(
    '<div class="table-wrap"><table class="organisations">',
    '<thead><tr><th>Domain</th><th>Gateway</th><th class="num">Attempts</th><th class="num">Hard bounces</th><th class="num">Rate</th><th class="num">Baseline</th><th class="num">Shrunk rate</th><th class="num">q-value</th><th>Spike</th></tr></thead><tbody>',
    ...shown.map(
      (o) =>
        `<tr${o.spike ? ' class="spike"' : ""}><td>${clip(o.domain, 60)}${o.consumer ? '<span class="tag">consumer</span>' : ""}</td><td>${escapeHtml(gatewayLabel(o.gateway))}</td><td class="num">${escapeHtml(formatCount(o.attempts))}</td><td class="num">${escapeHtml(formatCount(o.hardBounces))}</td><td class="num">${escapeHtml(formatPercent(o.rate))}</td><td class="num">${escapeHtml(formatPercent(o.baselineRate))}</td><td class="num">${escapeHtml(formatPercent(o.shrunkRate))}</td><td class="num">${escapeHtml(formatProbability(o.qValue))}</td><td>${o.spike ? '<span class="flag">spike</span>' : ""}</td></tr>`,
    ),
    "</tbody></table></div>",
    limitNote(shown.length, rows.length, "organisations", "window hard bounces"),
    "</section>",
  );
  return parts.join("\n");
}

function renderGateways(report: Report, maxRows: number): string {
  const parts = ['<section id="gateways" aria-labelledby="gateways-h">', '<h2 id="gateways-h">Gateways</h2>'];
  const rows = [...report.gateways].sort(
    (a, b) =>
      Number(b.spike) - Number(a.spike) ||
      b.hardBounces - a.hardBounces ||
      a.gateway.localeCompare(b.gateway),
  );
  if (rows.length === 0) {
    parts.push('<p class="empty">No gateway data.</p>', "</section>");
    return parts.join("\n");
  }
  const shown = rows.slice(0, maxRows);
  parts.push(
    '<div class="table-wrap"><table class="gateways">',
    '<thead><tr><th>Gateway</th><th class="num">Organisations</th><th class="num">Attempts</th><th class="num">Hard bounces</th><th class="num">Rate</th><th class="num">Baseline</th><th class="num">Change</th><th class="num">q-value</th><th>Spike</th></tr></thead><tbody>',
    ...shown.map(
      (g) =>
        `<tr${g.spike ? ' class="spike"' : ""}><td>${escapeHtml(gatewayLabel(g.gateway))}</td><td class="num">${escapeHtml(formatCount(g.organisations))}</td><td class="num">${escapeHtml(formatCount(g.attempts))}</td><td class="num">${escapeHtml(formatCount(g.hardBounces))}</td><td class="num">${escapeHtml(formatPercent(g.rate))}</td><td class="num">${escapeHtml(formatPercent(g.baselineRate))}</td><td class="num">${escapeHtml(formatMultiplier(g.rate, g.baselineRate))}</td><td class="num">${escapeHtml(formatProbability(g.qValue))}</td><td>${g.spike ? '<span class="flag">spike</span>' : ""}</td></tr>`,
    ),
    "</tbody></table></div>",
    limitNote(shown.length, rows.length, "gateways", "spikes first, then hard bounces"),
    "</section>",
  );
  return parts.join("\n");
}

/** Window hard bounces by category, summed over every organisation (not just the rows shown above). */
function renderCategories(rows: readonly OrganisationRow[]): string {
  const parts = [
    '<section id="categories" aria-labelledby="categories-h">',
    '<h2 id="categories-h">Rejection categories</h2>',
  ];
  const sums = new Map<string, { business: number; consumer: number }>();
  for (const o of rows) {
    for (const [category, n] of Object.entries(o.categories)) {
      const s = sums.get(category) ?? { business: 0, consumer: 0 };
      if (o.consumer) s.consumer += n;
      else s.business += n;
      sums.set(category, s);
    }
  }
  const total = [...sums.values()].reduce((a, s) => a + s.business + s.consumer, 0);
  if (sums.size === 0 || total === 0) {
    parts.push('<p class="empty">No hard bounces in the window.</p>', "</section>");
    return parts.join("\n");
  }
  const sorted = [...sums].sort(
    (a, b) => b[1].business + b[1].consumer - (a[1].business + a[1].consumer) || a[0].localeCompare(b[0]),
  );
  parts.push(
    '<div class="table-wrap"><table class="categories">',
    '<thead><tr><th>Category</th><th>Usual side</th><th class="num">Business domains</th><th class="num">Consumer</th><th class="num">Total</th><th class="num">Share</th></tr></thead><tbody>',
    ...sorted.map(([category, s]) => {
      const usual = category in DEFAULT_SIDE ? DEFAULT_SIDE[category as keyof typeof DEFAULT_SIDE] : "—";
      return `<tr><td>${clip(humanise(category), 60)}</td><td>${escapeHtml(usual)}</td><td class="num">${escapeHtml(formatCount(s.business))}</td><td class="num">${escapeHtml(formatCount(s.consumer))}</td><td class="num">${escapeHtml(formatCount(s.business + s.consumer))}</td><td class="num">${escapeHtml(formatPercent(ratio(s.business + s.consumer, total)))}</td></tr>`;
    }),
    "</tbody></table></div>",
    `<p class="note">Window hard bounces summed over all ${escapeHtml(plural(rows.length, "organisation"))}.</p>`,
    "</section>",
  );
  return parts.join("\n");
}

function renderReputation(rows: Report["reputation"], maxRows: number): string {
  if (rows.length === 0) return "";
  const shown = rows.slice(0, maxRows);
  const fields = (row: Record<string, unknown>) =>
    typeof row.metric === "string" && typeof row.detail === "string"
      ? `${String(row.subject)} · ${row.metric}${typeof row.day === "string" ? ` (${row.day})` : ""} · ${String(row.status)}: ${row.detail}`
      : Object.entries(row)
          .filter(([k]) => k !== "source")
          .map(([k, v]) => `${humanise(k)}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
          .join(" · ");
  return [
    '<section id="reputation" aria-labelledby="reputation-h">',
    '<h2 id="reputation-h">Reputation</h2>',
    '<div class="table-wrap"><table class="reputation"><thead><tr><th>Source</th><th>Observation</th></tr></thead><tbody>',
    ...shown.map(
      (r) => `<tr><td>${clip(r.source, 60)}</td><td class="text">${clip(fields(r), TEXT_MAX)}</td></tr>`,
    ),
    "</tbody></table></div>",
    limitNote(shown.length, rows.length, "observations", "report order"),
    "</section>",
  ].join("\n");
}

// ── data quality ──

function renderDataQuality(report: Report): string {
  const dq = report.dataQuality;
  const parts = [
    '<section id="data-quality" aria-labelledby="data-quality-h">',
    '<h2 id="data-quality-h">Data quality</h2>',
  ];
  if (dq.sources.length === 0) {
    parts.push('<p class="empty">No event sources reported.</p>');
  } else {
    parts.push(
      '<div class="table-wrap"><table class="sources"><thead><tr><th>Source</th><th class="num">Events</th><th>Last event</th></tr></thead><tbody>',
      ...dq.sources.map((s) => {
        const stale = s.lastEventAt === null || s.lastEventAt < report.window.start;
        return `<tr><td>${clip(s.source, 60)}</td><td class="num">${escapeHtml(formatCount(s.events))}</td><td>${s.lastEventAt === null ? '<span class="flag">no events</span>' : `${escapeHtml(formatInstant(s.lastEventAt))}${stale ? ' <span class="flag">before the window</span>' : ""}`}</td></tr>`;
      }),
      "</tbody></table></div>",
    );
  }
  const runs = dq.reputationSources ?? [];
  if (runs.length > 0) {
    parts.push(
      '<div class="table-wrap"><table class="reputation-sources"><thead><tr><th>Reputation source</th><th>Last run</th><th>Outcome</th><th>Last success</th></tr></thead><tbody>',
      ...runs.map(
        (r) =>
          `<tr><td>${clip(r.source, 60)}</td><td>${escapeHtml(formatInstant(r.lastRunAt))}</td><td>${r.outcome === "ok" ? "ok" : `<span class="flag">failed</span> ${clip(r.error ?? "", TEXT_MAX)}`}${r.badRows ? ` <span class="flag">${escapeHtml(formatCount(r.badRows))} unreadable row(s) left out</span>` : ""}</td><td>${r.lastSuccessAt === null ? '<span class="flag">none in range</span>' : escapeHtml(formatInstant(r.lastSuccessAt))}</td></tr>`,
      ),
      "</tbody></table></div>",
    );
  }
  if (dq.gaps.length === 0) {
    parts.push("<p>No gaps in the event data.</p>");
  } else {
    parts.push(
      `<h4>Gaps (${escapeHtml(formatCount(dq.gaps.length))})</h4>`,
      `<ul class="gaps">${dq.gaps
        .slice(0, 100)
        .map(
          (g) =>
            `<li><strong>${clip(g.source, 60)}</strong>: ${escapeHtml(formatInstant(g.from))} → ${escapeHtml(formatInstant(g.to))} <span class="muted">(${escapeHtml(formatDuration(g.from, g.to))})</span></li>`,
        )
        .join("")}</ul>`,
      limitNote(Math.min(dq.gaps.length, 100), dq.gaps.length, "gaps", "report order"),
    );
  }
  parts.push(
    dq.quarantined > 0
      ? `<p><span class="flag">${escapeHtml(plural(dq.quarantined, "record"))} quarantined</span>: they failed validation and are not counted; see <code>quarantine/</code> for each one's reason.</p>`
      : "<p>No records quarantined.</p>",
    "</section>",
  );
  return parts.join("\n");
}

// ── helpers ──

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function limitNote(shown: number, total: number, noun: string, order: string): string {
  if (shown >= total) return "";
  return `<p class="note">Showing the top ${escapeHtml(formatCount(shown))} of ${escapeHtml(formatCount(total))} ${escapeHtml(noun)} (by ${escapeHtml(order)}); the full list is in report.json.</p>`;
}

/** "mimecast" -> "Mimecast", "microsoft365" -> "Microsoft 365"; ids the catalogue does not know stay as they are. */
export function gatewayLabel(id: string): string {
  if (id === "self_hosted") return "self-hosted";
  if (id === "unknown") return "unknown gateway";
  const parsed = GatewayIdSchema.safeParse(id);
  if (!parsed.success) return id;
  const name = gatewayInfo(parsed.data).name;
  // Catalogue names are precise ("Proofpoint (Enterprise, on Demand, Essentials)"); a headline needs the brand.
  return name.split(" (")[0]?.split(" / ")[0] ?? name;
}

function gatewayPhrase(gateways: readonly string[]): string {
  const known = gateways.filter((g) => g !== "unknown" && g !== "self_hosted").map(gatewayLabel);
  if (known.length === 0) return "";
  if (known.length <= 2) return listInWords(known);
  return `${known.slice(0, 2).join(", ")} and ${known.length - 2} more gateways'`;
}

function ipPhrase(ips: readonly string[]): string {
  if (ips.length === 0) return "";
  if (ips.length === 1) return `sending IP ${ips[0]}`;
  if (ips.length <= 3) return `sending IPs ${listInWords(ips)}`;
  return `${ips.length} sending IPs`;
}

/** How often each value occurs, in order of first occurrence. */
function tallyInOrder(values: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}
