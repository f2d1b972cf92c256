import { createReadStream } from "node:fs";
import { createGunzip } from "node:zlib";

export interface BaselineCount {
  readonly lines: number;
  /** Provider events seen: one per line, or the items of each Mailgun page line. */
  readonly events: number;
}

/**
 * The floor any importer of a gzipped NDJSON export stands on: stream-gunzip the file, split lines, JSON.parse
 * each. Nothing is validated, mapped or written.
 */
export async function gunzipAndParse(path: string): Promise<BaselineCount> {
  let lines = 0;
  let events = 0;
  // Pieces of a line that spans chunks (Mailgun pages are hundreds of KB), joined once at its end.
  let pieces: string[] = [];
  const take = (line: string): void => {
    if (line === "") return;
    lines++;
    const value: unknown = JSON.parse(line);
    const items =
      typeof value === "object" && value !== null ? (value as { items?: unknown }).items : undefined;
    events += Array.isArray(items) ? items.length : 1;
  };
  const gunzip = createReadStream(path).pipe(createGunzip());
  gunzip.setEncoding("utf8");
  for await (const chunk of gunzip) {
    const text = chunk as string;
    let start = 0;
    for (let newline = text.indexOf("\n"); newline !== -1; newline = text.indexOf("\n", start)) {
      const tail = text.slice(start, newline);
      take(pieces.length === 0 ? tail : pieces.join("") + tail);
      pieces = [];
      start = newline + 1;
    }
    if (start < text.length) pieces.push(text.slice(start));
  }
  take(pieces.join(""));
  return { lines, events };
}
