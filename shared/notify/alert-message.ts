import type { Incident } from "../domain/report/report-schema.ts";
import { maskAddresses, redactSecrets, safeLine } from "../domain/text/safe-text.ts";
import {
  formatConfidence,
  formatCount,
  formatDuration,
  formatInstant,
  formatMultiplier,
  formatPercent,
  humanise,
  plural,
} from "../reports/format.ts";
import { gatewayLabel, incidentHeadline } from "../reports/render-html.ts";

export type AlertKind = "new" | "escalated" | "resolved";
export type AlertSeverity = "critical" | "warning" | "info";

export interface AlertMessage {
  /** ASCII, one line, at most SUBJECT_MAX characters. */
  readonly subject: string;
  /** Plain-text body for email subscribers. */
  readonly email: string;
  /** One line, at most SMS_MAX characters. */
  readonly sms: string;
  /** Sent as SNS message attributes so subscriptions can filter on them. */
  readonly attributes: { readonly verdict: string; readonly side: string; readonly severity: AlertSeverity };
}

export interface AlertContext {
  /** s3://bucket/key or a local path. */
  readonly reportUri: string;
  /** AWS console link to the report object. */
  readonly consoleUrl?: string;
  readonly window: { readonly start: string; readonly end: string };
}

/** SNS rejects subjects of 100 characters or more ("less than 100 characters long"). */
export const SUBJECT_MAX = 99;
/** One SMS segment's worth, so an alert never arrives split or cut by the carrier. */
export const SMS_MAX = 140;

const KIND_WORD: Readonly<Record<AlertKind, string>> = {
  new: "ALERT",
  escalated: "WORSE",
  resolved: "RESOLVED",
};
const SENDER_VERDICTS: ReadonlySet<string> = new Set([
  "sender_reputation",
  "sender_authentication",
  "content_block",
  "esp_fault",
]);
const DOMAINS_LISTED = 10;
const SAMPLES_LISTED = 5;
const LINE_MAX = 300;

/** Build the subject, email body and SMS text for one incident. Pure: no clock, no I/O. */
export function formatAlert(kind: AlertKind, incident: Incident, ctx: AlertContext): AlertMessage {
  const word = KIND_WORD[kind];
  const headline = clean(incidentHeadline(incident));
  const attributes = { verdict: incident.verdict, side: incident.side, severity: severityOf(kind, incident) };
  const where = domainsShort(incident.scope.domains);
  if (kind === "resolved") {
    const since = formatInstant(incident.firstSeen);
    return {
      subject: fitSubject(`${word}: ${headline}`),
      sms: fitSms(`${word}: ${headline}${where ? ` | ${where}` : ""} | started ${since}`),
      email: resolvedEmail(incident, headline, ctx),
      attributes,
    };
  }
  const m = incident.metrics;
  const rates = `${formatPercent(m.rate)} vs ${formatPercent(m.baselineRate)} baseline`;
  return {
    subject: fitSubject(`${word}: ${headline}`),
    sms: fitSms(`${word}: ${headline}${where ? ` | ${where}` : ""} | ${rates}`),
    email: alertEmail(kind, incident, headline, ctx),
    attributes,
  };
}

/** critical wakes someone: a sender-side problem that alerts, or a recipient filter that is new or worse. */
export function severityOf(kind: AlertKind, incident: Incident): AlertSeverity {
  if (kind === "resolved") return "info";
  if (incident.alert && (SENDER_VERDICTS.has(incident.verdict) || incident.side === "sender"))
    return "critical";
  if (incident.verdict === "recipient_filter") return "critical";
  return "warning";
}

function alertEmail(kind: AlertKind, incident: Incident, headline: string, ctx: AlertContext): string {
  const m = incident.metrics;
  const { domains, gateways, sendingIps } = incident.scope;
  const lines: string[] = [
    `${KIND_WORD[kind]}: ${kind === "escalated" ? "incident got worse" : "new incident"} ${incident.id}`,
    headline,
    "",
    `Verdict: ${humanise(incident.verdict)} (side: ${incident.side}, confidence ${formatConfidence(incident.confidence)})`,
    `First seen: ${formatInstant(incident.firstSeen)}`,
    windowLine(ctx.window),
    "",
    "Scope",
    `  Domains (${formatCount(domains.length)}): ${listWithMore(domains, DOMAINS_LISTED) || "none"}`,
    `  Gateways: ${gateways.length > 0 ? gateways.map(gatewayLabel).join(", ") : "none recognised"}`,
    `  Sending IPs: ${sendingIps.length > 0 ? listWithMore(sendingIps, DOMAINS_LISTED) : "all alike"}`,
    "",
    "Hard-bounce rate",
    `  Window: ${formatPercent(m.rate)} (${formatCount(m.hardBounces)} of ${formatCount(m.attempts)} attempts)`,
    `  Baseline: ${formatPercent(m.baselineRate)}${baselineCounts(m)}; window ${formatMultiplier(m.rate, m.baselineRate)}`,
    `  Previously delivered: ${formatPercent(m.previouslyDelivered)} of ${plural(m.bouncedAddresses, "bounced address", "bounced addresses")}`,
  ];
  if (incident.evidence.length > 0) {
    lines.push("", "Evidence");
    for (const e of incident.evidence) lines.push(`  - ${clip(`${humanise(e.signal)}: ${e.detail}`)}`);
  }
  if (incident.samples.length > 0) {
    lines.push("", "Sample rejections");
    for (const s of incident.samples.slice(0, SAMPLES_LISTED)) {
      lines.push(`  - ${clip(`${s.recipient} [${s.category}]: ${s.text}`)}`);
    }
    if (incident.samples.length > SAMPLES_LISTED) {
      lines.push(`  (${formatCount(incident.samples.length - SAMPLES_LISTED)} more in the report)`);
    }
  }
  if (incident.actions.length > 0) {
    lines.push("", "Next steps");
    incident.actions.forEach((a, i) => {
      lines.push(`  ${i + 1}. ${clip(a, 1000)}`);
    });
  }
  const wrong = incident.wronglySuppressed.length;
  lines.push(
    "",
    wrong > 0
      ? `${plural(wrong, "address looks", "addresses look")} wrongly suppressed: pause, do not delete them (list in the report).`
      : "No addresses look wrongly suppressed.",
    "",
    ...reportLines(ctx),
  );
  return body(lines);
}

function resolvedEmail(incident: Incident, headline: string, ctx: AlertContext): string {
  return body([
    `RESOLVED: all clear for incident ${incident.id}`,
    headline,
    "",
    `It started ${formatInstant(incident.firstSeen)} and is no longer detected.`,
    windowLine(ctx.window),
    "",
    ...reportLines(ctx),
  ]);
}

function windowLine(w: AlertContext["window"]): string {
  const length = formatDuration(w.start, w.end);
  return `Window: ${formatInstant(w.start)} to ${formatInstant(w.end)}${length ? ` (${length})` : ""}`;
}

function reportLines(ctx: AlertContext): string[] {
  const lines = ["Report", `  ${ctx.reportUri}`];
  if (ctx.consoleUrl) lines.push(`  Console: ${ctx.consoleUrl}`);
  return lines;
}

/** Counts are optional extras on the loose metrics object. */
function baselineCounts(m: Incident["metrics"]): string {
  const b = m.baselineHardBounces;
  const a = m.baselineAttempts;
  return typeof b === "number" && typeof a === "number"
    ? ` (${formatCount(b)} of ${formatCount(a)} attempts)`
    : "";
}

/**
 * Neutralising, masking and redaction run over the finished body too, so no field, present or future, can slip
 * past: each line is made one inert line (line breaks a space, control and bidi characters visible escapes).
 */
function body(lines: readonly string[]): string {
  return `${redactSecrets(maskAddresses(lines.map(safeLine).join("\n")), { opaque: false })}\n`;
}

function listWithMore(items: readonly string[], shown: number): string {
  const head = items.slice(0, shown).join(", ");
  return items.length > shown ? `${head} and ${formatCount(items.length - shown)} more` : head;
}

function domainsShort(domains: readonly string[]): string {
  const [first] = domains;
  if (first === undefined) return "";
  return domains.length > 1 ? `${first} +${formatCount(domains.length - 1)}` : first;
}

// ---- text safety (shared/domain/text/safe-text.ts) ----

/** Outside text for one line of an alert: inert (see safeLine), addresses masked, secrets redacted. */
function clean(text: string): string {
  return redactSecrets(maskAddresses(safeLine(text))).trim();
}

/** Untrusted text (bounce replies, evidence, actions): one line, cleaned, then shortened. */
function clip(text: string, max = LINE_MAX): string {
  return truncate(clean(text), max);
}

/**
 * At most `max` UTF-16 code units (the unit SNS and JavaScript count in), cut between code points so a
 * surrogate pair is never split, with an ellipsis when shortened.
 */
export function truncate(text: string, max: number, ellipsis = "…"): string {
  if (text.length <= max) return text;
  const budget = max - ellipsis.length;
  if (budget <= 0) return ellipsis.slice(0, Math.max(0, max));
  let out = "";
  for (const cp of text) {
    if (out.length + cp.length > budget) break;
    out += cp;
  }
  return `${out.trimEnd()}${ellipsis}`;
}

/** SNS subjects: printable ASCII is the one form every email client and SNS version accepts. */
function fitSubject(text: string): string {
  const ascii = clean(text)
    .replace(/[\u2012-\u2015]/g, "-")
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/\u00d7/g, "x")
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .replace(/[^\x20-\x7e]+/g, "?");
  return truncate(ascii, SUBJECT_MAX, "...");
}

function fitSms(text: string): string {
  // An em dash is outside the GSM alphabet and would halve the segment length on many carriers.
  return truncate(clean(text).replace(/[\u2012-\u2015]/g, "-"), SMS_MAX);
}
