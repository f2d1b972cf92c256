/**
 * HTML-building helpers. Everything that comes from a report goes through escapeHtml: rejection texts are
 * written by remote mail servers and may contain markup (`<script>`, `"><img onerror=...>`).
 */

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

// C0 controls other than tab/newline/carriage return, DEL and C1: invalid in HTML text, shown as U+FFFD. Bidi
// overrides and isolates would reorder the text around them (a reply could make a domain read backwards).
const CONTROL =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/** Text and attribute-value escaping (the same five characters cover both when values are double-quoted). */
export function escapeHtml(value: unknown): string {
  const s = typeof value === "string" ? value : value === null || value === undefined ? "" : String(value);
  return s.replace(CONTROL, "\uFFFD").replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** Cuts to at most max UTF-16 units with an ellipsis, never splitting a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - 1);
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

/**
 * Escaped text for display, shortened to max characters; when shortened, the full text stays readable in a
 * title attribute (hover) so nothing from the report is lost.
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return escapeHtml(text);
  return `<span class="clipped" title="${escapeHtml(text)}">${escapeHtml(truncate(text, max))}</span>`;
}

/** A number formatted for SVG coordinates: finite, one decimal, so a zero-attempt report cannot emit NaN. */
export function svgNum(x: number): string {
  if (!Number.isFinite(x)) return "0";
  return String(Math.round(x * 10) / 10);
}
