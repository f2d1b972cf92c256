import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AlertPolicySchema } from "../../shared/domain/alerts/incident-lifecycle.ts";
import { type Report, ReportSchema } from "../../shared/domain/report/report-schema.ts";
import { SnsNotifier } from "../../shared/notify/sns-notifier.ts";
import { runAlerts } from "../../shared/pipeline/alerts/run-alerts.ts";
import { generateHistory, SENDER_DOMAIN } from "../../shared/simulation/b2b-history.ts";
import { toMailgunEvent } from "../../shared/simulation/to-mailgun-event.ts";
import { LocalObjectStore } from "../../shared/store/local-object-store.ts";
import { type DnsServer, startDnsServer } from "../support/dns-server.ts";
import { type CliResult, runCli } from "../support/run-cli.ts";
import { type SnsServer, snsTestClient, startSnsServer } from "../support/sns-server.ts";

const DAY = 86_400_000;
const START = new Date("2026-10-01T00:00:00.000Z");
const END = new Date(START.getTime() + 35 * DAY);
/**
 * What a hostile receiving server (or a compromised ESP) can put in a reply: an SGR colour, an OSC window
 * title ended by BEL, a C1 CSI "clear screen", a right-to-left override and the bidi isolates.
 */
const HOSTILE =
  "\u001b[31mpwned\u001b[0m \u001b]0;title\u0007 \u009b2J \u202eexe.txt\u202c \u2066x\u2069 \u2067y\u2068z\u2069";
/** A Mailgun envelope.sending-ip nobody validated. */
const HOSTILE_IP = "\u001b[41m198.51.100.66\u001b[0m\u202e";
/** Live characters a terminal, a mail client or a phone acts on or reorders (newline aside). */
const LIVE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
/** How they arrive instead: visible escapes (shared/domain/text/safe-text.ts). */
const SHOWN = [
  "\\x1b[31mpwned\\x1b[0m",
  "\\x1b]0;title\\x07",
  "\\x9b2J",
  "\\u202eexe.txt\\u202c",
  "\\u2066x\\u2069",
];

// The injection must-show: escape codes and bidi overrides in an ESP reply never reach the CLI output,
// the SMS or the email unneutralised. The reply enters the way real data does: a Mailgun export, imported.
describe("hostile ESP replies: from a Mailgun export to the terminal, the email and the SMS", () => {
  let data: string;
  let dns: DnsServer;
  let sns: SnsServer;
  let imported: CliResult;
  let analyzed: CliResult;

  beforeAll(async () => {
    const history = generateHistory({
      seed: 7,
      start: START,
      days: 35,
      organisations: 80,
      incidents: [{ kind: "gateway_user_unknown_one_org", at: new Date(END.getTime() - DAY) }],
    });
    const injected = new Set(history.incidents[0]?.eventIds ?? []);
    expect(injected.size).toBeGreaterThan(10);
    const lines = history.events.map((e) => {
      const hostile =
        injected.has(e.id) && e.smtp
          ? { ...e, smtp: { ...e.smtp, text: `${e.smtp.text ?? ""} ${HOSTILE}` }, sendingIp: HOSTILE_IP }
          : e;
      return JSON.stringify(toMailgunEvent(hostile, SENDER_DOMAIN));
    });
    const dir = await mkdtemp(join(tmpdir(), "br-injection-"));
    data = join(dir, "data");
    const file = join(dir, "mailgun-export.ndjson");
    await writeFile(file, `${lines.join("\n")}\n`);
    imported = await runCli(["import", "--source", "mailgun", "--data", data, file]);
    dns = await startDnsServer(history.zone);
    sns = await startSnsServer();
    analyzed = await runCli([
      "analyze",
      "--data",
      data,
      "--at",
      END.toISOString(),
      "--dns-server",
      dns.address,
    ]);
  }, 180_000);

  afterAll(async () => {
    await dns?.stop();
    await sns?.stop();
  });

  it("import keeps the events whose sending IP is garbage, without it, and says so", () => {
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/ 0 quarantined/);
    expect(imported.stdout).toMatch(/; \d+ × sendingIp is not an IP address: left out, the event is kept/);
    expect(imported.stdout + imported.stderr).not.toMatch(LIVE);
  });

  it("analyze prints the summary, the alert email and the SMS with every hostile character shown inert", () => {
    expect(analyzed.status, analyzed.stderr).toBe(0);
    expect(analyzed.stdout).toMatch(/^ALERT: new incident /m);
    expect(analyzed.stdout).toMatch(/^SMS: /m);
    expect(analyzed.stdout).not.toMatch(LIVE);
    expect(analyzed.stderr).not.toMatch(LIVE);
    // The reply texts are in the email's sample rejections, neutralised; the bad IP is nowhere.
    for (const shown of SHOWN) expect(analyzed.stdout).toContain(shown);
    expect(analyzed.stdout).not.toContain("198.51.100.66");
  });

  it("the SNS notifier publishes subject, email and SMS with every hostile character shown inert", async () => {
    const report: Report = ReportSchema.parse(
      JSON.parse(await readFile(join(data, "reports", "latest.json"), "utf8")),
    );
    // The report keeps the reply as the ESP gave it (JSON-escaped): neutralising is for where text is shown.
    expect(JSON.stringify(report.incidents.flatMap((i) => i.samples))).toContain("\\u001b[31mpwned");
    // A fresh alert state, so the incident is new and sent.
    const store = new LocalObjectStore(await mkdtemp(join(tmpdir(), "br-injection-state-")));
    const result = await runAlerts(report, {
      store,
      notifier: new SnsNotifier({
        topicArn: "arn:aws:sns:us-east-1:123456789012:bounce-radar-alerts",
        client: snsTestClient(sns),
      }),
      policy: AlertPolicySchema.parse({}),
      now: () => END,
      log: () => undefined,
      reportUri: "s3://bounce-radar-reports/reports/latest.html",
    });
    expect(result.failed).toEqual([]);
    expect(sns.publishes.length).toBeGreaterThan(0);
    for (const p of sns.publishes) {
      const message = JSON.parse(p.message) as { default: string; email: string; sms: string };
      for (const text of [p.subject ?? "", message.default, message.email, message.sms])
        expect(text).not.toMatch(LIVE);
      expect(message.sms.length).toBeLessThanOrEqual(140);
    }
    const emails = sns.publishes.map((p) => (JSON.parse(p.message) as { email: string }).email).join("\n");
    for (const shown of SHOWN) expect(emails).toContain(shown);
  });
});
