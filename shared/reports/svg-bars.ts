import { formatPercent, formatPercentTick } from "./format.ts";
import { escapeHtml, svgNum, truncate } from "./html.ts";
import { niceScale } from "./svg-rate-chart.ts";

export interface BarRow {
  readonly label: string;
  /** Bar length (a rate, 0..1 by default). */
  readonly value: number;
  /** Drawn as a dark tick across the row. */
  readonly baseline?: number;
  /** Drawn in the alert colour (e.g. a spike). */
  readonly highlight?: boolean;
  /** Extra text for the row's tooltip. */
  readonly detail?: string;
}

export interface BarsOptions {
  /** Accessible name of the chart (the SVG's <title>). */
  readonly title: string;
  readonly rows: readonly BarRow[];
  /** Prefix for element ids, unique within the page. */
  readonly idPrefix: string;
  readonly width?: number;
  readonly format?: (value: number) => string;
  /** Axis tick labels; defaults to percentages without trailing zeros. */
  readonly tickFormat?: (value: number) => string;
  /** Legend text for a highlighted bar. */
  readonly highlightLabel?: string;
}

const COLOURS = {
  bar: "#64748b",
  highlight: "#dc2626",
  baseline: "#0f172a",
  grid: "#e2e8f0",
  axis: "#64748b",
  text: "#334155",
};
const ROW = 22;
const LABEL_CHARS = 30;

/**
 * Horizontal bars, one row per label, each with its baseline as a tick: "how far above normal is each of
 * these?" at a glance. Long labels are shortened, with the full label in the row's <title>.
 */
export function renderSvgBars(options: BarsOptions): string {
  const width = options.width ?? 720;
  const format = options.format ?? formatPercent;
  const tickFormat = options.tickFormat ?? (options.format ? options.format : formatPercentTick);
  const rows = options.rows;
  const id = options.idPrefix;
  const m = { left: 200, right: 150, top: 28, bottom: 26 };
  const height = m.top + Math.max(rows.length, 1) * ROW + m.bottom;
  const plotW = width - m.left - m.right;
  const clean = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? Math.max(0, x) : 0);
  const scale = niceScale(Math.max(0.005, ...rows.map((r) => Math.max(clean(r.value), clean(r.baseline)))));
  const x = (v: number) => m.left + (Math.min(clean(v), scale.max) / scale.max) * plotW;

  const parts: string[] = [
    `<svg class="chart bars-chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="${id}-title" font-family="system-ui, sans-serif" font-size="11">`,
    `<title id="${id}-title">${escapeHtml(options.title)}</title>`,
  ];

  // Legend.
  parts.push(
    `<rect x="${m.left}" y="7" width="10" height="10" fill="${COLOURS.bar}"/>`,
    `<text x="${m.left + 14}" y="12" dy="0.32em" fill="${COLOURS.text}">rate</text>`,
    `<rect x="${m.left + 50}" y="7" width="10" height="10" fill="${COLOURS.highlight}"/>`,
    `<text x="${m.left + 64}" y="12" dy="0.32em" fill="${COLOURS.text}">${escapeHtml(options.highlightLabel ?? "spike")}</text>`,
    `<line x1="${m.left + 115}" x2="${m.left + 115}" y1="5" y2="19" stroke="${COLOURS.baseline}" stroke-width="2"/>`,
    `<text x="${m.left + 121}" y="12" dy="0.32em" fill="${COLOURS.text}">baseline</text>`,
  );

  // Grid with value labels along the bottom.
  const bottom = m.top + Math.max(rows.length, 1) * ROW;
  // Multiplying rather than adding steps keeps float error out of the tick values.
  for (let i = 0; i * scale.step <= scale.max * (1 + 1e-9); i++) {
    const v = i * scale.step;
    const gx = svgNum(x(v));
    parts.push(
      `<line x1="${gx}" x2="${gx}" y1="${m.top}" y2="${bottom}" stroke="${COLOURS.grid}"/>`,
      `<text x="${gx}" y="${bottom + 14}" text-anchor="middle" fill="${COLOURS.text}">${escapeHtml(tickFormat(v))}</text>`,
    );
  }

  if (rows.length === 0) {
    parts.push(
      `<text x="${svgNum(m.left + plotW / 2)}" y="${m.top + ROW / 2}" dy="0.32em" text-anchor="middle" fill="${COLOURS.axis}">No data</text>`,
    );
  }

  rows.forEach((row, i) => {
    const top = m.top + i * ROW;
    const mid = top + ROW / 2;
    const value = clean(row.value);
    const tip = escapeHtml(
      `${row.label}: ${format(value)}${row.baseline !== undefined ? ` (baseline ${format(clean(row.baseline))})` : ""}${row.detail ? ` — ${row.detail}` : ""}`,
    );
    const barW = value > 0 ? Math.max(1, x(value) - m.left) : 0;
    parts.push(
      `<g class="bar-row"><title>${tip}</title>`,
      `<text x="${m.left - 8}" y="${mid}" dy="0.32em" text-anchor="end" fill="${COLOURS.text}">${escapeHtml(truncate(row.label, LABEL_CHARS))}</text>`,
      `<rect class="${row.highlight ? "bar highlight" : "bar"}" x="${m.left}" y="${svgNum(top + 4)}" width="${svgNum(barW)}" height="${ROW - 8}" fill="${row.highlight ? COLOURS.highlight : COLOURS.bar}"/>`,
    );
    if (row.baseline !== undefined) {
      const bx = svgNum(x(row.baseline));
      parts.push(
        `<line class="baseline" x1="${bx}" x2="${bx}" y1="${svgNum(top + 1)}" y2="${svgNum(top + ROW - 1)}" stroke="${COLOURS.baseline}" stroke-width="2"/>`,
      );
    }
    const valueText =
      row.baseline !== undefined ? `${format(value)} (base ${format(clean(row.baseline))})` : format(value);
    parts.push(
      `<text x="${width - m.right + 8}" y="${mid}" dy="0.32em" fill="${COLOURS.text}">${escapeHtml(valueText)}</text></g>`,
    );
  });

  parts.push(
    `<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${bottom}" stroke="${COLOURS.axis}"/>`,
    "</svg>",
  );
  return parts.join("");
}
