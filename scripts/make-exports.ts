/**
 * Writes realistic ESP export files for trying `bounce-radar import` and for the ingestion benchmark:
 *
 *   node bin/run-ts.js scripts/make-exports.ts [--events 50000] [--out .data/exports] [--seed 1]
 *
 * ses-export.ndjson: one SES event-publishing record per line, as Firehose writes them to S3.
 * mailgun-export.ndjson: saved Mailgun Events API response pages ({items, paging}), one page per line.
 * Deterministic for a given seed, so the same command always writes the same bytes.
 */

import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { makeMailgunEvents } from "../test/support/mailgun-events.ts";
import { generateSesRecords } from "../test/support/ses-events.ts";

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const count = Number(arg("events", "50000"));
const seed = Number(arg("seed", "1"));
const out = resolve(arg("out", ".data/exports"));
if (!Number.isInteger(count) || count <= 0) {
  console.error("make-exports: --events must be a positive integer");
  process.exit(2);
}
const start = new Date("2026-11-01T00:00:00.000Z");
const spanMs = 14 * 24 * 3_600_000;
await mkdir(out, { recursive: true });

async function writeLines(path: string, lines: Iterable<string>): Promise<void> {
  const file = createWriteStream(path);
  for (const line of lines) {
    if (!file.write(`${line}\n`)) await once(file, "drain");
  }
  file.end();
  await once(file, "finish");
}

const sesPath = join(out, "ses-export.ndjson");
await writeLines(
  sesPath,
  (function* () {
    for (const r of generateSesRecords({ count, start, seed, spanMs })) yield JSON.stringify(r);
  })(),
);

const PAGE = 300;
const mailgunPath = join(out, "mailgun-export.ndjson");
const events = makeMailgunEvents({ count, start, seed, spanMs });
await writeLines(
  mailgunPath,
  (function* () {
    for (let i = 0; i < events.length; i += PAGE) {
      const page = i / PAGE;
      const url = (p: number) => `https://api.mailgun.net/v3/mg.example.com/events/page-${p}`;
      yield JSON.stringify({
        items: events.slice(i, i + PAGE),
        paging: {
          first: url(0),
          last: url(Math.ceil(events.length / PAGE)),
          next: url(page + 1),
          previous: url(page - 1),
        },
      });
    }
  })(),
);
console.log(`wrote ${count} SES records to ${sesPath}`);
console.log(`wrote ${count} Mailgun events (${Math.ceil(count / PAGE)} pages) to ${mailgunPath}`);
