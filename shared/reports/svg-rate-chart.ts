import { formatCount, formatPercent, formatPercentTick, ratio } from "./format.ts";
import { escapeHtml, svgNum } from "./html.ts";

export interface RatePoint {
  /** YYYY-MM-DD (UTC day). */
  readonly date: string;
  readonly attempts: number;
  readonly hardBounces: number;
}

export interface RateChartOptions {
  /** Accessible name of the chart (the SVG's <title>). */
  readonly title: string;
  /** Longer text description for screen readers (the SVG's <desc>). */
  readonly description?: string;
  readonly points: readonly RatePoint[];
  /** Drawn as a dashed horizontal line. */
  readonly baselineRate: number;
  /** First day of the analysis window (YYYY-MM-DD): days from it on are drawn in the alert colour. */
  readonly windowStart?: string;
  /** Prefix for element ids, unique within the page (aria-labelledby needs ids). */
  readonly idPrefix: string;
  readonly width?: number;
  readonly height?: number;
}

const COLOURS = {
  bar: "#94a3b8",
  window: "#dc2626",
  baseline: "#1e293b",
  grid: "#e2e8f0",
  axis: "#64748b",
  text: "#334155",
  empty: "#cbd5e1",
};

/** An axis maximum and step from {1, 2, 2.5, 5} × 10^k covering max in about `ticks` steps. */
export function niceScale(max: number, ticks = 4): { max: number; step: number } {
  const m = Number.isFinite(max) && max > 0 ? max : 1;
  const raw = m / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((f) => f * magnitude >= raw) ?? 10) * magnitude;
  return { max: Math.ceil(m / step - 1e-9) * step, step };
}

/**
 * A bar chart of the daily hard-bounce rate (one bar per UTC day, window days highlighted) against the
 * baseline rate as a dashed line, with a percentage y axis and date labels. Pure SVG, no script: hovering a
 * bar shows its numbers through a <title>. Days with no attempts get a grey dot instead of a zero bar, so
 * "no mail sent" is not read as "no bounces".
 */
export function renderSvgRateChart(options: RateChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 230;
  const id = options.idPrefix;
  // The right margin holds the baseline label, where no bar can overlap it.
  const m = { left: 52, right: 64, top: 30, bottom: 40 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const points = options.points;
  const baseline = Number.isFinite(options.baselineRate) ? Math.max(0, options.baselineRate) : 0;
  const rates = points.map((p) => ratio(p.hardBounces, p.attempts));
  // A floor of 0.5% keeps an all-zero chart from having a zero-height axis.
  const scale = niceScale(Math.max(0.005, baseline, ...rates) * 1.08);
  const y = (rate: number) => m.top + plotH - (Math.min(rate, scale.max) / scale.max) * plotH;

  const parts: string[] = [];
  parts.push(
    `<svg class="chart rate-chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="${id}-title ${id}-desc" font-family="system-ui, sans-serif" font-size="11">`,
    `<title id="${id}-title">${escapeHtml(options.title)}</title>`,
    `<desc id="${id}-desc">${escapeHtml(options.description ?? describe(points, rates, baseline))}</desc>`,
  );

  // Grid and y axis labels.
  // Multiplying rather than adding steps keeps float error out of the tick values.
  for (let i = 0; i * scale.step <= scale.max * (1 + 1e-9); i++) {
    const v = i * scale.step;
    const yy = svgNum(y(v));
    parts.push(
      `<line x1="${m.left}" x2="${width - m.right}" y1="${yy}" y2="${yy}" stroke="${COLOURS.grid}" stroke-width="1"/>`,
      `<text x="${m.left - 6}" y="${yy}" dy="0.32em" text-anchor="end" fill="${COLOURS.text}">${escapeHtml(formatPercentTick(v))}</text>`,
    );
  }
  parts.push(
    `<text x="${m.left}" y="12" fill="${COLOURS.text}" font-weight="600">hard-bounce rate per day</text>`,
    legend(width - m.right, 12),
  );

  if (points.length === 0) {
    parts.push(
      `<text x="${svgNum(m.left + plotW / 2)}" y="${svgNum(m.top + plotH / 2)}" text-anchor="middle" fill="${COLOURS.axis}">No daily data</text>`,
    );
  }

  const slot = points.length > 0 ? plotW / points.length : plotW;
  const barW = Math.max(1, Math.min(slot * 0.72, 40));
  points.forEach((p, i) => {
    const rate = rates[i] ?? 0;
    const cx = m.left + slot * i + slot / 2;
    const inWindow = options.windowStart !== undefined && p.date >= options.windowStart;
    const tip = escapeHtml(
      p.attempts > 0
        ? `${p.date}: ${formatCount(p.hardBounces)} hard bounces of ${formatCount(p.attempts)} attempts (${formatPercent(rate)})${inWindow ? ", analysis window" : ""}`
        : `${p.date}: no attempts`,
    );
    if (p.attempts <= 0) {
      parts.push(
        `<circle cx="${svgNum(cx)}" cy="${svgNum(m.top + plotH - 3)}" r="2.5" fill="${COLOURS.empty}"><title>${tip}</title></circle>`,
      );
      return;
    }
    const top = y(rate);
    // At least 1px for a non-zero rate, so a small bounce count still shows.
    const h = rate > 0 ? Math.max(1, m.top + plotH - top) : 0;
    parts.push(
      `<rect class="${inWindow ? "bar window" : "bar"}" x="${svgNum(cx - barW / 2)}" y="${svgNum(m.top + plotH - h)}" width="${svgNum(barW)}" height="${svgNum(h)}" fill="${inWindow ? COLOURS.window : COLOURS.bar}"><title>${tip}</title></rect>`,
    );
  });

  // Baseline: dashed, labelled at the right end.
  const by = svgNum(y(baseline));
  parts.push(
    `<line class="baseline" x1="${m.left}" x2="${width - m.right + 2}" y1="${by}" y2="${by}" stroke="${COLOURS.baseline}" stroke-width="1.5" stroke-dasharray="6 4"><title>baseline ${escapeHtml(formatPercent(baseline))}</title></line>`,
    `<text x="${width - m.right + 6}" y="${by}" fill="${COLOURS.baseline}"><tspan x="${width - m.right + 6}" dy="-0.2em">baseline</tspan><tspan x="${width - m.right + 6}" dy="1.15em">${escapeHtml(formatPercent(baseline))}</tspan></text>`,
  );

  // Axes.
  const x0 = m.left;
  const y0 = m.top + plotH;
  parts.push(
    `<line x1="${x0}" x2="${x0}" y1="${m.top}" y2="${y0}" stroke="${COLOURS.axis}" stroke-width="1"/>`,
    `<line x1="${x0}" x2="${width - m.right}" y1="${y0}" y2="${y0}" stroke="${COLOURS.axis}" stroke-width="1"/>`,
  );
  // Date labels, anchored on the last day (the window) and spaced evenly back from it.
  const every = Math.max(1, Math.ceil(points.length / 7));
  points.forEach((p, i) => {
    if ((points.length - 1 - i) % every !== 0) return;
    const cx = svgNum(m.left + slot * i + slot / 2);
    parts.push(
      `<line x1="${cx}" x2="${cx}" y1="${y0}" y2="${y0 + 4}" stroke="${COLOURS.axis}"/>`,
      `<text x="${cx}" y="${y0 + 16}" text-anchor="middle" fill="${COLOURS.text}">${escapeHtml(p.date.slice(5))}</text>`,
    );
  });
  parts.push(
    `<text x="${svgNum(m.left + plotW / 2)}" y="${height - 4}" text-anchor="middle" fill="${COLOURS.axis}">day (UTC)</text>`,
    "</svg>",
  );
  return parts.join("");
}

function legend(right: number, y: number): string {
  // Laid out right to left so it always ends at the plot's right edge.
  const items: string[] = [];
  let x = right;
  const entry = (label: string, swatch: (x: number) => string, labelWidth: number) => {
    x -= labelWidth;
    items.push(`<text x="${x}" y="${y}" dy="0.32em" fill="${COLOURS.text}">${label}</text>`);
    x -= 16;
    items.push(swatch(x));
    x -= 12;
  };
  entry(
    "baseline",
    (sx) =>
      `<line x1="${sx}" x2="${sx + 12}" y1="${y}" y2="${y}" stroke="${COLOURS.baseline}" stroke-width="1.5" stroke-dasharray="4 2"/>`,
    46,
  );
  entry(
    "window",
    (sx) => `<rect x="${sx + 1}" y="${y - 5}" width="10" height="10" fill="${COLOURS.window}"/>`,
    42,
  );
  entry(
    "earlier days",
    (sx) => `<rect x="${sx + 1}" y="${y - 5}" width="10" height="10" fill="${COLOURS.bar}"/>`,
    64,
  );
  return `<g class="legend">${items.join("")}</g>`;
}

function describe(points: readonly RatePoint[], rates: readonly number[], baseline: number): string {
  if (points.length === 0) return "No daily data.";
  const last = points[points.length - 1];
  const peak = Math.max(...rates);
  return `${points.length} days from ${points[0]?.date ?? ""} to ${last?.date ?? ""}; last day ${formatPercent(rates[rates.length - 1] ?? 0)}, highest ${formatPercent(peak)}, baseline ${formatPercent(baseline)}.`;
}
