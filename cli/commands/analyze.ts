import { join, resolve } from "node:path";
import type { Config } from "../../shared/config.ts";
import { GatewayLookup } from "../../shared/dns/gateway-lookup.ts";
import { NodeMxResolver, parseDnsServer } from "../../shared/dns/mx-resolver.ts";
import { AlertPolicySchema } from "../../shared/domain/alerts/incident-lifecycle.ts";
import type { Report } from "../../shared/domain/report/report-schema.ts";
import { ConsoleNotifier } from "../../shared/notify/notifier.ts";
import { type AlertRunResult, runAlerts } from "../../shared/pipeline/alerts/run-alerts.ts";
import { type AnalysisRun, runAnalysis } from "../../shared/pipeline/analyze/run-analysis.ts";
import { withJobLease } from "../lib/job-lease.ts";
import { openDataFolder } from "../lib/local-store.ts";

export class UsageError extends Error {}

/** `24h`, `2d`, `90m` → hours. */
export function parseDurationHours(value: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(m|h|d)$/i.exec(value.trim());
  if (!m) throw new UsageError(`${what}: expected a duration like 24h, 2d or 90m, got "${value}"`);
  const n = Number(m[1]);
  const unit = (m[2] ?? "h").toLowerCase();
  const hours = unit === "m" ? n / 60 : unit === "d" ? n * 24 : n;
  if (hours <= 0) throw new UsageError(`${what}: must be positive`);
  return hours;
}

export function parseAt(value: string | undefined, now: Date): Date {
  if (value === undefined) return now;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new UsageError(`--at: not an ISO date/time: "${value}"`);
  return new Date(t);
}

export interface AnalyzeCliOptions {
  readonly data: string;
  readonly at?: string;
  /** Flags win over the config file, which wins over the defaults. */
  readonly window?: string;
  readonly baseline?: string;
  readonly dnsServer?: string;
  readonly mask: boolean;
  readonly config?: Config;
  /**
   * The alert lifecycle (state/alerts.json, notifications through the console notifier): undefined runs it
   * for a live run only (the configured window and baseline, ending no earlier than the last live run's);
   * true runs it for any window (--alerts); false never (--no-alerts).
   */
  readonly alerts?: boolean;
  /** How long to wait for another analyze run on the folder to finish (--wait); 0 gives up at once. */
  readonly waitMs?: number;
  /** Where console notifications go (stderr when stdout carries --json). */
  readonly alertOutput: (text: string) => void;
}

export interface AnalyzeCliResult extends AnalysisRun {
  readonly alerts: AlertRunResult | null;
}

/** Windows other than the configured ones are ad hoc: their reports never alert unless --alerts. */
function adHocReason(opts: AnalyzeCliOptions, windowHours: number, baselineDays: number): string | null {
  const analysis = opts.config?.analysis;
  if (windowHours !== (analysis?.windowHours ?? 24))
    return `an ad-hoc --window (${opts.window}); pass --alerts to alert from it`;
  if (baselineDays !== (analysis?.baselineDays ?? 28))
    return `an ad-hoc --baseline (${opts.baseline}); pass --alerts to alert from it`;
  return null;
}

export async function analyzeCommand(
  opts: AnalyzeCliOptions,
  log: (line: string) => void,
): Promise<AnalyzeCliResult> {
  const analysis = opts.config?.analysis;
  const windowHours = opts.window
    ? parseDurationHours(opts.window, "--window")
    : (analysis?.windowHours ?? 24);
  const baselineDays = opts.baseline
    ? Math.round(parseDurationHours(opts.baseline, "--baseline") / 24)
    : (analysis?.baselineDays ?? 28);
  if (baselineDays < 1) throw new UsageError("--baseline: at least 1d");
  const at = parseAt(opts.at, new Date());
  const configured = analysis?.dnsServers ?? [];
  const servers = opts.dnsServer
    ? [parseDnsServer(opts.dnsServer)]
    : configured.length > 0
      ? configured.map(parseDnsServer)
      : undefined;
  const store = await openDataFolder(opts.data);
  const adHoc = adHocReason(opts, windowHours, baselineDays);
  return withJobLease(store, "analyze", { command: "analyze", waitMs: opts.waitMs ?? 0, log }, async () => {
    const gateways = new GatewayLookup(
      new NodeMxResolver({ ...(servers ? { servers } : {}), timeoutMs: analysis?.dnsTimeoutMs ?? 2000 }),
      store,
      {
        now: () => new Date(),
      },
    );
    await gateways.load();
    const run = await runAnalysis(
      {
        at,
        windowHours,
        baselineDays,
        maskRecipients: opts.mask && (opts.config?.masking.recipients ?? true),
        ...(analysis?.thresholds ? { thresholds: analysis.thresholds } : {}),
      },
      { store, gateways, now: () => new Date(), log },
    );
    if (opts.alerts === false) return { ...run, alerts: null };
    if (adHoc && opts.alerts !== true) return { ...run, alerts: { sent: [], failed: [], skipped: adHoc } };
    const alerts = await runAlerts(run.report, {
      store,
      notifier: new ConsoleNotifier(opts.alertOutput),
      policy: opts.config?.alerts ?? AlertPolicySchema.parse({}),
      now: () => new Date(),
      log,
      reportUri: join(resolve(opts.data), run.keys[0] ?? ""),
      evenIfBehindLiveEdge: opts.alerts === true,
    });
    return { ...run, alerts };
  });
}

export function formatAlertSummary(result: AlertRunResult | null): string[] {
  if (!result) return [];
  if (result.skipped) return [`alerts: skipped (${result.skipped})`];
  const lines = result.sent.map((s) => `alerts: sent ${s.kind} for ${s.key}`);
  for (const f of result.failed) lines.push(`alerts: FAILED for ${f.key}: ${f.error}`);
  return lines.length > 0 ? lines : ["alerts: nothing new to send"];
}

export function formatAnalysisSummary(report: Report, written: readonly string[], dataDir: string): string[] {
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const t = report.totals;
  const lines = [
    `window ${report.window.start} – ${report.window.end}: ${t.attempts} attempt(s), ${t.hardBounces} hard bounce(s) = ${pct(t.hardBounceRate)} (baseline ${pct(t.baselineRate)}); consumer control group ${pct(t.consumer.rate)} (baseline ${pct(t.consumer.baselineRate)})`,
  ];
  if (report.incidents.length === 0) lines.push("no incidents");
  for (const i of report.incidents) {
    const scope = [
      i.scope.gateways.length > 0 ? `gateways ${i.scope.gateways.join(", ")}` : "",
      i.scope.sendingIps.length > 0 ? `IPs ${i.scope.sendingIps.join(", ")}` : "",
      `${i.scope.domains.length} organisation(s)`,
    ]
      .filter(Boolean)
      .join("; ");
    lines.push(
      `${i.alert ? "ALERT" : "note "} ${i.verdict} (${i.side} side, confidence ${i.confidence.toFixed(2)}): ${i.metrics.hardBounces} hard bounce(s); ${scope}`,
    );
  }
  lines.push(`report: ${dataDir}/${written[0]} and report.html beside it (also reports/latest.*)`);
  return lines;
}
