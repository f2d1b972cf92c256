/**
 * The syntax every adapter accepts for keys and list prefixes. The rules are stricter than S3's so that a
 * key means the same object in the bucket and in a local folder: no traversal, no separators other than
 * `/`, no empty or `.` segments (a folder would collapse them and list would then return a different key).
 */
function problemWith(value: string): string | null {
  if (value.startsWith("/")) return "starts with /";
  if (value.includes("..")) return "contains ..";
  if (value.includes("\\")) return "contains a backslash";
  if (value.includes("\0")) return "contains NUL";
  if (value.includes("//")) return "has an empty segment";
  if (value === "." || value.startsWith("./") || value.includes("/./")) return "has a . segment";
  return null;
}

/** Throws unless `key` names an object. */
export function assertValidKey(key: string): void {
  if (key === "") throw new Error(`invalid storage key "": empty`);
  const problem =
    problemWith(key) ??
    (key.endsWith("/") ? "ends with /" : null) ??
    (key.endsWith("/.") ? "has a . segment" : null);
  if (problem) throw new Error(`invalid storage key ${JSON.stringify(key)}: ${problem}`);
}

/** Throws unless `prefix` is usable for list: "" (everything), a folder ("events/") or a mid-name prefix. */
export function assertValidPrefix(prefix: string): void {
  const problem = problemWith(prefix);
  if (problem) throw new Error(`invalid storage prefix ${JSON.stringify(prefix)}: ${problem}`);
}
