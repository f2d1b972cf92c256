import { Command, Option } from "commander";
import { ConfigError, loadConfigFile } from "../shared/config.ts";
import { maskAddresses, safeJson, safeText } from "../shared/domain/text/safe-text.ts";
import { IncidentNotFoundError } from "../shared/pipeline/suppressions/find-wrongly-suppressed.ts";
import { analyzeCommand, formatAlertSummary, formatAnalysisSummary, UsageError } from "./commands/analyze.ts";
import { classifyStream } from "./commands/classify.ts";
import { DEFAULT_DEMO_DATA, formatDemoSummary, parseDemoInteger, runDemo } from "./commands/demo.ts";
import {
  formatImportSummary,
  IMPORT_SOURCES,
  type ImportSource,
  importFiles,
  nothingStored,
} from "./commands/import.ts";
import { formatIngestSummary, ingestCommand, loadCliConfig } from "./commands/ingest.ts";
import { runSample } from "./commands/sample.ts";
import { suppressionsCommand, terminalConfirm } from "./commands/suppressions.ts";
import { LEASE_HELD_EXIT, LeaseHeldError, parseWait } from "./lib/job-lease.ts";
import { packageVersion } from "./lib/package-version.ts";

// A reader that stops early (`| head`) closes the pipe: that ends the output, it is not a failure.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw e;
});

/**
 * Every line this CLI prints goes through here: outside text in it (reply texts, ESP error bodies, file
 * contents) is made inert (control and bidi characters become visible escapes, see safe-text.ts), and any
 * address in it is masked unless the command was told to show them (suppressions --reveal, analyze --no-mask
 * or a configuration with masking.recipients false).
 */
let revealAddresses = false;
const printable = (text: string): string => safeText(revealAddresses ? text : maskAddresses(text));
const stdoutLine = (line: string): void => {
  process.stdout.write(`${printable(line)}\n`);
};
const stderrLine = (line: string): void => {
  process.stderr.write(`${printable(line)}\n`);
};

/** --wait DURATION → milliseconds. */
function waitOption(value: string | undefined): number {
  const ms = parseWait(value);
  if (!Number.isFinite(ms)) throw new UsageError(`--wait ${value}: a duration like 30s, 10m or 1h`);
  return ms;
}

const WAIT_HELP =
  "if another run of this job holds the data folder, wait for it up to this long (30s, 10m, 1h)";
const LEASE_HELP = `One run at a time: it holds the folder's lease (state/leases/{job}.json, the same one the scheduled
Lambdas take) while it works. When another run holds it, this run does nothing and exits ${LEASE_HELD_EXIT}, naming
the holder and until when it holds, unless --wait lets it wait. A run that died on this host frees it at once.`;

const program = new Command()
  .name("bounce-radar")
  .description(
    "Tells a recipient gateway's policy change from a sender/ESP problem when the hard-bounce rate spikes.",
  )
  .version(packageVersion())
  .showHelpAfterError()
  .exitOverride((err) => {
    // Bad usage exits 2 (CLI contract); help and version exit 0.
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

program
  .command("classify")
  .description("classify bounce lines: NDJSON in on stdin, NDJSON out on stdout")
  .addHelpText(
    "after",
    `
Input, one JSON object per line (only "text" is required):
  {"text": "550 5.1.1 User unknown", "code": 550, "enhanced": "5.1.1", "mxHost": "mx0a-1.pphosted.com", "espClass": "hard"}

Output, one line per input line: the input's fields plus
  category         invalid_recipient | policy_block | spam_or_content_block | reputation_block | auth_failure |
                   rate_limited | mailbox_full | message_too_large | transient | esp_internal | unknown
  side             recipient | sender | neutral
  falseHardBounce  the ESP called it hard (espClass "hard", or a 5xx when espClass is absent) but it is a block
  gateway          recipient gateway recognised from mxHost or the text, or null
  confidence       0..1
  rule             id of the rule that decided
A line that is not a JSON object with a string "text" yields {"line": N, "error": "..."} instead.

Exit status: 0 all lines classified, 2 if any line was bad.

Example:
  echo '{"text":"550 5.7.606 Access denied, banned sending IP [198.51.100.7]"}' | bounce-radar classify`,
  )
  .action(async () => {
    const { bad } = await classifyStream(process.stdin, process.stdout);
    if (bad > 0) {
      process.stderr.write(
        `bounce-radar classify: ${bad} line(s) could not be classified (see "error" lines)\n`,
      );
      process.exitCode = 2;
    }
  });

program
  .command("demo")
  .description(
    "the whole loop on a simulated ESP: ingest six weeks of B2B sending over HTTP, analyse, alert, write the report",
  )
  .option("--data <dir>", "data folder the demo writes (cleared on the next demo run)", DEFAULT_DEMO_DATA)
  .option("--seed <n>", "simulation seed: the same seed gives the same report", "42")
  .option("--days <n>", "days of history to simulate", "42")
  .option("--organisations <n>", "corporate recipient organisations", "250")
  .addHelpText(
    "after",
    `
A simulated ESP speaking Mailgun's Events API runs on 127.0.0.1 for the duration of the command. It serves
a B2B sender's history in which, during the last day, one organisation's mail gateway starts rejecting
existing mailboxes as "user unknown". The real connector ingests it into --data, the analysis attributes
the spike and the console notifier prints the alert that SNS would send. No AWS account or network needed.

The folder is refused if it holds anything the demo did not write.`,
  )
  .action(async (opts: { data: string; seed: string; days: string; organisations: string }) => {
    const result = await runDemo(
      {
        data: opts.data,
        seed: parseDemoInteger(opts.seed, "--seed", 0, 2 ** 31 - 1),
        days: parseDemoInteger(opts.days, "--days", 35, 120),
        organisations: parseDemoInteger(opts.organisations, "--organisations", 20, 5000),
      },
      { out: (l) => stdoutLine(l), err: stderrLine, progressStream: process.stderr },
    );
    for (const line of formatDemoSummary(result)) stdoutLine(line);
    const recipientSide = result.report.incidents.find((i) => i.alert && i.side === "recipient");
    if (recipientSide)
      stdoutLine(
        `Wrongly suppressed: bounce-radar suppressions --data ${opts.data} --incident ${recipientSide.id}`,
      );
  });

program
  .command("sample")
  .description("classify a bundled sample of real gateway rejection lines and print a summary")
  .action(() => runSample(stdoutLine));

program
  .command("import")
  .description("import ESP export files into a data folder (gzip NDJSON under events/source=…/dt=…/)")
  .addOption(
    new Option("--source <provider>", "the export's provider").choices(IMPORT_SOURCES).makeOptionMandatory(),
  )
  .requiredOption("--data <dir>", "data folder laid out like the bucket (created if missing)")
  .option("--wait <duration>", WAIT_HELP)
  .argument("<file...>", "export files (plain or gzip): see the formats below")
  .addHelpText(
    "after",
    `
Formats, by --source:
  ses        one SES event JSON per line (Firehose to S3, or SNS notifications)
  mailgun    saved Events/Logs API pages ({items, paging}), or one page or event per line
  sendgrid   saved Event Webhook batches: a JSON array of events, or one array or event per line
  postmark   saved GET /bounces pages ({TotalCount, Bounces}), or Bounce/Delivery webhook records
  sparkpost  saved Events API pages ({results, links}), or webhook batches ([{msys: {...}}])

Each file is one batch named by its content hash: importing the same file again adds no events.
Records that cannot be parsed or validated go to quarantine/ with their line and reason, and are counted.
${LEASE_HELP} Imports and ingest runs share the ingest-events lease.

Every layout of the providers' own files is read: one JSON value per line, pretty-printed, concatenated
(Firehose), arrays; SES also through SNS envelopes, Lambda SNS events and \`aws sqs receive-message\` output;
Mailgun webhook bodies. A file of another provider's data is named as such and skipped.

Exit status: 0 when everything readable was stored, 1 when nothing could be stored (every record
quarantined, or the files hold another provider's data), 2 for bad usage or an unreadable file, ${LEASE_HELD_EXIT} when
another ingest or import holds the folder.`,
  )
  .action(async (files: string[], opts: { source: ImportSource; data: string; wait?: string }) => {
    const summary = await importFiles(opts.source, opts.data, files, stderrLine, waitOption(opts.wait));
    stdoutLine(formatImportSummary(summary, opts.data));
    if (summary.unreadable > 0) process.exitCode = 2;
    else if (nothingStored(summary)) process.exitCode = 1;
  });

program
  .command("ingest")
  .description("one scheduled ingest run: fetch every configured source into the data folder")
  .requiredOption("--data <dir>", "data folder laid out like the bucket (created if missing)")
  .option(
    "--config <file>",
    "configuration file (JSON); default ./bounce-radar.config.json (or ./bounce-radar.json)",
  )
  .option("--wait <duration>", WAIT_HELP)
  .addHelpText(
    "after",
    `
Secrets are read from environment variables (BOUNCE_RADAR_SECRET_<NAME>) or the secretsFile named in the
config; the log says which one was used. A source that fails leaves its cursor at the last written batch
and the run goes on with the others; the exit status is then 1.

${LEASE_HELP} Imports and ingest runs share the ingest-events lease.

Exit status: 0 ok, 1 a source failed, 2 bad usage or configuration, ${LEASE_HELD_EXIT} another ingest or import holds
the folder.`,
  )
  .action(async (opts: { data: string; config?: string; wait?: string }) => {
    const waitMs = waitOption(opts.wait);
    const config = await loadCliConfig(opts.config);
    const results = await ingestCommand(opts.data, config, stderrLine, waitMs);
    for (const line of formatIngestSummary(results)) stdoutLine(line);
    if (results.some((r) => r.error)) process.exitCode = 1;
  });

program
  .command("analyze")
  .description(
    "rolling hard-bounce rates, spike detection and attribution; writes report.json and report.html",
  )
  .requiredOption("--data <dir>", "data folder laid out like the bucket")
  .option("--at <iso>", "end of the window (default: now)")
  .option("--window <duration>", "current window (default 24h)")
  .option("--baseline <duration>", "trailing baseline before the window (default 28d)")
  .option("--config <file>", "configuration file: analysis windows, DNS servers, masking")
  .option("--dns-server <host:port>", "DNS server for MX lookups (default: the system's)")
  .option("--json", "print only the report JSON on stdout (logs go to stderr)")
  .option("--no-mask", "show full recipient addresses in the report (masked by default)")
  .option("--alerts", "run the alert lifecycle even for a backfill or an ad-hoc --window/--baseline")
  .option("--no-alerts", "do not run the alert lifecycle (state/alerts.json) or print notifications")
  .option("--wait <duration>", WAIT_HELP)
  .addHelpText(
    "after",
    `
Alerts come only from the live window. A live run uses the configured window and baseline (24h and 28d unless
the config says otherwise) and ends no earlier than the last live run (state/alerts.json keeps that edge);
it sends what the alert lifecycle calls for and updates state/alerts.json. Any other run — a backfill (--at
before the last live run) or an ad-hoc --window or --baseline — writes its report but neither reads nor
changes the alert state and sends nothing, unless --alerts asks for it. --no-alerts never alerts.

${LEASE_HELP}

Exit status: 0 when the report was written (whatever it found), 1 on failure, 2 for bad usage, ${LEASE_HELD_EXIT} when
another analyze holds the folder.`,
  )
  .action(
    async (opts: {
      data: string;
      at?: string;
      window?: string;
      baseline?: string;
      dnsServer?: string;
      json?: boolean;
      config?: string;
      mask: boolean;
      alerts?: boolean;
      wait?: string;
    }) => {
      const waitMs = waitOption(opts.wait);
      const config = opts.config ? await loadConfigFile(opts.config) : undefined;
      revealAddresses = !opts.mask || config?.masking.recipients === false;
      const { config: _file, wait: _wait, ...flags } = opts;
      const out = opts.json ? stderrLine : stdoutLine;
      const run = await analyzeCommand(
        { ...flags, ...(config ? { config } : {}), alertOutput: out, waitMs },
        stderrLine,
      );
      if (opts.json) stdoutLine(safeJson(run.report, 2));
      else for (const line of formatAnalysisSummary(run.report, run.keys, opts.data)) stdoutLine(line);
      for (const line of formatAlertSummary(run.alerts)) stderrLine(line);
      if (run.alerts && run.alerts.failed.length > 0) process.exitCode = 1;
    },
  );

program
  .command("suppressions")
  .description(
    "list (and with --apply, re-activate) the addresses a recipient-side incident wrongly suppressed",
  )
  .requiredOption("--data <dir>", "data folder laid out like the bucket")
  .requiredOption("--incident <id>", "the incident's id (report.json incidents[].id)")
  .option("--config <file>", "configuration file with the ESP sources (needed for --apply)")
  .option("--reveal", "show full addresses (masked by default)")
  .option("--apply", "re-activate them through each ESP's API (dry run without it)")
  .option("--yes", "do not ask for confirmation (unattended runs)")
  .option("--rate <n>", "ESP calls per second at most", "2")
  .option("--json", "print the list as JSON on stdout")
  .addHelpText(
    "after",
    `
An address is listed when it had a successful delivery within 90 days before its bounce in the incident: it
exists, and the gateway's rejection was not about it. An address with no delivery on record is never
re-activated (above all one whose last bounce is a genuine "user unknown"). Only recipient-side incidents
qualify: a sender-side incident's bounces would bounce again.

--apply calls, once per address and account: Mailgun DELETE /v3/{domain}/bounces/{address} (each sending
domain), SendGrid DELETE /v3/suppression/bounces/{email} and /blocks/{email}, Postmark PUT
/bounces/{id}/activate, SES DeleteSuppressedDestination. Every call is written to audit/{date}/ in --data.

Exit status: 0 listed or applied, 1 when an ESP call failed, 2 for bad usage or an unknown incident.`,
  )
  .action(
    async (opts: {
      data: string;
      incident: string;
      config?: string;
      reveal?: boolean;
      apply?: boolean;
      yes?: boolean;
      rate: string;
      json?: boolean;
    }) => {
      revealAddresses = opts.reveal === true;
      const rate = Number(opts.rate);
      if (!Number.isFinite(rate) || rate <= 0 || rate > 100)
        throw new UsageError(`--rate ${opts.rate}: a number of calls per second in (0, 100]`);
      const { repair } = await suppressionsCommand(
        {
          data: opts.data,
          incident: opts.incident,
          reveal: opts.reveal === true,
          apply: opts.apply === true,
          yes: opts.yes === true,
          ratePerSecond: rate,
          json: opts.json === true,
        },
        {
          out: (l) => stdoutLine(l),
          err: stderrLine,
          confirm: terminalConfirm(),
          loadConfig: () => loadCliConfig(opts.config),
          env: process.env,
        },
      );
      if (repair && repair.failed > 0) process.exitCode = 1;
    },
  );

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof LeaseHeldError) {
    stderrLine(`bounce-radar: ${e.message}`);
    process.exit(LEASE_HELD_EXIT);
  }
  if (e instanceof ConfigError || e instanceof UsageError || e instanceof IncidentNotFoundError) {
    stderrLine(`bounce-radar: ${e.message}`);
    process.exit(2);
  }
  stderrLine(`bounce-radar: ${(e as Error).message}`);
  process.exit(1);
}
