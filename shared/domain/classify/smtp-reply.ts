/**
 * Parsing of the facts an SMTP rejection line carries besides its wording: the basic reply code, the
 * enhanced status code (RFC 3463), the SMTP stage the failure happened at, and host names quoted in it.
 */

export type SmtpStage = "connect" | "helo" | "mail" | "rcpt" | "data";

export interface EnhancedCode {
  readonly klass: 2 | 4 | 5;
  readonly subject: number;
  readonly detail: number;
  readonly raw: string;
}

const IPV4 = /\b\d{1,3}(?:\.\d{1,3}){3}\b/g;
// class.subject.detail with subject 0-7 and 1-3 detail digits; not preceded by a digit, dot, letter v
// (version numbers) and not followed by another dotted digit (dates, versions, addresses).
const ENHANCED = /(?<![\d.vV])([245])\.([0-7])\.(\d{1,3})(?![\d]|\.\d)/g;
const REPLY_AT_START = /^\s*[#(]?([245]\d\d)(?:[\s\-:)]|$)/;
const REPLY_ANYWHERE = /(?<![\d.#:/=-])([45][0-5]\d)(?=[\s-](?:[245]\.\d|[#<A-Za-z]))/g;

export function parseEnhancedCode(raw: string | undefined): EnhancedCode | null {
  if (!raw) return null;
  const m = /^\s*#?([245])\.(\d{1,3})\.(\d{1,3})\s*$/.exec(raw);
  if (!m) return null;
  const klass = Number(m[1]) as 2 | 4 | 5;
  return {
    klass,
    subject: Number(m[2]),
    detail: Number(m[3]),
    raw: `${m[1]}.${Number(m[2])}.${Number(m[3])}`,
  };
}

/** True for codes that say nothing specific (x.0.0), which should yield to a specific code elsewhere. */
export function isGenericCode(code: EnhancedCode): boolean {
  return code.subject === 0 && code.detail === 0;
}

/** All enhanced codes in a text, in order, with IPv4 addresses masked so `5.7.12.3` is not read as one. */
export function enhancedCodesIn(text: string): EnhancedCode[] {
  const masked = text.replace(IPV4, (ip) => "x".repeat(ip.length));
  const out: EnhancedCode[] = [];
  for (const m of masked.matchAll(ENHANCED)) {
    const code = parseEnhancedCode(`${m[1]}.${m[2]}.${m[3]}`);
    if (code && code.klass !== 2) out.push(code);
  }
  return out;
}

/**
 * The most informative enhanced code: the first specific one in the text, else the supplied one when it is
 * specific, else any generic one. ESPs often report a generic 5.0.0 while the text carries 5.1.1.
 */
export function bestEnhancedCode(supplied: string | undefined, text: string): EnhancedCode | null {
  const given = parseEnhancedCode(supplied);
  if (given && !isGenericCode(given)) return given;
  const found = enhancedCodesIn(text);
  const specific = found.find((c) => !isGenericCode(c));
  return specific ?? given ?? found[0] ?? null;
}

/** The basic reply code: the supplied one, else one at the start of the text, else one quoted inside it. */
export function bestReplyCode(supplied: number | undefined, text: string): number | null {
  if (supplied !== undefined) return supplied;
  const start = REPLY_AT_START.exec(text);
  if (start?.[1]) return Number(start[1]);
  for (const m of text.matchAll(REPLY_ANYWHERE)) {
    if (m[1]) return Number(m[1]);
  }
  return null;
}

const STAGE_PATTERNS: ReadonlyArray<readonly [RegExp, SmtpStage]> = [
  [/\b(?:in reply to|after|for) (?:end of )?(?:data|text)(?: command)?\b/i, "data"],
  [/\bafter (?:i sent the message|end of data)\b/i, "data"],
  [/\b(?:in reply to|after) rcpt(?: to)?\b/i, "rcpt"],
  [/\b(?:in reply to|after) mail(?: from)?\b/i, "mail"],
  [/\b(?:in reply to|after) (?:e?helo|ehlo)\b/i, "helo"],
  [
    /\b(?:after initial connection|refused to talk to me|while connected|in reply to (?:initial|the) greeting)\b/i,
    "connect",
  ],
];

/** The SMTP stage the failure happened at, when the text says so (Postfix, Exim, qmail wording). */
export function smtpStageOf(text: string): SmtpStage | null {
  for (const [re, stage] of STAGE_PATTERNS) {
    if (re.test(text)) return stage;
  }
  return null;
}

const HOST = /\b((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})\b/gi;

/** Host names mentioned in the text (rejecting MTA, URLs), lower-cased, in order of appearance. */
export function hostsIn(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(HOST)) {
    if (m[1]) out.push(m[1].toLowerCase());
    if (out.length >= 16) break;
  }
  return out;
}
