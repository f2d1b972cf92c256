/**
 * One side of the import-memory comparison, in its own process so its peak RSS is its own:
 *   --mode make   --file F --mb N   writes a pretty-printed JSON array of SendGrid events of about N MB;
 *   --mode read   --file F          the baseline: reads the file through, keeping nothing;
 *   --mode import --file F --data D `bounce-radar import --source sendgrid` of it into D.
 * Prints `{mode, bytes, events, seconds, peakRssMb}` as its last line.
 */

import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { importFiles } from "../../cli/commands/import.ts";
import { flag } from "./case-io.ts";

const mode = flag("mode");
const file = flag("file");
if (file === undefined) throw new Error("--file is required");

const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;
const started = performance.now();
let events = 0;

if (mode === "make") {
  const target = Number(flag("mb") ?? "65") * 1024 * 1024;
  const out = createWriteStream(file);
  let written = 0;
  const write = async (s: string): Promise<void> => {
    written += Buffer.byteLength(s);
    if (!out.write(s)) await once(out, "drain");
  };
  await write("[\n");
  const day = 1_764_547_200;
  for (let i = 0; written < target; i++) {
    const event = {
      email: `user${i % 50_000}@org${i % 997}.example`,
      timestamp: day + (i % 86_400),
      "smtp-id": `<${i}.dfd.64b469@ismtpd-555>`,
      event: i % 10 === 0 ? "bounce" : "delivered",
      category: ["newsletter"],
      sg_event_id: `ev-${i}`,
      sg_message_id: `msg${i}.filter0001.16648.5515E0B88.0`,
      ...(i % 10 === 0
        ? {
            type: "bounce",
            status: "5.1.1",
            reason: "550 5.1.1 The email account does not exist.",
            bounce_classification: "Invalid Address",
          }
        : { response: "250 OK" }),
    };
    await write(`${i === 0 ? "" : ",\n"}${JSON.stringify(event, null, 2)}`);
    events++;
  }
  await write("\n]\n");
  out.end();
  await once(out, "finish");
} else if (mode === "read") {
  for await (const _chunk of createReadStream(file)) events++;
} else if (mode === "import") {
  const data = flag("data");
  if (data === undefined) throw new Error("--data is required");
  const summary = await importFiles("sendgrid", data, [file], () => {});
  events = summary.events;
} else throw new Error(`--mode make|read|import, got ${String(mode)}`);

const seconds = (performance.now() - started) / 1000;
console.log(
  JSON.stringify({ mode, bytes: (await stat(file)).size, events, seconds, peakRssMb: peakRssMb() }),
);
