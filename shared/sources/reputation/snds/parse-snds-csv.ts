/*
 * Pure parsers for the two SNDS "Automated Data Access" files (format: test/fixtures/reputation/snds/README.md). Neither file has a
 * header; rows end in CRLF (LF is accepted too), fields may be quoted ("a, b" and "" inside quotes). A row that
 * cannot be read throws naming its row and column, so a changed format fails loudly instead of becoming
 * "no data".
 */

export type SndsFilterResult = "GREEN" | "YELLOW" | "RED";

/** One row of data.aspx: one IP over one activity period. */
export interface SndsDataRow {
  /** 1-based line of the file the row starts on. */
  readonly row: number;
  readonly ip: string;
  /** ISO 8601 UTC, read from "9/17/2026 12:00 AM". */
  readonly activityStart: string;
  readonly activityEnd: string;
  readonly rcptCommands: number;
  readonly dataCommands: number;
  readonly messageRecipients: number;
  readonly filterResult: SndsFilterResult;
  /** The complaint rate in percent as shown ("0.4%" → 0.4); 0.1 with `complaintRateBelow` for "< 0.1%". */
  readonly complaintRatePercent: number;
  /** True when SNDS showed "< 0.1%": the rate is under the floor, not equal to it. */
  readonly complaintRateBelow: boolean;
  readonly trapMessageStart: string | null;
  readonly trapMessageEnd: string | null;
  readonly trapHits: number;
  readonly sampleHelo: string;
  readonly sampleMailFrom: string;
  readonly comments: string;
}

/** One row of ipStatus.aspx: an inclusive IPv4 range and whether Outlook.com blocks it. */
export interface SndsIpStatusRow {
  readonly row: number;
  readonly firstIp: string;
  readonly lastIp: string;
  readonly blocked: boolean;
  readonly reason: string;
}

export class SndsCsvError extends Error {
  override readonly name = "SndsCsvError";
  constructor(
    message: string,
    readonly file: string,
    readonly row: number,
    /** 1-based; null when the row as a whole is wrong (column count, unterminated quote). */
    readonly column: number | null,
  ) {
    super(message);
  }
}

const DATA_FILE = "data.aspx";
const STATUS_FILE = "ipStatus.aspx";

const DATA_COLUMNS = [
  "IP address",
  "activity start",
  "activity end",
  "RCPT commands",
  "DATA commands",
  "message recipients",
  "filter result",
  "complaint rate",
  "trap message start",
  "trap message end",
  "trap hits",
  "sample HELO",
  "sample MAIL FROM",
  "comments",
] as const;

const STATUS_COLUMNS = ["first IP", "last IP", "blocked", "reason"] as const;

/** A row that could not be read: where, why, and its IP when the first column still holds one. */
export interface SndsBadRow {
  readonly row: number;
  readonly message: string;
  readonly ip: string | null;
}

/** The rows of a file that could be read, and the ones that could not (a file that is not CSV still throws). */
export interface SndsReadResult<T> {
  readonly rows: T[];
  readonly bad: SndsBadRow[];
}

/** data.aspx, every row or a throw naming the first bad one. */
export function parseSndsData(text: string): SndsDataRow[] {
  return parseRecords(text, DATA_FILE).map(dataRow);
}

/** data.aspx row by row: a row that cannot be read is returned as bad, the others are read. */
export function readSndsData(text: string): SndsReadResult<SndsDataRow> {
  return readEach(parseRecords(text, DATA_FILE), dataRow);
}

/** ipStatus.aspx, every row or a throw naming the first bad one. */
export function parseSndsIpStatus(text: string): SndsIpStatusRow[] {
  return parseRecords(text, STATUS_FILE).map(statusRow);
}

/** ipStatus.aspx row by row. */
export function readSndsIpStatus(text: string): SndsReadResult<SndsIpStatusRow> {
  return readEach(parseRecords(text, STATUS_FILE), statusRow);
}

function readEach<T>(records: readonly CsvRecord[], read: (r: CsvRecord) => T): SndsReadResult<T> {
  const rows: T[] = [];
  const bad: SndsBadRow[] = [];
  for (const record of records) {
    try {
      rows.push(read(record));
    } catch (e) {
      if (!(e instanceof SndsCsvError)) throw e;
      const first = (record.fields[0] ?? "").trim();
      bad.push({ row: record.line, message: e.message, ip: tryIpv4ToNumber(first) === null ? null : first });
    }
  }
  return { rows, bad };
}

function dataRow({ line, fields }: CsvRecord): SndsDataRow {
  // The comments column is sometimes dropped entirely rather than left empty.
  if (fields.length < DATA_COLUMNS.length - 1) {
    throw new SndsCsvError(
      `SNDS ${DATA_FILE} row ${line}: expected ${DATA_COLUMNS.length} columns, got ${fields.length}`,
      DATA_FILE,
      line,
      null,
    );
  }
  const cell = new Cells(DATA_FILE, line, fields, DATA_COLUMNS);
  // Left to right, so the error names the first bad column of the row.
  const ip = cell.read(0, parseIpv4Text);
  const activityStart = cell.read(1, parseSndsTimestamp);
  const activityEnd = cell.read(2, parseSndsTimestamp);
  const rcptCommands = cell.read(3, parseCount);
  const dataCommands = cell.read(4, parseCount);
  const messageRecipients = cell.read(5, parseCount);
  const filterResult = cell.read(6, parseFilterResult);
  const complaint = cell.read(7, parseComplaintRate);
  const trapMessageStart = cell.read(8, optional(parseSndsTimestamp));
  const trapMessageEnd = cell.read(9, optional(parseSndsTimestamp));
  const trapHits = cell.read(10, parseCount);
  return {
    row: line,
    ip,
    activityStart,
    activityEnd,
    rcptCommands,
    dataCommands,
    messageRecipients,
    filterResult,
    complaintRatePercent: complaint.percent,
    complaintRateBelow: complaint.below,
    trapMessageStart,
    trapMessageEnd,
    trapHits,
    sampleHelo: fields[11] ?? "",
    sampleMailFrom: fields[12] ?? "",
    // Free text and the last column: an unquoted comma in it splits it, so the rest is joined back.
    comments: fields.slice(13).join(","),
  };
}

function statusRow({ line, fields }: CsvRecord): SndsIpStatusRow {
  if (fields.length < STATUS_COLUMNS.length - 1) {
    throw new SndsCsvError(
      `SNDS ${STATUS_FILE} row ${line}: expected ${STATUS_COLUMNS.length} columns, got ${fields.length}`,
      STATUS_FILE,
      line,
      null,
    );
  }
  const cell = new Cells(STATUS_FILE, line, fields, STATUS_COLUMNS);
  const firstIp = cell.read(0, parseIpv4Text);
  const lastIp = cell.read(1, parseIpv4Text);
  if (ipv4ToNumber(firstIp) > ipv4ToNumber(lastIp)) {
    throw new SndsCsvError(
      `SNDS ${STATUS_FILE} row ${line}, column 2 (last IP): ${lastIp} is before the first IP ${firstIp}`,
      STATUS_FILE,
      line,
      2,
    );
  }
  return {
    row: line,
    firstIp,
    lastIp,
    blocked: cell.read(2, parseYesNo),
    // Free text and the last column, as in data.aspx.
    reason: fields.slice(3).join(","),
  };
}

/** "9/17/2026 12:00 AM" (also "9/17/2026 0:00" and "9/17/2026 12:00:00 AM") as ISO 8601, read as UTC. */
export function parseSndsTimestamp(text: string): string {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?(?: ?([AP]M))?$/i.exec(text);
  if (!m) throw new Error("not a date like 9/17/2026 12:00 AM");
  const [, mo, d, y, h, mi, s, ampm] = m;
  let hour = Number(h);
  if (ampm) {
    if (hour < 1 || hour > 12) throw new Error("hour out of range");
    hour = (hour % 12) + (ampm.toUpperCase() === "PM" ? 12 : 0);
  } else if (hour > 23) {
    throw new Error("hour out of range");
  }
  const [month, day, year, minute, second] = [Number(mo), Number(d), Number(y), Number(mi), Number(s ?? 0)];
  if (minute > 59 || second > 59) throw new Error("minute or second out of range");
  const at = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Date.UTC rolls 2/30 over to 3/2: a date that does not round-trip does not exist.
  if (at.getUTCMonth() !== month - 1 || at.getUTCDate() !== day) throw new Error("no such date");
  return at.toISOString();
}

/** A dotted-quad IPv4 address as a number, for range comparisons; throws when it is not one. */
export function ipv4ToNumber(ip: string): number {
  const n = tryIpv4ToNumber(ip);
  if (n === null) throw new Error(`not an IPv4 address: ${ip}`);
  return n;
}

/** As ipv4ToNumber, null when it is not an IPv4 address. */
export function tryIpv4ToNumber(ip: string): number | null {
  const parts = ip.split(".");
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    // No leading zeros: "010" is octal to some parsers and decimal to others.
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return null;
    n = n * 256 + Number(p);
  }
  return n;
}

/** Reads one column with a parser, turning its error into one naming the file, row and column. */
class Cells {
  constructor(
    private readonly file: string,
    private readonly line: number,
    private readonly fields: readonly string[],
    private readonly names: readonly string[],
  ) {}

  read<T>(index: number, parse: (text: string) => T): T {
    const raw = (this.fields[index] ?? "").trim();
    try {
      return parse(raw);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new SndsCsvError(
        `SNDS ${this.file} row ${this.line}, column ${index + 1} (${this.names[index]}): ${JSON.stringify(raw.slice(0, 80))} is ${why}`,
        this.file,
        this.line,
        index + 1,
      );
    }
  }
}

function optional<T>(parse: (text: string) => T): (text: string) => T | null {
  return (text) => (text === "" ? null : parse(text));
}

function parseIpv4Text(text: string): string {
  if (tryIpv4ToNumber(text) === null) throw new Error("not an IPv4 address");
  return text;
}

function parseCount(text: string): number {
  if (!/^\d+$/.test(text)) throw new Error("not a whole number");
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error("too large");
  return n;
}

function parseFilterResult(text: string): SndsFilterResult {
  const v = text.toUpperCase();
  if (v === "GREEN" || v === "YELLOW" || v === "RED") return v;
  throw new Error("not GREEN, YELLOW or RED");
}

function parseComplaintRate(text: string): { percent: number; below: boolean } {
  const m = /^(<\s*)?(\d+(?:\.\d+)?)\s*%$/.exec(text);
  if (!m?.[2]) throw new Error('not a percentage or "< 0.1%"');
  return { percent: Number(m[2]), below: m[1] !== undefined };
}

function parseYesNo(text: string): boolean {
  const v = text.toLowerCase();
  if (v === "yes") return true;
  if (v === "no") return false;
  throw new Error("not Yes or No");
}

interface CsvRecord {
  /** 1-based line the record starts on. */
  readonly line: number;
  readonly fields: string[];
}

/** RFC 4180 records; blank lines (the trailing CRLF, a blank line between rows) are skipped. */
function parseRecords(text: string, file: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  // A BOM would otherwise stick to the first IP address.
  const s = text.startsWith("\uFEFF") ? text.slice(1) : text;
  let line = 1;
  let i = 0;
  while (i < s.length) {
    const startLine = line;
    const fields: string[] = [];
    let field = "";
    let quotedField = false;
    let endOfRecord = false;
    while (i < s.length && !endOfRecord) {
      const c = s[i];
      if (c === '"' && field === "" && !quotedField) {
        // A quoted field: read to the closing quote, "" being a literal quote.
        quotedField = true;
        i++;
        for (;;) {
          if (i >= s.length) {
            throw new SndsCsvError(
              `SNDS ${file} row ${startLine}, column ${fields.length + 1}: unterminated quoted field`,
              file,
              startLine,
              fields.length + 1,
            );
          }
          const q = s[i];
          if (q === '"') {
            if (s[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (q === "\n") line++;
          field += q;
          i++;
        }
        const next = s[i];
        if (next !== undefined && next !== "," && next !== "\r" && next !== "\n") {
          throw new SndsCsvError(
            `SNDS ${file} row ${startLine}, column ${fields.length + 1}: text after the closing quote`,
            file,
            startLine,
            fields.length + 1,
          );
        }
      } else if (c === ",") {
        fields.push(field);
        field = "";
        quotedField = false;
        i++;
      } else if (c === "\r" || c === "\n") {
        i += c === "\r" && s[i + 1] === "\n" ? 2 : 1;
        line++;
        endOfRecord = true;
      } else {
        field += c;
        i++;
      }
    }
    fields.push(field);
    const blank = fields.length === 1 && fields[0]?.trim() === "" && !quotedField;
    if (!blank) records.push({ line: startLine, fields });
  }
  return records;
}
