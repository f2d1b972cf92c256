import { describe, expect, it } from "vitest";
import {
  parseSndsData,
  parseSndsIpStatus,
  parseSndsTimestamp,
  readSndsData,
  readSndsIpStatus,
  SndsCsvError,
  tryIpv4ToNumber,
} from "../../../../../shared/sources/reputation/snds/parse-snds-csv.ts";

const RED =
  "198.51.100.10,9/17/2026 12:00 AM,9/17/2026 11:59 PM,52011,52011,51980,RED,0.4%,9/17/2026 8:07 AM,9/17/2026 12:03 PM,37,mta10.esp.example,bounce@mail.example.com,";
const GREEN =
  "198.51.100.11,9/17/2026 12:00 AM,9/17/2026 11:59 PM,18002,18002,17990,GREEN,< 0.1%,,,0,mta11.esp.example,bounce@mail.example.com,";

function csvError(fn: () => unknown): SndsCsvError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SndsCsvError) return e;
    throw e;
  }
  throw new Error("expected an SndsCsvError");
}

describe("parseSndsData", () => {
  it("reads the documented rows: CRLF, no header, trailing empty comment column", () => {
    const rows = parseSndsData(`${RED}\r\n${GREEN}\r\n`);
    expect(rows).toEqual([
      {
        row: 1,
        ip: "198.51.100.10",
        activityStart: "2026-09-17T00:00:00.000Z",
        activityEnd: "2026-09-17T23:59:00.000Z",
        rcptCommands: 52011,
        dataCommands: 52011,
        messageRecipients: 51980,
        filterResult: "RED",
        complaintRatePercent: 0.4,
        complaintRateBelow: false,
        trapMessageStart: "2026-09-17T08:07:00.000Z",
        trapMessageEnd: "2026-09-17T12:03:00.000Z",
        trapHits: 37,
        sampleHelo: "mta10.esp.example",
        sampleMailFrom: "bounce@mail.example.com",
        comments: "",
      },
      {
        row: 2,
        ip: "198.51.100.11",
        activityStart: "2026-09-17T00:00:00.000Z",
        activityEnd: "2026-09-17T23:59:00.000Z",
        rcptCommands: 18002,
        dataCommands: 18002,
        messageRecipients: 17990,
        filterResult: "GREEN",
        complaintRatePercent: 0.1,
        complaintRateBelow: true,
        trapMessageStart: null,
        trapMessageEnd: null,
        trapHits: 0,
        sampleHelo: "mta11.esp.example",
        sampleMailFrom: "bounce@mail.example.com",
        comments: "",
      },
    ]);
  });

  it("accepts LF endings, no final newline, blank lines, a BOM and a row without the comments column", () => {
    const noComment = GREEN.slice(0, -1);
    const rows = parseSndsData(`\uFEFF${RED}\n\n${noComment}`);
    expect(rows.map((r) => [r.row, r.ip, r.comments])).toEqual([
      [1, "198.51.100.10", ""],
      [3, "198.51.100.11", ""],
    ]);
    expect(parseSndsData("")).toEqual([]);
    expect(parseSndsData("\r\n")).toEqual([]);
  });

  it("reads quoted fields with commas, doubled quotes and line breaks", () => {
    const row =
      '203.0.113.5,9/16/2026 9:00 PM,9/17/2026 9:00 PM,150,150,149,YELLOW,0.2%,,,0,"mta, 5.esp.example","""bounce""@mail.example.com","line one\r\nline two"';
    const [r, next] = parseSndsData(`${row}\r\n${GREEN}`);
    expect(r).toMatchObject({
      ip: "203.0.113.5",
      activityStart: "2026-09-16T21:00:00.000Z",
      sampleHelo: "mta, 5.esp.example",
      sampleMailFrom: '"bounce"@mail.example.com',
      comments: "line one\r\nline two",
    });
    // The quoted line break does not shift later row numbers off the file's lines.
    expect(next?.row).toBe(3);
  });

  it("joins an unquoted comma in the last (comments) column back together", () => {
    const [r] = parseSndsData(`${RED}Reviewed, no action`);
    expect(r?.comments).toBe("Reviewed, no action");
  });

  it("names the row and column of a malformed value", () => {
    const bad = GREEN.replace("< 0.1%", "lots");
    const err = csvError(() => parseSndsData(`${RED}\r\n${bad}\r\n`));
    expect(err.message).toBe(
      'SNDS data.aspx row 2, column 8 (complaint rate): "lots" is not a percentage or "< 0.1%"',
    );
    expect(err).toMatchObject({ file: "data.aspx", row: 2, column: 8 });
  });

  it.each([
    // An unquoted thousands separator shifts every later column.
    [RED.replace("52011,52011", "52,011,52011"), 1, 7, /column 7 \(filter result\): "51980" is not GREEN/],
    [RED.replace("RED", "ORANGE"), 1, 7, /column 7 \(filter result\): "ORANGE" is not GREEN, YELLOW or RED/],
    [RED.replace("198.51.100.10", "198.51.100.300"), 1, 1, /column 1 \(IP address\): .* not an IPv4 address/],
    [
      RED.replace("9/17/2026 12:00 AM", "2/30/2026 12:00 AM"),
      1,
      2,
      /column 2 \(activity start\): .* no such date/,
    ],
    [RED.replace("9/17/2026 11:59 PM", "2026-09-17"), 1, 3, /column 3 \(activity end\): .* not a date/],
    [RED.replace(",37,", ",-1,"), 1, 11, /column 11 \(trap hits\): "-1" is not a whole number/],
    [RED.replace("9/17/2026 8:07 AM", "13:07 PM"), 1, 9, /column 9 \(trap message start\)/],
    ["198.51.100.10,9/17/2026 12:00 AM,RED", 1, null, /row 1: expected 14 columns, got 3/],
  ])("rejects %s", (text, row, column, message) => {
    const err = csvError(() => parseSndsData(text));
    expect(err.message).toMatch(message);
    expect(err.row).toBe(row);
    if (column !== null) expect(err.column).toBe(column);
  });

  it("rejects an unterminated quote and text after a closing quote", () => {
    expect(csvError(() => parseSndsData(`${GREEN}\r\n${RED}"open`)).message).toBe(
      "SNDS data.aspx row 2, column 14: unterminated quoted field",
    );
    expect(csvError(() => parseSndsData('"198.51.100.10"x,1')).message).toBe(
      "SNDS data.aspx row 1, column 1: text after the closing quote",
    );
  });
});

describe("readSndsData and readSndsIpStatus", () => {
  it("read every row they can and return the others as bad, with the IP when it is readable", () => {
    const result = readSndsData(
      `${RED}\r\n${GREEN.replace("GREEN", "TEAL")}\r\nnot-an-ip,1,2\r\n${GREEN}\r\n`,
    );
    expect(result.rows.map((r) => r.ip)).toEqual(["198.51.100.10", "198.51.100.11"]);
    expect(result.bad).toEqual([
      {
        row: 2,
        ip: "198.51.100.11",
        message: 'SNDS data.aspx row 2, column 7 (filter result): "TEAL" is not GREEN, YELLOW or RED',
      },
      { row: 3, ip: null, message: "SNDS data.aspx row 3: expected 14 columns, got 3" },
    ]);
    const status = readSndsIpStatus(
      "198.51.100.8,198.51.100.15,Maybe,x\r\n203.0.113.0,203.0.113.255,No,\r\n",
    );
    expect(status.rows.map((r) => r.firstIp)).toEqual(["203.0.113.0"]);
    expect(status.bad.map((b) => b.row)).toEqual([1]);
  });
});

describe("parseSndsIpStatus", () => {
  it("reads ranges, Yes/No and reasons, quoted or not", () => {
    const text =
      "198.51.100.8,198.51.100.15,Yes,Blocked due to user complaints or other evidence of spamming\r\n" +
      '203.0.113.0,203.0.113.255,No,"Listed, then reviewed"\r\n' +
      "203.0.113.7,203.0.113.7,yes";
    expect(parseSndsIpStatus(text)).toEqual([
      {
        row: 1,
        firstIp: "198.51.100.8",
        lastIp: "198.51.100.15",
        blocked: true,
        reason: "Blocked due to user complaints or other evidence of spamming",
      },
      {
        row: 2,
        firstIp: "203.0.113.0",
        lastIp: "203.0.113.255",
        blocked: false,
        reason: "Listed, then reviewed",
      },
      { row: 3, firstIp: "203.0.113.7", lastIp: "203.0.113.7", blocked: true, reason: "" },
    ]);
  });

  it("names the row and column of a malformed value", () => {
    const err = csvError(() =>
      parseSndsIpStatus("198.51.100.8,198.51.100.15,Yes,x\r\n198.51.100.8,198.51.100.15,Maybe,x"),
    );
    expect(err.message).toBe('SNDS ipStatus.aspx row 2, column 3 (blocked): "Maybe" is not Yes or No');
    expect(csvError(() => parseSndsIpStatus("198.51.100.15,198.51.100.8,Yes,x")).message).toBe(
      "SNDS ipStatus.aspx row 1, column 2 (last IP): 198.51.100.8 is before the first IP 198.51.100.15",
    );
    expect(csvError(() => parseSndsIpStatus("198.51.100.8")).message).toBe(
      "SNDS ipStatus.aspx row 1: expected 4 columns, got 1",
    );
  });
});

describe("helpers", () => {
  it("reads SNDS timestamps as UTC with 12-hour clock edge cases", () => {
    expect(parseSndsTimestamp("9/17/2026 12:00 AM")).toBe("2026-09-17T00:00:00.000Z");
    expect(parseSndsTimestamp("9/17/2026 12:30 PM")).toBe("2026-09-17T12:30:00.000Z");
    expect(parseSndsTimestamp("12/31/2019 9:00 PM")).toBe("2019-12-31T21:00:00.000Z");
    expect(parseSndsTimestamp("2/29/2028 23:15")).toBe("2028-02-29T23:15:00.000Z");
    expect(() => parseSndsTimestamp("0:00 AM")).toThrow();
    expect(() => parseSndsTimestamp("9/17/2026 0:00 AM")).toThrow(/hour/);
  });

  it("compares IPv4 addresses numerically", () => {
    expect(tryIpv4ToNumber("198.51.100.9")).toBeLessThan(tryIpv4ToNumber("198.51.100.10") ?? 0);
    expect(tryIpv4ToNumber("255.255.255.255")).toBe(2 ** 32 - 1);
    for (const bad of ["198.51.100", "198.51.100.010", "198.51.100.256", "2001:db8::1", ""]) {
      expect(tryIpv4ToNumber(bad)).toBeNull();
    }
  });
});
