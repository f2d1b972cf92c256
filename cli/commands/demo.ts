import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { MailgunSourceConfig } from "../../shared/config.ts";
import { GatewayLookup } from "../../shared/dns/gateway-lookup.ts";
import { AlertPolicySchema } from "../../shared/domain/alerts/incident-lifecycle.ts";
import type { Report } from "../../shared/domain/report/report-schema.ts";
import { ConsoleNotifier } from "../../shared/notify/notifier.ts";
import { type AlertRunResult, runAlerts } from "../../shared/pipeline/alerts/run-alerts.ts";
import { runAnalysis } from "../../shared/pipeline/analyze/run-analysis.ts";
import { runIngest, type SourceRunResult } from "../../shared/pipeline/ingest/run-ingest.ts";
import type { SecretResolver } from "../../shared/secrets/secret-resolver.ts";
import {
  generateHistory,
  type InjectedIncident,
  SENDER_DOMAIN,
} from "../../shared/simulation/b2b-history.ts";
import { startMailgunServer } from "../../shared/simulation/mailgun-api-server.ts";
import { toMailgunEvent } from "../../shared/simulation/to-mailgun-event.ts";
import { ZoneMxResolver } from "../../shared/simulation/zone-mx-resolver.ts";
import { LocalObjectStore } from "../../shared/store/local-object-store.ts";
import { progressBar } from "../lib/progress.ts";
import { UsageError } from "./analyze.ts";

export const DEFAULT_DEMO_DATA = "bounce-radar-data";
/** Written into a folder the demo owns, so a re-run may clear it and nothing else is ever deleted. */
const DEMO_MARKER = ".bounce-radar-demo";
/** The simulated period ends here (a fixed instant, so the same seed gives the same report, dates included). */
export const DEMO_END = new Date("2026-11-02T00:00:00.000Z");
const DAY_MS = 86_400_000;
const MAILGUN_LAG_MINUTES = 30;

export interface DemoOptions {
  readonly data: string;
  readonly seed: number;
  readonly days: number;
  readonly organisations: number;
}

export interface DemoIo {
  /** Results: the alert, the summary, where the report is. */
  readonly out: (line: string) => void;
  /** Progress and logs. */
  readonly err: (line: string) => void;
  /** Where the progress bar draws (only when it is a terminal). */
  readonly progressStream: NodeJS.WriteStream;
}

export interface DemoResult {
  readonly report: Report;
  readonly reportHtml: string;
  readonly injected: InjectedIncident;
  readonly events: number;
  readonly ingest: readonly SourceRunResult[];
  readonly alerts: AlertRunResult;
}

export function parseDemoInteger(value: string, what: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${what}: expected a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}

/**
 * The whole loop on a laptop: a simulated ESP (Mailgun's Events API on loopback) serves weeks of B2B sending
 * with one recipient-side filter incident; the real connector ingests it, the analysis attributes it and the
 * console notifier prints the alert. Everything runs on a simulated clock, so a seed fixes the output.
 */
export async function runDemo(opts: DemoOptions, io: DemoIo): Promise<DemoResult> {
  const root = resolve(opts.data);
  await claimDemoFolder(root);
  const end = DEMO_END;
  const start = new Date(end.getTime() - opts.days * DAY_MS);
  // Mailgun serves events only older than the connector's lag: the simulated "now" sits just past it.
  const now = () => new Date(end.getTime() + (MAILGUN_LAG_MINUTES + 1) * 60_000);

  io.err(
    `[1/4] simulating ${opts.days} days of B2B sending to ${opts.organisations} organisations (seed ${opts.seed})…`,
  );
  const history = generateHistory({
    seed: opts.seed,
    start,
    days: opts.days,
    organisations: opts.organisations,
    incidents: [{ kind: "gateway_user_unknown_one_org", at: new Date(end.getTime() - DAY_MS) }],
  });
  const injected = history.incidents[0];
  if (!injected) throw new Error("the simulation injected no incident");
  io.err(
    `      ${history.events.length.toLocaleString("en")} events from ${SENDER_DOMAIN}, ${start.toISOString().slice(0, 10)} – ${end.toISOString().slice(0, 10)}`,
  );

  const apiKey = `demo-${randomBytes(12).toString("hex")}`;
  const esp = await startMailgunServer({
    apiKey,
    domains: [SENDER_DOMAIN],
    events: history.events.map((e) => toMailgunEvent(e, SENDER_DOMAIN)),
  });
  const store = new LocalObjectStore(root);
  let ingest: SourceRunResult[];
  try {
    io.err(`[2/4] ingesting through the Mailgun connector from the simulated ESP at ${esp.baseUrl}…`);
    const source: MailgunSourceConfig = {
      id: "demo-mailgun",
      provider: "mailgun",
      region: "us",
      api: "events",
      domains: [SENDER_DOMAIN],
      apiKeySecret: "demo/mailgun-api-key",
      startAt: start.toISOString(),
      lagMinutes: MAILGUN_LAG_MINUTES,
      overlapMinutes: 30,
      windowMinutes: 24 * 60,
      baseUrl: esp.baseUrl,
      timeoutMs: 30_000,
    };
    const secrets: SecretResolver = {
      resolve: async () => ({ value: apiKey, origin: "the simulated ESP (generated for this run)" }),
    };
    const bar = progressBar("      ingest", opts.days, io.progressStream, "days");
    try {
      ingest = await runIngest([source], {
        store,
        secrets,
        now,
        log: () => undefined,
        onProgress: (_id, position) =>
          bar.update(Math.round((position.getTime() - start.getTime()) / DAY_MS)),
        sqsQueue: () => {
          throw new Error("the demo has no SES source");
        },
      });
    } finally {
      bar.stop();
    }
  } finally {
    await esp.stop();
  }
  const failed = ingest.find((r) => r.error);
  if (failed) throw new Error(`ingest from the simulated ESP failed: ${failed.error}`);
  const added = ingest.flatMap((r) => r.batches).reduce((a, b) => a + b.added, 0);
  const pages = esp.requests.length;
  io.err(`      ${added.toLocaleString("en")} events stored in ${root} (${pages} API requests)`);

  io.err("[3/4] analysing the last 24 hours against a 28-day baseline…");
  const gateways = new GatewayLookup(new ZoneMxResolver(history.zone), store, {
    now,
    onWarning: io.err,
  });
  await gateways.load();
  const run = await runAnalysis(
    { at: end, windowHours: 24, baselineDays: 28, maskRecipients: true },
    { store, gateways, now, log: io.err },
  );
  const reportHtml = join(root, run.keys[0] ?? "").replace(/\.json$/, ".html");

  io.err("[4/4] alerting (console notifier: what SNS would send by email and SMS)…");
  const alerts = await runAlerts(run.report, {
    store,
    notifier: new ConsoleNotifier(io.out),
    policy: AlertPolicySchema.parse({}),
    now,
    log: io.err,
    reportUri: reportHtml,
  });
  return { report: run.report, reportHtml, injected, events: history.events.length, ingest, alerts };
}

/** A missing or empty folder, or one an earlier demo wrote (cleared first); anything else is refused. */
async function claimDemoFolder(root: string): Promise<void> {
  if (existsSync(root)) {
    const entries = await readdir(root);
    if (entries.length > 0 && !entries.includes(DEMO_MARKER)) {
      throw new UsageError(
        `--data ${root}: the folder is not empty and was not written by the demo; pass another --data folder`,
      );
    }
    await rm(root, { recursive: true, force: true });
  }
  await mkdir(root, { recursive: true });
  await writeFile(
    join(root, DEMO_MARKER),
    "Written by `bounce-radar demo`: the demo clears this folder when it runs again.\n",
  );
}

/** What the newcomer reads at the end: the injected truth beside what the analysis concluded. */
export function formatDemoSummary(result: DemoResult): string[] {
  const { report, injected } = result;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const alerting = report.incidents.filter((i) => i.alert);
  const lines = [
    "",
    `Simulated: the ${injected.gateway ?? "recipient"} gateway of ${injected.organisations.join(", ")} started answering "user unknown" for mailboxes that had been receiving mail (${injected.bounces} bounces), while every other organisation kept its usual rate.`,
  ];
  if (alerting.length === 0) lines.push("bounce-radar found no alerting incident.");
  for (const i of alerting) {
    lines.push(
      `bounce-radar: ${i.verdict} on the ${i.side} side (confidence ${i.confidence.toFixed(2)}): ${i.scope.domains.join(", ")} behind ${i.scope.gateways.join(", ") || "an unrecognised gateway"}; ${i.metrics.hardBounces} hard bounces at ${pct(i.metrics.rate)} against a baseline of ${pct(i.metrics.baselineRate)}; ${pct(i.metrics.previouslyDelivered)} of them had a delivery in the last 90 days.`,
    );
  }
  lines.push(
    `Overall hard-bounce rate ${pct(report.totals.hardBounceRate)} (baseline ${pct(report.totals.baselineRate)}); consumer control group ${pct(report.totals.consumer.rate)}.`,
    "",
    `Report: ${result.reportHtml}`,
    `        open it in a browser; report.json beside it is the machine-readable contract.`,
  );
  return lines;
}
