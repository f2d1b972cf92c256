/**
 * The report's only stylesheet, inlined into the document (the CSP allows inline styles and nothing else).
 * System fonts only: the report must render offline and from an S3 download.
 */
export const REPORT_CSS = `
:root {
  --fg: #0f172a; --muted: #475569; --line: #e2e8f0; --bg: #f8fafc; --card: #ffffff;
  --recipient: #0369a1; --recipient-bg: #e0f2fe;
  --sender: #b91c1c; --sender-bg: #fee2e2;
  --neutral: #15803d; --neutral-bg: #dcfce7;
  --unknown: #a16207; --unknown-bg: #fef9c3;
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; color: var(--fg); background: var(--bg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif;
}
main, .page-header, footer { max-width: 1120px; margin: 0 auto; padding: 0 20px; }
h1, h2, h3, h4 { line-height: 1.25; margin: 0; }
h2 { font-size: 1.25rem; margin: 32px 0 12px; padding-bottom: 6px; border-bottom: 2px solid var(--line); }
h3 { font-size: 1.1rem; }
h4 { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); margin: 18px 0 6px; }
p { margin: 6px 0; }
code, .mono { font-family: var(--mono); font-size: 0.88em; }
.muted, .note { color: var(--muted); }
.note { font-size: 0.88rem; }
a { color: var(--recipient); }

.page-header { padding-top: 20px; padding-bottom: 4px; }
.brand { font-weight: 700; letter-spacing: 0.02em; color: var(--muted); margin: 0 0 6px; }
.period { display: flex; flex-wrap: wrap; gap: 4px 28px; margin: 0; }
.period div { display: flex; gap: 6px; }
.period dt { color: var(--muted); }
.period dd { margin: 0; font-variant-numeric: tabular-nums; }

.headline { margin: 16px 0 8px; padding: 18px 22px; border-radius: 10px; border-left: 8px solid var(--unknown); background: var(--unknown-bg); }
.headline h1 { font-size: 1.6rem; }
.headline .sub { margin-top: 8px; }
.headline ul { margin: 8px 0 0; padding-left: 20px; }
.side-recipient { --accent: var(--recipient); --accent-bg: var(--recipient-bg); }
.side-sender { --accent: var(--sender); --accent-bg: var(--sender-bg); }
.side-neutral, .side-none { --accent: var(--neutral); --accent-bg: var(--neutral-bg); }
.side-unknown { --accent: var(--unknown); --accent-bg: var(--unknown-bg); }
.headline[class*="side-"] { border-left-color: var(--accent); background: var(--accent-bg); }

nav.toc { margin: 12px 0; font-size: 0.9rem; display: flex; flex-wrap: wrap; gap: 4px 14px; }

.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: 12px; }
.tile { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.tile .label { color: var(--muted); font-size: 0.82rem; }
.tile .value { font-size: 1.45rem; font-weight: 650; font-variant-numeric: tabular-nums; }
.tile .detail { font-size: 0.85rem; color: var(--muted); }
.tile.warn { border-color: var(--sender); background: var(--sender-bg); }
.tile.ok .value { color: var(--neutral); }

.incident { background: var(--card); border: 1px solid var(--line); border-left: 6px solid var(--accent, var(--line)); border-radius: 10px; padding: 16px 20px; margin: 0 0 20px; }
.incident > header { display: flex; flex-direction: column; gap: 6px; }
.incident .meta { color: var(--muted); font-size: 0.9rem; display: flex; flex-wrap: wrap; gap: 4px 16px; align-items: center; margin: 0; }
.badge { display: inline-block; font-size: 0.72rem; font-weight: 700; letter-spacing: 0.05em; text-transform: uppercase; padding: 2px 8px; border-radius: 999px; background: var(--line); color: var(--muted); margin-right: 6px; vertical-align: 2px; }
.badge.alert { background: var(--sender); color: #fff; }
.badge.side { background: var(--accent-bg, var(--line)); color: var(--accent, var(--muted)); }
meter { width: 90px; height: 12px; vertical-align: middle; }
.columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 8px 28px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 3px 14px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
ul.chips { list-style: none; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: 4px; }
ul.chips li { background: var(--bg); border: 1px solid var(--line); border-radius: 4px; padding: 0 6px; font-family: var(--mono); font-size: 0.82rem; overflow-wrap: anywhere; }
ul.evidence { margin: 0; padding-left: 0; list-style: none; }
ul.evidence li { padding: 3px 0; border-bottom: 1px dashed var(--line); overflow-wrap: anywhere; }
.signal { display: inline-block; min-width: 150px; font-family: var(--mono); font-size: 0.82rem; color: var(--muted); }
ol.actions { margin: 0; padding-left: 22px; }
ol.actions li { margin: 3px 0; }
figure { margin: 12px 0; }
figcaption { font-size: 0.85rem; color: var(--muted); }
svg.chart { display: block; width: 100%; height: auto; max-width: 100%; }
svg.rate-chart { max-width: 760px; }
svg.bars-chart { max-width: 900px; }

details { margin: 8px 0; }
summary { cursor: pointer; font-weight: 600; }
ul.addresses { columns: 3 220px; margin: 6px 0; padding-left: 20px; font-family: var(--mono); font-size: 0.85rem; }
ul.addresses li { overflow-wrap: anywhere; }

.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; background: var(--card); font-size: 0.9rem; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 0.78rem; text-transform: uppercase; letter-spacing: 0.03em; color: var(--muted); background: var(--bg); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.text { overflow-wrap: anywhere; font-family: var(--mono); font-size: 0.82rem; }
td.addr { white-space: nowrap; font-family: var(--mono); font-size: 0.82rem; }
tr.spike td { background: #fff7f7; }
.flag { color: var(--sender); font-weight: 700; }
.tag { font-size: 0.75rem; color: var(--muted); border: 1px solid var(--line); border-radius: 4px; padding: 0 4px; margin-left: 4px; }
.clipped { text-decoration: underline dotted var(--muted); }

footer { color: var(--muted); font-size: 0.82rem; padding-top: 24px; padding-bottom: 32px; }

@media (max-width: 640px) {
  .headline h1 { font-size: 1.3rem; }
  .signal { display: block; }
  td.addr { white-space: normal; overflow-wrap: anywhere; }
  main, .page-header, footer { padding: 0 10px; }
  .incident { padding: 12px; }
}
@media print {
  body { background: #fff; font-size: 12px; }
  main, .page-header, footer { max-width: none; padding: 0; }
  nav.toc { display: none; }
  .incident, .tile, table { box-shadow: none; }
  .incident { break-inside: auto; }
  figure, tr, .tile, ul.evidence li { break-inside: avoid; }
  thead { display: table-header-group; }
  h2, h3, h4 { break-after: avoid; }
  /* Closed <details> would hide the wrongly-suppressed addresses on paper. */
  details::details-content { content-visibility: visible; display: block; }
  summary { list-style: none; }
  a { color: inherit; text-decoration: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;
