import { isIP } from "node:net";

/*
 * Text safety in one place. Outside text (ESP replies, DNS answers, file contents, HTTP error bodies) is
 * neutralised here before it reaches a terminal, an email, an SMS or a log line; recipient addresses inside any
 * text are masked here; credential-shaped strings are redacted here. Pure: no I/O.
 *
 * Neutralised characters are shown as visible, inert escapes, so an operator still sees that something was
 * there:
 *   - C0 controls, DEL and C1 controls (ESC, CSI, OSC, BEL, ...): `\x1b`, `\x9b`, `\x07` (two hex digits);
 *   - bidirectional controls (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069) and unpaired surrogates:
 *     `\u202e` (four hex digits).
 * Line breaks are the exception: inside one line (safeLine) CR, LF, tab, VT, FF, NEL and U+2028/2029 become a
 * space, so one field stays one line; in a block of lines (safeText) a newline stays a newline.
 */

// ── addresses ──

/** `jane.doe@acme.com` → `j***@acme.com`: enough to recognise in a report, not to harvest. */
export function maskAddress(address: string): string {
  const at = address.lastIndexOf("@");
  if (at <= 0) return "***";
  // First code point, not first UTF-16 unit, so a non-BMP first letter is not split.
  const [first = ""] = Array.from(address.slice(0, at));
  return `${first}***${address.slice(at)}`;
}

// RFC 5322 atext and dots in the local part, letters and digits of any script in the domain.
const LOCAL = "\\p{L}\\p{N}!#$&'*+/=?^_`{|}~.-";
const DOMAIN =
  "(?:[\\p{L}\\p{N}](?:[\\p{L}\\p{N}-]*[\\p{L}\\p{N}])?\\.)*[\\p{L}\\p{N}](?:[\\p{L}\\p{N}-]*[\\p{L}\\p{N}])?";
const ADDRESS = new RegExp(`[%${LOCAL}]+@${DOMAIN}`, "gu");
// As ESP API paths carry them (`/bounces/annab%40acme.com`): the local part may hold %XX escapes itself, and
// a path's slashes are not part of it.
const ENCODED_ADDRESS = new RegExp(`(?:[${LOCAL.replace("/", "")}]|%[0-9A-Fa-f]{2})+%40(${DOMAIN})`, "gu");

/**
 * Every address in a text masked (`j.doe@acme.com` → `j***@acme.com`), URL-encoded ones too
 * (`j.doe%40acme.com` → `j***%40acme.com`); already-masked addresses come back unchanged.
 */
export function maskAddresses(text: string): string {
  return text
    .replace(ENCODED_ADDRESS, (match: string, domain: string) => `${firstOfEncoded(match)}***%40${domain}`)
    .replace(ADDRESS, (match: string) => maskAddress(match));
}

function firstOfEncoded(match: string): string {
  // An escape sequence as the first character is kept whole, never cut into a broken `%4`.
  return /^%[0-9A-Fa-f]{2}/.test(match) ? match.slice(0, 3) : (Array.from(match)[0] ?? "");
}

/**
 * A copy of a JSON-like value (report, incident, alert state) with every string in it passed through `f`;
 * keys, numbers, booleans and the shape stay as they are. For a pass that must reach every field, present or
 * future, such as masking the addresses inside reply texts.
 */
export function mapStrings<T>(value: T, f: (s: string) => string): T {
  return mapUnknown(value, f) as T;
}

function mapUnknown(value: unknown, f: (s: string) => string): unknown {
  if (typeof value === "string") return f(value);
  if (Array.isArray(value)) return value.map((v) => mapUnknown(v, f));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapUnknown(v, f)]));
  }
  return value;
}

// ── secrets ──

/**
 * Bounce texts and configured links are not ours: replace anything shaped like a credential (AWS keys,
 * presigned-URL signatures, key=value secrets, bearer tokens, long opaque tokens) with [redacted].
 */
export function redactSecrets(text: string, opts: { readonly opaque?: boolean } = {}): string {
  const named = text
    .replace(/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, "[redacted]")
    .replace(/(X-Amz-(?:Signature|Credential|Security-Token)=)[^&\s]+/gi, "$1[redacted]")
    .replace(
      /\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|authorization)(\s*[:=]\s*)(?:(?:Bearer|Basic)\s+)?("[^"]*"|\S+)/gi,
      "$1$2[redacted]",
    )
    .replace(/\bBearer\s+[\w.~+/-]+=*/gi, "Bearer [redacted]");
  // Opaque tokens only in texts we did not write: report paths and URLs look opaque too.
  if (opts.opaque === false) return named;
  return named.replace(OPAQUE, (token) =>
    /\d/.test(token) && /[a-z]/.test(token) && /[A-Z]/.test(token) ? "[redacted]" : token,
  );
}
// 40+ base64 characters is the shape of an AWS secret key or a signing secret; needs all three classes above.
const OPAQUE = /(?<![\w/+])[A-Za-z0-9+/]{40,}={0,2}(?![\w/+])/g;

// ── control and bidi characters ──

/** Line breaks and tabs: a space inside one line. */
const LINE_BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]+/g;
/** Everything a terminal, mail client or phone may act on or reorder, line breaks aside. */
const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function visibleEscape(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** Outside text as one inert line: line breaks become a space, every other control a visible escape. */
export function safeLine(text: string): string {
  return text.replace(LINE_BREAKS, " ").replace(UNSAFE, visibleEscape);
}

/**
 * Outside text as inert lines: newlines (and CRLF, as a newline) and tabs stay; a lone CR, which would let a
 * line overwrite what came before it, and every other control become visible escapes.
 */
export function safeText(text: string): string {
  // UNSAFE leaves tab and newline alone, and matches a CR that is not part of a CRLF.
  return text
    .replace(/\r\n/g, "\n")
    .replace(/[\u0085\u2028\u2029]/g, "\n")
    .replace(UNSAFE, visibleEscape);
}

/**
 * JSON for a terminal or a pipe, lossless: JSON.stringify already escapes C0 controls; C1 and bidi controls
 * (valid JSON, but live on a terminal) are written as \uXXXX escapes too, which parse back to the same text.
 */
export function safeJson(value: unknown, space?: number): string {
  return (JSON.stringify(value, null, space) ?? "null").replace(
    /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

// ── IP addresses ──

/**
 * An IP address in its one written form, so the same address from a config file, an ESP event and a block-list
 * observation compares equal:
 * - IPv4: the dotted quad;
 * - IPv6: RFC 5952 text (lower case, no leading zeros, the longest run of two or more zero groups as `::`);
 * - an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, also written `::ffff:c000:201`, RFC 4291 §2.5.5.2) is the
 *   IPv4 host it stands for: version 4, `192.0.2.1`.
 */
export interface CanonicalIp {
  readonly version: 4 | 6;
  readonly address: string;
  /** IPv4: the dotted quad; IPv6: all 32 hex digits, the form reverse lookups (ip6.arpa, block lists) are built from. */
  readonly expanded: string;
  /**
   * How the text given was written: `canonical` as `address`; `ipv4-mapped` an IPv4-mapped IPv6 address;
   * `embedded-ipv4` another IPv6 address with a dotted IPv4 tail (`2001:db8::192.0.2.1`, `::192.0.2.1`);
   * `other` any other spelling (upper case, leading zeros, an uncompressed zero run).
   */
  readonly written: "canonical" | "ipv4-mapped" | "embedded-ipv4" | "other";
}

/**
 * The one parser for IP addresses from outside (config, ESP events, DNS): the canonical form, or null when the
 * text is not an address (host names, garbage, escape codes, an IPv6 zone index such as `fe80::1%eth0`, which
 * names an interface of one host and is nobody's sending IP).
 */
export function canonicalIp(value: string | null | undefined): CanonicalIp | null {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  const version = isIP(text);
  if (version === 4) {
    const address = text.split(".").map(Number).join(".");
    return { version: 4, address, expanded: address, written: address === text ? "canonical" : "other" };
  }
  if (version !== 6 || text.includes("%")) return null;
  const groups = ipv6Groups(text);
  if (groups === null) return null;
  const dotted = text.includes(".");
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    const address = [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join(".");
    return { version: 4, address, expanded: address, written: "ipv4-mapped" };
  }
  const address = rfc5952(groups);
  const written = dotted ? "embedded-ipv4" : address === text ? "canonical" : "other";
  return {
    version: 6,
    address,
    expanded: groups.map((g) => g.toString(16).padStart(4, "0")).join(""),
    written,
  };
}

/** An IPv4 or IPv6 address in its canonical form (canonicalIp), or null when the text is not one. */
export function ipOrNull(value: string | null | undefined): string | null {
  return canonicalIp(value)?.address ?? null;
}

/** The eight 16-bit groups of an IPv6 address node:net already accepted (a dotted IPv4 tail is two groups). */
function ipv6Groups(text: string): number[] | null {
  let s = text.toLowerCase();
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (tail) {
    const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const part = (h: string | undefined) => (h ? h.split(":").map((g) => Number.parseInt(g, 16)) : []);
  const head = part(halves[0]);
  const rest = halves.length === 2 ? part(halves[1]) : [];
  const groups =
    halves.length === 2 ? [...head, ...Array<number>(8 - head.length - rest.length).fill(0), ...rest] : head;
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff)
    ? groups
    : null;
}

/** RFC 5952 §4: lower-case hex without leading zeros; the first longest run of 2+ zero groups becomes `::`. */
function rfc5952(groups: readonly number[]): string {
  let best = { at: -1, len: 0 };
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.len < 2) return hex.join(":");
  return `${hex.slice(0, best.at).join(":")}::${hex.slice(best.at + best.len).join(":")}`;
}
