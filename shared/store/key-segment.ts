import { createHash } from "node:crypto";

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Longer encodings are replaced by a hash: a file name may have at most 255 bytes. */
const MAX_SEGMENT = 200;

/**
 * Any string as one key segment, so a value that came from outside (an organisation such as `[192.0.2.1]`,
 * `-leading-dash.com`, `bücher.de` before normalisation, or `..`) can always be stored. Lower-case letters,
 * digits, `_`, `-` and `.` stay as they are — so ordinary domain names keep their readable keys — and every
 * other byte of the UTF-8 becomes `%XX` (upper-case letters too, so folders on case-insensitive file systems
 * never merge two values); a leading `.` or `-`, and every `.` of a value with `..`, are encoded as well. The
 * mapping is one-to-one (percent-decoding gives the value back); an encoding longer than 200 characters
 * becomes `~` and a SHA-256 of the value, which no other encoding starts with (as does a string that is not
 * well-formed UTF-16).
 */
export function keySegment(value: string): string {
  // A lone surrogate (JSON can carry one) has no UTF-8: hash the UTF-16, so two of them never share a key.
  if (LONE_SURROGATE.test(value)) return `~${createHash("sha256").update(value, "utf16le").digest("hex")}`;
  const dotsToo = value.includes("..");
  let out = "";
  for (const byte of Buffer.from(value, "utf8")) {
    const c = String.fromCharCode(byte);
    const plain = /[a-z0-9_-]/.test(c) || (c === "." && !dotsToo);
    out += plain ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  if (out.startsWith(".") || out.startsWith("-"))
    out = `%${out.charCodeAt(0).toString(16).toUpperCase()}${out.slice(1)}`;
  if (out === "") out = "%";
  if (out.length > MAX_SEGMENT) return `~${createHash("sha256").update(value, "utf8").digest("hex")}`;
  return out;
}
